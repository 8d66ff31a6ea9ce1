package apns

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/notify"
)

// FuzzAnswer: any answer APNs (or a server posing as it) gives is
// classified without panicking; a token is gone only on 410 or 400
// BadDeviceToken; the error carries nothing of the body but a reason
// code of letters; only 429 and 5xx are retried.
func FuzzAnswer(f *testing.F) {
	f.Add(410, "", []byte(`{"reason":"Unregistered","timestamp":1796550000000}`))
	f.Add(400, "", []byte(`{"reason":"BadDeviceToken"}`))
	f.Add(403, "", []byte(`{"reason":"ExpiredProviderToken"}`))
	f.Add(429, "30", []byte(`{"reason":"TooManyRequests"}`))
	f.Add(503, "Sun, 06 Dec 2026 10:00:30 GMT", []byte(`{"reason":"ServiceUnavailable"}`))
	f.Add(400, "", []byte(`{"reason":"<script>"}`))
	f.Add(500, "", []byte(`not json`))
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	c := &Client{now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		err := c.answer(status, retryAfter, body, "bearer")
		if status == 200 {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if err == nil {
			t.Fatal("a failure classified as success")
		}
		msg := strings.TrimPrefix(err.Error(), "apns: ")
		for _, r := range msg {
			if !(r == ' ' || r == ':' || r == '(' || r == ')' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				t.Fatalf("error %q carries a character %q from the answer", err, r)
			}
		}
		gone := errors.Is(err, notify.ErrTokenGone)
		if gone != (status == 410 || status == 400 && strings.Contains(msg, "BadDeviceToken")) {
			t.Fatalf("status %d, %q: gone %v", status, body, gone)
		}
		var re *notify.RetryError
		if errors.As(err, &re) && !(status == 429 || status >= 500 || status == 403) {
			t.Fatalf("status %d retried", status)
		}
		if re != nil && (re.After < 0 || re.After > time.Hour) {
			t.Fatalf("after %v", re.After)
		}
	})
}

// FuzzParseKey: ParseKey takes P-256 keys in PKCS #8 PEM and nothing
// else, never panics, and what it takes marshals back to the same key.
func FuzzParseKey(f *testing.F) {
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := ParseKey(in)
		if err != nil {
			if k != nil || !errors.Is(err, ErrConfig) {
				t.Fatalf("a failed parse returned %v, %v", k, err)
			}
			return
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		if err != nil || !again.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
