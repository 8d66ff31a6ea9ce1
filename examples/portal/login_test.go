package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
)

const (
	alicePW = "alice-demo-password"
	bobPW   = "bob-demo-password"
)

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// TestActivateThenChallengeLogin: a user without a factor signs in on
// trust and activates a phone from the page (QR code, session ID,
// pairing code); after signing out, the login asks for the phone:
// a push first, left at once for challenge/response, whose response is
// accepted with a space in it; a response replayed at a later login is
// refused.
func TestActivateThenChallengeLogin(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	alice := h.p.users["alice"]

	pg := b.get("/account")
	if pg.path() != "/login" {
		t.Fatalf("signed out, /account led to %s; want /login", pg.path())
	}
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	if pg := b.get("/account"); pg.has("no-factor") {
		t.Fatal("the account page still warns of no second factor after pairing")
	}

	pg = b.post("/logout", nil)
	if pg.path() != "/login" || !pg.has("login-form") {
		t.Fatalf("after signing out: %s; want the login form", pg.path())
	}
	if pg := b.get("/account"); pg.path() != "/login" {
		t.Fatalf("after signing out, /account led to %s; want /login", pg.path())
	}

	anonymous := b.sessionCookie()
	pg = b.login("alice", alicePW)
	afterPassword := b.sessionCookie()
	if pg.path() != "/2fa" {
		t.Fatalf("after the password on %s; want /2fa", pg.path())
	}
	if anonymous == "" || afterPassword == anonymous {
		t.Fatal("the session ID did not change at the password")
	}
	pg.mustContain("factor-user", "alice")
	number := pg.text("push-number")
	if !regexp.MustCompile(`^[0-9]{2}$`).MatchString(number) {
		t.Fatalf("push number %q; want 2 digits", number)
	}
	if !pg.has("use-challenge") || !strings.Contains(pg.text("use-challenge"), "Use challenge/response instead") {
		t.Fatal("the push page does not offer challenge/response at once")
	}
	s := h.sessionOf(b)
	pushID := s.factor.pushID
	s.mu.Unlock()

	pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	if st := h.pushState(alice, pushID); st != authn.PushCancelled {
		t.Fatalf("the push left for challenge/response is %s; want cancelled", st)
	}
	q := pg.text("challenge")
	if !sixDigits.MatchString(q) {
		t.Fatalf("challenge %q; want 6 digits", q)
	}
	if !pg.has("challenge-expires") || !pg.has("challenge-form") {
		t.Fatal("the challenge page lacks its expiry or form")
	}
	resp := ph.respond(q)
	spaced := resp[:4] + " " + resp[4:]
	pg = b.post("/2fa/challenge", url.Values{"response": {spaced}})
	if pg.path() != "/account" {
		t.Fatalf("after %q on %s; want /account:\n%s", spaced, pg.path(), pg.body)
	}
	if got := pg.text("user"); got != "Alice Example" {
		t.Fatalf("#user is %q", got)
	}
	if c := b.sessionCookie(); c == afterPassword || c == anonymous {
		t.Fatal("the session ID did not change at the second factor")
	}

	// The same response at the next login: another challenge, refused.
	b.post("/logout", nil)
	if pg := b.login("alice", alicePW); !pg.has("push-number") {
		t.Fatal("the second login sent no push")
	}
	pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	if q2 := pg.text("challenge"); q2 == q {
		t.Fatalf("the same question %s was issued twice", q)
	}
	pg = b.post("/2fa/challenge", url.Values{"response": {resp}})
	if pg.path() == "/account" || !pg.has("challenge-form") {
		t.Fatalf("the replayed response led to %s", pg.path())
	}
	pg.mustContain("error", "Wrong response")
	if pg := b.get("/account"); pg.path() != "/2fa" {
		t.Fatalf("after a refused response, /account led to %s; want /2fa", pg.path())
	}
}

// TestPushApprove: the phone fetches the prompt, sees what the server
// saw, types the number; the page's status turns to approved and the
// login completes by push.
func TestPushApprove(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)

	b.ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Gecko/20100101 Firefox/128.0"
	pg := b.login("alice", alicePW)
	number := pg.text("push-number")
	if st := b.status("/2fa/push/status"); st.State != "pending" || st.Action != "wait" {
		t.Fatalf("status before the answer: %+v; want pending, wait", st)
	}
	pr, err := ph.answer(true, number)
	if err != nil {
		t.Fatalf("the approval was refused: %v", err)
	}
	if pr.Context.Action != "Login" || pr.Context.IP != "127.0.0.1" || pr.Context.Browser != "Firefox on macOS" {
		t.Fatalf("the phone showed %+v; want Login from 127.0.0.1, Firefox on macOS", pr.Context)
	}
	if st := b.status("/2fa/push/status"); st.State != "approved" || st.Action != "finish" {
		t.Fatalf("status after the approval: %+v; want approved, finish", st)
	}
	before := b.sessionCookie()
	pg = b.post("/2fa/push/finish", nil)
	if pg.path() != "/account" {
		t.Fatalf("after finishing the push on %s; want /account:\n%s", pg.path(), pg.body)
	}
	if b.sessionCookie() == before {
		t.Fatal("the session ID did not change at the push login")
	}
	m := b.get("/metrics").body
	for _, want := range []string{`keyline_logins_total{factor="push",outcome="success"} 1`, `keyline_pushes_total{outcome="approved"} 1`,
		`keyline_activations_total{outcome="paired"} 1`, `portal_logins_total{factor="push"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestPushWrongNumber: an approval with another number ends the push
// and counts as a failure; the page falls back and says why.
func TestPushWrongNumber(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	pg := b.login("alice", alicePW)
	wrong := "00"
	if pg.text("push-number") == wrong {
		wrong = "01"
	}
	if _, err := ph.answer(true, wrong); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	if st := b.status("/2fa/push/status"); st.State != "failed" || st.Action != "fallback" {
		t.Fatalf("status: %+v; want failed, fallback", st)
	}
	pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	pg.mustContain("notice", "was not the one shown here")
	if !sixDigits.MatchString(pg.text("challenge")) {
		t.Fatal("no challenge after the fallback")
	}
	ls, err := h.p.svc.Operator("test").LockState(context.Background(), h.p.users["alice"].ID)
	if err != nil || ls.Failures != 1 {
		t.Fatalf("failures after a wrong number: %d, %v; want 1", ls.Failures, err)
	}
}

// TestPushDeniedFallsBack: a denied push ends the sign-in, asking
// whether it was the user (issue 17: it moved on to a challenge), and
// push stays suspended, hidden from the next sign-in's choices.
func TestPushDeniedFallsBack(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	alice := h.p.users["alice"]
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)

	pg := b.login("alice", alicePW)
	if !pg.has("push-number") {
		t.Fatalf("no push at login:\n%s", pg.body)
	}
	// The page's script finds the fallback form by the id it names.
	if !regexp.MustCompile(`data-fallback="use-challenge-form"`).MatchString(pg.body) || !pg.has("use-challenge-form") {
		t.Fatal("the push page names no fallback form the script could submit")
	}
	if _, err := ph.answer(false, ""); err != nil {
		t.Fatalf("the denial was refused: %v", err)
	}
	st := b.status("/2fa/push/status")
	if st.State != "denied" || st.Action != "fallback" || !strings.Contains(st.Message, "denied") {
		t.Fatalf("status after the denial: %+v; want denied, fallback", st)
	}
	pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	if pg.path() != "/login" {
		t.Fatalf("after the denial on %s; want the sign-in page", pg.path())
	}
	pg.mustContain("notice", "You declined this sign-in on your phone")
	// Push is suspended: the next login goes straight to a challenge.
	pg = b.login("alice", alicePW)
	if pg.has("push-number") || pg.has("use-push") {
		t.Fatal("a push was sent, or offered, while push is suspended")
	}
	pg.mustContain("notice", "Push is paused")
	if !sixDigits.MatchString(pg.text("challenge")) {
		t.Fatal("no challenge when push is suspended")
	}
	if pg := b.get("/2fa"); !pg.has("challenge") {
		t.Fatal("reloading the page left the challenge")
	}
	ls, err := h.p.svc.Operator("test").LockState(context.Background(), alice.ID)
	if err != nil || ls.Failures != 0 {
		t.Fatalf("a denial counted as a failure: %d, %v", ls.Failures, err)
	}
}

// TestPushExpiredFallsBack: a push nobody answers expires; the page
// falls back.
func TestPushExpiredFallsBack(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	pg := b.login("alice", alicePW)
	if !pg.has("push-expires") {
		t.Fatal("the push page shows no expiry")
	}
	h.clock.Advance(authn.DefaultChallengeTTL + time.Minute) // the default push TTL is 2 minutes too
	if st := b.status("/2fa/push/status"); st.State != "expired" || st.Action != "fallback" {
		t.Fatalf("status after the expiry: %+v; want expired, fallback", st)
	}
	pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	pg.mustContain("notice", "expired")
	if !pg.has("challenge") {
		t.Fatal("no challenge after the expired push")
	}
}

// failingNotifier reaches no phone.
type failingNotifier struct{}

func (failingNotifier) Notify(context.Context, authn.Delivery) error {
	return errors.New("the push service is down")
}

// TestPushUndeliveredFallsBack: when no phone can be notified the page
// goes to challenge/response at once.
func TestPushUndeliveredFallsBack(t *testing.T) {
	h := newHarness(t, func(c *config) { c.Notifier = failingNotifier{} })
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	pg := b.login("alice", alicePW)
	if pg.has("push-number") {
		t.Fatal("a push page although no phone could be reached")
	}
	pg.mustContain("notice", "could not be reached")
	if !sixDigits.MatchString(pg.text("challenge")) {
		t.Fatal("no challenge after an undelivered push")
	}
}

// TestChallengeMessages: malformed, expired and a drifted phone each get
// their own message.
func TestChallengeMessages(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	b.login("alice", alicePW)
	b.post("/2fa/method", url.Values{"method": {"challenge"}})

	pg := b.post("/2fa/challenge", url.Values{"response": {"12ab5678"}})
	pg.mustContain("error", "not a valid code")
	pg.mustContain("error", "8 digits")
	q := pg.text("challenge")

	h.clock.Advance(authn.DefaultChallengeTTL + 30*time.Second)
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(q)}})
	pg.mustContain("error", "The challenge expired. Here is a new challenge.")
	q2 := pg.text("challenge")
	if q2 == q || !sixDigits.MatchString(q2) {
		t.Fatalf("after the expiry the challenge is %q (was %q)", q2, q)
	}

	ph.skew = 3 * 30 * time.Second // the phone's clock runs 3 steps fast
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(q2)}})
	pg.mustContain("error", "Once more, with the new challenge")
	q3 := pg.text("challenge")
	if q3 == q2 {
		t.Fatal("no new challenge for the resynchronisation")
	}
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(q3)}})
	if pg.path() != "/account" {
		t.Fatalf("the resynchronising answer ended on %s:\n%s", pg.path(), pg.body)
	}
}

// TestLockout: wrong responses say how many tries are left, then lock
// the user, and the page says when it lifts, once, in relative time (the
// local time is portal.js's; issue 17 ruled out UTC) and offers no way in;
// the right response is refused while locked, and accepted after.
func TestLockout(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	b.login("alice", alicePW)
	pg := b.post("/2fa/method", url.Values{"method": {"challenge"}})

	locked := false
	for try := 1; try <= authn.DefaultMaxFailures+1 && !locked; try++ {
		pg = b.post("/2fa/challenge", url.Values{"response": {"0000 0000"}})
		if pg.has("locked") {
			locked = true
			if try != authn.DefaultMaxFailures {
				t.Fatalf("locked at wrong response %d; want %d", try, authn.DefaultMaxFailures)
			}
			break
		}
		msg := pg.text("error")
		switch {
		case strings.Contains(msg, "Wrong response"), strings.Contains(msg, "Too many tries for this challenge"):
		default:
			t.Fatalf("wrong response %d: %q", try, msg)
		}
		if left := authn.DefaultMaxFailures - try; !strings.Contains(msg, fmt.Sprint(left)+" tr") {
			t.Fatalf("wrong response %d: %q; want %d tries left in it", try, msg, left)
		}
	}
	if !locked {
		t.Fatal("never locked")
	}
	until := h.clock.Now().Add(authn.DefaultLockoutBase).UTC().Format(time.RFC3339)
	pg.mustContain("locked", "try again in 1 min 00 s")
	if !strings.Contains(pg.body, `data-local-time="`+until+`"`) || strings.Contains(pg.body, "UTC") {
		t.Fatalf("the locked page does not give the lock's end for local time, or shows UTC:\n%s", pg.body)
	}
	if pg.has("challenge") || pg.has("error") || pg.has("use-recovery") || pg.has("use-push") {
		t.Fatal("a way in is offered while locked, or the lock is said twice")
	}
	if st := b.status("/2fa/lock/status"); st.Action != "wait" {
		t.Fatalf("lock status while locked: %+v", st)
	}
	h.clock.Advance(20 * time.Second)
	pg = b.get("/2fa")
	pg.mustContain("locked", "try again in 40 seconds")

	h.clock.Advance(authn.DefaultLockoutBase)
	pg = b.get("/2fa")
	if pg.has("error") {
		t.Fatalf("still an error after the lock: %s", pg.text("error"))
	}
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(pg.text("challenge"))}})
	if pg.path() != "/account" {
		t.Fatalf("after the lock, the right response ended on %s:\n%s", pg.path(), pg.body)
	}
	if m := b.get("/metrics").body; !strings.Contains(m, `keyline_locks_total{factor="challenge"} 1`) {
		t.Error("/metrics does not count the lock")
	}
}

// TestSameAnswerForUnknownUser: an unknown user and a wrong password get
// the same page.
func TestSameAnswerForUnknownUser(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	wrongPW := b.login("alice", "not her password")
	unknown := b.login("mallory", "anything")
	for _, pg := range []*page{wrongPW, unknown} {
		if pg.status != http.StatusOK || pg.path() != "/login" {
			t.Fatalf("a failed login: status %d on %s", pg.status, pg.path())
		}
		pg.mustContain("error", wrongLogin)
	}
	strip := func(s string) string {
		s = csrfRE.ReplaceAllString(s, "")
		return regexp.MustCompile(`id="username"[^>]*>`).ReplaceAllString(s, "")
	}
	if strip(wrongPW.body) != strip(unknown.body) {
		t.Fatalf("the pages differ:\n%s\n---\n%s", wrongPW.body, unknown.body)
	}
	if pg := b.get("/2fa"); pg.path() != "/login" {
		t.Fatalf("after failed logins, /2fa led to %s", pg.path())
	}
	// The log names the real user attacked, never the typed unknown name.
	if logs := h.logs.String(); strings.Contains(logs, "mallory") || !strings.Contains(logs, `"user":"portal:alice"`) {
		t.Fatalf("the audit log of failed logins:\n%s", logs)
	}
}
