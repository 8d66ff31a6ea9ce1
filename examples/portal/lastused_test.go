package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLastUsed: the security page says when each phone was last used to
// sign in or confirm something, in words ("never", "just now", "3 days
// ago") and, by portal.js, at what local time; a sign-in with a push
// moves the phone that approved it, and that phone only (issue 17: there
// was no "last used" column). A withdrawal signed on a phone and a QR
// login move it too; the authenticator app and the recovery codes say
// theirs.
func TestLastUsed(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	alice := h.p.users["alice"]
	one := h.enrollFirstPhone(b, "alice", alicePW, "Phone one")
	used := func(pg *page, ph *phone) string {
		t.Helper()
		return pg.text("used-" + ph.cred.DeviceID())
	}
	if pg := b.get("/security"); used(pg, one) != "never" {
		t.Fatalf("a phone never used: %q", used(pg, one))
	}

	// A step-up answered by phone one; then phone two is added.
	if pg := stepUpWithPhone(t, b, b.post("/security/stepup", nil), one); !pg.has("unlocked") {
		t.Fatalf("the step-up did not unlock the changes:\n%s", pg.body)
	}
	stepUpAt := h.clock.Now()
	pg := b.post("/security/activate", nil)
	two := h.pairFromPage(b, pg, alice, "Phone two")
	pg = b.get("/security")
	if used(pg, one) != "just now" || used(pg, two) != "never" {
		t.Fatalf("after a step-up with phone one: one %q, two %q; want just now, never", used(pg, one), used(pg, two))
	}
	if !strings.Contains(pg.body, `data-local-time="`+stepUpAt.UTC().Format(time.RFC3339)+`"`) {
		t.Fatalf("no local time of the step-up (%s):\n%s", stepUpAt.UTC().Format(time.RFC3339), pg.body)
	}

	// Three days later, a sign-in approved on phone two.
	b.post("/logout", nil)
	h.clock.Advance(3*24*time.Hour + 5*time.Hour)
	pg = b.login("alice", alicePW)
	if _, err := two.answer(true, pg.text("push-number")); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/push/finish", nil); pg.path() != "/account" {
		t.Fatalf("after the push on %s", pg.path())
	}
	h.clock.Advance(20 * time.Minute)
	pg = b.get("/security")
	if used(pg, two) != "20 minutes ago" || used(pg, one) != "3 days ago" {
		t.Fatalf("after a push approved on phone two: one %q, two %q; want 3 days ago, 20 minutes ago", used(pg, one), used(pg, two))
	}

	// A withdrawal signed on phone one (by push).
	pg = b.post("/withdraw", url.Values{"amount": {"10"}, "currency": {"EUR"}, "to": {"Savings 1"}})
	if _, err := one.answer(true, pg.text("push-number")); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/withdraw/push/finish", nil); pg.path() != "/withdraw/done" {
		t.Fatalf("the withdrawal: on %s", pg.path())
	}
	h.clock.Advance(14 * time.Minute)
	pg = b.get("/security")
	if used(pg, one) != "14 minutes ago" || used(pg, two) != "34 minutes ago" {
		t.Fatalf("after a withdrawal signed on phone one: one %q, two %q", used(pg, one), used(pg, two))
	}

	// A QR login approved on phone two.
	b.post("/logout", nil)
	h.clock.Advance(time.Minute)
	qrLoginPage(t, b)
	q := h.qrOf(b)
	if _, err := two.scanLogin(q.text, true, q.number); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/qr/finish", nil); pg.path() != "/account" {
		t.Fatalf("the QR login: on %s", pg.path())
	}
	h.clock.Advance(time.Minute)
	pg = b.get("/security")
	if used(pg, two) != "1 minute ago" || used(pg, one) != "16 minutes ago" {
		t.Fatalf("after a QR login on phone two: one %q, two %q", used(pg, one), used(pg, two))
	}
	if pg.has("totp-used") || pg.has("recovery-used") {
		t.Fatalf("no authenticator app, no recovery code used, yet the page says when:\n%s", pg.body)
	}

	// A recovery code (the QR login's proof unlocks making them).
	pg = b.post("/security/recovery", nil)
	codes := regexp.MustCompile(`<code class="recovery-code">([0-9A-Z-]+)</code>`).FindAllStringSubmatch(pg.body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes; want 10:\n%s", len(codes), pg.body)
	}
	b.post("/security/recovery/saved", nil)
	b.post("/logout", nil)
	b.login("alice", alicePW)
	b.post("/2fa/method", url.Values{"method": {methodRecovery}})
	if pg = b.post("/2fa/recovery", url.Values{"code": {codes[0][1]}}); pg.path() != "/security" {
		t.Fatalf("the recovery code: on %s", pg.path())
	}
	pg.mustContain("recovery-used", "just now")
	if used(pg, two) != "1 minute ago" {
		t.Fatalf("a recovery code moved phone two: %q", used(pg, two))
	}
}

// TestLastUsedWords: the words for how long ago, at the edges.
func TestLastUsedWords(t *testing.T) {
	now := time.Date(2026, 12, 7, 14, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		ago  time.Duration
		want string
	}{
		{0, "just now"},
		{59 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{59*time.Minute + 59*time.Second, "59 minutes ago"},
		{time.Hour, "1 hour ago"},
		{23*time.Hour + 59*time.Minute, "23 hours ago"},
		{24 * time.Hour, "1 day ago"},
		{3*24*time.Hour + 5*time.Hour, "3 days ago"},
		{-time.Minute, "just now"}, // another portal's clock, a little ahead
	} {
		got := lastUseOf(now, now.Add(-tc.ago))
		if got.Words != tc.want || got.At != now.Add(-tc.ago).UTC().Format(time.RFC3339) {
			t.Errorf("%v ago: %+v; want %q", tc.ago, got, tc.want)
		}
	}
	if got := lastUseOf(now, time.Time{}); got.Words != "never" || got.At != "" {
		t.Errorf("never used: %+v", got)
	}
}
