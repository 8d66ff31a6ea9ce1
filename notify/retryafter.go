package notify

import (
	"net/http"
	"strconv"
	"time"
)

// RetryAfter reads an HTTP Retry-After header, in seconds or as an HTTP
// date (then relative to now), capped at an hour; 0 if absent or not
// understood. For Senders building a [RetryError].
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), time.Hour)
	}
	return 0
}
