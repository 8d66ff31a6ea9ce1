package apns_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/notify"
	"github.com/keyline/keyline/notify/apns"
	"github.com/keyline/keyline/notify/apns/apnstest"
)

var loginCtx = enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

// events counts audit events.
type events struct {
	mu sync.Mutex
	n  map[authn.EventName]int
}

func (e *events) Observe(_ context.Context, ev authn.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n[ev.Name]++
}

func (e *events) count(name authn.EventName) int { e.mu.Lock(); defer e.mu.Unlock(); return e.n[name] }

// world is a Service on a memstore delivering through notify and apns to
// a local APNs, all on the kit's fake clock.
type world struct {
	kit     *authntest.Kit
	srv     *apnstest.Server
	events  *events
	mu      sync.Mutex
	reports []notify.Report
}

func newWorld(t *testing.T, notifyTimeout time.Duration) *world {
	t.Helper()
	w := &world{events: &events{n: map[authn.EventName]int{}}}
	var n *notify.Notifier
	w.kit = authntest.New(t, authntest.WithConfig(func(c *authn.Config) {
		c.NotifyTimeout = notifyTimeout
		c.Observer = w.events
		var err error
		n, err = notify.New(notify.Config{Default: nil, Senders: map[string]notify.Sender{"authntest": lazy{&w.srv, c.Clock, t, new(sync.Once), new(*apns.Client)}},
			Now: c.Clock, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
			Report: func(r notify.Report) { w.mu.Lock(); defer w.mu.Unlock(); w.reports = append(w.reports, r) }})
		if err != nil {
			t.Fatal(err)
		}
		c.Notifier = n
	}))
	n.Attach(w.kit.Service)
	w.srv = apnstest.NewServer(topic, w.kit.Clock.Now)
	t.Cleanup(w.srv.Close)
	return w
}

// lazy is the APNs client of the world's server, made on first use (the
// server needs the kit's clock, the kit needs the notifier).
type lazy struct {
	srv  *(*apnstest.Server)
	now  func() time.Time
	t    *testing.T
	once *sync.Once
	cl   **apns.Client
}

func (l lazy) Send(ctx context.Context, m notify.Message) error {
	l.once.Do(func() {
		s := *l.srv
		cl, err := apns.New(apns.Config{TeamID: apnstest.TeamID, KeyID: apnstest.KeyID, Key: s.Key(), Topic: topic,
			Endpoint: s.URL, RootCAs: s.RootCAs(), Now: l.now})
		if err != nil {
			l.t.Error(err)
		}
		*l.cl = cl
	})
	return (*l.cl).Send(ctx, m)
}

// phone enrolls a phone for user and registers an APNs device token for
// it, as the app does over the device API.
func (w *world) phone(t *testing.T, user string) (*authntest.Phone, string) {
	t.Helper()
	p := w.kit.Enroll(user)
	tok := deviceToken()
	body, _ := json.Marshal(map[string]string{"push_token": tok})
	if err := p.Authenticate("POST", "/v1/push-token", body).SetPushToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	return p, tok
}

func (w *world) tokenOf(t *testing.T, user string) string {
	t.Helper()
	ds, err := w.kit.Records.Devices(context.Background(), user)
	if err != nil || len(ds) != 1 {
		t.Fatalf("devices: %v, %d", err, len(ds))
	}
	return ds[0].PushToken
}

// A push delivered end to end: the Service's BeginPush reaches the local
// APNs, whose notification carries the request ID only; the phone
// fetches the prompt by that ID over the device API, opens it, approves
// with the number the login page shows, and the login finishes.
func TestPushEndToEnd(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 5*time.Second)
	p, tok := w.phone(t, "alice")
	req, err := w.kit.Service.BeginPush(ctx, "alice", loginCtx)
	if err != nil {
		t.Fatal(err)
	}
	got := w.srv.Delivered()
	if len(got) != 1 || got[0].Token != tok || got[0].Header.Get("apns-collapse-id") != req.ID {
		t.Fatalf("delivered %+v", got)
	}
	var payload struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(got[0].Body, &payload); err != nil || payload.ID != req.ID {
		t.Fatalf("payload %s", got[0].Body)
	}
	if exp := got[0].Header.Get("apns-expiration"); exp != timeString(req.ExpiresAt) {
		t.Fatalf("apns-expiration %s, request expires %v", exp, req.ExpiresAt)
	}
	sealed, err := p.Authenticate("GET", "/v1/push", nil).PushPrompt(ctx, payload.ID)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := p.Credential().OpenPrompt(sealed, p.Now())
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Credential().AnswerPush(pr, true, req.Number, p.Now())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(a)
	if err := p.Authenticate("POST", "/v1/push/answer", body).AnswerPush(ctx, a); err != nil {
		t.Fatal(err)
	}
	res, err := w.kit.Service.FinishPush(ctx, "alice", req.ID)
	if err != nil || res.Method != authn.MethodPush {
		t.Fatalf("FinishPush: %v", err)
	}
}

// 410 Unregistered: the token disappears from the store (audited), no
// push was delivered, and the next push has no device to reach.
func TestUnregisteredTokenRemoved(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 5*time.Second)
	_, tok := w.phone(t, "alice")
	w.srv.Script(func(apnstest.Request) apnstest.Response {
		return apnstest.Response{Status: 410, Reason: "Unregistered"}
	})
	if _, err := w.kit.Service.BeginPush(ctx, "alice", loginCtx); !errors.Is(err, authn.ErrPushUnavailable) {
		t.Fatalf("err %v", err)
	}
	if n := len(w.srv.Requests()); n != 1 {
		t.Fatalf("%d requests: a gone token was retried", n)
	}
	if got := w.tokenOf(t, "alice"); got != "" {
		t.Fatalf("token %q still stored (was %q)", got, tok)
	}
	if w.events.count(authn.EventPushTokenRemoved) != 1 || w.reports[0].Outcome != notify.TokenRemoved {
		t.Fatalf("events %d, report %+v", w.events.count(authn.EventPushTokenRemoved), w.reports[0])
	}
	if _, err := w.kit.Service.BeginPush(ctx, "alice", loginCtx); !errors.Is(err, authn.ErrPushUnavailable) || len(w.srv.Requests()) != 1 {
		t.Fatalf("second push: %v, %d requests", err, len(w.srv.Requests()))
	}
}

// A 503 storm while time passes: every attempt reaches the server
// before the request's expiry, none after; the push is undelivered, and
// once BeginPush has returned nothing more is sent.
func TestServiceUnavailableStorm(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Minute)
	w.phone(t, "alice")
	w.srv.Script(func(apnstest.Request) apnstest.Response {
		w.kit.Clock.Advance(25 * time.Second) // each answer takes the service 25 s
		return apnstest.Response{Status: 503, Reason: "ServiceUnavailable"}
	})
	begun := w.kit.Clock.Now()
	_, err := w.kit.Service.BeginPush(ctx, "alice", loginCtx)
	if !errors.Is(err, authn.ErrPushUnavailable) {
		t.Fatalf("err %v", err)
	}
	expiry := begun.Add(enroll.DefaultPushTTL).Truncate(time.Second)
	reqs := w.srv.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d requests: the storm was not retried", len(reqs))
	}
	for i, r := range reqs {
		if !r.At.Before(expiry) {
			t.Errorf("attempt %d at %v, at or after the expiry %v", i+1, r.At, expiry)
		}
	}
	if r := w.reports[0]; r.Outcome != notify.Expired || r.Attempts != len(reqs) {
		t.Fatalf("report %+v", r)
	}
	w.srv.Close() // waits for handlers: none may have started after BeginPush returned
	if n := len(w.srv.Requests()); n != len(reqs) {
		t.Fatalf("%d requests after BeginPush returned, %d before", n, len(reqs))
	}
}

// A server that never answers and one that resets the stream: the login
// is not held past the notify timeout (NotifyAll returns with the
// deadline, while the slow server still holds its request), a reset is
// retried and delivered, and the request stands on the device reached.
func TestSlowAndResetServers(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, time.Second)
	_, slow := w.phone(t, "alice")
	var mu sync.Mutex
	resets := 0
	w.srv.Script(func(r apnstest.Request) apnstest.Response {
		if r.Token == slow {
			return apnstest.Response{Hang: true}
		}
		mu.Lock()
		defer mu.Unlock()
		if resets++; resets == 1 {
			return apnstest.Response{Reset: true}
		}
		return apnstest.Response{}
	})

	// One device, slow: undelivered once the timeout passes.
	if _, err := w.kit.Service.BeginPush(ctx, "alice", loginCtx); !errors.Is(err, authn.ErrPushUnavailable) {
		t.Fatalf("err %v", err)
	}
	if r := w.reports[0]; r.Outcome != notify.Failed || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("report %+v", r)
	}

	// A second device, whose first attempt is reset: delivered on the
	// retry, and the request stands although the slow device never
	// answers.
	w.kit.Clock.Advance(time.Minute)
	_, fast := w.phone(t, "alice")
	req, err := w.kit.Service.BeginPush(ctx, "alice", loginCtx)
	if err != nil {
		t.Fatal(err)
	}
	var tries, delivered int
	for _, r := range w.srv.Requests() {
		if r.Token == fast {
			tries++
			if r.Status == http.StatusOK && r.Header.Get("apns-collapse-id") == req.ID {
				delivered++
			}
		}
	}
	if tries != 2 || delivered != 1 {
		t.Fatalf("fast device: %d tries, %d delivered", tries, delivered)
	}
	if w.events.count(authn.EventPushUndelivered) != 2 || w.events.count(authn.EventPushSent) != 1 {
		t.Fatalf("undelivered %d, sent %d", w.events.count(authn.EventPushUndelivered), w.events.count(authn.EventPushSent))
	}
}

func timeString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
