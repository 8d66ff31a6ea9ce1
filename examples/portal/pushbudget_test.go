package main

import (
	"testing"
	"time"
)

// TestPushAtEveryLogin: the portal starts a push at every login, as IB
// Key does, and withdraws it when the user picks challenge/response; the
// withdrawn pushes give their budget back, so push is still offered at
// the 4th login and after (issue 12).
func TestPushAtEveryLogin(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	for i := range 6 {
		h.clock.Advance(time.Minute) // within the push budget's 15 minutes; past the address's login limit
		b.post("/logout", nil)
		if pg := b.login("alice", alicePW); !pg.has("push-number") {
			t.Fatalf("login %d offers no push:\n%s", i+1, pg.body)
		}
		b.post("/logout", nil)
		h.challengeLogin(b, "alice", alicePW, ph)
	}
}
