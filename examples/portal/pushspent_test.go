package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestPushBudgetShown: with the push budget spent (3 pushes in 15
// minutes, shared by sign-ins, step-ups and withdrawals), the pages that
// offer push say when it works again, in the person's local time (by
// portal.js; relative without it), instead of offering it; a withdrawal
// signed from a QR code instead says why (issue 17: it fell back
// silently). Push is offered again once the window is over.
func TestPushBudgetShown(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)

	first := h.clock.Now()
	frees := first.Add(15 * time.Minute).UTC().Format(time.RFC3339)
	for i := range 3 { // three sign-ins left waiting on the phone
		if pg := h.browser().login("alice", alicePW); !pg.has("push-number") {
			t.Fatalf("login %d offers no push:\n%s", i+1, pg.body)
		}
		h.clock.Advance(time.Minute)
	}

	spent := func(where string, pg *page) {
		t.Helper()
		if pg.has("push-number") || pg.has("use-push") {
			t.Fatalf("%s offers push with the budget spent:\n%s", where, pg.body)
		}
		pg.mustContain("push-spent", "Push works again in 12 min 00 s")
		if !strings.Contains(pg.body, `data-local-clock="`+frees+`"`) {
			t.Fatalf("%s does not give the local time push works again (%s):\n%s", where, frees, pg.body)
		}
	}
	pg := b.login("alice", alicePW)
	spent("the sign-in page", pg)
	if !pg.has("challenge") {
		t.Fatalf("the sign-in page offers no challenge instead:\n%s", pg.body)
	}
	pg = b.post("/2fa/method", url.Values{"method": {"push"}})
	spent("the sign-in page, push asked for", pg)
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(pg.text("challenge"))}})
	if pg.path() != "/account" {
		t.Fatalf("after the right response on %s; want /account:\n%s", pg.path(), pg.body)
	}

	spent("the step-up page", b.post("/security/stepup", nil))

	pg = b.get("/withdraw")
	spent("the withdrawal form", pg)
	pg.mustContain("push-spent", "scan")
	pg = b.post("/withdraw", url.Values{"amount": {"42"}, "currency": {"CHF"}, "to": {"Savings 7"}})
	if pg.path() != "/withdraw/confirm" || pg.has("push-number") {
		t.Fatalf("the withdrawal went to %s (push %v); want the QR page", pg.path(), pg.has("push-number"))
	}
	pg.mustContain("notice", "Push works again in 12 min 00 s")

	h.clock.Advance(12 * time.Minute)
	b.post("/logout", nil)
	pg = b.login("alice", alicePW)
	if !pg.has("push-number") || pg.has("push-spent") {
		t.Fatalf("push is not offered once the window is over:\n%s", pg.body)
	}
}
