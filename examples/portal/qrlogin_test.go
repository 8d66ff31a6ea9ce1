package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// qrLoginPage signs alice in with her password and asks for a QR code
// (from the push page, as a user whose notification did not arrive).
func qrLoginPage(t *testing.T, b *browser) *page {
	t.Helper()
	pg := b.login("alice", alicePW)
	if !pg.has("use-qr") {
		t.Fatalf("the second-factor page offers no QR code:\n%s", pg.body)
	}
	pg = b.post("/2fa/method", url.Values{"method": {methodQR}})
	if pg.path() != "/2fa" || !pg.has("login-qr") || !pg.has("qr-expires") || !pg.has("qr-continue") {
		t.Fatalf("no QR login page on %s:\n%s", pg.path(), pg.body)
	}
	return pg
}

// qrOf returns the session's QR login, as the server keeps it.
func (h *harness) qrOf(b *browser) qrLoginState {
	h.t.Helper()
	s := h.sessionOf(b)
	defer s.mu.Unlock()
	if s.factor == nil || s.factor.qr == nil {
		h.t.Fatal("the session has no QR login")
	}
	return *s.factor.qr
}

// scanLogin is the phone scanning the QR code the page shows: it reads
// the request from the code, fetches and opens its prompt over the
// device API, and answers with the number typed.
func (ph *phone) scanLogin(text string, approve bool, typed string) (enroll.PushPrompt, error) {
	ph.t.Helper()
	q, err := enroll.ParseQRLogin(text)
	if err != nil {
		ph.t.Fatalf("phone: ParseQRLogin: %v", err)
	}
	if q.Issuer != ph.cred.Issuer() || q.User != ph.cred.User() {
		ph.t.Fatalf("phone: the code is for %s/%s", q.Issuer, q.User)
	}
	return ph.answerPrompt(ph.promptByID(q.RequestID), approve, typed)
}

// TestQRLoginApprove: the page shows the QR code of its own login and
// the number; the handle stays on the server; the phone scans, sees the
// browser, approves with the number; the status says finish, and
// finishing signs in (a new session ID). Then, the QR code was single
// use.
func TestQRLoginApprove(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	b.ua = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Gecko/20100101 Firefox/128.0"

	pg := qrLoginPage(t, b)
	q := h.qrOf(b)
	if pg.text("qr-number") != q.number || len(q.number) != 2 {
		t.Fatalf("the page shows %q; the login's number is %q", pg.text("qr-number"), q.number)
	}
	if pg.text("qr-text") != q.text {
		t.Fatalf("the page's \"Can't scan?\" shows %q; the code's text is %q", pg.text("qr-text"), q.text)
	}
	if strings.Contains(pg.body, q.handle) || strings.Contains(pg.body, "/2fa/push/status") || pg.has("push-number") {
		t.Fatal("the page carries the handle, or still the push")
	}
	if len(pg.body) > 10<<10 {
		t.Errorf("the QR page is %d bytes; want under 10 KB", len(pg.body))
	}
	login, err := enroll.ParseQRLogin(q.text)
	if err != nil {
		t.Fatal(err)
	}
	want, err := login.QR(qrSize)
	if err != nil {
		t.Fatal(err)
	}
	if img := b.get("/2fa/qr.png"); img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" || img.body != string(want) {
		t.Fatalf("the QR image: status %d, %d bytes; want the login's %d-byte PNG", img.status, len(img.body), len(want))
	}
	if st := b.status("/2fa/qr/status"); st.State != "pending" || st.Action != "wait" || strings.Contains(fmt.Sprint(st), q.handle) {
		t.Fatalf("status before the phone: %+v; want pending, wait", st)
	}
	pr, err := ph.scanLogin(q.text, true, q.number)
	if err != nil {
		t.Fatalf("the approval was refused: %v", err)
	}
	if pr.Context.Action != "Login" || pr.Context.Browser != "Firefox on macOS" {
		t.Fatalf("the phone showed %+v; want a Login from Firefox on macOS", pr.Context)
	}
	if st := b.status("/2fa/qr/status"); st.State != "approved" || st.Action != "finish" {
		t.Fatalf("status after the approval: %+v; want approved, finish", st)
	}
	before := b.sessionCookie()
	if pg = b.post("/2fa/qr/finish", nil); pg.path() != "/account" {
		t.Fatalf("after the approval on %s; want /account:\n%s", pg.path(), pg.body)
	}
	if b.sessionCookie() == before {
		t.Fatal("the session ID did not change at the QR login")
	}
	if _, err := h.p.svc.FinishQRLogin(context.Background(), h.p.users["alice"].ID, q.handle); !errors.Is(err, authn.ErrAlreadyUsed) {
		t.Fatalf("the QR login finished twice: %v", err)
	}
	// A QR login is a factor of its own in the portal's count (issue
	// 17: it was counted as a push).
	if m := b.get("/metrics").body; !strings.Contains(m, `portal_logins_total{factor="qr"} 1`) || strings.Contains(m, `portal_logins_total{factor="push"}`) {
		t.Errorf("/metrics does not count the login as a QR login:\n%s", grepLines(m, "portal_logins_total"))
	}
}

// TestQRLoginWithoutScript: with no script the page is the same form:
// Continue before the approval says so and keeps the code; after it,
// signs in. Reload and Back fetch GET pages only.
func TestQRLoginWithoutScript(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	qrLoginPage(t, b)
	q := h.qrOf(b)
	pg := b.post("/2fa/qr/finish", nil)
	if pg.path() != "/2fa" || !pg.has("login-qr") || pg.text("qr-number") != q.number {
		t.Fatalf("Continue before the approval: on %s; want the same QR code:\n%s", pg.path(), pg.body)
	}
	pg.mustContain("notice", "Not approved yet")
	if _, err := ph.scanLogin(q.text, true, q.number); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/qr/finish", nil); pg.path() != "/account" {
		t.Fatalf("Continue after the approval: on %s; want /account", pg.path())
	}
}

// TestQRLoginDenied: a denial on the phone ends the sign-in, asking
// whether it was the user, as a denied push does.
func TestQRLoginDenied(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	qrLoginPage(t, b)
	q := h.qrOf(b)
	if _, err := ph.scanLogin(q.text, false, ""); err != nil {
		t.Fatalf("the denial was refused: %v", err)
	}
	if st := b.status("/2fa/qr/status"); st.State != "denied" || st.Action != "finish" {
		t.Fatalf("status after the denial: %+v; want denied, finish", st)
	}
	pg := b.post("/2fa/qr/finish", nil)
	if pg.path() != "/login" {
		t.Fatalf("after the denial on %s; want the sign-in page", pg.path())
	}
	pg.mustContain("notice", "You declined this sign-in on your phone")
	if !strings.Contains(pg.body, `class="notice warning"`) {
		t.Fatal("the denial is not amber")
	}
}

// TestQRLoginWrongNumber: the wrong number ends the code and counts a
// failure; the page says so in amber and offers a new code, which works.
func TestQRLoginWrongNumber(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	qrLoginPage(t, b)
	q := h.qrOf(b)
	wrong := "00"
	if q.number == wrong {
		wrong = "01"
	}
	if _, err := ph.scanLogin(q.text, true, wrong); !errors.Is(err, authn.ErrWrongNumber) {
		t.Fatalf("a wrong number gave %v", err)
	}
	if st := b.status("/2fa/qr/status"); st.State != "failed" || st.Action != "finish" {
		t.Fatalf("status: %+v; want failed, finish", st)
	}
	pg := b.post("/2fa/qr/finish", nil)
	pg.mustContain("qr-ended", "was not the one shown here")
	if pg.has("login-qr") || !pg.has("qr-new") || !strings.Contains(pg.body, `id="qr-ended" class="notice warning"`) {
		t.Fatalf("the ended code is still shown, not amber, or no new one is offered:\n%s", pg.body)
	}
	if img := b.get("/2fa/qr.png"); img.status != http.StatusNotFound {
		t.Fatalf("the ended code's image: %d", img.status)
	}
	if pg = b.get("/2fa"); !pg.has("qr-ended") || pg.has("login-qr") {
		t.Fatal("a reload began a new code by itself")
	}
	ls, err := h.p.svc.Operator("test").LockState(context.Background(), h.p.users["alice"].ID)
	if err != nil || ls.Failures != 1 {
		t.Fatalf("failures after a wrong number: %d, %v; want 1", ls.Failures, err)
	}
	pg = b.post("/2fa/method", url.Values{"method": {methodQR}})
	q2 := h.qrOf(b)
	if !pg.has("login-qr") || q2.handle == q.handle {
		t.Fatal("no new code")
	}
	if _, err := ph.scanLogin(q2.text, true, q2.number); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/qr/finish", nil); pg.path() != "/account" {
		t.Fatalf("the new code: on %s; want /account", pg.path())
	}
}

// TestQRLoginExpired: a code nobody answers expires: the status says
// finish, the page says "Expired — get a new one" in amber; fetching
// the page again once it expired (the countdown's link) shows a new one.
// Neither spends the push budget for good.
func TestQRLoginExpired(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	pg := qrLoginPage(t, b)
	if !strings.Contains(pg.body, `data-countdown`) {
		t.Fatal("the expiry has no countdown")
	}
	q := h.qrOf(b)
	h.clock.Advance(authn.DefaultChallengeTTL + time.Minute)
	if st := b.status("/2fa/qr/status"); st.State != "expired" || st.Action != "finish" {
		t.Fatalf("status after the expiry: %+v; want expired, finish", st)
	}
	pg = b.post("/2fa/qr/finish", nil)
	pg.mustContain("qr-ended", "Expired — get a new one")
	if pg.has("login-qr") {
		t.Fatal("the expired code is still shown")
	}
	// The countdown's link: GET /2fa after the code expired unanswered.
	for range 5 {
		pg = b.post("/2fa/method", url.Values{"method": {methodQR}})
		q2 := h.qrOf(b)
		if !pg.has("login-qr") || q2.handle == q.handle {
			t.Fatalf("no new code:\n%s", pg.body)
		}
		h.clock.Advance(authn.DefaultChallengeTTL + time.Minute)
		if pg = b.get("/2fa"); !pg.has("login-qr") || h.qrOf(b).handle == q2.handle {
			t.Fatal("fetching the page after the expiry did not show a new code")
		}
		q = h.qrOf(b)
	}
}

// TestQRLoginLeaveCancels: switching to another way, or signing out,
// withdraws the code (its budget unit comes back): more switches than
// the budget holds still show a QR code, and the withdrawn code cannot
// finish.
func TestQRLoginLeaveCancels(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	b.login("alice", alicePW)
	var q qrLoginState
	for range 5 {
		pg := b.post("/2fa/method", url.Values{"method": {methodQR}})
		if !pg.has("login-qr") {
			t.Fatalf("no QR code after switching back and forth:\n%s", pg.body)
		}
		q = h.qrOf(b)
		if pg = b.post("/2fa/method", url.Values{"method": {methodChallenge}}); !pg.has("challenge") {
			t.Fatal("no challenge")
		}
	}
	if st, err := h.p.svc.QRLoginStatus(context.Background(), h.p.users["alice"].ID, q.handle, 0); err != nil || st != authn.PushCancelled {
		t.Fatalf("the code left: %v, %v; want cancelled", st, err)
	}
	login, err := enroll.ParseQRLogin(q.text)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ph.device(http.MethodGet, "/v1/push", nil).PushPrompt(context.Background(), login.RequestID); err == nil {
		t.Fatal("the phone could still fetch a withdrawn code's prompt")
	}
	if st := b.status("/2fa/qr/status"); st.State != "none" {
		t.Fatalf("status of the challenge page: %+v", st)
	}
	// Signing out ("Start over") withdraws a code shown too.
	b.post("/2fa/method", url.Values{"method": {methodQR}})
	q = h.qrOf(b)
	if pg := b.post("/logout", nil); pg.path() != "/login" {
		t.Fatalf("after signing out on %s", pg.path())
	}
	if st, err := h.p.svc.QRLoginStatus(context.Background(), h.p.users["alice"].ID, q.handle, 0); err != nil || st != authn.PushCancelled {
		t.Fatalf("the code after signing out: %v, %v; want cancelled", st, err)
	}
}

// TestQRLoginOtherSession: the code and its status belong to the browser
// that showed it. Another browser signed in with the same password sees
// none of it; the phone's approval of the first code signs in the first
// browser only; a browser without a session gets nothing.
func TestQRLoginOtherSession(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	qrLoginPage(t, b)
	q := h.qrOf(b)

	other := h.browser()
	other.login("alice", alicePW)
	if st := other.status("/2fa/qr/status"); st.State != "none" {
		t.Fatalf("another session's status: %+v; want none", st)
	}
	if img := other.get("/2fa/qr.png"); img.status != http.StatusNotFound {
		t.Fatalf("another session got the image: %d", img.status)
	}
	stranger := h.browser()
	stranger.get("/login")
	if pg := stranger.get("/2fa/qr/status"); pg.status != http.StatusUnauthorized || strings.Contains(pg.body, q.number) {
		t.Fatalf("a session without a password: %d %s", pg.status, pg.body)
	}

	if _, err := ph.scanLogin(q.text, true, q.number); err != nil {
		t.Fatal(err)
	}
	if pg := other.post("/2fa/qr/finish", nil); pg.path() != "/2fa" || other.get("/account").path() == "/account" {
		t.Fatal("the approval signed in another session")
	}
	if pg := b.post("/2fa/qr/finish", nil); pg.path() != "/account" {
		t.Fatalf("the browser that showed the code: on %s; want /account", pg.path())
	}
}

// TestQRLoginLocked: a locked user is shown the locked page, with its
// honest text, and no QR code is made; a lock that falls while the code
// is shown ends it there too.
func TestQRLoginLocked(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	qrLoginPage(t, b)
	alice := h.p.users["alice"].ID

	// Failures elsewhere (another browser) lock alice while the code is shown.
	other := h.browser()
	other.login("alice", alicePW)
	other.post("/2fa/method", url.Values{"method": {methodChallenge}})
	for range authn.DefaultMaxFailures {
		other.post("/2fa/challenge", url.Values{"response": {"0000 0000"}})
	}
	if ls, err := h.p.svc.Operator("test").LockState(context.Background(), alice); err != nil || !ls.Locked {
		t.Fatalf("not locked: %+v, %v", ls, err)
	}
	pg := b.post("/2fa/qr/finish", nil)
	pg.mustContain("locked", "every way to sign in is paused")
	if pg.has("login-qr") || pg.has("use-qr") || pg.has("use-challenge") {
		t.Fatalf("a way in is offered while locked:\n%s", pg.body)
	}
	// Asking for a QR code while locked: the locked page, no code made.
	pg = b.post("/2fa/method", url.Values{"method": {methodQR}})
	pg.mustContain("locked", "You can try again in")
	s := h.sessionOf(b)
	made := s.factor.qr != nil
	s.mu.Unlock()
	if made || pg.has("login-qr") {
		t.Fatal("a QR code was made for a locked user")
	}
	if _, err := h.p.svc.BeginQRLogin(context.Background(), alice, enroll.PushContext{Action: "Login"}); err == nil {
		t.Fatal("the Service began a QR login for a locked user")
	}
}

// TestQRLoginStepUp: "Confirm it's you" offers a QR code too; the phone
// sees what it confirms, and the approval unlocks the changes.
func TestQRLoginStepUp(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	pg := b.post("/security/stepup", nil)
	pg.mustContain("title", "Confirm it's you")
	pg.mustContain("use-qr", "Confirm with a QR code")
	if pg = b.post("/2fa/method", url.Values{"method": {methodQR}}); !pg.has("login-qr") {
		t.Fatalf("no QR code for the step-up:\n%s", pg.body)
	}
	q := h.qrOf(b)
	pr, err := ph.scanLogin(q.text, true, q.number)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Context.Action != "Confirm a security change" {
		t.Fatalf("the phone showed %q", pr.Context.Action)
	}
	if pg = b.post("/2fa/qr/finish", nil); pg.path() != "/security" || !pg.has("unlocked") {
		t.Fatalf("after the step-up on %s; want /security unlocked:\n%s", pg.path(), pg.body)
	}
}

// TestQRLoginBudget: a QR code is counted like a push (3 in 15 minutes
// per user): a fourth code is not offered, and asked for anyway falls
// back to a challenge, saying when it works again (issue 17: it was
// offered, and refused once asked for).
func TestQRLoginBudget(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	for i := range 3 {
		bi := h.browser()
		if pg := qrLoginPage(t, bi); !pg.has("login-qr") {
			t.Fatalf("code %d not shown", i+1)
		}
	}
	if pg := b.login("alice", alicePW); pg.has("use-qr") || pg.has("push-number") {
		t.Fatalf("a fourth code or a push offered in 15 minutes:\n%s", pg.body)
	}
	pg := b.post("/2fa/method", url.Values{"method": {methodQR}})
	if pg.has("login-qr") || !pg.has("challenge") {
		t.Fatalf("a fourth code in 15 minutes, or no challenge:\n%s", pg.body)
	}
	pg.mustContain("push-spent", "and so does the QR code")
}
