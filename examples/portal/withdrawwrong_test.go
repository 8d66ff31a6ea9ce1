package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn"
)

// TestWithdrawalWrongNumberTriesLeft: a withdrawal's push answered with
// the wrong number counts as a failed attempt, and both the page's
// status and the QR code offered instead say how many tries are left
// before the lock, as the sign-in's push and QR code do.
func TestWithdrawalWrongNumberTriesLeft(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "bob", bobPW, "Bob's phone")
	pg := b.post("/withdraw", url.Values{"amount": {"10"}, "currency": {"EUR"}, "to": {"Savings 7"}})
	wrong := "00"
	if pg.text("push-number") == "00" {
		wrong = "01"
	}
	if _, err := ph.answer(true, wrong); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	left := fmt.Sprintf("%d tries left before a lock.", authn.DefaultMaxFailures-1)
	st := b.status("/withdraw/push/status")
	if st.Action != "fallback" || !strings.Contains(st.Message, left) {
		t.Fatalf("status %+v; want a fallback saying %q", st, left)
	}
	pg = b.post("/withdraw/qr", nil)
	if !pg.has("tx-qr") {
		t.Fatalf("no QR code offered after the wrong number, on %s:\n%s", pg.path(), pg.body)
	}
	pg.mustContain("notice", left)
}
