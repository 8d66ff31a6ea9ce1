package notify_test

import (
	"testing"
	"time"

	"github.com/keyline/keyline/notify"
)

// FuzzRetryAfter: any header value gives a wait between 0 and an hour,
// the same each time.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "30", "-5", "99999999999999999999", "Sun, 06 Dec 2026 10:00:30 GMT", "Sunday, 06-Dec-26 10:00:30 GMT", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := notify.RetryAfter(v, start)
		if d < 0 || d > time.Hour || d != notify.RetryAfter(v, start) {
			t.Fatalf("RetryAfter(%q) = %v", v, d)
		}
	})
}
