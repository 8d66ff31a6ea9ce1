package main

import (
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/keyline/keyline/authn"
)

// TestWrongNumberTriesLeft: the wrong number typed on the phone counts
// as a failed attempt, and the page that says so says how many tries
// are left before the lock, in the same words for a push and for a QR
// code as for a wrong response (issue 17: the QR code's text did not).
func TestWrongNumberTriesLeft(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	wrongFor := func(number string) string {
		if number == "00" {
			return "01"
		}
		return "00"
	}

	// A push answered with the wrong number, then the page leaves it.
	pg := b.login("alice", alicePW)
	if _, err := ph.answer(true, wrongFor(pg.text("push-number"))); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	pg = b.post("/2fa/method", url.Values{"method": {methodChallenge}})
	pg.mustContain("notice", "was not the one shown here; that counted as a failed attempt.")
	pg.mustContain("notice", fmt.Sprintf("%d tries left before a lock.", authn.DefaultMaxFailures-1))

	// A push answered with the wrong number, then Continue.
	pg = b.post("/2fa/method", url.Values{"method": {methodPush}})
	if _, err := ph.answer(true, wrongFor(pg.text("push-number"))); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	pg = b.post("/2fa/push/finish", nil)
	pg.mustContain("notice", fmt.Sprintf("%d tries left before a lock.", authn.DefaultMaxFailures-2))

	// A QR code answered with the wrong number: the same words.
	if pg = b.post("/2fa/method", url.Values{"method": {methodQR}}); !pg.has("login-qr") {
		t.Fatalf("no QR code:\n%s", pg.body)
	}
	q := h.qrOf(b)
	if _, err := ph.scanLogin(q.text, true, wrongFor(q.number)); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	pg = b.post("/2fa/qr/finish", nil)
	pg.mustContain("qr-ended", "was not the one shown here; that counted as a failed attempt.")
	pg.mustContain("qr-ended", fmt.Sprintf("%d tries left before a lock.", authn.DefaultMaxFailures-3))
	pg.mustContain("qr-ended", "Get a new code to try again.")
}

// TestWrongNumberTriesLeftKnownBrowser: in a browser keyline knows (it
// passed a second factor before), the wrong number counts where keyline
// counts it, in the bucket of the browsers it does not know (the phone's
// answer carries no browser's token), and the tries left are that
// bucket's.
func TestWrongNumberTriesLeftKnownBrowser(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	pg := b.login("alice", alicePW)
	if _, err := ph.answer(true, pg.text("push-number")); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/push/finish", nil); pg.path() != "/account" {
		t.Fatalf("the push sign-in: on %s", pg.path())
	}
	b.post("/logout", nil)

	pg = b.login("alice", alicePW)
	wrong := "00"
	if pg.text("push-number") == wrong {
		wrong = "01"
	}
	if _, err := ph.answer(true, wrong); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	pg = b.post("/2fa/method", url.Values{"method": {methodChallenge}})
	pg.mustContain("notice", fmt.Sprintf("%d tries left before a lock.", authn.DefaultMaxFailures-1))
}
