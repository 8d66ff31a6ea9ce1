package deviceapi

import (
	"net/http"
	"time"
)

// setDate states the Service's clock in the answer's Date header
// (PROTOCOL.md §11, "Clock offset"): the phone corrects its clock by it,
// so it must be the clock that checks request times and push steps, not
// the host's, when the two differ (a Service with its own Config.Clock).
func setDate(w http.ResponseWriter, now time.Time) {
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
}
