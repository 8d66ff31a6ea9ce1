// Package apns sends keyline's push notifications through the Apple Push
// Notification service: HTTP/2 over TLS (net/http's HTTP/2 client) with
// token-based authentication, an ES256 provider token signed with the
// team's APNs key (.p8) and renewed before Apple's 60-minute limit.
//
// A [Client] is a [notify.Sender]: wrap it in [notify.New] for retries,
// expiry and the removal of gone tokens. Each notification is one POST
// /3/device/<token> with apns-topic (the app's bundle ID),
// apns-push-type and apns-priority (alert: 10, background: 5),
// apns-expiration (the request's expiry, in Unix seconds: Apple drops the
// notification after it) and apns-collapse-id (the request ID: a retry
// replaces, rather than adds to, what the phone shows). Its payload
// carries the request ID and nothing else of the login (PROTOCOL.md §11):
//
//	alert:      {"aps":{"alert":{"body":"Login request"},"sound":"default","mutable-content":1},"id":"<request ID>"}
//	background: {"aps":{"content-available":1},"id":"<request ID>"}
//
// mutable-content lets the app's notification service extension fetch
// the prompt and replace the text before it is shown.
//
// # Security considerations
//
// The .p8 key signs for every app of the team: keep it as secret as the
// keyring. Errors name Apple's reason code, never the token or the key.
// The TLS connection is checked against the system roots (or
// Config.RootCAs, for a test server only).
package apns

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
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

	"github.com/golang-jwt/jwt/v5"

	"github.com/keyline/keyline/notify"
)

// APNs endpoints.
const (
	Production  = "https://api.push.apple.com"         // apps from the App Store, TestFlight
	Development = "https://api.sandbox.push.apple.com" // apps built for development
)

// PushType is the kind of notification sent.
type PushType string

// Push types.
const (
	// Alert shows "Login request" (Config.AlertBody) at priority 10; the
	// app's notification service extension may fetch the prompt first.
	Alert PushType = "alert"
	// Background wakes the app silently (content-available) at priority
	// 5, as Apple requires; iOS may delay or drop such pushes, so a
	// login that depends on them is slower.
	Background PushType = "background"
)

// Provider token lifetimes: Apple refuses a token older than an hour
// (ExpiredProviderToken) and one renewed more often than every 20
// minutes (TooManyProviderTokenUpdates).
const (
	TokenRefresh = 50 * time.Minute
	tokenMinAge  = 20 * time.Minute
)

// DefaultAlertBody is the alert's text: it names no user, place or
// amount.
const DefaultAlertBody = "Login request"

// Config configures a Client. TeamID, KeyID, Key and Topic are required.
type Config struct {
	TeamID string            // the Apple developer team ID: the provider token's iss
	KeyID  string            // the APNs key's ID: the provider token's kid
	Key    *ecdsa.PrivateKey // the APNs key (P-256), see ParseKey
	Topic  string            // the app's bundle ID
	// Endpoint is the APNs server: Production by default, Development,
	// or a test server's URL.
	Endpoint string
	// PushType is Alert by default.
	PushType PushType
	// AlertBody is the alert's text: DefaultAlertBody if empty. Keep it
	// free of anything about the login.
	AlertBody string
	// RootCAs are the roots the server's certificate is checked against:
	// nil for the system's. Set only for a test server.
	RootCAs *x509.CertPool
	// Now is the clock of the provider token: default time.Now.
	Now func() time.Time
}

// Client sends notifications to APNs over one HTTP/2 connection. It is
// safe for concurrent use.
type Client struct {
	cfg Config
	hc  *http.Client
	now func() time.Time

	mu     sync.Mutex
	bearer string
	iat    time.Time
}

var _ notify.Sender = (*Client)(nil)

// ErrConfig reports a Config New refuses.
var ErrConfig = errors.New("apns: invalid configuration")

// ParseKey reads an APNs key as Apple hands it out: a PEM "PRIVATE KEY"
// (PKCS #8) holding a P-256 ECDSA key.
func ParseKey(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: the key is not a PEM PRIVATE KEY", ErrConfig)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: the key does not parse as PKCS #8", ErrConfig)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: the key is not a P-256 ECDSA key", ErrConfig)
	}
	return ek, nil
}

// New checks cfg and returns a Client; it connects on the first Send.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.TeamID == "" || cfg.KeyID == "" || cfg.Topic == "":
		return nil, fmt.Errorf("%w: TeamID, KeyID and Topic are required", ErrConfig)
	case cfg.Key == nil || cfg.Key.Curve != elliptic.P256():
		return nil, fmt.Errorf("%w: Key must be a P-256 ECDSA key", ErrConfig)
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = Production
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%w: Endpoint must be an https URL without a path", ErrConfig)
	}
	cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "/")
	switch cfg.PushType {
	case "":
		cfg.PushType = Alert
	case Alert, Background:
	default:
		return nil, fmt.Errorf("%w: unknown PushType", ErrConfig)
	}
	if cfg.AlertBody == "" {
		cfg.AlertBody = DefaultAlertBody
	}
	c := &Client{cfg: cfg, now: cfg.Now}
	if c.now == nil {
		c.now = time.Now
	}
	// APNs speaks HTTP/2 only: the transport offers nothing else.
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	c.hc = &http.Client{Transport: &http.Transport{
		Protocols:           protocols,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     time.Hour, // APNs prefers one long-lived connection
	}}
	return c, nil
}

// payload is the notification's JSON (see the package doc).
func (c *Client) payload(requestID string) ([]byte, error) {
	type alert struct {
		Body string `json:"body"`
	}
	type aps struct {
		Alert            *alert `json:"alert,omitempty"`
		Sound            string `json:"sound,omitempty"`
		MutableContent   int    `json:"mutable-content,omitempty"`
		ContentAvailable int    `json:"content-available,omitempty"`
	}
	p := struct {
		APS aps    `json:"aps"`
		ID  string `json:"id"`
	}{ID: requestID}
	if c.cfg.PushType == Background {
		p.APS.ContentAvailable = 1
	} else {
		p.APS = aps{Alert: &alert{Body: c.cfg.AlertBody}, Sound: "default", MutableContent: 1}
	}
	return json.Marshal(p)
}

// providerToken returns the current provider token, signing a new one
// when the current one is TokenRefresh old (or stale, after Apple called
// it expired).
func (c *Client) providerToken() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.bearer != "" && now.Sub(c.iat) < TokenRefresh && !now.Before(c.iat) {
		return c.bearer, nil
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": c.cfg.TeamID, "iat": now.Unix()})
	t.Header["kid"] = c.cfg.KeyID
	s, err := t.SignedString(c.cfg.Key)
	if err != nil {
		return "", fmt.Errorf("apns: signing the provider token: %w", err)
	}
	c.bearer, c.iat = s, now
	return s, nil
}

// expired drops the provider token Apple called expired, unless another
// request has renewed it since, or it is younger than Apple's minimum
// age (then the clocks disagree, and renewing cannot help).
func (c *Client) expired(bearer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bearer == bearer && c.now().Sub(c.iat) >= tokenMinAge {
		c.bearer = ""
	}
}

// Send posts one notification (one attempt). See notify.Sender for how
// failures are classified.
func (c *Client) Send(ctx context.Context, m notify.Message) error {
	if m.Token == "" || len(m.Token)%2 != 0 || !isHex(m.Token) {
		// Not a device token APNs could know: it would answer
		// BadDeviceToken.
		return fmt.Errorf("apns: %w: the token is not hexadecimal", notify.ErrTokenGone)
	}
	if len(m.RequestID) > 64 {
		return errors.New("apns: request ID longer than the 64 bytes of apns-collapse-id")
	}
	body, err := c.payload(m.RequestID)
	if err != nil {
		return fmt.Errorf("apns: %w", err)
	}
	bearer, err := c.providerToken()
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.Endpoint+"/3/device/"+m.Token, bytes.NewReader(body))
	if err != nil {
		return errors.New("apns: the request does not form")
	}
	h := req.Header
	h.Set("authorization", "bearer "+bearer)
	h.Set("apns-topic", c.cfg.Topic)
	h.Set("apns-push-type", string(c.cfg.PushType))
	h.Set("apns-priority", map[PushType]string{Alert: "10", Background: "5"}[c.cfg.PushType])
	h.Set("apns-expiration", strconv.FormatInt(m.ExpiresAt.Unix(), 10))
	h.Set("apns-collapse-id", m.RequestID)
	h.Set("content-type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		// No answer: the connection failed or was reset, or ctx ended.
		// The url.Error's URL holds the token: only its cause is kept.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return &notify.RetryError{Err: fmt.Errorf("apns: no answer: %w", err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return c.answer(resp.StatusCode, resp.Header.Get("retry-after"), raw, bearer)
}

// answer classifies APNs' answer (see notify.Sender); bearer is the
// provider token the request carried.
func (c *Client) answer(status int, retryAfter string, body []byte, bearer string) error {
	if status == http.StatusOK {
		return nil
	}
	var e struct {
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(body, &e)
	reason := safeReason(e.Reason)
	failed := fmt.Errorf("apns: %d %s", status, reason)
	switch {
	case status == http.StatusGone, status == http.StatusBadRequest && reason == "BadDeviceToken":
		return fmt.Errorf("%w: %w", failed, notify.ErrTokenGone)
	case status == http.StatusForbidden && reason == "ExpiredProviderToken":
		c.expired(bearer)
		return &notify.RetryError{Err: failed}
	case status == http.StatusTooManyRequests, status >= 500:
		return &notify.RetryError{After: notify.RetryAfter(retryAfter, c.now()), Err: failed}
	}
	return failed
}

// safeReason keeps an APNs reason code (a word of letters) and drops
// anything else.
func safeReason(r string) string {
	if r == "" || len(r) > 64 || strings.ContainsFunc(r, func(c rune) bool { return !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') }) {
		return "(no reason)"
	}
	return r
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
