package enroll

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"
	"unicode"

	"github.com/keyline/keyline/enroll/txn"
)

// Push approval with number matching: instead of typing a code, the user
// approves on the phone a login the server pushed to it.
//
//  1. Server: on a login (or any action it wants approved) it draws a
//     16-byte nonce and a 2-digit number, shows the number on the login
//     page only, and seals a [PushPrompt] with [SealPrompt] under the
//     device's srv key. The prompt does not carry the number.
//  2. Phone: [Credential.OpenPrompt] checks the prompt (MAC, addressee,
//     expiry) and the app shows its [PushContext]: the action, the IP
//     address, the place, the browser. The user types the number the login
//     page shows, and approves or denies; [Credential.AnswerPush] makes the
//     [PushAnswer] under the push key.
//  3. Server: [VerifyPushAnswer] authenticates the answer against the
//     prompt it sealed. The server then compares [PushAnswer.TypedNumber]
//     with the number it showed, and takes the request once.
//
// What number matching buys: a user who approves whatever buzzes (an
// attacker holding the password and pushing until the user gives in) has
// to type a number only the login page shows; blind, 1 chance in 100 per
// push. That holds only if the server draws the number uniformly from
// 00-99 with crypto/rand, shows it nowhere but on the page that started the
// request, never puts it in the prompt, accepts one answer per request (a
// wrong number ends the request; no retyping), and limits how many pushes
// an account gets.
//
// PROTOCOL.md's push section specifies both messages byte by byte, with
// vectors in testdata/push_v1.json.

// Push parameters.
const (
	// PushStep is the time step of a push answer: its Step is the Unix
	// time divided by 30 seconds, rounded down.
	PushStep = 30 * time.Second

	// DefaultPushSkew is the clock difference [VerifyPushAnswer] accepts
	// when given 0: one step either side of the server's.
	DefaultPushSkew = PushStep

	// MaxPushSkew is the largest clock difference [VerifyPushAnswer]
	// accepts as its argument.
	MaxPushSkew = time.Hour

	// DefaultPushTTL is a reasonable lifetime for a push prompt. A prompt's
	// expiry is a whole second: now.Add(DefaultPushTTL).Truncate(time.Second).
	DefaultPushTTL = 2 * time.Minute

	// PushNonceSize is the length of a push prompt's nonce in bytes.
	PushNonceSize = 16

	// MaxTransactionSize bounds [PushPrompt.Transaction] in bytes.
	MaxTransactionSize = 4096
)

// Labels of the push messages' hash and MAC inputs.
const (
	labelPushContext = "keyline/v1/push-context"
	labelPushPrompt  = "keyline/v1/push-prompt"
	labelPushAnswer  = "keyline/v1/push-answer"
)

// Push sentinel errors, matched with [errors.Is]. An expired prompt is
// [ErrExpired] ("enroll: push prompt expired"); a push answer that does
// not parse is [ErrInvalidInput].
var (
	// ErrBadPrompt reports a push prompt the phone must not show: its MAC
	// does not verify under the credential's srv key (altered, truncated,
	// or sealed for another device), its version is unknown, or it is not
	// well formed.
	ErrBadPrompt = errors.New("enroll: push prompt does not verify")

	// ErrPromptNotForDevice reports an authentic push prompt addressed to
	// another issuer, user or device than the credential's.
	ErrPromptNotForDevice = errors.New("enroll: push prompt is for another device")

	// ErrInvalidPushAnswer reports a well-formed push answer that the
	// device holding these keys did not make for this prompt: its MAC
	// does not verify, it answers another prompt, or its time step is
	// out of the window. The concrete error is a *[PushAnswerError]
	// naming the check. Package authn returns the same value for an
	// answer that no device the request notified made.
	ErrInvalidPushAnswer = errors.New("enroll: push answer does not verify")

	// ErrPushClock reports a push answer whose time step is outside the
	// window around the server's clock: the phone's clock is off. The
	// request stays pending. The concrete error is a *[PushClockError]
	// with the server's time, which the device API sends (server_time,
	// PROTOCOL.md §10) so that the phone can correct its clock offset and
	// answer again.
	ErrPushClock = errors.New("enroll: push answer's time is off the server's clock")

	// ErrPushAnswered reports an answer to a push request that was
	// answered before, by another device or by another answer of this
	// one: the request is over. (The very same answer sent again gets
	// the first one's outcome: a lost answer is safe to retry.) It
	// matches [ErrAlreadyUsed] too.
	ErrPushAnswered = fmt.Errorf("enroll: push request %w by another answer", ErrAlreadyUsed)
)

// PushClockError is [ErrPushClock] with the server's time when it
// refused the answer.
type PushClockError struct {
	ServerTime time.Time
}

// Error returns the message of ErrPushClock.
func (e *PushClockError) Error() string { return ErrPushClock.Error() }

// Unwrap returns [ErrPushClock].
func (e *PushClockError) Unwrap() error { return ErrPushClock }

// PushCheck names the check of [VerifyPushAnswer] that refused an answer.
type PushCheck int

// The checks, in the order VerifyPushAnswer makes them.
const (
	// PushCheckPrompt: the answer is for another prompt: another request
	// ID or nonce, or the hash of another context than the prompt showed.
	PushCheckPrompt PushCheck = iota + 1
	// PushCheckStep: the answer's time step is outside the window around
	// the server's clock.
	PushCheckStep
	// PushCheckMAC: the answer's MAC does not verify under the device's
	// push key: altered on the way, or not made by that device.
	PushCheckMAC
)

// String returns the check's name: "prompt", "step" or "mac".
func (c PushCheck) String() string {
	switch c {
	case PushCheckPrompt:
		return "prompt"
	case PushCheckStep:
		return "step"
	case PushCheckMAC:
		return "mac"
	}
	return "PushCheck(" + strconv.Itoa(int(c)) + ")"
}

// PushAnswerError is [ErrInvalidPushAnswer] with the check that refused
// the answer, and a detail for logs that quotes no MAC, nonce or key.
type PushAnswerError struct {
	Check  PushCheck
	Detail string
}

// Error returns "enroll: push answer does not verify (check): detail".
func (e *PushAnswerError) Error() string {
	msg := ErrInvalidPushAnswer.Error() + " (" + e.Check.String() + ")"
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns [ErrInvalidPushAnswer].
func (e *PushAnswerError) Unwrap() error { return ErrInvalidPushAnswer }

const (
	maxRequestIDLen = 64
	maxActionLen    = 64
	maxIPLen        = 64
	maxPlaceLen     = 128
	maxBrowserLen   = 128
	maxTxRespLen    = 128 // an untruncated OCRA-SHA512 response in hex
	pushVersion     = 1
	pushFields      = 10 // length-prefixed fields of a prompt
	minPromptWire   = 1 + 4*pushFields + 8 + sha256.Size
	maxPromptWire   = minPromptWire + maxRequestIDLen + PushNonceSize + 2*maxTextLen +
		2*deviceIDLen + maxActionLen + maxIPLen + maxPlaceLen + maxBrowserLen + MaxTransactionSize
)

// PushContext is what the server saw of the request it asks the user to
// approve, and what the phone shows: "Login", "203.0.113.7", "Zürich, CH",
// "Firefox on macOS". Its fields are text without control, formatting,
// bidi or line-separator characters, so that none displays as something it
// is not.
type PushContext struct {
	Action  string // what is to be approved, e.g. "Login" (1-64 bytes)
	IP      string // the client's IP address, IPv4 or IPv6 without zone in canonical text form (RFC 5952), or "" (at most 64 bytes)
	Place   string // where the IP address is, e.g. "Zürich, CH" (at most 128 bytes)
	Browser string // the client's browser and system, e.g. "Firefox on macOS" (at most 128 bytes)
}

// check returns why the context is refused, or "".
func (c PushContext) check() string {
	if c.Action == "" {
		return "context action is required"
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"action", c.Action, maxActionLen}, {"IP", c.IP, maxIPLen}, {"place", c.Place, maxPlaceLen}, {"browser", c.Browser, maxBrowserLen}} {
		if reason := checkText(f.v, f.max); reason != "" {
			return "context " + f.name + " " + reason
		}
		for _, r := range f.v {
			if unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
				return "context " + f.name + " contains a formatting or line-separator character"
			}
		}
	}
	if c.IP != "" {
		if a, err := netip.ParseAddr(c.IP); err != nil || a.Zone() != "" {
			return "context IP is not an IP address"
		} else if a.String() != c.IP {
			// One text per address, so that the phone shows what the
			// server compared: dotted decimal, or RFC 5952's form.
			return "context IP is not in canonical text form"
		}
	}
	return ""
}

// Validate reports whether a server may send the context in a prompt:
// nil, or an error matching [ErrInvalidInput] that names the field. It
// is the check [SealPrompt] makes, for a caller that must know before it
// spends anything on a prompt.
func (c PushContext) Validate() error {
	if reason := c.check(); reason != "" {
		return wrap(ErrInvalidInput, "push %s", reason)
	}
	return nil
}

// appendTo appends the context's canonical encoding: its four fields,
// length-prefixed, in order.
func (c PushContext) appendTo(b []byte) []byte {
	b = appendField(b, []byte(c.Action))
	b = appendField(b, []byte(c.IP))
	b = appendField(b, []byte(c.Place))
	return appendField(b, []byte(c.Browser))
}

// Hash returns SHA-256("keyline/v1/push-context" ‖ lp(action) ‖ lp(IP) ‖
// lp(place) ‖ lp(browser)): what the phone puts in
// [PushAnswer.ContextHash] to say which context the user saw.
func (c PushContext) Hash() []byte {
	sum := sha256.Sum256(c.appendTo([]byte(labelPushContext)))
	return sum[:]
}

// PushPrompt is the server's request for approval, sealed by [SealPrompt]
// and opened by [Credential.OpenPrompt]. It holds no key and no secret;
// in particular not the number the login page shows.
type PushPrompt struct {
	RequestID   string      // the server's ID of this request: 1-64 bytes of A-Z a-z 0-9 - . _ ~
	Nonce       []byte      // PushNonceSize bytes from crypto/rand, fresh for every prompt
	Issuer      string      // the credential's issuer
	User        string      // the credential's user ID
	DeviceID    string      // the device's ID: 32 lowercase hex digits
	Context     PushContext // what the user will see
	Transaction []byte      // optional canonical transaction bytes, opaque here (at most MaxTransactionSize)
	ExpiresAt   time.Time   // whole seconds; the prompt is refused from then on
}

// check returns why the prompt is refused, or "".
func (p PushPrompt) check() string {
	switch {
	case !isRequestID(p.RequestID):
		return "request ID is not 1-64 bytes of A-Z a-z 0-9 - . _ ~"
	case len(p.Nonce) != PushNonceSize:
		return "nonce is not 16 bytes"
	case p.Issuer == "" || p.User == "":
		return "issuer and user are required"
	case checkText(p.Issuer, maxTextLen) != "":
		return "issuer " + checkText(p.Issuer, maxTextLen)
	case checkText(p.User, maxTextLen) != "":
		return "user " + checkText(p.User, maxTextLen)
	case !isDeviceID(p.DeviceID):
		return "device ID is not 32 lowercase hex digits"
	case len(p.Transaction) > MaxTransactionSize:
		return "transaction longer than 4 KiB"
	case p.ExpiresAt.IsZero() || p.ExpiresAt.Unix() <= 0 || p.ExpiresAt.Unix() > maxUnix || p.ExpiresAt.Nanosecond() != 0:
		return "expiry is not a whole second after 1970"
	}
	return p.Context.check()
}

// isRequestID accepts 1-64 bytes of RFC 3986's unreserved characters.
func isRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// body appends the prompt's wire form without its MAC: the version byte,
// the ten fields and the expiry.
func (p PushPrompt) body() []byte {
	b := make([]byte, 0, minPromptWire+len(p.RequestID)+len(p.Nonce)+len(p.Issuer)+len(p.User)+len(p.DeviceID)+
		len(p.Context.Action)+len(p.Context.IP)+len(p.Context.Place)+len(p.Context.Browser)+len(p.Transaction))
	b = append(b, pushVersion)
	b = appendField(b, []byte(p.RequestID))
	b = appendField(b, p.Nonce)
	b = appendField(b, []byte(p.Issuer))
	b = appendField(b, []byte(p.User))
	b = appendField(b, []byte(p.DeviceID))
	b = p.Context.appendTo(b)
	b = appendField(b, p.Transaction)
	return binary.BigEndian.AppendUint64(b, uint64(p.ExpiresAt.Unix()))
}

// promptMAC is HMAC-SHA256(srv key, "keyline/v1/push-prompt" ‖ body).
func promptMAC(key Secret, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(labelPushPrompt))
	m.Write(body)
	return m.Sum(nil)
}

// SealPrompt is the server's side of a push: it validates p and returns
// its wire form, the version byte 1, the prompt's fields length-prefixed,
// its expiry, and an HMAC-SHA256 under keys.Server of everything before
// it (preceded by the label "keyline/v1/push-prompt"). The wire form
// reaches the phone over the device API or in the push payload; it is
// authenticated, not encrypted. An invalid prompt or a missing key is
// [ErrInvalidInput].
func SealPrompt(keys Keys, p PushPrompt) ([]byte, error) {
	if len(keys.Server) != sha256.Size {
		return nil, wrap(ErrInvalidInput, "srv key is not 32 bytes")
	}
	if reason := p.check(); reason != "" {
		return nil, wrap(ErrInvalidInput, "push prompt: %s", reason)
	}
	b := p.body()
	return append(b, promptMAC(keys.Server, b)...), nil
}

// parsePromptBody decodes a body that body() wrote. The prompt shares no
// memory with b.
func parsePromptBody(b []byte) (PushPrompt, string) {
	if len(b) < 1 || b[0] != pushVersion {
		return PushPrompt{}, "unknown version"
	}
	r := &fieldReader{b: b[1:]}
	reqID := r.field("request ID", maxRequestIDLen)
	nonce := r.field("nonce", PushNonceSize)
	issuer := r.field("issuer", maxTextLen)
	user := r.field("user", maxTextLen)
	deviceID := r.field("device ID", 2*deviceIDLen)
	action := r.field("action", maxActionLen)
	ip := r.field("IP", maxIPLen)
	place := r.field("place", maxPlaceLen)
	browser := r.field("browser", maxBrowserLen)
	tx := r.field("transaction", MaxTransactionSize)
	if r.bad != "" {
		return PushPrompt{}, r.bad + " is truncated or too long"
	}
	if len(r.b) != 8 {
		return PushPrompt{}, "expiry is truncated or followed by trailing bytes"
	}
	exp := binary.BigEndian.Uint64(r.b)
	if exp == 0 || exp > maxUnix {
		return PushPrompt{}, "expiry out of range"
	}
	p := PushPrompt{
		RequestID: string(reqID),
		Nonce:     bytes.Clone(nonce),
		Issuer:    string(issuer),
		User:      string(user),
		DeviceID:  string(deviceID),
		Context:   PushContext{Action: string(action), IP: string(ip), Place: string(place), Browser: string(browser)},
		ExpiresAt: time.Unix(int64(exp), 0).UTC(),
	}
	if len(tx) > 0 {
		p.Transaction = bytes.Clone(tx)
	}
	if reason := p.check(); reason != "" {
		return PushPrompt{}, reason
	}
	return p, ""
}

// addressedTo reports whether the prompt names the credential's issuer,
// user and device.
func (p PushPrompt) addressedTo(c *Credential) bool {
	return p.Issuer == c.offer.Issuer && p.User == c.offer.User && p.DeviceID == c.deviceID
}

// OpenPrompt is the phone's side of a push: it checks the version and
// length, then the MAC under the credential's srv key, compared in
// constant time, and the fields ([ErrBadPrompt] for any of these); that
// the prompt names this credential's issuer, user and device
// ([ErrPromptNotForDevice]); and that it has not expired at now
// ([ErrExpired]). A credential not yet confirmed refuses
// ([ErrUnconfirmed]). On error the prompt is the zero value; on success
// it shares no memory with wire. Show the user its Context before asking
// for the number.
func (c *Credential) OpenPrompt(wire []byte, now time.Time) (PushPrompt, error) {
	if !c.confirmed {
		return PushPrompt{}, ErrUnconfirmed
	}
	if len(wire) < minPromptWire || len(wire) > maxPromptWire {
		return PushPrompt{}, wrap(ErrBadPrompt, "length %d out of range", len(wire))
	}
	if wire[0] != pushVersion {
		return PushPrompt{}, wrap(ErrBadPrompt, "unknown version %d", wire[0])
	}
	body, mac := wire[:len(wire)-sha256.Size], wire[len(wire)-sha256.Size:]
	if !hmac.Equal(mac, promptMAC(c.keys.Server, body)) {
		return PushPrompt{}, ErrBadPrompt
	}
	p, reason := parsePromptBody(body)
	if reason != "" {
		return PushPrompt{}, wrap(ErrBadPrompt, "%s", reason)
	}
	if len(p.Transaction) > 0 {
		// A transaction the phone cannot show is not one it may approve.
		if _, err := txn.Parse(p.Transaction); err != nil {
			return PushPrompt{}, wrap(ErrBadPrompt, "transaction: %v", err)
		}
	}
	if !p.addressedTo(c) {
		return PushPrompt{}, ErrPromptNotForDevice
	}
	if !now.Before(p.ExpiresAt) {
		return PushPrompt{}, errPromptExpired
	}
	return p, nil
}

// PushAnswer is the phone's answer to a push prompt, authenticated under
// its push key. It holds no key. It travels as JSON (byte strings in
// standard base64, as encoding/json writes them), and decodes strictly.
type PushAnswer struct {
	RequestID   string `json:"request_id"`            // the prompt's request ID
	Nonce       []byte `json:"nonce"`                 // the prompt's nonce (16 bytes)
	ContextHash []byte `json:"context_hash"`          // [PushContext.Hash] of the context the phone showed (32 bytes)
	Approve     bool   `json:"approve"`               // the user's decision
	TypedNumber string `json:"typed_number"`          // the number the user typed: 2 ASCII digits; "" or 2 digits for a denial
	Step        uint64 `json:"step"`                  // the phone's time step: Unix seconds / 30
	TxResponse  string `json:"tx_response,omitempty"` // the OCRA response over the prompt's transaction, when it carries one (at most 128 hex digits)
	MAC         []byte `json:"mac"`                   // HMAC-SHA256 under the push key (32 bytes)
}

// checkTypedNumber returns why a typed number is refused, or "".
func checkTypedNumber(approve bool, n string) string {
	if n == "" && !approve {
		return ""
	}
	if len(n) != 2 || n[0] < '0' || n[0] > '9' || n[1] < '0' || n[1] > '9' {
		if approve {
			return "an approval's typed number is not 2 ASCII digits"
		}
		return "a denial's typed number is neither empty nor 2 ASCII digits"
	}
	return ""
}

// check returns why the answer is refused, or "".
func (a PushAnswer) check() string {
	switch {
	case !isRequestID(a.RequestID):
		return "request ID is not 1-64 bytes of A-Z a-z 0-9 - . _ ~"
	case len(a.Nonce) != PushNonceSize:
		return "nonce is not 16 bytes"
	case len(a.ContextHash) != sha256.Size || len(a.MAC) != sha256.Size:
		return "context hash and MAC must be 32 bytes each"
	case a.Step > maxUnix/uint64(PushStep/time.Second):
		return "step out of range"
	case len(a.TxResponse) > maxTxRespLen:
		return "transaction response longer than 128 characters"
	}
	for i := 0; i < len(a.TxResponse); i++ {
		if c := a.TxResponse[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "transaction response is not hex or decimal digits"
		}
	}
	return checkTypedNumber(a.Approve, a.TypedNumber)
}

// answerMAC is HMAC-SHA256(push key, "keyline/v1/push-answer" ‖
// lp(request ID) ‖ lp(nonce) ‖ lp(context hash) ‖ decision ‖
// lp(typed number) ‖ u64(step) ‖ lp(tx response)), the decision a byte,
// 1 to approve and 0 to deny.
func answerMAC(key Secret, a PushAnswer) []byte {
	b := []byte(labelPushAnswer)
	b = appendField(b, []byte(a.RequestID))
	b = appendField(b, a.Nonce)
	b = appendField(b, a.ContextHash)
	var decision byte
	if a.Approve {
		decision = 1
	}
	b = append(b, decision)
	b = appendField(b, []byte(a.TypedNumber))
	b = binary.BigEndian.AppendUint64(b, a.Step)
	b = appendField(b, []byte(a.TxResponse))
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return m.Sum(nil)
}

// pushStepAt returns the time step of t, and false before 1970.
func pushStepAt(t time.Time) (uint64, bool) {
	if t.Unix() < 0 {
		return 0, false
	}
	return uint64(t.Unix()) / uint64(PushStep/time.Second), true
}

// AnswerPush is the phone's answer to a prompt it opened: the user's
// decision and the number they typed, at time now. An approval needs
// exactly 2 ASCII digits; a denial carries "" or 2 digits ([ErrInvalidInput]
// otherwise). The phone cannot tell whether the number is right: only the
// server knows what it showed. A prompt not addressed to the credential is
// [ErrPromptNotForDevice]; one expired at now is [ErrExpired]; a
// credential not yet confirmed refuses ([ErrUnconfirmed]).
//
// The answer binds the prompt's request ID and nonce, the hash of the
// context the phone showed, the decision, the typed number and the time
// step. When the prompt carries a transaction, an approval also signs it:
// TxResponse is the OCRA response over the transaction suite, with the
// prompt's nonce as the server nonce, and the MAC covers it.
func (c *Credential) AnswerPush(p PushPrompt, approve bool, typedNumber string, now time.Time) (PushAnswer, error) {
	if !c.confirmed {
		return PushAnswer{}, ErrUnconfirmed
	}
	if reason := p.check(); reason != "" {
		return PushAnswer{}, wrap(ErrInvalidInput, "push prompt: %s", reason)
	}
	if !p.addressedTo(c) {
		return PushAnswer{}, ErrPromptNotForDevice
	}
	if !now.Before(p.ExpiresAt) {
		return PushAnswer{}, errPromptExpired
	}
	if reason := checkTypedNumber(approve, typedNumber); reason != "" {
		return PushAnswer{}, wrap(ErrInvalidInput, "%s", reason)
	}
	step, ok := pushStepAt(now)
	if !ok {
		return PushAnswer{}, wrap(ErrInvalidInput, "time before 1970")
	}
	a := PushAnswer{
		RequestID:   p.RequestID,
		Nonce:       bytes.Clone(p.Nonce),
		ContextHash: p.Context.Hash(),
		Approve:     approve,
		TypedNumber: typedNumber,
		Step:        step,
	}
	if approve && len(p.Transaction) > 0 {
		// The prompt carries a transaction: the approval is also its
		// signature, the OCRA response over the transaction suite with the
		// prompt's nonce as the server nonce (PROTOCOL.md, section 9) — the
		// same check as a transaction signed from a QR code.
		tx, err := txn.Parse(p.Transaction)
		if err != nil {
			return PushAnswer{}, wrap(ErrInvalidInput, "push prompt: transaction: %v", err)
		}
		if a.TxResponse, err = c.RespondTransaction(p.Nonce, tx, now); err != nil {
			return PushAnswer{}, err
		}
	}
	a.MAC = answerMAC(c.keys.Push, a)
	return a, nil
}

// VerifyPushAnswer is the server's check of a phone's answer a to the
// prompt p it sealed, with the device's keys, at time now. In this order:
// the arguments must be valid ([ErrInvalidInput]: a push key of 32 bytes,
// a valid prompt, maxSkew from 0 to MaxPushSkew, 0 meaning
// DefaultPushSkew); the answer must be well formed (ErrInvalidInput too);
// its request ID, nonce and context hash must be the prompt's
// ([PushCheckPrompt]: an answer to another request, or a phone that
// showed another context); the prompt must not have expired at now
// ([ErrExpired]); the answer's step must be within maxSkew of now's, which
// by default is one step either side ([PushCheckStep]); and its MAC must
// verify, compared in constant time ([PushCheckMAC]). A refusal by one of
// the checks is a *[PushAnswerError], which matches
// [ErrInvalidPushAnswer].
//
// It only authenticates. A nil error says that the device holding these
// keys answered this prompt with a.Approve and a.TypedNumber; the caller
// must then:
//   - treat a.Approve false as a denial;
//   - compare a.TypedNumber with the number it showed on the login page,
//     and count a wrong number as a failed answer to this request;
//   - accept one answer per request, whatever it says: VerifyPushAnswer
//     remembers nothing, and verifies the same answer again, so the store
//     must take the request once;
//   - when the prompt carried a transaction, check a.TxResponse as a
//     transaction response (package authn does it with the same tags as
//     a transaction signed from a QR code).
func VerifyPushAnswer(keys Keys, p PushPrompt, a PushAnswer, now time.Time, maxSkew time.Duration) error {
	if len(keys.Push) != sha256.Size {
		return wrap(ErrInvalidInput, "push key is not 32 bytes")
	}
	if maxSkew < 0 || maxSkew > MaxPushSkew {
		return wrap(ErrInvalidInput, "clock skew %v out of range 0..%v", maxSkew, MaxPushSkew)
	}
	if maxSkew == 0 {
		maxSkew = DefaultPushSkew
	}
	if reason := p.check(); reason != "" {
		return wrap(ErrInvalidInput, "push prompt: %s", reason)
	}
	if reason := a.check(); reason != "" {
		return wrap(ErrInvalidInput, "push answer: %s", reason)
	}
	if a.RequestID != p.RequestID {
		return &PushAnswerError{Check: PushCheckPrompt, Detail: "another request ID"}
	}
	if !bytes.Equal(a.Nonce, p.Nonce) {
		return &PushAnswerError{Check: PushCheckPrompt, Detail: "another nonce"}
	}
	if !bytes.Equal(a.ContextHash, p.Context.Hash()) {
		return &PushAnswerError{Check: PushCheckPrompt, Detail: "the phone showed another context"}
	}
	if !now.Before(p.ExpiresAt) {
		return errPromptExpired
	}
	lo, _ := pushStepAt(now.Add(-maxSkew))
	hi, ok := pushStepAt(now.Add(maxSkew))
	if !ok || a.Step < lo || a.Step > hi {
		return &PushAnswerError{Check: PushCheckStep}
	}
	if !hmac.Equal(a.MAC, answerMAC(keys.Push, a)) {
		return &PushAnswerError{Check: PushCheckMAC}
	}
	return nil
}

// UnmarshalJSON decodes an answer strictly (valid UTF-8, one JSON object
// with no unknown, repeated, differently cased or missing fields, only
// tx_response being optional; no trailing data; JSON null refused) and
// validates it; on error a is left unchanged, and the error matches
// [ErrInvalidInput].
func (a *PushAnswer) UnmarshalJSON(b []byte) error {
	if reason := checkJSONShape(b, answerShape); reason != "" {
		return wrap(ErrInvalidInput, "push answer: json: %s", reason)
	}
	type plain PushAnswer
	var v plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return wrap(ErrInvalidInput, "push answer: json: %v", err)
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) != 0 {
		return wrap(ErrInvalidInput, "push answer: json: trailing data")
	}
	if reason := PushAnswer(v).check(); reason != "" {
		return wrap(ErrInvalidInput, "push answer: %s", reason)
	}
	*a = PushAnswer(v)
	return nil
}
