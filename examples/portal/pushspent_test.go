package main

import (
	"context"
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

// TestQRHiddenWithPushBudgetSpent: a QR code counts against the push
// budget, so with the budget spent "Log in with QR code" is not offered
// either (issue 17: it was, and failed once clicked), and the note that
// says when push works again says it of the QR code too. With push
// turned off, the note speaks of the QR code alone.
func TestQRHiddenWithPushBudgetSpent(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	if pg := b.login("alice", alicePW); !pg.has("use-qr") {
		t.Fatalf("no QR code offered with the budget left:\n%s", pg.body)
	}
	b.post("/logout", nil) // gives the push's unit back

	for i := range 3 {
		if pg := h.browser().login("alice", alicePW); !pg.has("push-number") {
			t.Fatalf("login %d offers no push:\n%s", i+1, pg.body)
		}
	}
	pg := b.login("alice", alicePW)
	if pg.has("use-qr") || pg.has("use-push") || pg.has("push-number") {
		t.Fatalf("push or a QR code offered with the budget spent:\n%s", pg.body)
	}
	pg.mustContain("push-spent", "Push works again in 15 min 00 s")
	pg.mustContain("push-spent", "and so does the QR code")
	// Asking for one anyway (a page from before): a challenge, no code.
	pg = b.post("/2fa/method", url.Values{"method": {methodQR}})
	if pg.has("login-qr") || !pg.has("challenge") {
		t.Fatalf("a QR code was shown with the budget spent, or no challenge:\n%s", pg.body)
	}
	pg.mustContain("push-spent", "and so does the QR code")
	s := h.sessionOf(b)
	made := s.factor.qr != nil
	s.mu.Unlock()
	if made {
		t.Fatal("a QR login was begun with the budget spent")
	}

	// Push off: the QR code is still a way in, and its budget still
	// counts; the note speaks of the QR code only.
	ctx := context.Background()
	alice := h.p.users["alice"].ID
	proof, err := h.p.svc.Operator("test").Proof(ctx, alice, "test: push off")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.p.svc.SetPush(ctx, alice, false, proof); err != nil {
		t.Fatal(err)
	}
	b.post("/logout", nil)
	pg = b.login("alice", alicePW)
	if pg.has("use-qr") || pg.has("use-push") {
		t.Fatalf("push off, budget spent: a QR code or push offered:\n%s", pg.body)
	}
	pg.mustContain("push-spent", "Logging in with a QR code works again in 15 min 00 s")
	if strings.Contains(pg.text("push-spent"), "Push works again") {
		t.Fatalf("push is off, yet the note says when it works again: %q", pg.text("push-spent"))
	}
	if strings.Contains(pg.body, "Other ways") {
		t.Fatalf("an empty \"Other ways\" is shown when the challenge is the only way:\n%s", pg.body)
	}

	h.clock.Advance(15 * time.Minute)
	b.post("/logout", nil)
	if pg = b.login("alice", alicePW); !pg.has("use-qr") || pg.has("push-spent") {
		t.Fatalf("the window is over, yet the QR code is not offered:\n%s", pg.body)
	}
}
