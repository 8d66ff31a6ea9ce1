package deviceapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/txn"
)

// testEnv is a Service (authntest's, with its fake clock) behind the
// device API, mounted at /device/ as a portal would, on a real HTTP
// server, and a client whose clock is the kit's.
type testEnv struct {
	kit    *authntest.Kit
	srv    *httptest.Server
	client *deviceclient.Client
	log    *syncBuffer
	hits   atomic.Int64 // requests that reached the handler
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newEnv(t testing.TB, opts deviceapi.Options, kitOpts ...authntest.Option) *testEnv {
	e := &testEnv{kit: authntest.New(t, kitOpts...), log: &syncBuffer{}}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := deviceapi.NewHandler(e.kit.Service, opts)
	mux := http.NewServeMux()
	mux.Handle("/device/", http.StripPrefix("/device", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		h.ServeHTTP(w, r)
	})))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.client = deviceclient.New(e.srv.URL+"/device", e.srv.Client())
	e.client.Now = e.kit.Clock.Now
	return e
}

var phoneInfo = enroll.DeviceInfo{InstallID: "install-new", Name: "Ada's new phone", Platform: "android", Integrity: enroll.Intact, PushToken: "fcm:first"}

// answer is an HTTP answer as a test compares it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// raw sends a request as given.
func (e *testEnv) raw(t testing.TB, method, path, query string, body []byte, header map[string]string) answer {
	t.Helper()
	target := e.srv.URL + "/device" + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequest(method, target, bytes.NewReader(body))
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// signed sends a request signed by cred at the kit's time.
func (e *testEnv) signed(t testing.TB, cred *enroll.Credential, method, path, query string, body []byte) answer {
	t.Helper()
	auth, err := cred.SignAPIRequest(method, path, query, body, e.kit.Clock.Now())
	require.NoError(t, err)
	return e.raw(t, method, path, query, body, map[string]string{"Authorization": auth})
}

// code is the error code of an answer.
func code(t testing.TB, a answer) string {
	t.Helper()
	var b struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal(a.body, &b), "body %q", a.body)
	require.NotEmpty(t, b.Message)
	return b.Error
}

func TestActivationWithTypedSessionID(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	offer, err := e.kit.Service.StartActivation(ctx, "alice", nil, authn.AccountName("ada@example.com"))
	require.NoError(t, err)

	// Typed as people type: lower case, spaces, O for 0.
	typed := strings.ToLower(strings.ReplaceAll(offer.SessionID, "-", " "))
	typed = strings.ReplaceAll(typed, "0", "o")
	fetched, err := e.client.FetchOffer(ctx, typed)
	require.NoError(t, err)
	require.Equal(t, offer.URI(), fetched.URI())
	require.Equal(t, "ada@example.com", fetched.AccountName)

	act, err := e.client.Activate(ctx, fetched, phoneInfo)
	require.NoError(t, err)
	require.False(t, act.Paired, "pairing is still to come")
	cred := act.Credential
	require.True(t, cred.Confirmed())
	st, err := e.kit.Service.ActivationStatus(ctx, "alice", offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationCompleted, st.State)

	// The device answers nothing until paired.
	_, err = e.client.Pushes(ctx, cred)
	require.ErrorIs(t, err, enroll.ErrDeviceAuth)

	d, err := e.kit.Service.ConfirmActivation(ctx, "alice", offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	require.Equal(t, cred.DeviceID(), d.ID)
	require.Equal(t, authn.DeviceActive, d.State)

	// The credential the client returned logs in.
	ch, err := e.kit.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := cred.Respond(ch.Question, e.kit.Clock.Now())
	require.NoError(t, err)
	_, err = e.kit.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	prompts, err := e.client.Pushes(ctx, cred)
	require.NoError(t, err)
	require.Empty(t, prompts)

	// The offer is gone once used; other sessions are unknown or mistyped.
	_, err = e.client.FetchOffer(ctx, offer.SessionID)
	require.ErrorIs(t, err, enroll.ErrAlreadyUsed)
	other, err := enroll.Start("x", "y", enroll.StartOptions{})
	require.NoError(t, err)
	_, err = e.client.FetchOffer(ctx, other.SessionID())
	require.ErrorIs(t, err, enroll.ErrUnknownSession)
	var apiErr *deviceclient.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusNotFound, apiErr.Status)
	require.Equal(t, "unknown_session", apiErr.Code)
	before := e.hits.Load()
	last := offer.SessionID[len(offer.SessionID)-1]
	wrongCheck := "Z" // a check character other than the right one
	if last == 'Z' {
		wrongCheck = "Y"
	}
	_, err = e.client.FetchOffer(ctx, offer.SessionID[:len(offer.SessionID)-1]+wrongCheck)
	require.ErrorIs(t, err, enroll.ErrSessionIDTypo)
	require.Equal(t, before, e.hits.Load(), "a typo is found before anything is sent")
	// The server finds typos too.
	a := e.raw(t, "POST", deviceapi.PathOffer, "", []byte(`{"sid":"ZZZZ-ZZZZ-ZZZZ-ZZZZ-0"}`), nil)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Equal(t, "session_id_typo", code(t, a))

	// The same request again is refused: another phone, another request.
	_, err = e.client.Activate(ctx, fetched, enroll.DeviceInfo{InstallID: "intruder", Integrity: enroll.Intact})
	require.ErrorIs(t, err, enroll.ErrAlreadyUsed, "a completed activation takes no other request")
}

func TestActivationExpired(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	offer, err := e.kit.Service.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	fetched, err := e.client.FetchOffer(ctx, offer.SessionID)
	require.NoError(t, err)
	e.kit.Clock.Advance(enroll.DefaultActivationTTL)
	_, err = e.client.FetchOffer(ctx, offer.SessionID)
	require.ErrorIs(t, err, enroll.ErrExpired)
	// The phone refuses an expired offer itself, before making a key.
	_, err = e.client.Activate(ctx, fetched, phoneInfo)
	require.ErrorIs(t, err, enroll.ErrExpired)
}

// lossyTransport delivers the first request of a path to the server but
// loses its answer.
type lossyTransport struct {
	base http.RoundTripper
	path string
	lost atomic.Int32
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, l.path) && l.lost.Add(1) == 1 {
		resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

// A phone whose answer was lost sends the same request again and gets
// the same confirmation: one device, and the phone keeps it.
func TestActivationRetryAfterLostAnswer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	lossy := &lossyTransport{base: e.srv.Client().Transport, path: deviceapi.PathActivate}
	c := deviceclient.New(e.srv.URL+"/device", &http.Client{Transport: lossy})
	c.Now = e.kit.Clock.Now
	offer, err := e.kit.Service.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	act, err := c.Activate(ctx, offer, phoneInfo)
	require.NoError(t, err)
	require.Equal(t, int32(2), lossy.lost.Load(), "sent twice")
	devs, err := e.kit.Service.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, devs[0].ID, act.Credential.DeviceID())
	_, err = e.kit.Service.ConfirmActivation(ctx, "alice", offer.SessionID, act.Credential.PairingCode())
	require.NoError(t, err)
}

// A server that substitutes its own offer for the one typed, or answers
// with a confirmation that does not verify, gets nothing kept.
func TestClientChecksTheServer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	real, err := e.kit.Service.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	fake, err := enroll.Start(authntest.Issuer, "alice", enroll.StartOptions{Now: e.kit.Clock.Now()})
	require.NoError(t, err)

	mitm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device/v1/offer":
			_ = json.NewEncoder(w).Encode(map[string]string{"offer": fake.Offer().URI()})
		case "/device/v1/activate":
			// Forward to the real server, then alter the confirmation.
			resp, err := e.srv.Client().Post(e.srv.URL+r.URL.Path, "application/json", r.Body)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			var a map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&a)
			sc, _ := base64.StdEncoding.DecodeString(a["server_confirm"].(string))
			sc[len(sc)-1] ^= 1
			a["server_confirm"] = sc
			_ = json.NewEncoder(w).Encode(a)
		}
	}))
	defer mitm.Close()
	c := deviceclient.New(mitm.URL+"/device", mitm.Client())
	c.Now = e.kit.Clock.Now
	_, err = c.FetchOffer(ctx, real.SessionID)
	require.ErrorIs(t, err, enroll.ErrOfferMismatch, "the offer's key does not hash to the ID typed")
	_, err = c.Activate(ctx, real, phoneInfo)
	require.ErrorIs(t, err, enroll.ErrBadServerConfirmation)
}

func TestPushesListedAndAnswered(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	phone := e.kit.Enroll("alice")
	cred := phone.Credential()
	pc := enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

	req, err := e.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	prompts, err := e.client.Pushes(ctx, cred)
	require.NoError(t, err)
	require.Len(t, prompts, 1)
	require.Equal(t, req.ID, prompts[0].RequestID)
	require.Equal(t, pc, prompts[0].Context, "the phone shows what the server saw")
	require.NoError(t, e.client.AnswerPush(ctx, cred, prompts[0], true, req.Number))
	res, err := e.kit.Service.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)
	require.Equal(t, authn.MethodPush, res.Method)
	require.Equal(t, phone.DeviceID(), res.DeviceID)
	// Answered: the prompt is no longer listed, and another answer is refused.
	prompts, err = e.client.Pushes(ctx, cred)
	require.NoError(t, err)
	require.Empty(t, prompts)
	err = e.client.AnswerPush(ctx, cred, prompts0(t, e, cred, req.ID, pc), false, "")
	require.ErrorIs(t, err, enroll.ErrAlreadyUsed)

	// A wrong number ends the request.
	req, err = e.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	p, err := e.client.Push(ctx, cred, req.ID)
	require.NoError(t, err)
	wrong := "00"
	if req.Number == wrong {
		wrong = "01"
	}
	err = e.client.AnswerPush(ctx, cred, p, true, wrong)
	require.ErrorIs(t, err, deviceclient.ErrWrongNumber)
	_, err = e.kit.Service.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrWrongNumber)

	// A denial.
	req, err = e.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	p, err = e.client.Push(ctx, cred, req.ID)
	require.NoError(t, err)
	require.NoError(t, e.client.AnswerPush(ctx, cred, p, false, ""))
	_, err = e.kit.Service.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrPushDenied)

	_, err = e.client.Push(ctx, cred, "no-such-request")
	require.ErrorIs(t, err, deviceclient.ErrNotFound)
}

// prompts0 rebuilds the prompt of a request the server no longer lists,
// as a phone that kept it would hold it.
func prompts0(t *testing.T, e *testEnv, cred *enroll.Credential, id string, pc enroll.PushContext) enroll.PushPrompt {
	t.Helper()
	for {
		select {
		case d := <-e.kit.Inbox.C:
			if d.RequestID == id && !d.Retract {
				p, err := cred.OpenPrompt(d.Prompt, e.kit.Clock.Now())
				require.NoError(t, err)
				require.Equal(t, pc, p.Context)
				return p
			}
		default:
			t.Fatal("no delivery of the request")
		}
	}
}

// A transaction push: the notification names the request, the phone
// fetches its prompt, shows the transaction, and its approval signs it.
func TestTransactionPush(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	phone := e.kit.Enroll("alice")
	cred := phone.Credential()
	tx := txn.Transaction{Kind: txn.KindWithdrawal, Amount: 123456, Currency: "EUR",
		From: "U1234567", To: "DE89370400440532013000", Beneficiary: "Ada Lovelace", Memo: "Rent March"}
	req, err := e.kit.Service.BeginTransactionPush(ctx, "alice", tx, enroll.PushContext{Action: "Withdrawal", IP: "203.0.113.7"})
	require.NoError(t, err)
	var named string
	for named == "" {
		d := <-e.kit.Inbox.C
		if !d.Retract && d.Device == phone.DeviceID() {
			named = d.RequestID // all a content-free notification carries
		}
	}
	p, err := e.client.Push(ctx, cred, named)
	require.NoError(t, err)
	shown, err := txn.Parse(p.Transaction)
	require.NoError(t, err)
	require.Equal(t, tx, shown)
	lines, err := shown.Display()
	require.NoError(t, err)
	require.Contains(t, lines, "Amount: EUR 1,234.56")

	require.NoError(t, e.client.AnswerPush(ctx, cred, p, true, req.Number))
	res, err := e.kit.Service.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)
	require.NotNil(t, res.Transaction)
	require.Equal(t, tx, *res.Transaction)
}

func TestPushTokenUpdate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	phone := e.kit.Enroll("alice")
	require.NoError(t, e.client.SetPushToken(ctx, phone.Credential(), "apns:0123abcd"))
	rec, err := kitDevice(ctx, e.kit, "alice", phone.DeviceID())
	require.NoError(t, err)
	require.Equal(t, "apns:0123abcd", rec.PushToken)

	err = e.client.SetPushToken(ctx, phone.Credential(), "bad\ntoken")
	require.ErrorIs(t, err, deviceclient.ErrBadRequest)
	rec, err = kitDevice(ctx, e.kit, "alice", phone.DeviceID())
	require.NoError(t, err)
	require.Equal(t, "apns:0123abcd", rec.PushToken, "a refused request changes nothing")
}

func TestMigrationEndToEnd(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	old := e.kit.Enroll("alice")
	oldCred := old.Credential()

	offer, err := e.client.StartMigration(ctx, oldCred)
	require.NoError(t, err)
	require.Equal(t, "alice", offer.User)
	st, err := e.client.MigrationStatus(ctx, oldCred, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, "waiting", st)

	// The new phone types the session ID the old one shows.
	fetched, err := e.client.FetchOffer(ctx, offer.SessionID)
	require.NoError(t, err)
	act, err := e.client.Activate(ctx, fetched, phoneInfo)
	require.NoError(t, err)
	require.False(t, act.Paired)
	newCred := act.Credential
	st, err = e.client.MigrationStatus(ctx, oldCred, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, "completed", st)

	// Until paired, the old device still works and the new one does not.
	_, err = e.client.Pushes(ctx, oldCred)
	require.NoError(t, err)
	_, err = e.client.Pushes(ctx, newCred)
	require.ErrorIs(t, err, enroll.ErrDeviceAuth)

	// The user types the new phone's code on the old one.
	wrong := "000000"
	if newCred.PairingCode() == wrong {
		wrong = "000001"
	}
	_, err = e.client.ConfirmMigration(ctx, oldCred, offer.SessionID, wrong)
	require.ErrorIs(t, err, deviceclient.ErrWrongPairingCode)
	id, err := e.client.ConfirmMigration(ctx, oldCred, offer.SessionID, newCred.PairingCode())
	require.NoError(t, err)
	require.Equal(t, newCred.DeviceID(), id)

	// The old device is revoked; the new one works and logs in.
	_, err = e.client.Pushes(ctx, oldCred)
	require.ErrorIs(t, err, enroll.ErrDeviceAuth)
	_, err = e.client.Pushes(ctx, newCred)
	require.NoError(t, err)
	devs, err := e.kit.Service.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, newCred.DeviceID(), devs[0].ID)
	require.Equal(t, authn.DeviceActive, devs[0].State)
	ch, err := e.kit.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	r, err := newCred.Respond(ch.Question, e.kit.Clock.Now())
	require.NoError(t, err)
	_, err = e.kit.Service.FinishChallenge(ctx, "alice", ch.ID, r)
	require.NoError(t, err)
}

// Another device cannot look at or confirm a migration it did not start.
func TestMigrationIsTheDevicesOwn(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	a := e.kit.Enroll("alice").Credential()
	b := e.kit.Enroll("alice").Credential()
	mallory := e.kit.Enroll("mallory").Credential()
	offer, err := e.client.StartMigration(ctx, a)
	require.NoError(t, err)
	for _, c := range []*enroll.Credential{b, mallory} {
		_, err := e.client.MigrationStatus(ctx, c, offer.SessionID)
		require.ErrorIs(t, err, enroll.ErrUnknownSession)
		_, err = e.client.ConfirmMigration(ctx, c, offer.SessionID, "123456")
		require.ErrorIs(t, err, enroll.ErrUnknownSession)
	}
}

func TestReplayRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	cred := e.kit.Enroll("alice").Credential()
	body := []byte(`{"push_token":"fcm:x"}`)
	auth, err := cred.SignAPIRequest("POST", deviceapi.PathPushToken, "", body, e.kit.Clock.Now())
	require.NoError(t, err)
	h := map[string]string{"Authorization": auth}
	a := e.raw(t, "POST", deviceapi.PathPushToken, "", body, h)
	require.Equal(t, http.StatusNoContent, a.status)
	a = e.raw(t, "POST", deviceapi.PathPushToken, "", body, h)
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Equal(t, "replay", code(t, a))

	// The client signs afresh every time.
	for range 3 {
		require.NoError(t, e.client.SetPushToken(ctx, cred, "fcm:y"))
	}
}

func TestClockSkewRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	cred := e.kit.Enroll("alice").Credential()
	for _, skew := range []time.Duration{-61 * time.Second, 61 * time.Second, -time.Hour, 48 * time.Hour} {
		auth, err := cred.SignAPIRequest("GET", deviceapi.PathPushes, "", nil, e.kit.Clock.Now().Add(skew))
		require.NoError(t, err)
		a := e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": auth})
		require.Equal(t, http.StatusUnauthorized, a.status, "skew %v", skew)
		require.Equal(t, "clock_skew", code(t, a), "skew %v", skew)

		// The client corrects its clock by the answer's Date and
		// retries once (PROTOCOL.md §11), within its bound (issue 14:
		// it used to return the refusal).
		c := deviceclient.New(e.srv.URL+"/device", e.srv.Client())
		c.Now = func() time.Time { return e.kit.Clock.Now().Add(skew) }
		_, err = c.Pushes(ctx, cred)
		if skew > deviceclient.MaxClockOffset {
			require.ErrorIs(t, err, enroll.ErrAPIRequestTime, "skew %v", skew)
			require.ErrorIs(t, err, deviceclient.ErrClockOffset, "skew %v", skew)
			var apiErr *deviceclient.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, "clock_skew", apiErr.Code)
			continue
		}
		require.NoError(t, err, "skew %v", skew)
		require.Equal(t, -skew, c.ClockOffset())
	}
	for _, skew := range []time.Duration{-60 * time.Second, 60 * time.Second} {
		c := deviceclient.New(e.srv.URL+"/device", e.srv.Client())
		c.Now = func() time.Time { return e.kit.Clock.Now().Add(skew) }
		_, err := c.Pushes(ctx, cred)
		require.NoError(t, err, "skew %v", skew)
	}
}

// A bad MAC, an unknown device, a revoked device and one not yet paired
// get the very same answer: status, headers but the date, and body.
func TestUnauthorizedAnswersAreIdentical(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	alice := e.kit.Enroll("alice")
	revoked := e.kit.Enroll("bob")
	proof := e.kit.Login("bob", revoked).Proof
	require.NoError(t, e.kit.Service.RevokeDevice(ctx, "bob", revoked.DeviceID(), proof))

	var answers []answer
	// A bad MAC: its first character replaced by another of the
	// base64url alphabet (a flipped bit could leave the alphabet, and the
	// header would then be malformed rather than wrong).
	auth, err := alice.Credential().SignAPIRequest("GET", deviceapi.PathPushes, "", nil, e.kit.Clock.Now())
	require.NoError(t, err)
	i := strings.LastIndex(auth, "mac=") + 4
	other := "A"
	if auth[i] == 'A' {
		other = "B"
	}
	flipped := auth[:i] + other + auth[i+1:]
	answers = append(answers, e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": flipped}))
	// An unknown device: a well-formed header for a device nobody has.
	r, mac, err := enroll.ParseAPIAuthorization(auth)
	require.NoError(t, err)
	r.DeviceID = "0123456789abcdef0123456789abcdef"
	r.Nonce = bytes.Repeat([]byte{1}, enroll.APINonceSize)
	unknown, err := r.Authorization(mac)
	require.NoError(t, err)
	answers = append(answers, e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": unknown}))
	// An unknown user.
	r.User, r.DeviceID = "nobody", alice.DeviceID()
	nobody, err := r.Authorization(mac)
	require.NoError(t, err)
	answers = append(answers, e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": nobody}))
	// A revoked device, with its genuine MAC.
	answers = append(answers, e.signed(t, revoked.Credential(), "GET", deviceapi.PathPushes, "", nil))
	// A device not yet paired.
	offer, err := e.kit.Service.StartActivation(ctx, "carol", nil)
	require.NoError(t, err)
	act, err := e.client.Activate(ctx, offer, phoneInfo)
	require.NoError(t, err)
	answers = append(answers, e.signed(t, act.Credential, "GET", deviceapi.PathPushes, "", nil))

	first := answers[0]
	require.Equal(t, http.StatusUnauthorized, first.status)
	require.Equal(t, "unauthorized", code(t, first))
	for _, a := range answers[1:] {
		require.Equal(t, first.status, a.status)
		require.Equal(t, string(first.body), string(a.body))
		h1, h2 := first.header.Clone(), a.header.Clone()
		h1.Del("Date")
		h2.Del("Date")
		require.Equal(t, h1, h2)
	}
	_, err = e.client.Pushes(ctx, revoked.Credential())
	require.ErrorIs(t, err, enroll.ErrDeviceAuth)
}

func TestOversizedBodyRefused(t *testing.T) {
	e := newEnv(t, deviceapi.Options{})
	cred := e.kit.Enroll("alice").Credential()
	big := []byte(`{"push_token":"` + strings.Repeat("x", deviceapi.DefaultMaxBody) + `"}`)
	a := e.signed(t, cred, "POST", deviceapi.PathPushToken, "", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status)
	require.Equal(t, "too_large", code(t, a))

	// Without a declared length, the limit holds while reading.
	auth, err := cred.SignAPIRequest("POST", deviceapi.PathPushToken, "", big, e.kit.Clock.Now())
	require.NoError(t, err)
	req, err := http.NewRequest("POST", e.srv.URL+"/device"+deviceapi.PathPushToken, io.MultiReader(bytes.NewReader(big)))
	require.NoError(t, err)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)

	// An activation has a larger limit, but one all the same.
	huge := []byte(`{"sid":"` + strings.Repeat("x", deviceapi.DefaultMaxActivationBody) + `"}`)
	a = e.raw(t, "POST", deviceapi.PathActivate, "", huge, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.status)
}

// Bodies are strict JSON; a refused one changes nothing.
func TestStrictJSON(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{Device: authn.DeviceLimit{Requests: 100}})
	phone := e.kit.Enroll("alice")
	cred := phone.Credential()
	for _, body := range []string{
		`{"push_token":"t","extra":1}`,
		`{"push_token":"t","push_token":"u"}`,
		`{"Push_Token":"t"}`,
		`{"PUSH_TOKEN":"t"}`,
		`{"push_token":"t"} {"push_token":"u"}`,
		`{"push_token":"t"}x`,
		`{}`,
		`{"push_token":1}`,
		`{"push_token":null, "x":2}`,
		`["push_token"]`,
		`null`,
		`"t"`,
		``,
		`{"push_token":"t"`,
		`{"push_token":"\u0000"}`,
	} {
		a := e.signed(t, cred, "POST", deviceapi.PathPushToken, "", []byte(body))
		require.Equal(t, http.StatusBadRequest, a.status, "%s", body)
		require.Equal(t, "bad_request", code(t, a), "%s", body)
	}
	rec, err := kitDevice(ctx, e.kit, "alice", phone.DeviceID())
	require.NoError(t, err)
	require.NotEqual(t, "t", rec.PushToken)
	require.NotEqual(t, "u", rec.PushToken)

	// An activation request with a field nested where it does not belong,
	// or a field of the device twice: refused, the activation still waiting.
	offer, err := e.kit.Service.StartActivation(ctx, "bob", nil)
	require.NoError(t, err)
	_, req, err := enroll.Activate(offer, phoneInfo, e.kit.Clock.Now())
	require.NoError(t, err)
	good, err := json.Marshal(req)
	require.NoError(t, err)
	for _, bad := range []string{
		strings.Replace(string(good), `"install_id"`, `"extra":true,"install_id"`, 1),
		strings.Replace(string(good), `"install_id"`, `"Install_ID"`, 1),
		strings.Replace(string(good), `"name":`, `"name":"a","name":`, 1),
		strings.Replace(string(good), `"confirm"`, `"confirm":"AA==","confirm"`, 1),
		string(good) + "{}",
		strings.Replace(string(good), `"device":{`, `"device":[{`, 1),
	} {
		a := e.raw(t, "POST", deviceapi.PathActivate, "", []byte(bad), nil)
		require.Equal(t, http.StatusBadRequest, a.status, "%s", bad)
		require.Equal(t, "bad_request", code(t, a))
	}
	st, err := e.kit.Service.ActivationStatus(ctx, "bob", offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationWaiting, st.State)
	a := e.raw(t, "POST", deviceapi.PathActivate, "", good, nil)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
}

func TestRequestShapeRefusals(t *testing.T) {
	e := newEnv(t, deviceapi.Options{Device: authn.DeviceLimit{Requests: 100}})
	cred := e.kit.Enroll("alice").Credential()
	for _, tc := range []struct {
		name   string
		a      answer
		status int
		code   string
	}{
		{"unknown endpoint", e.raw(t, "GET", "/v1/nothing", "", nil, nil), 404, "not_found"},
		{"no version", e.raw(t, "GET", "/pushes", "", nil, nil), 404, "not_found"},
		{"trailing slash", e.signed(t, cred, "GET", "/v1/pushes/", "", nil), 404, "not_found"},
		{"wrong method", e.raw(t, "GET", deviceapi.PathOffer, "", nil, nil), 405, "method_not_allowed"},
		{"HEAD", e.raw(t, "HEAD", deviceapi.PathPushes, "", nil, nil), 405, ""},
		{"not JSON", e.raw(t, "POST", deviceapi.PathOffer, "", []byte("sid=x"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}), 415, "unsupported_media_type"},
		{"other charset", e.raw(t, "POST", deviceapi.PathOffer, "", []byte(`{"sid":"x"}`), map[string]string{"Content-Type": "application/json; charset=latin1"}), 415, "unsupported_media_type"},
		{"GET with a body", e.signed(t, cred, "GET", deviceapi.PathPushes, "", []byte("{}")), 400, "bad_request"},
		{"unexpected query", e.signed(t, cred, "GET", deviceapi.PathPushes, "x=1", nil), 400, "bad_request"},
		{"missing query", e.signed(t, cred, "GET", deviceapi.PathPush, "", nil), 400, "bad_request"},
		{"query twice", e.signed(t, cred, "GET", deviceapi.PathPush, "id=a&id=b", nil), 400, "bad_request"},
		{"query with ;", e.signed(t, cred, "GET", deviceapi.PathPush, "id=a;b", nil), 400, "bad_request"},
		{"no Authorization", e.raw(t, "GET", deviceapi.PathPushes, "", nil, nil), 401, "bad_authorization"},
		{"another scheme", e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": "Bearer x"}), 401, "bad_authorization"},
		{"migration with a field", e.signed(t, cred, "POST", deviceapi.PathMigration, "", []byte(`{"replacing":"x"}`)), 400, "bad_request"},
	} {
		require.Equal(t, tc.status, tc.a.status, tc.name)
		if tc.code != "" {
			require.Equal(t, tc.code, code(t, tc.a), tc.name)
			require.Equal(t, "no-store", tc.a.header.Get("Cache-Control"), tc.name)
		}
	}
	a := e.raw(t, "GET", deviceapi.PathOffer, "", nil, nil)
	require.Equal(t, "POST", a.header.Get("Allow"))
}

func TestRateLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{Device: authn.DeviceLimit{Requests: 3, Window: time.Minute}, AnonymousIPRequests: 2})
	phone := e.kit.Enroll("alice")
	for range 3 {
		_, err := e.client.Pushes(ctx, phone.Credential())
		require.NoError(t, err)
	}
	_, err := e.client.Pushes(ctx, phone.Credential())
	require.ErrorIs(t, err, deviceclient.ErrRateLimited)
	var apiErr *deviceclient.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.Status)
	require.Equal(t, time.Minute, apiErr.RetryAfter)
	// Another device is not concerned; the window ends.
	other := e.kit.Enroll("bob")
	_, err = e.client.Pushes(ctx, other.Credential())
	require.NoError(t, err)
	e.kit.Clock.Advance(time.Minute)
	_, err = e.client.Pushes(ctx, phone.Credential())
	require.NoError(t, err)

	// The open endpoints, per address.
	offer, err := e.kit.Service.StartActivation(ctx, "carol", nil)
	require.NoError(t, err)
	for range 2 {
		_, err := e.client.FetchOffer(ctx, offer.SessionID)
		require.NoError(t, err)
	}
	_, err = e.client.FetchOffer(ctx, offer.SessionID)
	require.ErrorIs(t, err, deviceclient.ErrRateLimited)
	require.ErrorAs(t, err, &apiErr)
	require.Positive(t, apiErr.RetryAfter)
	// ... which leaves the authenticated ones alone.
	_, err = e.client.Pushes(ctx, other.Credential())
	require.NoError(t, err)
}

func TestIPLimitAllEndpoints(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, deviceapi.Options{IPRequests: 4, Clock: clock, Device: authn.DeviceLimit{Requests: 100}})
	cred := e.kit.Enroll("alice").Credential()
	for range 4 {
		_, err := e.client.Pushes(ctx, cred)
		require.NoError(t, err)
	}
	_, err := e.client.Pushes(ctx, cred)
	require.ErrorIs(t, err, deviceclient.ErrRateLimited)
	a := e.raw(t, "GET", "/v1/nothing", "", nil, nil)
	require.Equal(t, http.StatusNotFound, a.status, "unknown paths are not counted")
	mu.Lock()
	now = now.Add(deviceapi.DefaultIPWindow)
	mu.Unlock()
	_, err = e.client.Pushes(ctx, cred)
	require.NoError(t, err)
}

// Many phones at once, each listing prompts and rotating its token from
// several goroutines.
func TestConcurrentPhones(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{Device: authn.DeviceLimit{Requests: 1000}, IPRequests: 100000})
	var creds []*enroll.Credential
	for i := range 6 {
		creds = append(creds, e.kit.Enroll(fmt.Sprintf("user-%d", i)).Credential())
	}
	_, err := e.kit.Service.BeginPush(ctx, "user-0", enroll.PushContext{Action: "Login"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	var calls atomic.Int32
	for i, c := range creds {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 5 {
					prompts, err := e.client.Pushes(ctx, c)
					if err != nil {
						t.Errorf("pushes: %v", err)
						return
					}
					if want := map[bool]int{true: 1, false: 0}[i == 0]; len(prompts) != want {
						t.Errorf("user-%d has %d prompts, want %d", i, len(prompts), want)
					}
					if err := e.client.SetPushToken(ctx, c, fmt.Sprintf("tok-%d-%d-%d", i, g, n)); err != nil {
						t.Errorf("token: %v", err)
						return
					}
					calls.Add(2)
				}
			}()
		}
	}
	wg.Wait()
	require.Equal(t, int32(6*4*5*2), calls.Load())
}

// Neither the answers nor the log carry a session ID, MAC, nonce or
// pairing code.
func TestNoSecretsInAnswersOrLog(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	old := e.kit.Enroll("alice").Credential()
	offer, err := e.client.StartMigration(ctx, old)
	require.NoError(t, err)
	act, err := e.client.Activate(ctx, offer, phoneInfo)
	require.NoError(t, err)
	code := act.Credential.PairingCode()
	_, err = e.client.ConfirmMigration(ctx, old, offer.SessionID, "999999")
	if code == "999999" {
		require.NoError(t, err)
	} else {
		require.ErrorIs(t, err, deviceclient.ErrWrongPairingCode)
		require.NotContains(t, err.Error(), code)
	}
	// A replayed and a forged request, logged as refusals.
	auth, err := old.SignAPIRequest("GET", deviceapi.PathPushes, "", nil, e.kit.Clock.Now())
	require.NoError(t, err)
	e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": auth})
	a := e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": auth})
	require.Equal(t, http.StatusUnauthorized, a.status)
	_, mac, err := enroll.ParseAPIAuthorization(auth)
	require.NoError(t, err)
	a2 := e.raw(t, "POST", deviceapi.PathOffer, "", []byte(`{"sid":"`+offer.SessionID+`"}`), nil)
	require.Equal(t, http.StatusConflict, a2.status, "completed: %s", a2.body)

	log := e.log.String()
	require.Contains(t, log, "refused")
	for _, s := range []string{offer.SessionID, strings.ReplaceAll(offer.SessionID, "-", ""), code, auth,
		base64.RawURLEncoding.EncodeToString(mac), auth[strings.Index(auth, "nonce="):strings.Index(auth, ",mac=")]} {
		require.NotContains(t, log, s)
		require.NotContains(t, string(a.body)+string(a2.body), s)
	}
}

// Requests from a phone with a random credential of the right shape are
// refused and leave nothing behind.
func TestForgedRequestsStoreNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{Device: authn.DeviceLimit{Requests: 2}})
	phone := e.kit.Enroll("alice")
	r, _, err := enroll.ParseAPIAuthorization(mustSign(t, phone.Credential(), e.kit.Clock.Now()))
	require.NoError(t, err)
	for range 10 {
		mac := make([]byte, 32)
		rand.Read(mac)
		rand.Read(r.Nonce)
		h, err := r.Authorization(mac)
		require.NoError(t, err)
		a := e.raw(t, "GET", deviceapi.PathPushes, "", nil, map[string]string{"Authorization": h})
		require.Equal(t, http.StatusUnauthorized, a.status)
	}
	// The device's budget is untouched by the forgeries.
	for range 2 {
		_, err := e.client.Pushes(ctx, phone.Credential())
		require.NoError(t, err)
	}
}

func mustSign(t *testing.T, c *enroll.Credential, now time.Time) string {
	t.Helper()
	h, err := c.SignAPIRequest("GET", deviceapi.PathPushes, "", nil, now)
	require.NoError(t, err)
	return h
}

// kitDevice is the user's device of that ID in the kit's records.
func kitDevice(ctx context.Context, k *authntest.Kit, user, id string) (authn.DeviceRecord, error) {
	ds, err := k.Records.Devices(ctx, user)
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d, nil
		}
	}
	return authn.DeviceRecord{}, authn.ErrStoreNotFound
}

// The outcomes of a push answer a phone must act on each have their own
// code (PROTOCOL.md §10), and the deviceclient reads each back as its own
// error: clock_off with the server's time, not_yours, expired, answered;
// the very same answer posted again gets the first one's outcome.
func TestPushAnswerCodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	alice := e.kit.Enroll("alice").Credential()
	bob := e.kit.Enroll("bob").Credential()
	pc := enroll.PushContext{Action: "Login"}

	req, err := e.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	p := prompts0(t, e, alice, req.ID, pc)

	// The answer was made by a clock 75 seconds slow (the API request is
	// signed by the client's clock, which is right): clock_off, and the
	// request stays pending.
	slow, err := alice.AnswerPush(p, true, req.Number, e.kit.Clock.Now().Add(-75*time.Second))
	require.NoError(t, err)
	err = e.client.SendPushAnswer(ctx, alice, slow)
	require.ErrorIs(t, err, enroll.ErrPushClock)
	var de *deviceclient.Error
	require.ErrorAs(t, err, &de)
	require.Equal(t, "clock_off", de.Code)
	require.Equal(t, e.kit.Clock.Now().Unix(), de.ServerTime.Unix(), "server_time")

	// Bob's device posts alice's answer: not his.
	a, err := alice.AnswerPush(p, true, req.Number, e.kit.Clock.Now())
	require.NoError(t, err)
	err = e.client.SendPushAnswer(ctx, bob, a)
	require.ErrorIs(t, err, enroll.ErrPromptNotForDevice)
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusForbidden, de.Status)

	// Taken; the same answer again, later, gets the same outcome.
	require.NoError(t, e.client.SendPushAnswer(ctx, alice, a))
	e.kit.Clock.Advance(40 * time.Second)
	require.NoError(t, e.client.SendPushAnswer(ctx, alice, a), "a lost answer retried")
	deny, err := alice.AnswerPush(p, false, "", e.kit.Clock.Now())
	require.NoError(t, err)
	err = e.client.SendPushAnswer(ctx, alice, deny)
	require.ErrorIs(t, err, enroll.ErrPushAnswered)
	require.ErrorAs(t, err, &de)
	require.Equal(t, "answered", de.Code)
	require.True(t, de.ServerTime.IsZero(), "only clock_off carries server_time")

	// Expired unanswered: 410 expired, not invalid_push_answer.
	req, err = e.kit.Service.BeginPush(ctx, "alice", pc)
	require.NoError(t, err)
	p = prompts0(t, e, alice, req.ID, pc)
	a, err = alice.AnswerPush(p, true, req.Number, e.kit.Clock.Now())
	require.NoError(t, err)
	e.kit.Clock.Advance(enroll.DefaultPushTTL)
	err = e.client.SendPushAnswer(ctx, alice, a)
	require.ErrorIs(t, err, enroll.ErrExpired)
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusGone, de.Status)
}
