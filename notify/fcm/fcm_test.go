package fcm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/notify"
	"github.com/keyline/keyline/notify/fcm"
	"github.com/keyline/keyline/notify/fcm/fcmtest"
)

const project = "keyline-test"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var start = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

const token = "dY3kPq1xR0e:APA91bHexampleRegistrationToken0123456789"

func setup(t *testing.T) (*fcm.Client, *fcmtest.Server, *clock) {
	t.Helper()
	c := &clock{t: start}
	srv := fcmtest.NewServer(project, c.Now)
	t.Cleanup(srv.Close)
	cl, err := fcm.New(fcm.Config{Credentials: srv.Credentials(), Endpoint: srv.URL, RootCAs: srv.RootCAs(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return cl, srv, c
}

func message() notify.Message {
	return notify.Message{Token: token, RequestID: "6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10", ExpiresAt: start.Add(2 * time.Minute)}
}

// The grant and the send, pinned: the service account's JWT (its
// signature checked by the server with crypto/rsa) and its claims, the
// bearer token the grant issued, the path and the message's bytes.
func TestRequestPinned(t *testing.T) {
	cl, srv, c := setup(t)
	c.Advance(500 * time.Millisecond) // the TTL is rounded down to whole seconds
	if err := cl.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	grants, reqs := srv.Grants(), srv.Requests()
	if len(grants) != 1 || len(reqs) != 1 {
		t.Fatalf("%d grants, %d sends", len(grants), len(reqs))
	}
	g, r := grants[0], reqs[0]
	if g.Refused != "" || g.Claims["iss"] != fcmtest.ClientEmail || g.Claims["scope"] != fcm.Scope || g.Claims["aud"] != srv.URL+"/token" {
		t.Fatalf("grant %+v", g)
	}
	want := `{"message":{"token":"` + token + `","data":{"id":"6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10"},` +
		`"android":{"collapse_key":"6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10","priority":"HIGH","ttl":"119s"}}}`
	if r.Refused != "" || r.Status != 200 || r.Method != "POST" || r.Path != "/v1/projects/"+project+"/messages:send" ||
		r.AccessToken != g.AccessToken || r.Header.Get("Content-Type") != "application/json" || string(r.Body) != want {
		t.Fatalf("send: refused %q status %d %s %s\n%s\nwant\n%s", r.Refused, r.Status, r.Method, r.Path, r.Body, want)
	}
	if r.Proto != "HTTP/2.0" {
		t.Errorf("proto %s", r.Proto)
	}
}

// The access token is reused until five minutes before it expires, then
// renewed; a 401 drops it and the retry gets a new one.
func TestAccessTokenRenewed(t *testing.T) {
	cl, srv, c := setup(t)
	send := func() {
		t.Helper()
		m := message()
		m.ExpiresAt = c.Now().Add(time.Minute)
		if err := cl.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	send()
	c.Advance(54 * time.Minute)
	send()
	if n := len(srv.Grants()); n != 1 {
		t.Fatalf("%d grants within the token's life", n)
	}
	c.Advance(time.Minute) // 55 minutes: five before the hour
	send()
	if n := len(srv.Grants()); n != 2 {
		t.Fatalf("%d grants: not renewed five minutes before expiry", n)
	}
	srv.Script(func(fcmtest.Request) fcmtest.Response { return fcmtest.Response{Status: 401, Code: "UNAUTHENTICATED"} })
	var re *notify.RetryError
	if err := cl.Send(context.Background(), message()); !errors.As(err, &re) {
		t.Fatalf("401: %v", err)
	}
	srv.Script(nil)
	send()
	if n := len(srv.Grants()); n != 3 {
		t.Fatalf("%d grants: a refused token was reused", n)
	}
	// Concurrent sends share one renewal.
	c.Advance(time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _ = cl.Send(context.Background(), message()) })
	}
	wg.Wait()
	if n := len(srv.Grants()); n != 4 {
		t.Fatalf("%d grants after 8 concurrent sends, want 4", n)
	}
}

// How each FCM answer is classified; no error names the token.
func TestAnswersClassified(t *testing.T) {
	cl, srv, _ := setup(t)
	for _, c := range []struct {
		resp  fcmtest.Response
		gone  bool
		retry bool
		after time.Duration
	}{
		{resp: fcmtest.Response{Status: 404, Code: "NOT_FOUND", ErrorCode: "UNREGISTERED"}, gone: true},
		{resp: fcmtest.Response{Status: 400, Code: "INVALID_ARGUMENT", ErrorCode: "INVALID_ARGUMENT", TokenField: true}, gone: true},
		{resp: fcmtest.Response{Status: 400, Code: "INVALID_ARGUMENT", ErrorCode: "INVALID_ARGUMENT"}},
		{resp: fcmtest.Response{Status: 403, Code: "PERMISSION_DENIED", ErrorCode: "SENDER_ID_MISMATCH"}},
		{resp: fcmtest.Response{Status: 429, Code: "RESOURCE_EXHAUSTED", ErrorCode: "QUOTA_EXCEEDED", RetryAfter: "7"}, retry: true, after: 7 * time.Second},
		{resp: fcmtest.Response{Status: 500, Code: "INTERNAL", ErrorCode: "INTERNAL"}, retry: true},
		{resp: fcmtest.Response{Status: 503, Code: "UNAVAILABLE", ErrorCode: "UNAVAILABLE"}, retry: true},
		{resp: fcmtest.Response{Reset: true}, retry: true},
	} {
		srv.Script(func(fcmtest.Request) fcmtest.Response { return c.resp })
		err := cl.Send(context.Background(), message())
		var re *notify.RetryError
		if err == nil || errors.Is(err, notify.ErrTokenGone) != c.gone || errors.As(err, &re) != c.retry {
			t.Errorf("%+v: err %v", c.resp, err)
			continue
		}
		if c.retry && re.After != c.after {
			t.Errorf("%+v: after %v", c.resp, re.After)
		}
		if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "ya29") {
			t.Errorf("%+v: the error names a token: %v", c.resp, err)
		}
	}
	// The server's own check: a token that cannot be one is refused on the
	// token field, hence gone.
	srv.Script(nil)
	m := message()
	m.Token = "not a token"
	if err := cl.Send(context.Background(), m); !errors.Is(err, notify.ErrTokenGone) {
		t.Fatalf("malformed token: %v", err)
	}
}

// A token endpoint that refuses the grant (the assertion names another
// account): final, not retried, and no send is made.
func TestGrantFailures(t *testing.T) {
	c := &clock{t: start}
	srv := fcmtest.NewServer(project, c.Now)
	defer srv.Close()
	var creds map[string]string
	if err := json.Unmarshal(srv.Credentials(), &creds); err != nil {
		t.Fatal(err)
	}
	creds["client_email"] = "someone-else@keyline-test.iam.gserviceaccount.com"
	other, _ := json.Marshal(creds)
	cl, err := fcm.New(fcm.Config{Credentials: other, Endpoint: srv.URL, RootCAs: srv.RootCAs(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var re *notify.RetryError
	if err := cl.Send(context.Background(), message()); err == nil || errors.As(err, &re) || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("err %v", err)
	}
	if g := srv.Grants(); len(g) != 1 || g[0].Refused != "invalid_grant" || len(srv.Requests()) != 0 {
		t.Fatalf("grants %+v, %d sends", g, len(srv.Requests()))
	}
}

func TestNewRefuses(t *testing.T) {
	srv := fcmtest.NewServer(project, nil)
	defer srv.Close()
	var creds map[string]string
	_ = json.Unmarshal(srv.Credentials(), &creds)
	with := func(k, v string) []byte {
		c := map[string]string{}
		for a, b := range creds {
			c[a] = b
		}
		c[k] = v
		b, _ := json.Marshal(c)
		return b
	}
	for name, cfg := range map[string]fcm.Config{
		"no credentials": {},
		"not an account": {Credentials: with("type", "authorized_user")},
		"no project":     {Credentials: with("project_id", "")},
		"bad project":    {Credentials: srv.Credentials(), ProjectID: "a/b"},
		"http token uri": {Credentials: with("token_uri", "http://oauth2.googleapis.com/token")},
		"http endpoint":  {Credentials: srv.Credentials(), Endpoint: "http://fcm.googleapis.com"},
		"no key":         {Credentials: with("private_key", "")},
	} {
		if _, err := fcm.New(cfg); !errors.Is(err, fcm.ErrConfig) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := fcm.New(fcm.Config{Credentials: srv.Credentials()}); err != nil {
		t.Fatal(err)
	}
}
