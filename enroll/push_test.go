package enroll

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll/txn"
)

// pushConfirmed returns a confirmed credential, its server's enrollment, and
// the server's keys for the device.
func pushConfirmed(t *testing.T) (*Credential, Enrollment, Keys) {
	t.Helper()
	_, c, _, e := activate(t)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	return c, e, DeriveKeys(e.Secret, e.Device.Suite)
}

var pushCtx = PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

// pushPromptFor is the prompt a server would send to the enrolled device.
func pushPromptFor(e Enrollment, id string) PushPrompt {
	return PushPrompt{
		RequestID: id,
		Nonce:     bytes.Repeat([]byte{byte(len(id))}, PushNonceSize),
		Issuer:    e.Device.Issuer,
		User:      e.Device.User,
		DeviceID:  e.Device.ID,
		Context:   pushCtx,
		ExpiresAt: t0.Add(10 * time.Minute),
	}
}

func TestPushRoundTrip(t *testing.T) {
	c, e, keys := pushConfirmed(t)
	p := pushPromptFor(e, "req-1")
	p.Transaction = mustCanonical(t, txWithdrawal)
	wire, err := SealPrompt(keys, p)
	require.NoError(t, err)

	now := t0.Add(2 * time.Minute)
	got, err := c.OpenPrompt(wire, now)
	require.NoError(t, err)
	require.Equal(t, p, got)

	// The phone does not alias the wire.
	clear(wire)
	require.Equal(t, p, got)

	a, err := c.AnswerPush(got, true, "42", now)
	require.NoError(t, err)
	require.Equal(t, "42", a.TypedNumber)
	require.True(t, a.Approve)
	require.Equal(t, uint64(now.Unix()/30), a.Step)
	require.Equal(t, p.Context.Hash(), a.ContextHash)
	require.NoError(t, VerifyPushAnswer(keys, p, a, now.Add(5*time.Second), 0))

	// Across the network, as JSON.
	b, err := json.Marshal(a)
	require.NoError(t, err)
	var back PushAnswer
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, a, back)
	require.NoError(t, VerifyPushAnswer(keys, p, back, now, 0))

	// A denial, with or without a number.
	for _, n := range []string{"", "17"} {
		d, err := c.AnswerPush(got, false, n, now)
		require.NoError(t, err)
		require.NoError(t, VerifyPushAnswer(keys, p, d, now, 0))
		require.False(t, d.Approve)
	}

	// No transaction: it opens as nil.
	p.Transaction = nil
	wire, err = SealPrompt(keys, p)
	require.NoError(t, err)
	got, err = c.OpenPrompt(wire, now)
	require.NoError(t, err)
	require.Nil(t, got.Transaction)
	require.Equal(t, p, got)
}

func TestOpenPromptRefusals(t *testing.T) {
	c, e, keys := pushConfirmed(t)
	p := pushPromptFor(e, "req-1")
	p.Transaction = mustCanonical(t, txWithdrawal)
	wire, err := SealPrompt(keys, p)
	require.NoError(t, err)
	now := t0.Add(time.Minute)

	refused := func(w []byte, at time.Time, want error, msg string) {
		t.Helper()
		got, err := c.OpenPrompt(w, at)
		require.ErrorIs(t, err, want, msg)
		require.Equal(t, PushPrompt{}, got, msg)
	}

	// An altered byte anywhere: version, any field, length, expiry, MAC.
	for i := range wire {
		for _, bit := range []byte{0x01, 0x80} {
			w := bytes.Clone(wire)
			w[i] ^= bit
			refused(w, now, ErrBadPrompt, fmt.Sprintf("byte %d ^ %#x", i, bit))
		}
	}
	// Truncated to any length, or extended.
	for n := range len(wire) {
		refused(wire[:n], now, ErrBadPrompt, fmt.Sprintf("truncated to %d", n))
	}
	refused(append(bytes.Clone(wire), 0), now, ErrBadPrompt, "extended")
	refused(nil, now, ErrBadPrompt, "nil")

	// Sealed under another device's srv key.
	_, _, otherKeys := pushConfirmed(t)
	w, err := SealPrompt(otherKeys, p)
	require.NoError(t, err)
	refused(w, now, ErrBadPrompt, "another device's key")

	// Authentic, but for another device, user or issuer.
	for name, f := range map[string]func(*PushPrompt){
		"device": func(q *PushPrompt) { q.DeviceID = strings.Repeat("ab", 16) },
		"user":   func(q *PushPrompt) { q.User = "user-43" },
		"issuer": func(q *PushPrompt) { q.Issuer = "Evil Bank" },
	} {
		q := p
		f(&q)
		w, err := SealPrompt(keys, q)
		require.NoError(t, err)
		refused(w, now, ErrPromptNotForDevice, name)
	}

	// Expired: refused from its expiry on.
	_, err = c.OpenPrompt(wire, p.ExpiresAt.Add(-time.Second))
	require.NoError(t, err)
	refused(wire, p.ExpiresAt, ErrExpired, "at expiry")
	refused(wire, p.ExpiresAt.Add(time.Hour), ErrExpired, "after expiry")

	// An authentic wire form that is malformed (a server bug) is still
	// refused, after the MAC.
	body := bytes.Clone(wire[:len(wire)-32])
	body = append(body, 0) // trailing byte after the expiry
	refused(append(body, promptMAC(keys.Server, body)...), now, ErrBadPrompt, "trailing byte")
	body = bytes.Clone(wire[:len(wire)-32])
	body[0] = 2
	refused(append(body, promptMAC(keys.Server, body)...), now, ErrBadPrompt, "version 2")

	// An unconfirmed credential opens nothing.
	_, c2, _, e2 := activate(t)
	k2 := DeriveKeys(e2.Secret, e2.Device.Suite)
	w, err = SealPrompt(k2, pushPromptFor(e2, "req-2"))
	require.NoError(t, err)
	_, err = c2.OpenPrompt(w, now)
	require.ErrorIs(t, err, ErrUnconfirmed)
	require.NoError(t, c2.CheckServerConfirm(e2.ServerConfirm))
	_, err = c2.OpenPrompt(w, now)
	require.NoError(t, err)
	c2.Zero()
	_, err = c2.OpenPrompt(w, now)
	require.ErrorIs(t, err, ErrUnconfirmed)
}

func TestSealPromptValidation(t *testing.T) {
	_, e, keys := pushConfirmed(t)
	good := pushPromptFor(e, "req-1")
	_, err := SealPrompt(keys, good)
	require.NoError(t, err)
	for name, f := range map[string]func(*PushPrompt){
		"empty request ID":      func(p *PushPrompt) { p.RequestID = "" },
		"request ID with space": func(p *PushPrompt) { p.RequestID = "req 1" },
		"request ID too long":   func(p *PushPrompt) { p.RequestID = strings.Repeat("a", 65) },
		"short nonce":           func(p *PushPrompt) { p.Nonce = p.Nonce[:15] },
		"no nonce":              func(p *PushPrompt) { p.Nonce = nil },
		"no issuer":             func(p *PushPrompt) { p.Issuer = "" },
		"no user":               func(p *PushPrompt) { p.User = "" },
		"user with newline":     func(p *PushPrompt) { p.User = "a\nb" },
		"device ID upper case":  func(p *PushPrompt) { p.DeviceID = strings.ToUpper(p.DeviceID) },
		"device ID short":       func(p *PushPrompt) { p.DeviceID = p.DeviceID[:30] },
		"no action":             func(p *PushPrompt) { p.Context.Action = "" },
		"action too long":       func(p *PushPrompt) { p.Context.Action = strings.Repeat("x", 65) },
		"control in place":      func(p *PushPrompt) { p.Context.Place = "Zürich\x1b[2J" },
		"bidi in browser":       func(p *PushPrompt) { p.Context.Browser = "Firefox \u202esoScam" },
		"line separator":        func(p *PushPrompt) { p.Context.Place = "Zürich\u2028Approve: yes" },
		"zero-width space":      func(p *PushPrompt) { p.Context.Action = "Log\u200bin" },
		"invalid UTF-8":         func(p *PushPrompt) { p.Context.Browser = "\xff" },
		"IP not an address":     func(p *PushPrompt) { p.Context.IP = "your bank" },
		"IP with port":          func(p *PushPrompt) { p.Context.IP = "203.0.113.7:443" },
		"IP with zone":          func(p *PushPrompt) { p.Context.IP = "fe80::1%eth0" },
		"transaction too long":  func(p *PushPrompt) { p.Transaction = make([]byte, MaxTransactionSize+1) },
		"no expiry":             func(p *PushPrompt) { p.ExpiresAt = time.Time{} },
		"fractional expiry":     func(p *PushPrompt) { p.ExpiresAt = p.ExpiresAt.Add(time.Millisecond) },
		"expiry before 1970":    func(p *PushPrompt) { p.ExpiresAt = time.Unix(-5, 0) },
	} {
		p := good
		p.Nonce = bytes.Clone(good.Nonce)
		f(&p)
		w, err := SealPrompt(keys, p)
		require.ErrorIs(t, err, ErrInvalidInput, name)
		require.Nil(t, w, name)
	}
	// Limits are inclusive.
	p := good
	p.RequestID = strings.Repeat("a", 64)
	p.Transaction = make([]byte, MaxTransactionSize)
	p.Context = PushContext{Action: strings.Repeat("x", 64), IP: "2001:db8::1", Place: strings.Repeat("ü", 64), Browser: strings.Repeat("b", 128)}
	_, err = SealPrompt(keys, p)
	require.NoError(t, err)
	// Only the action is required. The sizes PROTOCOL.md states: 81
	// bytes of framing, 133 for the smallest prompt, 5,185 at most.
	p = good
	p.RequestID, p.Issuer, p.User = "r", "I", "u"
	p.Context = PushContext{Action: "L"}
	w, err := SealPrompt(keys, p)
	require.NoError(t, err)
	require.Len(t, w, 133)
	require.Equal(t, 81, minPromptWire)
	require.Equal(t, 5185, maxPromptWire)

	_, err = SealPrompt(Keys{}, good)
	require.ErrorIs(t, err, ErrInvalidInput)
}

func TestAnswerPushTypedNumber(t *testing.T) {
	c, e, keys := pushConfirmed(t)
	p := pushPromptFor(e, "req-1")
	now := t0.Add(time.Minute)
	for _, n := range []string{"", "4", "123", "4a", " 42", "42 ", "４２", "٤٢", "-1", "+4"} {
		a, err := c.AnswerPush(p, true, n, now)
		require.ErrorIs(t, err, ErrInvalidInput, "approve %q", n)
		require.Equal(t, PushAnswer{}, a)
	}
	for _, n := range []string{"x", "4", "123"} {
		_, err := c.AnswerPush(p, false, n, now)
		require.ErrorIs(t, err, ErrInvalidInput, "deny %q", n)
	}
	for _, n := range []string{"00", "07", "99"} {
		a, err := c.AnswerPush(p, true, n, now)
		require.NoError(t, err, n)
		require.NoError(t, VerifyPushAnswer(keys, p, a, now, 0))
	}

	// The phone answers only prompts for itself, and not after expiry.
	q := p
	q.DeviceID = strings.Repeat("0", 32)
	_, err := c.AnswerPush(q, true, "42", now)
	require.ErrorIs(t, err, ErrPromptNotForDevice)
	_, err = c.AnswerPush(p, true, "42", p.ExpiresAt)
	require.ErrorIs(t, err, ErrExpired)
	q = p
	q.Nonce = nil
	_, err = c.AnswerPush(q, true, "42", now)
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = c.AnswerPush(p, true, "42", time.Unix(-100, 0))
	require.ErrorIs(t, err, ErrInvalidInput)
	_, c2, _, _ := activate(t)
	_, err = c2.AnswerPush(p, true, "42", now)
	require.ErrorIs(t, err, ErrUnconfirmed)
}

func TestVerifyPushAnswerRefusals(t *testing.T) {
	c, e, keys := pushConfirmed(t)
	p1, p2 := pushPromptFor(e, "req-1"), pushPromptFor(e, "req-22")
	now := t0.Add(time.Minute)
	a, err := c.AnswerPush(p1, true, "42", now)
	require.NoError(t, err)
	require.NoError(t, VerifyPushAnswer(keys, p1, a, now, 0))

	// Replayed against another request: caught by the request ID and the
	// nonce, and rewriting them breaks the MAC.
	requirePushCheck(t, VerifyPushAnswer(keys, p2, a, now, 0), PushCheckPrompt)
	r := a
	r.RequestID = p2.RequestID
	requirePushCheck(t, VerifyPushAnswer(keys, p2, r, now, 0), PushCheckPrompt) // nonce still p1's
	r.Nonce = p2.Nonce
	requirePushCheck(t, VerifyPushAnswer(keys, p2, r, now, 0), PushCheckMAC)
	// Same request ID, fresh nonce (a server that reuses IDs).
	p3 := p1
	p3.Nonce = bytes.Repeat([]byte{9}, PushNonceSize)
	requirePushCheck(t, VerifyPushAnswer(keys, p3, a, now, 0), PushCheckPrompt)

	// The phone showed another context than the server sent.
	r = a
	r.ContextHash = bytes.Clone(a.ContextHash)
	r.ContextHash[0] ^= 1
	requirePushCheck(t, VerifyPushAnswer(keys, p1, r, now, 0), PushCheckPrompt)
	p4 := p1
	p4.Context.Place = "Lagos, NG"
	requirePushCheck(t, VerifyPushAnswer(keys, p4, a, now, 0), PushCheckPrompt)

	// Steps: one either side by default; two is refused.
	step := a.Step
	for _, d := range []int64{-1, 1} {
		r = a
		r.Step = uint64(int64(step) + d)
		r.MAC = answerMAC(c.keys.Push, r)
		require.NoError(t, VerifyPushAnswer(keys, p1, r, now, 0), "step %+d", d)
	}
	for _, d := range []int64{-2, 2, -1000} {
		r = a
		r.Step = uint64(int64(step) + d)
		r.MAC = answerMAC(c.keys.Push, r)
		requirePushCheck(t, VerifyPushAnswer(keys, p1, r, now, 0), PushCheckStep, "step %+d", d)
		requirePushCheck(t, VerifyPushAnswer(keys, p1, r, now, 10*time.Second), PushCheckStep, "step %+d", d)
	}
	// A wider skew accepts two steps.
	r = a
	r.Step = step + 2
	r.MAC = answerMAC(c.keys.Push, r)
	require.NoError(t, VerifyPushAnswer(keys, p1, r, now, 90*time.Second))
	// The server's own clock beyond the answer's window.
	requirePushCheck(t, VerifyPushAnswer(keys, p1, a, now.Add(2*PushStep), 0), PushCheckStep)

	// Altered on the way: every MAC bit, the decision, the number, a
	// transaction response, the step without a new MAC.
	for i := range a.MAC {
		r = a
		r.MAC = bytes.Clone(a.MAC)
		r.MAC[i] ^= 0x10
		requirePushCheck(t, VerifyPushAnswer(keys, p1, r, now, 0), PushCheckMAC, "MAC byte %d", i)
	}
	for name, f := range map[string]func(*PushAnswer){
		"decision":    func(r *PushAnswer) { r.Approve = false },
		"number":      func(r *PushAnswer) { r.TypedNumber = "43" },
		"tx response": func(r *PushAnswer) { r.TxResponse = "12345678" },
		"step":        func(r *PushAnswer) { r.Step++ },
	} {
		r = a
		f(&r)
		requirePushCheck(t, VerifyPushAnswer(keys, p1, r, now, 0), PushCheckMAC, name)
	}
	// A denial turned into an approval.
	d, err := c.AnswerPush(p1, false, "", now)
	require.NoError(t, err)
	d.Approve, d.TypedNumber = true, "42"
	requirePushCheck(t, VerifyPushAnswer(keys, p1, d, now, 0), PushCheckMAC)

	// Another device's keys.
	_, _, other := pushConfirmed(t)
	requirePushCheck(t, VerifyPushAnswer(other, p1, a, now, 0), PushCheckMAC)
	// The srv key is not the push key.
	requirePushCheck(t, VerifyPushAnswer(Keys{Push: keys.Server}, p1, a, now, 0), PushCheckMAC)

	// An answer arriving after the prompt expired.
	late := p1.ExpiresAt
	r = a
	r.Step = uint64(late.Unix() / 30)
	r.MAC = answerMAC(c.keys.Push, r)
	require.ErrorIs(t, VerifyPushAnswer(keys, p1, r, late, 0), ErrExpired)

	// Malformed answers.
	for name, f := range map[string]func(*PushAnswer){
		"truncated nonce":      func(r *PushAnswer) { r.Nonce = r.Nonce[:8] },
		"truncated MAC":        func(r *PushAnswer) { r.MAC = r.MAC[:31] },
		"truncated hash":       func(r *PushAnswer) { r.ContextHash = r.ContextHash[:16] },
		"no request ID":        func(r *PushAnswer) { r.RequestID = "" },
		"approval no number":   func(r *PushAnswer) { r.TypedNumber = "" },
		"number of 3 digits":   func(r *PushAnswer) { r.TypedNumber = "420" },
		"tx response not hex":  func(r *PushAnswer) { r.TxResponse = "12 34" },
		"tx response too long": func(r *PushAnswer) { r.TxResponse = strings.Repeat("1", 129) },
		"step far future":      func(r *PushAnswer) { r.Step = 1 << 62 },
	} {
		r = a
		f(&r)
		require.ErrorIs(t, VerifyPushAnswer(keys, p1, r, now, 0), ErrInvalidInput, name)
	}

	// Bad arguments.
	require.ErrorIs(t, VerifyPushAnswer(keys, p1, a, now, -time.Second), ErrInvalidInput)
	require.ErrorIs(t, VerifyPushAnswer(keys, p1, a, now, MaxPushSkew+1), ErrInvalidInput)
	require.ErrorIs(t, VerifyPushAnswer(Keys{}, p1, a, now, 0), ErrInvalidInput)
	bad := p1
	bad.Nonce = nil
	require.ErrorIs(t, VerifyPushAnswer(keys, bad, a, now, 0), ErrInvalidInput)
}

func TestPushContextHash(t *testing.T) {
	base := pushCtx.Hash()
	require.Len(t, base, 32)
	for i, c := range []PushContext{
		{Action: "Login.", IP: pushCtx.IP, Place: pushCtx.Place, Browser: pushCtx.Browser},
		{Action: pushCtx.Action, IP: "203.0.113.8", Place: pushCtx.Place, Browser: pushCtx.Browser},
		{Action: pushCtx.Action, IP: pushCtx.IP, Place: "Zurich, CH", Browser: pushCtx.Browser},
		{Action: pushCtx.Action, IP: pushCtx.IP, Place: pushCtx.Place, Browser: "Firefox on Linux"},
		// Length prefixes: moving a boundary changes the hash.
		{Action: pushCtx.Action, IP: pushCtx.IP, Place: pushCtx.Place + "F", Browser: pushCtx.Browser[1:]},
	} {
		require.NotEqual(t, base, c.Hash(), "context %d", i)
	}
	want := sha256.Sum256(append([]byte("keyline/v1/push-context"),
		lp(lp(lp(lp(nil, []byte("Login")), []byte("203.0.113.7")), []byte("Zürich, CH")), []byte("Firefox on macOS"))...))
	require.Equal(t, want[:], base)
}

func TestPushAnswerJSON(t *testing.T) {
	c, e, _ := pushConfirmed(t)
	a, err := c.AnswerPush(pushPromptFor(e, "req-1"), true, "42", t0)
	require.NoError(t, err)
	b, err := json.Marshal(a)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"request_id", "nonce", "context_hash", "approve", "typed_number", "step", "mac"}, keys)

	a.TxResponse = "12345678"
	b, err = json.Marshal(a)
	require.NoError(t, err)
	require.Contains(t, string(b), `"tx_response":"12345678"`)

	for name, in := range map[string]string{
		"unknown field": strings.Replace(string(b), `"approve"`, `"extra":1,"approve"`, 1),
		"bad number":    strings.Replace(string(b), `"42"`, `"4x"`, 1),
		"short nonce":   strings.Replace(string(b), `"nonce":"`, `"nonce":"AAAA`, 1),
		"null":          `null`,
		"empty object":  `{}`,
		"array":         `[]`,
		"case variant":  strings.Replace(string(b), `"approve"`, `"Approve"`, 1),
		"repeated key":  strings.Replace(string(b), `"approve":true`, `"approve":false,"approve":true`, 1),
		"step string":   strings.Replace(string(b), fmt.Sprintf(`"step":%d`, a.Step), `"step":"1"`, 1),
		"negative step": strings.Replace(string(b), fmt.Sprintf(`"step":%d`, a.Step), `"step":-1`, 1),
	} {
		got := a
		err := json.Unmarshal([]byte(in), &got)
		require.ErrorIs(t, err, ErrInvalidInput, name)
		require.Equal(t, a, got, "%s: left unchanged", name)
	}
	// Not JSON: encoding/json refuses it before UnmarshalJSON runs; called
	// directly, UnmarshalJSON refuses it too.
	got := a
	require.Error(t, json.Unmarshal(b[:len(b)/2], &got))
	require.Equal(t, a, got)
	got = PushAnswer{}
	require.ErrorIs(t, got.UnmarshalJSON(b[:len(b)/2]), ErrInvalidInput)
	// Trailing data, when UnmarshalJSON is called directly.
	require.ErrorIs(t, got.UnmarshalJSON(append(bytes.Clone(b), " {}"...)), ErrInvalidInput)
	require.ErrorIs(t, got.UnmarshalJSON(append(bytes.Clone(b), '}')), ErrInvalidInput)
	require.Equal(t, PushAnswer{}, got)
	require.NoError(t, got.UnmarshalJSON(append(bytes.Clone(b), " \n"...)))
	require.Equal(t, a, got)

	// Inside a larger document, as the device API will carry it.
	var env struct {
		Answer PushAnswer `json:"answer"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"answer":`+string(b)+`}`), &env))
	require.Equal(t, a, env.Answer)
}

// Nothing of the push messages prints a key: not the prompt, its wire
// form, the answer, nor the credential and keys around them.
func TestPushNothingPrintsKeys(t *testing.T) {
	c, e, keys := pushConfirmed(t)
	p := pushPromptFor(e, "req-1")
	p.Transaction = mustCanonical(t, txWithdrawal)
	wire, err := SealPrompt(keys, p)
	require.NoError(t, err)
	opened, err := c.OpenPrompt(wire, t0)
	require.NoError(t, err)
	a, err := c.AnswerPush(opened, true, "42", t0)
	require.NoError(t, err)
	secrets := [][]byte{e.Secret, c.root, keys.OCRA, keys.Push, keys.Server, keys.API, keys.Pair}

	values := []any{p, &p, opened, a, &a, p.Context, wire, c, keys}
	var out strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", v)
	}
	j, err := json.Marshal(a)
	require.NoError(t, err)
	out.Write(j)
	text := out.String()
	// The probe sees the messages (so it would see a key in them): the
	// answer's MAC no longer prints (issue 12), but its JSON, the wire
	// form, still carries it.
	require.Contains(t, text, base64.StdEncoding.EncodeToString(a.MAC))
	require.Contains(t, text, "req-1")
	for _, s := range secrets {
		require.NotEmpty(t, s)
		h := hex.EncodeToString(s)
		for i := 0; i+16 <= len(h); i += 2 {
			require.NotContains(t, text, h[i:i+16])
			require.NotContains(t, text, strings.ToUpper(h[i:i+16]))
		}
		require.NotContains(t, text, string(s))
		require.NotContains(t, text, strings.Trim(fmt.Sprint(s[:6]), "[]"))
	}
}

// The push vectors, testdata/push_v1.json, pin the push messages of
// PROTOCOL.md's push section. The test recomputes each vector from that
// section alone (stdlib crypto/hkdf and crypto/hmac, the encodings written
// out below) and with the package, and requires both to equal the file.
// Regenerate with: go test ./enroll -run TestPushVectors -update

type pushVecInput struct {
	RootSecret  string `json:"root_secret"`
	Suite       string `json:"suite"`
	Issuer      string `json:"issuer"`
	User        string `json:"user"`
	DeviceID    string `json:"device_id"`
	RequestID   string `json:"request_id"`
	Nonce       string `json:"nonce"`
	Action      string `json:"action"`
	IP          string `json:"ip"`
	Place       string `json:"place"`
	Browser     string `json:"browser"`
	Transaction string `json:"transaction_hex"`
	ExpiresAt   int64  `json:"expires_at"`
	Time        int64  `json:"time"`
	Approve     bool   `json:"approve"`
	TypedNumber string `json:"typed_number"`
	TxResponse  string `json:"tx_response"`
}

type pushVecOutput struct {
	PushKey        string `json:"push_key"`
	SrvKey         string `json:"srv_key"`
	ContextHash    string `json:"context_hash"`
	PromptMACInput string `json:"prompt_mac_input_hex"`
	PromptMAC      string `json:"prompt_mac"`
	PromptWire     string `json:"prompt_wire"`
	Step           uint64 `json:"step"`
	AnswerMACInput string `json:"answer_mac_input_hex"`
	AnswerMAC      string `json:"answer_mac"`
	AnswerJSON     string `json:"answer_json"`
}

type pushVector struct {
	Name   string        `json:"name"`
	Input  pushVecInput  `json:"input"`
	Output pushVecOutput `json:"output"`
}

var pushVecInputs = []pushVector{
	{Name: "login approved", Input: pushVecInput{
		RootSecret: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		Suite:      "OCRA-1:HOTP-SHA256-8:QN06-T30S",
		Issuer:     "Example Bank", User: "user-42", DeviceID: "00112233445566778899aabbccddeeff",
		RequestID: "req-7f3a9c", Nonce: "f0e1d2c3b4a5968778695a4b3c2d1e0f",
		Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS",
		ExpiresAt: 1795770120, Time: 1795770000, Approve: true, TypedNumber: "42",
	}},
	{Name: "payment with transaction, approved with a transaction response", Input: pushVecInput{
		RootSecret: "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf",
		Suite:      "OCRA-1:HOTP-SHA1-8:QN08-T1M",
		Issuer:     "Börse AG", User: "8f14e45f", DeviceID: "fedcba98765432100123456789abcdef",
		RequestID: "tx_0001.b~", Nonce: "00000000000000000000000000000001",
		Action: "Payment", IP: "2001:db8::1", Place: "", Browser: "Safari on iOS",
		Transaction: "6b65796c696e652f76312f7478010100000001010200000008000000000001e240030000000345555204000000085531323334353637050000001644453839333730343030343430353332303133303030060000000c416461204c6f76656c6163650a0000000a52656e74204d61726368",
		ExpiresAt:   1800000300, Time: 1800000029, Approve: true, TypedNumber: "07", TxResponse: "16135181",
	}},
	{Name: "login denied, no number, minimal context", Input: pushVecInput{
		RootSecret: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		Suite:      "OCRA-1:HOTP-SHA256-8:QN06-T30S",
		Issuer:     "Example Bank", User: "user-42", DeviceID: "00112233445566778899aabbccddeeff",
		RequestID: "r", Nonce: "ffffffffffffffffffffffffffffffff",
		Action: "Login", ExpiresAt: 1795770120, Time: 1795770119, Approve: false,
	}},
}

// pushByProtocol computes a vector from PROTOCOL.md's push section alone.
func pushByProtocol(t *testing.T, in pushVecInput) pushVecOutput {
	root := mustHex(t, in.RootSecret)
	key := func(label string) []byte {
		k, err := hkdf.Key(sha256.New, root, nil, label, 32)
		require.NoError(t, err)
		return k
	}
	pushKey, srvKey := key("keyline/v1/push"), key("keyline/v1/srv")
	mac := func(k, msg []byte) []byte {
		m := hmac.New(sha256.New, k)
		m.Write(msg)
		return m.Sum(nil)
	}

	ctx := []byte{}
	for _, f := range []string{in.Action, in.IP, in.Place, in.Browser} {
		ctx = lp(ctx, []byte(f))
	}
	ch := sha256.Sum256(append([]byte("keyline/v1/push-context"), ctx...))

	body := []byte{1}
	body = lp(body, []byte(in.RequestID))
	body = lp(body, mustHex(t, in.Nonce))
	body = lp(body, []byte(in.Issuer))
	body = lp(body, []byte(in.User))
	body = lp(body, []byte(in.DeviceID))
	body = append(body, ctx...)
	body = lp(body, mustHex(t, in.Transaction))
	body = binary.BigEndian.AppendUint64(body, uint64(in.ExpiresAt))
	promptIn := append([]byte("keyline/v1/push-prompt"), body...)
	promptMAC := mac(srvKey, promptIn)

	step := uint64(in.Time) / 30
	decision := byte(0)
	if in.Approve {
		decision = 1
	}
	ans := []byte("keyline/v1/push-answer")
	ans = lp(ans, []byte(in.RequestID))
	ans = lp(ans, mustHex(t, in.Nonce))
	ans = lp(ans, ch[:])
	ans = append(ans, decision)
	ans = lp(ans, []byte(in.TypedNumber))
	ans = binary.BigEndian.AppendUint64(ans, step)
	ans = lp(ans, []byte(in.TxResponse))
	answerMAC := mac(pushKey, ans)

	// The JSON form, written out: byte strings in standard base64.
	b64 := func(b []byte) string {
		s, err := json.Marshal(b)
		require.NoError(t, err)
		return string(s)
	}
	js := fmt.Sprintf(`{"request_id":%q,"nonce":%s,"context_hash":%s,"approve":%t,"typed_number":%q,"step":%d,`,
		in.RequestID, b64(mustHex(t, in.Nonce)), b64(ch[:]), in.Approve, in.TypedNumber, step)
	if in.TxResponse != "" {
		js += fmt.Sprintf(`"tx_response":%q,`, in.TxResponse)
	}
	js += fmt.Sprintf(`"mac":%s}`, b64(answerMAC))

	return pushVecOutput{
		PushKey:        hex.EncodeToString(pushKey),
		SrvKey:         hex.EncodeToString(srvKey),
		ContextHash:    hex.EncodeToString(ch[:]),
		PromptMACInput: hex.EncodeToString(promptIn),
		PromptMAC:      hex.EncodeToString(promptMAC),
		PromptWire:     hex.EncodeToString(append(body, promptMAC...)),
		Step:           step,
		AnswerMACInput: hex.EncodeToString(ans),
		AnswerMAC:      hex.EncodeToString(answerMAC),
		AnswerJSON:     js,
	}
}

// pushVecCredential is the phone's confirmed credential of a vector.
func pushVecCredential(t testing.TB, in pushVecInput) *Credential {
	root, err := hex.DecodeString(in.RootSecret)
	require.NoError(t, err)
	suite, err := challenge.ParseSuite(in.Suite)
	require.NoError(t, err)
	return &Credential{
		offer:     Offer{Issuer: in.Issuer, User: in.User, AccountName: in.User, Suite: suite},
		deviceID:  in.DeviceID,
		root:      root,
		keys:      DeriveKeys(root, suite),
		confirmed: true,
	}
}

func pushVecPrompt(t testing.TB, in pushVecInput) PushPrompt {
	nonce, err := hex.DecodeString(in.Nonce)
	require.NoError(t, err)
	tx, err := hex.DecodeString(in.Transaction)
	require.NoError(t, err)
	if len(tx) == 0 {
		tx = nil
	}
	return PushPrompt{
		RequestID: in.RequestID, Nonce: nonce, Issuer: in.Issuer, User: in.User, DeviceID: in.DeviceID,
		Context:     PushContext{Action: in.Action, IP: in.IP, Place: in.Place, Browser: in.Browser},
		Transaction: tx, ExpiresAt: time.Unix(in.ExpiresAt, 0).UTC(),
	}
}

// pushByPackage computes a vector with the package: the server seals, the
// phone opens and answers, the server verifies.
func pushByPackage(t *testing.T, in pushVecInput) pushVecOutput {
	c := pushVecCredential(t, in)
	keys := DeriveKeys(Secret(mustHex(t, in.RootSecret)), c.Suite())
	p := pushVecPrompt(t, in)
	wire, err := SealPrompt(keys, p)
	require.NoError(t, err)
	now := time.Unix(in.Time, 0)
	opened, err := c.OpenPrompt(wire, now)
	require.NoError(t, err)
	require.Equal(t, p, opened)
	a, err := c.AnswerPush(opened, in.Approve, in.TypedNumber, now)
	require.NoError(t, err)
	// An approval of a prompt with a transaction signs it.
	require.Equal(t, in.TxResponse, a.TxResponse)
	require.NoError(t, VerifyPushAnswer(keys, p, a, now, 0))
	js, err := json.Marshal(a)
	require.NoError(t, err)
	return pushVecOutput{
		PushKey:     hex.EncodeToString(keys.Push),
		SrvKey:      hex.EncodeToString(keys.Server),
		ContextHash: hex.EncodeToString(p.Context.Hash()),
		PromptMAC:   hex.EncodeToString(wire[len(wire)-32:]),
		PromptWire:  hex.EncodeToString(wire),
		Step:        a.Step,
		AnswerMAC:   hex.EncodeToString(a.MAC),
		AnswerJSON:  string(js),
	}
}

func TestPushVectors(t *testing.T) {
	path := filepath.Join("testdata", "push_v1.json")
	var file struct {
		Note    string       `json:"note"`
		Vectors []pushVector `json:"vectors"`
	}
	if *update {
		file.Note = "keyline push approval v1 known-answer vectors; see PROTOCOL.md, push section. Hex unless named otherwise; times in Unix seconds."
		for _, v := range pushVecInputs {
			v.Output = pushByProtocol(t, v.Input)
			file.Vectors = append(file.Vectors, v)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		require.NoError(t, enc.Encode(file))
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &file))
	require.Len(t, file.Vectors, len(pushVecInputs))
	for i, v := range file.Vectors {
		require.Equal(t, pushVecInputs[i].Input, v.Input, "vector %d inputs", i)
		want := v.Output
		require.Equal(t, want, pushByProtocol(t, v.Input), "vector %q by PROTOCOL.md", v.Name)

		pkg := pushByPackage(t, v.Input)
		// The package does not expose the MAC inputs.
		pkg.PromptMACInput, pkg.AnswerMACInput = want.PromptMACInput, want.AnswerMACInput
		require.Equal(t, want, pkg, "vector %q by the package", v.Name)

		// The file's answer JSON decodes to an answer that verifies.
		var a PushAnswer
		require.NoError(t, json.Unmarshal([]byte(want.AnswerJSON), &a))
		keys := DeriveKeys(Secret(mustHex(t, v.Input.RootSecret)), challenge.MustParseSuite(v.Input.Suite))
		require.NoError(t, VerifyPushAnswer(keys, pushVecPrompt(t, v.Input), a, time.Unix(v.Input.Time, 0), 0))
	}
}

func mustCanonical(t testing.TB, tx txn.Transaction) []byte {
	t.Helper()
	b, err := tx.Canonical()
	require.NoError(t, err)
	return b
}

// A prompt whose transaction the phone cannot parse, and so cannot show,
// is refused: it is not one the user may approve.
func TestOpenPromptRefusesUnshowableTransaction(t *testing.T) {
	c, e, keys := pushConfirmed(t)
	p := pushPromptFor(e, "req-9")
	p.Transaction = []byte("not a keyline transaction")
	wire, err := SealPrompt(keys, p)
	require.NoError(t, err)
	_, err = c.OpenPrompt(wire, t0.Add(time.Minute))
	require.ErrorIs(t, err, ErrBadPrompt)
}

// requirePushCheck requires err to be a *PushAnswerError of check, which
// matches ErrInvalidPushAnswer.
func requirePushCheck(t *testing.T, err error, check PushCheck, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, ErrInvalidPushAnswer, msgAndArgs...)
	var pe *PushAnswerError
	require.ErrorAs(t, err, &pe, msgAndArgs...)
	require.Equal(t, check, pe.Check, msgAndArgs...)
}

// TestPushCheckString: every check prints its name.
func TestPushCheckString(t *testing.T) {
	require.Equal(t, "prompt", PushCheckPrompt.String())
	require.Equal(t, "step", PushCheckStep.String())
	require.Equal(t, "mac", PushCheckMAC.String())
	require.Equal(t, "PushCheck(0)", PushCheck(0).String())
	require.Equal(t, "enroll: push answer does not verify (step)", (&PushAnswerError{Check: PushCheckStep}).Error())
	require.Equal(t, "enroll: push answer does not verify (prompt): another nonce",
		(&PushAnswerError{Check: PushCheckPrompt, Detail: "another nonce"}).Error())
}
