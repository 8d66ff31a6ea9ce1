package apns_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/notify"
	"github.com/keyline/keyline/notify/apns"
	"github.com/keyline/keyline/notify/apns/apnstest"
)

const topic = "com.example.bank"

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

func deviceToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func setup(t testing.TB, mod ...func(*apns.Config)) (*apns.Client, *apnstest.Server, *clock) {
	t.Helper()
	c := &clock{t: start}
	srv := apnstest.NewServer(topic, c.Now)
	t.Cleanup(srv.Close)
	cfg := apns.Config{TeamID: apnstest.TeamID, KeyID: apnstest.KeyID, Key: srv.Key(), Topic: topic,
		Endpoint: srv.URL, RootCAs: srv.RootCAs(), Now: c.Now}
	for _, f := range mod {
		f(&cfg)
	}
	cl, err := apns.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cl, srv, c
}

func message(token string) notify.Message {
	return notify.Message{Token: token, RequestID: "6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10", ExpiresAt: start.Add(2 * time.Minute)}
}

// The request an alert push makes, pinned: HTTP/2, the path, every apns
// header, the provider token's header and claims (its signature checked
// by the server with crypto/ecdsa), and the payload's bytes.
func TestAlertRequestPinned(t *testing.T) {
	cl, srv, _ := setup(t)
	tok := deviceToken()
	if err := cl.Send(context.Background(), message(tok)); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Refused != "" || r.Status != http.StatusOK {
		t.Fatalf("refused %q, status %d", r.Refused, r.Status)
	}
	want := map[string]string{
		"Proto": "HTTP/2.0", "Method": "POST", "Path": "/3/device/" + tok,
		"apns-topic": topic, "apns-push-type": "alert", "apns-priority": "10",
		"apns-expiration":  strconv.FormatInt(start.Add(2*time.Minute).Unix(), 10),
		"apns-collapse-id": "6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10", "content-type": "application/json",
		"kid": apnstest.KeyID, "iss": apnstest.TeamID, "iat": strconv.FormatInt(start.Unix(), 10),
		"body": `{"aps":{"alert":{"body":"Login request"},"sound":"default","mutable-content":1},"id":"6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10"}`,
	}
	got := map[string]string{"Proto": r.Proto, "Method": r.Method, "Path": r.Path,
		"kid": r.KeyID, "iss": r.Issuer, "iat": strconv.FormatInt(r.IssuedAt.Unix(), 10), "body": string(r.Body)}
	for k := range want {
		if strings.HasPrefix(k, "apns-") || k == "content-type" {
			got[k] = r.Header.Get(k)
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// No other apns header, and the bearer token is the only credential.
	var apnsHeaders []string
	for k := range r.Header {
		if strings.HasPrefix(strings.ToLower(k), "apns-") {
			apnsHeaders = append(apnsHeaders, strings.ToLower(k))
		}
	}
	slices.Sort(apnsHeaders)
	if w := []string{"apns-collapse-id", "apns-expiration", "apns-priority", "apns-push-type", "apns-topic"}; !slices.Equal(apnsHeaders, w) {
		t.Errorf("apns headers %v, want %v", apnsHeaders, w)
	}
	if !strings.HasPrefix(r.Header.Get("authorization"), "bearer ey") {
		t.Errorf("authorization %q", r.Header.Get("authorization"))
	}
}

// A background push: content-available only, priority 5.
func TestBackgroundRequestPinned(t *testing.T) {
	cl, srv, _ := setup(t, func(c *apns.Config) { c.PushType = apns.Background })
	if err := cl.Send(context.Background(), message(deviceToken())); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Header.Get("apns-push-type") != "background" || r.Header.Get("apns-priority") != "5" ||
		string(r.Body) != `{"aps":{"content-available":1},"id":"6f1c2a9e0b3d4c5e8f7a6b5c4d3e2f10"}` {
		t.Fatalf("type %q priority %q body %s", r.Header.Get("apns-push-type"), r.Header.Get("apns-priority"), r.Body)
	}
}

// The provider token is reused until it is 50 minutes old, then renewed
// before Apple's hour is up; the server accepts every request, so it was
// never renewed within 20 minutes either.
func TestProviderTokenRenewed(t *testing.T) {
	cl, srv, c := setup(t)
	send := func() apnstest.Request {
		t.Helper()
		if err := cl.Send(context.Background(), message(deviceToken())); err != nil {
			t.Fatal(err)
		}
		reqs := srv.Requests()
		return reqs[len(reqs)-1]
	}
	first := send()
	c.Advance(49 * time.Minute)
	if r := send(); r.Bearer != first.Bearer {
		t.Fatal("renewed before 50 minutes")
	}
	c.Advance(time.Minute)
	r := send()
	if r.Bearer == first.Bearer || !r.IssuedAt.Equal(start.Add(50*time.Minute)) {
		t.Fatalf("not renewed at 50 minutes: iat %v", r.IssuedAt)
	}
}

// How each APNs answer is classified: gone tokens, retryable failures
// (with Retry-After), final ones. No error names the token.
func TestAnswersClassified(t *testing.T) {
	cl, srv, _ := setup(t)
	for _, c := range []struct {
		resp      apnstest.Response
		gone      bool
		retry     bool
		wantAfter time.Duration
	}{
		{resp: apnstest.Response{Status: 410, Reason: "Unregistered"}, gone: true},
		{resp: apnstest.Response{Status: 400, Reason: "BadDeviceToken"}, gone: true},
		{resp: apnstest.Response{Status: 400, Reason: "DeviceTokenNotForTopic"}},
		{resp: apnstest.Response{Status: 403, Reason: "InvalidProviderToken"}},
		{resp: apnstest.Response{Status: 413, Reason: "PayloadTooLarge"}},
		{resp: apnstest.Response{Status: 429, Reason: "TooManyRequests", RetryAfter: "3"}, retry: true, wantAfter: 3 * time.Second},
		{resp: apnstest.Response{Status: 500, Reason: "InternalServerError"}, retry: true},
		{resp: apnstest.Response{Status: 503, Reason: "ServiceUnavailable"}, retry: true},
		{resp: apnstest.Response{Reset: true}, retry: true},
	} {
		srv.Script(func(apnstest.Request) apnstest.Response { return c.resp })
		tok := deviceToken()
		err := cl.Send(context.Background(), message(tok))
		var re *notify.RetryError
		if err == nil || errors.Is(err, notify.ErrTokenGone) != c.gone || errors.As(err, &re) != c.retry {
			t.Errorf("%+v: err %v", c.resp, err)
			continue
		}
		if c.retry && re.After != c.wantAfter {
			t.Errorf("%+v: after %v", c.resp, re.After)
		}
		if strings.Contains(err.Error(), tok) {
			t.Errorf("%+v: the error names the token: %v", c.resp, err)
		}
		if c.resp.Reason != "" && !strings.Contains(err.Error(), c.resp.Reason) {
			t.Errorf("%+v: the error does not name the reason: %v", c.resp, err)
		}
	}
}

// ExpiredProviderToken: the answer is retryable and the retry carries a
// new token (once the old one is past Apple's 20-minute minimum).
func TestExpiredProviderTokenRenews(t *testing.T) {
	cl, srv, c := setup(t)
	if err := cl.Send(context.Background(), message(deviceToken())); err != nil {
		t.Fatal(err)
	}
	c.Advance(25 * time.Minute)
	srv.Script(func(apnstest.Request) apnstest.Response {
		return apnstest.Response{Status: 403, Reason: "ExpiredProviderToken"}
	})
	var re *notify.RetryError
	if err := cl.Send(context.Background(), message(deviceToken())); !errors.As(err, &re) {
		t.Fatalf("err %v", err)
	}
	srv.Script(nil)
	if err := cl.Send(context.Background(), message(deviceToken())); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if reqs[1].Bearer != reqs[0].Bearer || reqs[2].Bearer == reqs[1].Bearer {
		t.Fatal("the token was not renewed after ExpiredProviderToken")
	}
}

// A token that is not hexadecimal is gone without a request: APNs
// would answer BadDeviceToken.
func TestNonHexTokenGone(t *testing.T) {
	cl, srv, _ := setup(t)
	for _, tok := range []string{"", "abc", "zz" + deviceToken()[2:], "../" + deviceToken()} {
		if err := cl.Send(context.Background(), message(tok)); !errors.Is(err, notify.ErrTokenGone) {
			t.Errorf("%q: err %v", tok, err)
		}
	}
	if len(srv.Requests()) != 0 {
		t.Fatal("a request was sent")
	}
}

// A server that does not answer: Send returns when its context ends.
func TestSlowServerBoundedByContext(t *testing.T) {
	cl, srv, _ := setup(t)
	srv.Script(func(apnstest.Request) apnstest.Response { return apnstest.Response{Hang: true} })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var re *notify.RetryError
	if err := cl.Send(ctx, message(deviceToken())); !errors.As(err, &re) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestParseKey(t *testing.T) {
	srv := apnstest.NewServer(topic, nil)
	defer srv.Close()
	k, err := apns.ParseKey(srv.KeyPEM())
	if err != nil || !k.Equal(srv.Key()) {
		t.Fatalf("ParseKey: %v", err)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(rk)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKCS8PrivateKey(ek)
	for name, in := range map[string][]byte{
		"empty": nil, "not PEM": []byte("key"),
		"RSA":        pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"P-384":      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der384}),
		"other type": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"garbage":    pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	} {
		if _, err := apns.ParseKey(in); !errors.Is(err, apns.ErrConfig) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	srv := apnstest.NewServer(topic, nil)
	defer srv.Close()
	ok := apns.Config{TeamID: apnstest.TeamID, KeyID: apnstest.KeyID, Key: srv.Key(), Topic: topic}
	for name, f := range map[string]func(*apns.Config){
		"no team": func(c *apns.Config) { c.TeamID = "" }, "no key ID": func(c *apns.Config) { c.KeyID = "" },
		"no topic": func(c *apns.Config) { c.Topic = "" }, "no key": func(c *apns.Config) { c.Key = nil },
		"http":      func(c *apns.Config) { c.Endpoint = "http://api.push.apple.com" },
		"a path":    func(c *apns.Config) { c.Endpoint = "https://api.push.apple.com/3" },
		"push type": func(c *apns.Config) { c.PushType = "voip" },
	} {
		c := ok
		f(&c)
		if _, err := apns.New(c); !errors.Is(err, apns.ErrConfig) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if _, err := apns.New(ok); err != nil {
		t.Fatal(err)
	}
}
