package main

import (
	"strings"
	"testing"
	"time"
)

// TestClockCorrected: a portal whose clock is minutes away from this
// computer's is still served (the client learns the offset from the
// answers' Date and retries once, PROTOCOL.md §11); one more than a day
// away is refused with the advice to set the clock.
func TestClockCorrected(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)

	h.kit.Clock.Set(time.Now().Add(5 * time.Minute))
	r := h.run(pin+"\n", "status")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "alice at authntest: active") {
		t.Fatalf("want alice active with the portal 5 minutes ahead:\n%s", r)
	}

	h.kit.Clock.Set(time.Now().Add(-49 * time.Hour))
	r = h.run(pin+"\n", "status")
	if !strings.Contains(r.stdout+r.stderr, "more than a day off the portal's: set the clock") {
		t.Fatalf("want the clock advice:\n%s", r)
	}
}
