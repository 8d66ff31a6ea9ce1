package deviceclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

// maxAnswer bounds an answer's body, in bytes: the largest the protocol
// makes is a list of a few sealed prompts of at most 5,185 bytes each.
const maxAnswer = 1 << 20

// activationTries is how often Activate sends its request when no answer
// comes back: the server answers a byte-identical retry of the request
// that won with the same confirmation.
const activationTries = 3

// Client is the phone's side of the device API of one server. Make one
// with New; set Now, if at all, before the first call. It is safe for
// concurrent use.
//
// It keeps the offset of the phone's clock to the server's (PROTOCOL.md
// §11, "Clock offset"): learned from every answer, added to Now for every
// time it signs or checks, bounded by MaxClockOffset; see ClockOffset.
type Client struct {
	base   string // the base URL, without a trailing slash
	err    error  // why New refused the base URL
	hc     *http.Client
	offset atomic.Int64 // server time minus phone time, in whole seconds

	// Now is the phone's clock: default time.Now. The client corrects it
	// by ClockOffset for signing requests and checking what it receives;
	// a phone clock more than MaxClockOffset off the server's cannot be
	// corrected (ErrClockOffset).
	Now func() time.Time
}

// New returns a client of the device API at baseURL, the URL the server
// mounts it at ("https://bank.example/device"), which the app knows: it
// never takes a server address from a QR code. The URL must be absolute
// http or https, without query or fragment (plain http is for tests:
// the API is authenticated, not encrypted). hc nil means
// http.DefaultClient; give it a timeout. A base URL New refuses makes
// every call fail with ErrBadRequest.
func New(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	c := &Client{hc: hc, Now: time.Now}
	u, err := url.Parse(baseURL)
	switch {
	case err != nil, u.Scheme != "https" && u.Scheme != "http", u.Host == "", u.User != nil,
		u.RawQuery != "", u.ForceQuery, u.Fragment != "", u.Opaque != "":
		c.err = fmt.Errorf("%w: the base URL is not an absolute http(s) URL without query or fragment", ErrBadRequest)
	}
	c.base = strings.TrimRight(baseURL, "/")
	return c
}

// phoneNow is the phone's clock, uncorrected.
func (c *Client) phoneNow() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

// now is the phone's clock corrected to the server's (ServerNow).
func (c *Client) now() time.Time { return c.ServerNow() }

// FetchOffer fetches the offer of a session ID the user typed, and checks
// it as a phone must (PROTOCOL.md §1): the ID parses (a typo is
// enroll.ErrSessionIDTypo, found before anything is sent), the offer is
// well formed (enroll.ParseOffer), and its server key hashes to the ID
// typed, so that nobody between phone and server can substitute a key
// (enroll.ErrOfferMismatch). An unknown session is enroll.ErrUnknownSession;
// an expired one enroll.ErrExpired; one completed already
// enroll.ErrAlreadyUsed.
func (c *Client) FetchOffer(ctx context.Context, typedSessionID string) (enroll.Offer, error) {
	sid, err := enroll.ParseSessionID(typedSessionID)
	if err != nil {
		return enroll.Offer{}, err
	}
	var ans devicewire.OfferAnswer
	if err := c.do(ctx, nil, http.MethodPost, devicewire.PathOffer, "", devicewire.SessionRequest{SessionID: sid}, &ans); err != nil {
		return enroll.Offer{}, err
	}
	offer, err := enroll.ParseOffer(ans.Offer)
	if err != nil {
		return enroll.Offer{}, err
	}
	if err := offer.Check(sid); err != nil {
		return enroll.Offer{}, err
	}
	return offer, nil
}

// Activation is an activation the server completed, as the phone keeps
// it.
type Activation struct {
	// Credential is confirmed by the server (its confirmation checked):
	// keep it, in the vault (vault.Vault.Add).
	Credential *enroll.Credential
	// Paired is true when the device is active already (a server that
	// skips pairing). Otherwise show Credential.PairingCode() for the
	// user to type where the activation was started.
	Paired bool
}

// Activate activates the phone with an offer (scanned, enroll.ParseOffer,
// or fetched, FetchOffer): enroll.Activate, the request to the server,
// and the server's confirmation checked before the credential is returned
// (DSKPP's rule: the phone checks before it keeps). A confirmation that
// does not verify is enroll.ErrBadServerConfirmation, and nothing is
// returned. When no answer comes back, it sends the very same request
// again, up to 3 times in all: the server answers a byte-identical retry
// of the request that won as it answered it. Server refusals are the
// table's (enroll.ErrExpired, enroll.ErrAlreadyUsed, ErrTooManyDevices,
// ...).
func (c *Client) Activate(ctx context.Context, offer enroll.Offer, dev enroll.DeviceInfo) (Activation, error) {
	cred, req, err := enroll.Activate(offer, dev, c.now())
	if err != nil {
		return Activation{}, err
	}
	var ans devicewire.ActivationAnswer
	for try := 1; ; try++ {
		err = c.do(ctx, nil, http.MethodPost, devicewire.PathActivate, "", req, &ans)
		if err == nil || try == activationTries || !retryable(err) {
			break
		}
		wait := time.NewTimer(time.Duration(try) * 250 * time.Millisecond)
		select {
		case <-ctx.Done():
			wait.Stop()
			err = fmt.Errorf("%w: %s %s: %w", ErrUnreachable, http.MethodPost, devicewire.PathActivate, ctx.Err())
		case <-wait.C:
			continue
		}
		break
	}
	if err != nil {
		cred.Zero()
		return Activation{}, err
	}
	if err := cred.CheckServerConfirm(ans.ServerConfirm); err != nil {
		cred.Zero()
		return Activation{}, err
	}
	if cred.DeviceID() != ans.DeviceID {
		cred.Zero()
		return Activation{}, fmt.Errorf("%w: the device ID is not the confirmation's", ErrBadAnswer)
	}
	return Activation{Credential: cred, Paired: ans.Paired}, nil
}

// retryable reports an activation failure after which the same request
// may be sent again: no answer, or a server that failed.
func retryable(err error) bool {
	return (errors.Is(err, ErrUnreachable) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)) ||
		errors.Is(err, ErrServer)
}

// Pushes fetches the device's pending push prompts and opens each with
// the credential (enroll.Credential.OpenPrompt), oldest first. A prompt
// that does not open — altered, for another device, expired by the
// phone's clock — is left out: the phone shows nothing of it.
func (c *Client) Pushes(ctx context.Context, cred *enroll.Credential) ([]enroll.PushPrompt, error) {
	var ans devicewire.PromptsAnswer
	if err := c.do(ctx, cred, http.MethodGet, devicewire.PathPushes, "", nil, &ans); err != nil {
		return nil, err
	}
	now := c.now()
	out := make([]enroll.PushPrompt, 0, len(ans.Prompts))
	for _, wire := range ans.Prompts {
		if p, err := cred.OpenPrompt(wire, now); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Push fetches the prompt of one push request, named by the notification
// (or by a transaction the user is asked to sign), and opens it: a prompt
// that does not open is the error of enroll.Credential.OpenPrompt
// (enroll.ErrBadPrompt, ...). A transaction push carries its transaction
// in PushPrompt.Transaction: show txn.Parse's Display lines.
// A request that is not this device's is ErrNotFound; one over,
// enroll.ErrAlreadyUsed; one expired, enroll.ErrExpired.
func (c *Client) Push(ctx context.Context, cred *enroll.Credential, requestID string) (enroll.PushPrompt, error) {
	var ans devicewire.PromptAnswer
	if err := c.do(ctx, cred, http.MethodGet, devicewire.PathPush, "id="+url.QueryEscape(requestID), nil, &ans); err != nil {
		return enroll.PushPrompt{}, err
	}
	p, err := cred.OpenPrompt(ans.Prompt, c.now())
	if err != nil {
		return enroll.PushPrompt{}, err
	}
	if p.RequestID != requestID {
		return enroll.PushPrompt{}, fmt.Errorf("%w: the prompt is for another request", ErrBadAnswer)
	}
	return p, nil
}

// AnswerPush answers a prompt the phone opened and showed: the user's
// decision and the number they typed (enroll.Credential.AnswerPush, which
// also signs the prompt's transaction on approval), at the server's time
// (ServerNow). It returns nil when the server took the answer;
// ErrWrongNumber when the number was wrong (the request is over);
// ErrInvalidCode when a transaction signature was refused (over too);
// enroll.ErrExpired when the request expired or was withdrawn;
// enroll.ErrPushAnswered (which matches enroll.ErrAlreadyUsed) when
// another answer was taken before; enroll.ErrPromptNotForDevice when the
// request did not notify this device. An answer refused as clock_off
// (enroll.ErrPushClock: its time step is off the server's clock, and the
// request is still pending) corrects the clock offset by the answer's
// server_time and is made and sent once more (PROTOCOL.md §10, Errors);
// a second clock_off is returned, as is ErrClockOffset (with
// enroll.ErrPushClock) for a server time beyond MaxClockOffset. This call
// makes a new answer each time (a later one has another time step); to
// retry an answer whose reply was lost, make it with
// enroll.Credential.AnswerPush and post it again with SendPushAnswer.
func (c *Client) AnswerPush(ctx context.Context, cred *enroll.Credential, p enroll.PushPrompt, approve bool, typedNumber string) error {
	for try := 1; ; try++ {
		a, err := cred.AnswerPush(p, approve, typedNumber, c.now())
		if err != nil {
			return err
		}
		err = c.SendPushAnswer(ctx, cred, a)
		var e *Error
		if try > 1 || !errors.As(err, &e) || e.Code != "clock_off" || e.ServerTime.IsZero() {
			return err
		}
		if c.SetClockOffset(time.Duration(e.ServerTime.Unix()-c.phoneNow().Unix())*time.Second) != nil {
			return fmt.Errorf("%w: %w", ErrClockOffset, err)
		}
	}
}

// SendPushAnswer posts an answer the phone made (enroll.Credential.AnswerPush),
// with the outcomes of AnswerPush. Posting the very same answer again,
// after a reply that was lost (ErrUnreachable), is safe: the server
// answers with the first one's outcome, and has acted once (PROTOCOL.md
// §10).
func (c *Client) SendPushAnswer(ctx context.Context, cred *enroll.Credential, a enroll.PushAnswer) error {
	approve := a.Approve
	var ans devicewire.ResultAnswer
	if err := c.do(ctx, cred, http.MethodPost, devicewire.PathPushAnswer, "", a, &ans); err != nil {
		return err
	}
	if want := map[bool]string{true: "approved", false: "denied"}[approve]; ans.Result != want {
		return fmt.Errorf("%w: the server recorded another decision", ErrBadAnswer)
	}
	return nil
}

// SetPushToken sends the OS push token after it rotated ("" for none:
// the device then gets no pushes).
func (c *Client) SetPushToken(ctx context.Context, cred *enroll.Credential, token string) error {
	return c.do(ctx, cred, http.MethodPost, devicewire.PathPushToken, "", devicewire.PushTokenRequest{PushToken: token}, nil)
}

// StartMigration asks for an activation that will replace this device:
// the old phone shows the offer it returns (enroll.Offer.QR, or its
// SessionID to type) to the new phone, which activates with it. Then the
// user types the new phone's pairing code here (ConfirmMigration), and
// this device is revoked: delete its credential.
func (c *Client) StartMigration(ctx context.Context, cred *enroll.Credential) (enroll.Offer, error) {
	var ans devicewire.OfferAnswer
	if err := c.do(ctx, cred, http.MethodPost, devicewire.PathMigration, "", struct{}{}, &ans); err != nil {
		return enroll.Offer{}, err
	}
	offer, err := enroll.ParseOffer(ans.Offer)
	if err != nil {
		return enroll.Offer{}, err
	}
	if offer.Issuer != cred.Issuer() || offer.User != cred.User() {
		return enroll.Offer{}, fmt.Errorf("%w: the offer is for another issuer or user", ErrBadAnswer)
	}
	return offer, nil
}

// MigrationStatus reports where a migration this device started is:
// "waiting" (no new phone yet), "completed" (a new phone activated: ask
// for its pairing code), "active" (done), "expired", "cancelled" or
// "discarded" (the third wrong pairing code discarded the new phone:
// start again).
func (c *Client) MigrationStatus(ctx context.Context, cred *enroll.Credential, sessionID string) (string, error) {
	p, err := c.MigrationProgress(ctx, cred, sessionID)
	return p.Status, err
}

// MigrationProgress is where a migration stands: its Status (see
// [Client.MigrationStatus]) and how many pairing codes may still be typed
// on this phone (TriesLeft: 3 once the new phone completed it, one fewer
// after each wrong code; 0 in every other status).
type MigrationProgress struct {
	Status    string
	TriesLeft int
}

// MigrationProgress is MigrationStatus with the pairing tries left.
func (c *Client) MigrationProgress(ctx context.Context, cred *enroll.Credential, sessionID string) (MigrationProgress, error) {
	var ans devicewire.StatusAnswer
	if err := c.do(ctx, cred, http.MethodPost, devicewire.PathMigrationStatus, "", devicewire.SessionRequest{SessionID: sessionID}, &ans); err != nil {
		return MigrationProgress{}, err
	}
	if ans.TriesLeft < 0 || ans.TriesLeft > 3 {
		return MigrationProgress{}, fmt.Errorf("%w: pairing tries left out of range", ErrBadAnswer)
	}
	switch ans.Status {
	case "waiting", "completed", "active", "expired", "cancelled", "discarded":
		return MigrationProgress{Status: ans.Status, TriesLeft: ans.TriesLeft}, nil
	}
	return MigrationProgress{}, fmt.Errorf("%w: unknown migration status", ErrBadAnswer)
}

// ConfirmMigration sends the pairing code the new phone shows, typed on
// this (old) phone. On success the new device is active, this one is
// revoked (its requests now fail with enroll.ErrDeviceAuth: delete its
// credential), and it returns the new device's ID. A wrong code is
// ErrWrongPairingCode; the third wrong one discards the new device and
// is ErrPairingDiscarded, as is any code sent after it: start again.
func (c *Client) ConfirmMigration(ctx context.Context, cred *enroll.Credential, sessionID, pairingCode string) (string, error) {
	var ans devicewire.DeviceAnswer
	if err := c.do(ctx, cred, http.MethodPost, devicewire.PathMigrationConfirm, "",
		devicewire.ConfirmationRequest{SessionID: sessionID, PairingCode: pairingCode}, &ans); err != nil {
		return "", err
	}
	if _, err := hex.DecodeString(ans.DeviceID); err != nil || len(ans.DeviceID) != 32 || ans.DeviceID == cred.DeviceID() {
		return "", fmt.Errorf("%w: not a new device ID", ErrBadAnswer)
	}
	return ans.DeviceID, nil
}

// do sends one request — signed under cred's api key when cred is not
// nil — and decodes a success answer into out (nil: none expected). A
// signed request refused as clock_skew is sent once more, signed afresh
// at the offset that answer taught (PROTOCOL.md §11). Its errors never
// carry the URL, whose body or query may hold a session ID.
func (c *Client) do(ctx context.Context, cred *enroll.Credential, method, path, query string, in, out any) error {
	if c.err != nil {
		return c.err
	}
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	for try := 1; ; try++ {
		raw, inBounds, err := c.send(ctx, cred, method, path, query, body)
		if err != nil {
			var e *Error
			if cred != nil && errors.As(err, &e) && e.Code == "clock_skew" {
				if !inBounds {
					return fmt.Errorf("%w: %w", ErrClockOffset, err)
				}
				if try == 1 {
					continue
				}
			}
			return err
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%w: %s %s: %v", ErrBadAnswer, method, path, err)
		}
		return nil
	}
}

// send makes one HTTP exchange of do: the request signed afresh (when
// cred is not nil) at the corrected clock, the answer's clock learned,
// and a success answer's body returned. inBounds is false when the
// answer's Date was further from the phone's clock than MaxClockOffset.
func (c *Client) send(ctx context.Context, cred *enroll.Credential, method, path, query string, body []byte) (raw []byte, inBounds bool, err error) {
	target := c.base + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, true, fmt.Errorf("%w: %s %s: the request cannot be made", ErrBadRequest, method, path)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "keyline-deviceclient/1")
	req.Header.Set(devicewire.HeaderProtocol, devicewire.ProtocolVersion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cred != nil {
		auth, err := cred.SignAPIRequest(method, path, query, body, c.now())
		if err != nil {
			return nil, true, err
		}
		req.Header.Set("Authorization", auth)
	}
	sent := c.phoneNow()
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return nil, true, fmt.Errorf("%w: %s %s: %w", ErrUnreachable, method, path, err)
	}
	defer resp.Body.Close()
	inBounds = c.learnClock(resp.Header, sent, c.phoneNow())
	raw, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, inBounds, fmt.Errorf("%w: %s %s: reading the answer: %w", ErrUnreachable, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, inBounds, answerError(resp, raw, method, path)
	}
	if len(raw) > maxAnswer {
		return nil, inBounds, fmt.Errorf("%w: %s %s: answer over %d bytes", ErrBadAnswer, method, path, maxAnswer)
	}
	return raw, inBounds, nil
}

// answerError reads an error answer: an *Error for one of the API's, or
// ErrUnreachable for anything else that answered (a proxy, another
// server).
func answerError(resp *http.Response, raw []byte, method, path string) error {
	var e devicewire.ErrorBody
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || len(raw) > maxAnswer ||
		json.Unmarshal(raw, &e) != nil || e.Error == "" {
		return fmt.Errorf("%w: %s %s: HTTP %d from something other than the device API", ErrUnreachable, method, path, resp.StatusCode)
	}
	err := &Error{Status: resp.StatusCode, Code: e.Error, Message: e.Message}
	if e.ServerTime > 0 {
		err.ServerTime = time.Unix(e.ServerTime, 0)
	}
	if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 && s <= 86400 {
		err.RetryAfter = time.Duration(s) * time.Second
	}
	return err
}
