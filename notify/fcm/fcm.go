// Package fcm sends keyline's push notifications through Firebase Cloud
// Messaging's HTTP v1 API, authenticated by an OAuth 2 access token that
// a Google service-account key obtains (golang.org/x/oauth2's JWT bearer
// grant, RFC 7523) and that is renewed five minutes before it expires.
//
// A [Client] is a [notify.Sender]: wrap it in [notify.New] for retries,
// expiry and the removal of gone tokens. Each notification is one POST
// /v1/projects/<project>/messages:send of a data message that carries
// the request ID and nothing else of the login (PROTOCOL.md §11), at
// Android priority HIGH (the app is woken at once), with a TTL that ends
// at the request's expiry (FCM drops it then) and the request ID as the
// collapse key:
//
//	{"message":{"token":"<token>","data":{"id":"<request ID>"},
//	 "android":{"collapse_key":"<request ID>","priority":"HIGH","ttl":"119s"}}}
//
// UNREGISTERED, and INVALID_ARGUMENT naming the message's token, are
// [notify.ErrTokenGone]; 429 (quota), 5xx and lost connections are
// retryable, honouring Retry-After; a 401 drops the access token so the
// retry gets a new one.
//
// # Security considerations
//
// The service-account key can send to every install of the project's
// apps: keep it as secret as the keyring, and give the account the
// Firebase Cloud Messaging role only. Errors name FCM's status and error
// codes, never the token, the key or the access token.
package fcm

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"golang.org/x/oauth2/jwt"

	"github.com/keyline/keyline/notify"
)

// Endpoint is FCM's API.
const Endpoint = "https://fcm.googleapis.com"

// Scope is the OAuth 2 scope FCM's send API takes.
const Scope = "https://www.googleapis.com/auth/firebase.messaging"

// RefreshMargin is how long before its expiry an access token is
// renewed.
const RefreshMargin = 5 * time.Minute

// ErrConfig reports a Config New refuses.
var ErrConfig = errors.New("fcm: invalid configuration")

// Config configures a Client. Credentials is required.
type Config struct {
	// Credentials is the service account's key, the JSON file the
	// Firebase console or Google Cloud hands out. Its token_uri is where
	// access tokens are fetched.
	Credentials []byte
	// ProjectID is the Firebase project: the key's project_id if empty.
	ProjectID string
	// Endpoint is FCM's API: Endpoint by default, or a test server's
	// URL.
	Endpoint string
	// RootCAs are the roots the servers' certificates (FCM's and the
	// token endpoint's) are checked against: nil for the system's. Set
	// only for test servers.
	RootCAs *x509.CertPool
	// Now is the clock the access token's expiry and the TTL are reckoned
	// on: default time.Now.
	Now func() time.Time
}

// Client sends notifications to FCM. It is safe for concurrent use.
type Client struct {
	jwt  *jwt.Config
	send string // the send URL
	hc   *http.Client
	now  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time // on the Client's clock
	fetch   *fetch    // the renewal under way, if any
}

type fetch struct {
	done chan struct{}
	err  error
}

var _ notify.Sender = (*Client)(nil)

// New checks cfg and returns a Client; it fetches its first access token
// on the first Send.
func New(cfg Config) (*Client, error) {
	var key struct {
		Type      string `json:"type"`
		ProjectID string `json:"project_id"`
	}
	if err := json.Unmarshal(cfg.Credentials, &key); err != nil || key.Type != "service_account" {
		return nil, fmt.Errorf("%w: Credentials is not a service-account key", ErrConfig)
	}
	jc, err := google.JWTConfigFromJSON(cfg.Credentials, Scope)
	if err != nil {
		return nil, fmt.Errorf("%w: Credentials does not parse as a service-account key", ErrConfig)
	}
	if b, _ := pem.Decode(jc.PrivateKey); b == nil {
		return nil, fmt.Errorf("%w: the key's private_key is not PEM", ErrConfig)
	} else if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		return nil, fmt.Errorf("%w: the key's private_key does not parse as PKCS #8", ErrConfig)
	} else if _, ok := k.(*rsa.PrivateKey); !ok {
		return nil, fmt.Errorf("%w: the key's private_key is not an RSA key", ErrConfig)
	}
	if u, err := url.Parse(jc.TokenURL); err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("%w: the key's token_uri is not an https URL", ErrConfig)
	}
	project := cfg.ProjectID
	if project == "" {
		project = key.ProjectID
	}
	if project == "" || strings.ContainsAny(project, "/?#% ") {
		return nil, fmt.Errorf("%w: no valid ProjectID", ErrConfig)
	}
	ep := cfg.Endpoint
	if ep == "" {
		ep = Endpoint
	}
	if u, err := url.Parse(ep); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: Endpoint must be an https URL without a path", ErrConfig)
	}
	c := &Client{jwt: jc, send: strings.TrimSuffix(ep, "/") + "/v1/projects/" + project + "/messages:send", now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	c.hc = &http.Client{
		Transport: &http.Transport{ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second, IdleConnTimeout: 10 * time.Minute,
			TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}},
		// Bounds the token fetch, which the OAuth library does not tie to
		// a context; sends are bounded by theirs.
		Timeout: 30 * time.Second,
	}
	return c, nil
}

// accessToken returns a valid access token, renewing it RefreshMargin
// before its expiry; concurrent callers share one renewal, and each
// stops waiting when its ctx ends.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.token != "" && c.now().Before(c.expires.Add(-RefreshMargin)) {
		defer c.mu.Unlock()
		return c.token, nil
	}
	f := c.fetch
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		c.fetch = f
		go c.renew(f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return "", &notify.RetryError{Err: fmt.Errorf("fcm: access token: %w", ctx.Err())}
	}
	if f.err != nil {
		return "", f.err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token, nil
}

// renew fetches a new access token for f.
func (c *Client) renew(f *fetch) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, c.hc)
	tok, err := c.jwt.TokenSource(ctx).Token()
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		f.err = fmt.Errorf("fcm: access token: %w", err)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode == http.StatusTooManyRequests || re.Response.StatusCode >= 500 {
			f.err = &notify.RetryError{Err: f.err}
		}
	case tok.AccessToken == "":
		f.err = errors.New("fcm: access token: the token endpoint answered none")
	default:
		c.token = tok.AccessToken
		c.expires = c.now()
		if !tok.Expiry.IsZero() {
			c.expires = c.now().Add(time.Until(tok.Expiry))
		}
	}
	c.fetch = nil
	close(f.done)
}

// invalidate drops an access token FCM refused, unless renewed since.
func (c *Client) invalidate(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == token {
		c.token = ""
	}
}

// body is the message's JSON (see the package doc).
func (c *Client) body(m notify.Message) ([]byte, error) {
	type android struct {
		CollapseKey string `json:"collapse_key"`
		Priority    string `json:"priority"`
		TTL         string `json:"ttl"`
	}
	type message struct {
		Token   string            `json:"token"`
		Data    map[string]string `json:"data"`
		Android android           `json:"android"`
	}
	ttl := max(m.ExpiresAt.Sub(c.now())/time.Second, 0) // whole seconds, down: never past the expiry
	return json.Marshal(struct {
		Message message `json:"message"`
	}{message{Token: m.Token, Data: map[string]string{"id": m.RequestID},
		Android: android{CollapseKey: m.RequestID, Priority: "HIGH", TTL: strconv.FormatInt(int64(ttl), 10) + "s"}}})
}

// Send posts one notification (one attempt). See notify.Sender for how
// failures are classified.
func (c *Client) Send(ctx context.Context, m notify.Message) error {
	if m.Token == "" {
		return fmt.Errorf("fcm: %w: empty token", notify.ErrTokenGone)
	}
	body, err := c.body(m)
	if err != nil {
		return fmt.Errorf("fcm: %w", err)
	}
	access, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.send, bytes.NewReader(body))
	if err != nil {
		return errors.New("fcm: the request does not form")
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &notify.RetryError{Err: fmt.Errorf("fcm: no answer: %w", err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return c.answer(resp.StatusCode, resp.Header.Get("Retry-After"), raw, access)
}

// answer classifies FCM's answer (see notify.Sender); access is the
// access token the request carried.
func (c *Client) answer(status int, retryAfter string, body []byte, access string) error {
	if status == http.StatusOK {
		return nil
	}
	var e struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				Type            string `json:"@type"`
				ErrorCode       string `json:"errorCode"`
				FieldViolations []struct {
					Field string `json:"field"`
				} `json:"fieldViolations"`
			} `json:"details"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	code, tokenField := "", false
	for _, d := range e.Error.Details {
		if strings.HasSuffix(d.Type, "google.firebase.fcm.v1.FcmError") && code == "" {
			code = d.ErrorCode
		}
		for _, v := range d.FieldViolations {
			tokenField = tokenField || v.Field == "message.token"
		}
	}
	if code == "" {
		code = e.Error.Status
	}
	failed := fmt.Errorf("fcm: %d %s", status, safeCode(code))
	switch {
	case code == "UNREGISTERED", (code == "INVALID_ARGUMENT" || e.Error.Status == "INVALID_ARGUMENT") && tokenField:
		return fmt.Errorf("%w: %w", failed, notify.ErrTokenGone)
	case status == http.StatusUnauthorized:
		c.invalidate(access)
		return &notify.RetryError{Err: failed}
	case status == http.StatusTooManyRequests, status >= 500:
		return &notify.RetryError{After: notify.RetryAfter(retryAfter, c.now()), Err: failed}
	}
	return failed
}

// safeCode keeps an error code (capitals and underscores) and drops
// anything else.
func safeCode(s string) string {
	if s == "" || len(s) > 64 || strings.ContainsFunc(s, func(c rune) bool { return !('A' <= c && c <= 'Z' || c == '_') }) {
		return "(no code)"
	}
	return s
}
