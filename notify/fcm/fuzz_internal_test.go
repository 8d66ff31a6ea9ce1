package fcm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/notify"
)

// FuzzAnswer: any answer FCM (or a server posing as it) gives is
// classified without panicking; the error carries nothing of the body
// but a code of capitals and underscores; a token is gone only on
// UNREGISTERED or INVALID_ARGUMENT naming message.token; only 401, 429
// and 5xx are retried.
func FuzzAnswer(f *testing.F) {
	f.Add(404, "", []byte(`{"error":{"code":404,"status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`))
	f.Add(400, "", []byte(`{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token"}]}]}}`))
	f.Add(400, "", []byte(`{"error":{"code":400,"status":"INVALID_ARGUMENT"}}`))
	f.Add(429, "12", []byte(`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`))
	f.Add(401, "", []byte(`{"error":{"code":401,"status":"UNAUTHENTICATED"}}`))
	f.Add(503, "", []byte(`<html>`))
	f.Add(400, "", []byte(`{"error":{"status":"a token: dY3k"}}`))
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	c := &Client{now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		err := c.answer(status, retryAfter, body, "access")
		if status == 200 {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if err == nil {
			t.Fatal("a failure classified as success")
		}
		msg := strings.TrimPrefix(err.Error(), "fcm: ")
		for _, r := range msg {
			if !(r == ' ' || r == ':' || r == '(' || r == ')' || r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				t.Fatalf("error %q carries a character %q from the answer", err, r)
			}
		}
		if errors.Is(err, notify.ErrTokenGone) && !strings.Contains(msg, "UNREGISTERED") && !strings.Contains(msg, "INVALID_ARGUMENT") {
			t.Fatalf("gone on %q", msg)
		}
		var re *notify.RetryError
		if errors.As(err, &re) && !(status == 401 || status == 429 || status >= 500) {
			t.Fatalf("status %d retried", status)
		}
		if re != nil && (re.After < 0 || re.After > time.Hour) {
			t.Fatalf("after %v", re.After)
		}
	})
}
