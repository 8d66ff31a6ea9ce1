package deviceclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// fakeAPI is a transport that answers every request with fn, recording
// the requests, without a network.
type fakeAPI struct {
	mu   sync.Mutex
	reqs []recorded
	fn   func(r recorded) *http.Response
}

type recorded struct {
	method, path, query, auth, ct string
	body                          []byte
}

func (f *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	rec := recorded{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, auth: r.Header.Get("Authorization"),
		ct: r.Header.Get("Content-Type"), body: body}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	f.mu.Unlock()
	resp := f.fn(rec)
	if resp == nil {
		return nil, errors.New("connection reset by peer")
	}
	resp.Request = r
	return resp, nil
}

func (f *fakeAPI) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.reqs) }

func answer(status int, ct, body string, hdr ...string) *http.Response {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

func jsonAnswer(status int, v any) *http.Response {
	b, _ := json.Marshal(v)
	return answer(status, "application/json", string(b))
}

func newFake(fn func(r recorded) *http.Response) (*Client, *fakeAPI) {
	f := &fakeAPI{fn: fn}
	c := New("https://bank.example/device/", &http.Client{Transport: f})
	c.Now = func() time.Time { return t0 }
	return c, f
}

// enrolled is a confirmed credential and its server side, made locally.
func enrolled(t testing.TB) (*enroll.Credential, enroll.Enrollment, enroll.Offer) {
	t.Helper()
	p, err := enroll.Start("Example Bank", "user-42", enroll.StartOptions{Now: t0})
	require.NoError(t, err)
	c, req, err := enroll.Activate(p.Offer(), enroll.DeviceInfo{InstallID: "i-1", Integrity: enroll.Intact}, t0)
	require.NoError(t, err)
	e, err := p.Complete(req, t0)
	require.NoError(t, err)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	return c, e, p.Offer()
}

// Every code of PROTOCOL.md's table is known to the client, and nothing
// else.
func TestCodesAreTheProtocols(t *testing.T) {
	proto, err := os.ReadFile("../../PROTOCOL.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(proto), "## 10. Device API (HTTP)")
	require.True(t, ok)
	row := regexp.MustCompile("(?m)^\\| ([1-5][0-9][0-9]) \\| `([a-z_]+)` \\|")
	var want []string
	for _, m := range row.FindAllStringSubmatch(sec, -1) {
		want = append(want, m[2])
	}
	var got []string
	for c := range codes {
		got = append(got, c)
	}
	require.ElementsMatch(t, want, got)
}

func TestErrorUnwrap(t *testing.T) {
	for code, want := range map[string]error{
		"unauthorized": enroll.ErrDeviceAuth, "clock_skew": enroll.ErrAPIRequestTime, "replay": enroll.ErrAPIReplay,
		"unknown_session": enroll.ErrUnknownSession, "expired": enroll.ErrExpired, "already_used": enroll.ErrAlreadyUsed,
		"rate_limited": ErrRateLimited, "wrong_number": ErrWrongNumber, "pairing_code": ErrWrongPairingCode,
		"bad_request": ErrBadRequest, "internal": ErrServer, "invalid_push_answer": enroll.ErrInvalidPushAnswer,
		"clock_off": enroll.ErrPushClock, "not_yours": enroll.ErrPromptNotForDevice, "answered": enroll.ErrPushAnswered,
	} {
		require.ErrorIs(t, &Error{Status: 400, Code: code}, want, code)
	}
	for status, want := range map[int]error{401: enroll.ErrDeviceAuth, 429: ErrRateLimited, 500: ErrServer, 502: ErrServer, 418: ErrBadRequest} {
		require.ErrorIs(t, &Error{Status: status, Code: "from_the_future"}, want, status)
	}
	e := &Error{Status: 404, Code: "not_found", Message: "not found"}
	require.Equal(t, "deviceclient: 404 not_found: not found", e.Error())
}

func TestNewRefusesBadBaseURLs(t *testing.T) {
	for _, u := range []string{"", "bank.example/device", "/device", "ftp://bank.example/device", "https://bank.example/device?x=1",
		"https://bank.example/device#f", "https://user:pw@bank.example/device", "https:opaque", "https://bank.example/device?"} {
		f := &fakeAPI{fn: func(recorded) *http.Response { return answer(200, "", "") }}
		c := New(u, &http.Client{Transport: f})
		_, err := c.FetchOffer(context.Background(), "ZVXR-C7WR-8QH3-QEZ7-7")
		require.ErrorIs(t, err, ErrBadRequest, u)
		require.Zero(t, f.count(), "nothing sent for %q", u)
	}
	require.Equal(t, http.DefaultClient, New("https://bank.example", nil).hc)
}

// Requests are signed with the shared enroll code: the server side of it
// verifies each, with what was sent; every one has its own nonce.
func TestRequestsAreSigned(t *testing.T) {
	ctx := context.Background()
	cred, e, _ := enrolled(t)
	apiKey := enroll.APIKey(e.Secret)
	c, f := newFake(func(r recorded) *http.Response {
		switch r.path {
		case "/device/v1/pushes":
			return jsonAnswer(200, map[string]any{"prompts": []any{}})
		case "/device/v1/push-token":
			return answer(204, "", "")
		case "/device/v1/migration/status":
			return jsonAnswer(200, map[string]string{"status": "waiting"})
		}
		return jsonAnswer(404, map[string]string{"error": "not_found", "message": "not found"})
	})
	_, err := c.Pushes(ctx, cred)
	require.NoError(t, err)
	require.NoError(t, c.SetPushToken(ctx, cred, "tok"))
	require.NoError(t, c.SetPushToken(ctx, cred, "tok"))
	_, err = c.MigrationStatus(ctx, cred, "ZVXR-C7WR-8QH3-QEZ7-7")
	require.NoError(t, err)
	_, err = c.Push(ctx, cred, "req 1/2")
	require.ErrorIs(t, err, ErrNotFound)

	nonces := map[string]bool{}
	for _, r := range f.reqs {
		req, mac, err := enroll.ParseAPIAuthorization(r.auth)
		require.NoError(t, err, r.path)
		require.Equal(t, t0, req.Time)
		require.Equal(t, cred.DeviceID(), req.DeviceID)
		req.Method, req.Path, req.Query, req.BodyHash = r.method, strings.TrimPrefix(r.path, "/device"), r.query, sha256.Sum256(r.body)
		require.NoError(t, enroll.VerifyAPIRequest(apiKey, req, mac), r.path)
		require.False(t, nonces[string(req.Nonce)])
		nonces[string(req.Nonce)] = true
		if r.method == "POST" {
			require.Equal(t, "application/json", r.ct)
		} else {
			require.Empty(t, r.body)
		}
	}
	require.Equal(t, "id=req+1%2F2", f.reqs[len(f.reqs)-1].query)
}

func TestNonAPIAnswers(t *testing.T) {
	ctx := context.Background()
	cred, _, _ := enrolled(t)
	for _, resp := range []*http.Response{
		answer(502, "text/html", "<h1>Bad gateway</h1>"),
		answer(404, "text/plain", "404 page not found"),
		answer(500, "application/json", `{"message":"no code"}`),
		answer(401, "application/json", `not json`),
		answer(429, "application/json", `{"error":"rate_limited"`+strings.Repeat(" ", maxAnswer)+`}`),
	} {
		c, _ := newFake(func(recorded) *http.Response { return resp })
		_, err := c.Pushes(ctx, cred)
		require.ErrorIs(t, err, ErrUnreachable, "%d", resp.StatusCode)
	}
	c, _ := newFake(func(recorded) *http.Response {
		return answer(429, "application/json", `{"error":"rate_limited","message":"slow down"}`, "Retry-After", "42")
	})
	_, err := c.Pushes(ctx, cred)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 42*time.Second, e.RetryAfter)
	require.ErrorIs(t, err, ErrRateLimited)
}

func TestBadAnswers(t *testing.T) {
	ctx := context.Background()
	cred, e, offer := enrolled(t)
	wire, err := enroll.SealPrompt(enroll.DeriveKeys(e.Secret, e.Device.Suite), enroll.PushPrompt{RequestID: "r1",
		Nonce: make([]byte, 16), Issuer: "Example Bank", User: "user-42", DeviceID: cred.DeviceID(),
		Context: enroll.PushContext{Action: "Login"}, ExpiresAt: t0.Add(time.Minute)})
	require.NoError(t, err)
	prompt, err := cred.OpenPrompt(wire, t0)
	require.NoError(t, err)
	other, err := enroll.Start("Other", "someone", enroll.StartOptions{Now: t0})
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		resp *http.Response
		call func(c *Client) error
		want error
	}{
		"not JSON":  {answer(200, "application/json", "{"), func(c *Client) error { _, err := c.Pushes(ctx, cred); return err }, ErrBadAnswer},
		"too large": {answer(200, "application/json", `{"prompts":[]}`+strings.Repeat(" ", maxAnswer)), func(c *Client) error { _, err := c.Pushes(ctx, cred); return err }, ErrBadAnswer},
		"another decision": {jsonAnswer(200, map[string]string{"result": "denied"}), func(c *Client) error {
			return c.AnswerPush(ctx, cred, prompt, true, "42")
		}, ErrBadAnswer},
		"migration offer of another user": {jsonAnswer(200, map[string]string{"offer": other.Offer().URI()}), func(c *Client) error {
			_, err := c.StartMigration(ctx, cred)
			return err
		}, ErrBadAnswer},
		"malformed offer": {jsonAnswer(200, map[string]string{"offer": "keyline://activate?v=2"}), func(c *Client) error {
			_, err := c.FetchOffer(ctx, offer.SessionID)
			return err
		}, enroll.ErrInvalidOffer},
		"offer for another session": {jsonAnswer(200, map[string]string{"offer": other.Offer().URI()}), func(c *Client) error {
			_, err := c.FetchOffer(ctx, offer.SessionID)
			return err
		}, enroll.ErrOfferMismatch},
		"unknown status": {jsonAnswer(200, map[string]string{"status": "done"}), func(c *Client) error {
			_, err := c.MigrationStatus(ctx, cred, offer.SessionID)
			return err
		}, ErrBadAnswer},
		"pairing tries out of range": {jsonAnswer(200, map[string]any{"status": "completed", "tries_left": 4}), func(c *Client) error {
			_, err := c.MigrationProgress(ctx, cred, offer.SessionID)
			return err
		}, ErrBadAnswer},
		"the old device's ID": {jsonAnswer(200, map[string]string{"device_id": cred.DeviceID()}), func(c *Client) error {
			_, err := c.ConfirmMigration(ctx, cred, offer.SessionID, "123456")
			return err
		}, ErrBadAnswer},
		"a prompt that does not open": {jsonAnswer(200, map[string]any{"prompt": []byte("junk")}), func(c *Client) error {
			_, err := c.Push(ctx, cred, "r1")
			return err
		}, enroll.ErrBadPrompt},
	} {
		c, _ := newFake(func(recorded) *http.Response { return tc.resp })
		require.ErrorIs(t, tc.call(c), tc.want, name)
	}

	// Prompts that do not open are left out, not shown.
	c, _ := newFake(func(recorded) *http.Response {
		return jsonAnswer(200, map[string]any{"prompts": [][]byte{[]byte("junk"), nil}})
	})
	ps, err := c.Pushes(ctx, cred)
	require.NoError(t, err)
	require.Empty(t, ps)
}

// The activation is sent again only when no answer came back, or the
// server failed; the credential is kept only with a confirmation that
// verifies and matches the device ID.
func TestActivateRetries(t *testing.T) {
	ctx := context.Background()
	p, err := enroll.Start("Example Bank", "user-42", enroll.StartOptions{Now: t0})
	require.NoError(t, err)
	var winner []byte
	complete := func(r recorded) *http.Response {
		var req enroll.Request
		if err := json.Unmarshal(r.body, &req); err != nil {
			return jsonAnswer(400, map[string]string{"error": "bad_request", "message": err.Error()})
		}
		if winner != nil && !bytes.Equal(winner, r.body) {
			return jsonAnswer(409, map[string]string{"error": "already_used", "message": "used"})
		}
		winner = r.body
		e, err := p.Complete(req, t0)
		if err != nil {
			return jsonAnswer(422, map[string]string{"error": "bad_confirmation", "message": "no"})
		}
		return jsonAnswer(200, map[string]any{"device_id": e.Device.ID, "server_confirm": e.ServerConfirm, "paired": false})
	}
	var n atomic.Int32
	c, f := newFake(func(r recorded) *http.Response {
		if n.Add(1) < 3 {
			resp := complete(r) // served, but the answer is lost
			resp.Body.Close()
			return nil
		}
		return complete(r)
	})
	act, err := c.Activate(ctx, p.Offer(), enroll.DeviceInfo{InstallID: "i", Integrity: enroll.Intact})
	require.NoError(t, err)
	require.Equal(t, 3, f.count())
	for _, r := range f.reqs {
		require.Equal(t, f.reqs[0].body, r.body, "the very same request")
	}
	require.True(t, act.Credential.Confirmed())

	// A refusal is not retried.
	c, f = newFake(func(recorded) *http.Response {
		return jsonAnswer(409, map[string]string{"error": "already_used", "message": "used"})
	})
	_, err = c.Activate(ctx, p.Offer(), enroll.DeviceInfo{InstallID: "i", Integrity: enroll.Intact})
	require.ErrorIs(t, err, enroll.ErrAlreadyUsed)
	require.Equal(t, 1, f.count())

	// Three tries at most.
	c, f = newFake(func(recorded) *http.Response { return nil })
	_, err = c.Activate(ctx, p.Offer(), enroll.DeviceInfo{InstallID: "i", Integrity: enroll.Intact})
	require.ErrorIs(t, err, ErrUnreachable)
	require.Equal(t, activationTries, f.count())

	// A context that ends stops the retries.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	c, f = newFake(func(recorded) *http.Response { return nil })
	_, err = c.Activate(cctx, p.Offer(), enroll.DeviceInfo{InstallID: "i", Integrity: enroll.Intact})
	require.ErrorIs(t, err, context.Canceled)
	require.LessOrEqual(t, f.count(), 1)

	// A confirmation for another device ID, or altered: nothing kept.
	for _, alter := range []func(m map[string]any){
		func(m map[string]any) { m["device_id"] = strings.Repeat("0", 32) },
		func(m map[string]any) { sc := m["server_confirm"].([]byte); sc[20] ^= 1 },
	} {
		p, err := enroll.Start("Example Bank", "user-42", enroll.StartOptions{Now: t0})
		require.NoError(t, err)
		c, _ = newFake(func(r recorded) *http.Response {
			var req enroll.Request
			_ = json.Unmarshal(r.body, &req)
			e, err := p.Complete(req, t0)
			require.NoError(t, err)
			m := map[string]any{"device_id": e.Device.ID, "server_confirm": e.ServerConfirm, "paired": false}
			alter(m)
			return jsonAnswer(200, m)
		})
		act, err := c.Activate(ctx, p.Offer(), enroll.DeviceInfo{InstallID: "i", Integrity: enroll.Intact})
		require.Error(t, err)
		require.True(t, errors.Is(err, ErrBadAnswer) || errors.Is(err, enroll.ErrBadServerConfirmation), "%v", err)
		require.Nil(t, act.Credential)
	}
}

// Errors never carry a URL, a session ID or a request ID.
func TestErrorsCarryNoURL(t *testing.T) {
	ctx := context.Background()
	cred, _, offer := enrolled(t)
	c, _ := newFake(func(recorded) *http.Response { return nil })
	_, err := c.FetchOffer(ctx, offer.SessionID)
	require.ErrorIs(t, err, ErrUnreachable)
	_, err2 := c.Push(ctx, cred, "request-id-secret-ish")
	require.ErrorIs(t, err2, ErrUnreachable)
	_, err3 := c.MigrationStatus(ctx, cred, offer.SessionID)
	for _, e := range []error{err, err2, err3} {
		require.NotContains(t, e.Error(), offer.SessionID)
		require.NotContains(t, e.Error(), "request-id-secret-ish")
		require.NotContains(t, e.Error(), "bank.example")
	}
}

// FuzzAnswers gives the client arbitrary answers. It never panics, every
// error matches a sentinel, and what it returns passed the phone's checks:
// an offer fetched for a session ID has a key that hashes to it, and a
// prompt listed opened with the credential.
func FuzzAnswers(f *testing.F) {
	cred, e, offer := enrolled(f)
	keys := enroll.DeriveKeys(e.Secret, e.Device.Suite)
	wire, err := enroll.SealPrompt(keys, enroll.PushPrompt{RequestID: "r1", Nonce: make([]byte, 16), Issuer: "Example Bank",
		User: "user-42", DeviceID: cred.DeviceID(), Context: enroll.PushContext{Action: "Login"}, ExpiresAt: t0.Add(time.Minute)})
	if err != nil {
		f.Fatal(err)
	}
	prompts, _ := json.Marshal(map[string]any{"prompts": [][]byte{wire}})
	offerJSON, _ := json.Marshal(map[string]string{"offer": offer.URI()})
	f.Add(200, "application/json", offerJSON)
	f.Add(200, "application/json", prompts)
	f.Add(429, "application/json", []byte(`{"error":"rate_limited","message":"x"}`))
	f.Add(401, "application/json", []byte(`{"error":"unauthorized","message":"the device is not recognised"}`))
	f.Add(502, "text/html", []byte(`<html>`))
	f.Add(204, "", []byte(nil))
	f.Add(200, "application/json", []byte(`{"status":"removed","removed_at":1795770000}`))
	f.Add(200, "application/json", []byte(`{"status":"active"}`))
	sentinels := []error{ErrUnreachable, ErrBadAnswer, ErrBadRequest, ErrServer, ErrRateLimited, ErrNotFound, ErrLocked,
		ErrWrongNumber, ErrWrongPairingCode, ErrInvalidCode, ErrTooManyDevices, ErrProofRequired,
		enroll.ErrDeviceAuth, enroll.ErrAPIRequestTime, enroll.ErrAPIReplay, enroll.ErrSessionIDTypo, enroll.ErrUnknownSession,
		enroll.ErrExpired, enroll.ErrAlreadyUsed, enroll.ErrAlreadyEnrolled, enroll.ErrOfferMismatch, enroll.ErrBadConfirmation,
		enroll.ErrDeviceIntegrity, enroll.ErrInvalidPushAnswer, enroll.ErrInvalidOffer}
	known := func(t *testing.T, err error) {
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error matches no sentinel: %v", err)
	}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		c, _ := newFake(func(recorded) *http.Response { return answer(status, ct, string(body)) })
		ctx := context.Background()
		if o, err := c.FetchOffer(ctx, offer.SessionID); err != nil {
			known(t, err)
		} else if o.Check(offer.SessionID) != nil || o.SessionID != offer.SessionID {
			t.Fatalf("an offer that does not match the session ID typed was returned")
		}
		if ps, err := c.Pushes(ctx, cred); err != nil {
			known(t, err)
		} else {
			for _, p := range ps {
				if p.DeviceID != cred.DeviceID() || p.User != cred.User() {
					t.Fatalf("a prompt for another device was returned")
				}
			}
		}
		if st, err := c.MigrationStatus(ctx, cred, offer.SessionID); err != nil {
			known(t, err)
		} else if st == "" {
			t.Fatalf("empty status")
		}
		if err := c.SetPushToken(ctx, cred, "t"); err != nil {
			known(t, err)
		}
		if st, err := c.Status(ctx, cred); err != nil {
			known(t, err)
		} else if st.Removed == st.RemovedAt.IsZero() {
			t.Fatalf("a removed status without its time, or an active one with one")
		}
	})
}
