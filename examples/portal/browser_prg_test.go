package main

import (
	"encoding/base32"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
)

// posted is every form post the browser portal of each test received,
// as "POST /path", in order; the leave beacon (leave.go), which is sent
// by itself when a page goes, is left out.
var posted struct {
	mu sync.Mutex
	m  map[string][]string
}

// countPosts wraps the portal's handler so that the test sees each form
// post: post/redirect/get is checked by what the server received.
func countPosts(test string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path != "/2fa/leave" && !strings.HasPrefix(r.URL.Path, "/device/") {
			posted.mu.Lock()
			if posted.m == nil {
				posted.m = map[string][]string{}
			}
			posted.m[test] = append(posted.m[test], r.Method+" "+r.URL.Path)
			posted.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// posts are the form posts the test's portal received so far.
func posts(t *testing.T) []string {
	posted.mu.Lock()
	defer posted.mu.Unlock()
	return append([]string(nil), posted.m[t.Name()]...)
}

// prg sends a form by clicking its button (sel, a CSS selector), as a
// person does, and checks post/redirect/get: the form is sent once and
// its answer is the page at want, fetched with GET; a reload shows want
// again and sends nothing ("Confirm Form Resubmission" would send the
// form again); Back shows the page at back, a page of the portal (not
// the browser's own error page, not a 403), and sends nothing either.
// The tab is left on back.
func (c *chromeTab) prg(sel, want, back string) {
	c.t.Helper()
	before := len(posts(c.t))
	c.markPage()
	c.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	c.waitPage(want, browserWait)
	c.notForbidden()
	sent := posts(c.t)[before:]
	if len(sent) != 1 {
		c.t.Fatalf("clicking %s sent %q; want one form post", sel, sent)
	}
	c.reload(want)
	c.notForbidden()
	if again := posts(c.t)[before+1:]; len(again) != 0 {
		c.t.Fatalf("reloading %s (the answer to %s) sent %q again", want, sent[0], again)
	}
	c.back(back)
	c.notForbidden()
	if again := posts(c.t)[before+1:]; len(again) != 0 {
		c.t.Fatalf("Back from %s (the answer to %s) sent %q again", want, sent[0], again)
	}
}

// TestBrowserPRG: reload and Back on every page with a form (issue 17:
// "post/redirect/get for every form", "reload and Back on every form
// page"). Each form is sent by a click; its answer is fetched with GET,
// so that a reload and Back send nothing again and show a page of the
// portal: sign in, the second-factor pages (push, QR code, challenge,
// authenticator app, recovery code, and the choices between them), the
// security page (step-up, rename, replace, push off and on, push resumed,
// activate, authenticator app, recovery codes), the change-password page
// (new passwords that differ, the change), the activation page (pair,
// cancel), the authenticator app's page, the confirmation page
// (the app removed, the phone revoked), the recovery codes page, the
// withdrawal form and its confirmation (push, QR code, a wrong response,
// cancel), and signing out.
func TestBrowserPRG(t *testing.T) {
	began := time.Now()
	bin := findChromium(t)
	bp := startBrowserPortal(t)
	c := startChrome(t, bin, bp.url)
	ph := newAppPhone(t, bp.url, bp.clock.Now)
	step := func(name string) { t.Logf("%6.2fs  %s", time.Since(began).Seconds(), name) }

	step("sign in")
	c.open("/login")
	c.typeInto("username", "alice")
	c.typeInto("password", alicePW)
	c.prg("#login-submit", "/security", "/account") // signed in: the sign-in page leads to the account

	step("the security page: activate a phone; the activation page: cancel")
	c.open("/security")
	c.prg("#activate", "/security/activate", "/security")
	c.open("/security/activate")
	c.prg("#activation-cancel", "/security", "/security")

	step("the activation page: the pairing code")
	c.open("/security")
	c.click("activate", "/security/activate")
	c.do("open \"Can't scan?\"", chromedp.Click(chromedp.CSS("#cant-scan > summary")))
	c.waitUntil("the session ID to show", `document.getElementById("session-id").checkVisibility()`, browserStep)
	c.markPage()
	pairing := ph.activate(c.text("session-id"), "Alice's phone")
	c.waitPage("/security/activate", browserWait)
	c.typeInto("code", pairing)
	c.prg("#pair-submit", "/security/recovery", "/security")

	step("the recovery codes offered: make them (a step-up first)")
	c.open("/security/recovery")
	c.prg("#recovery-new", "/2fa", "/security/recovery")

	step("the second-factor page: the choices, and the challenge")
	c.open("/2fa")
	c.prg("#use-challenge", "/2fa", "/2fa")
	c.typeInto("response", ph.respond(c.text("challenge")))
	c.prg("#challenge-submit", "/security/recovery", "/account") // the step-up is over: its page leads on

	step("the recovery codes page: I saved them")
	c.open("/security/recovery")
	codes := c.lines("#recovery-codes .recovery-code")
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown; want 10", len(codes))
	}
	c.prg("#recovery-saved", "/security", "/security/recovery")

	step("the security page: rename, push off and on")
	c.open("/security")
	c.do("type the new name", chromedp.Clear(chromedp.CSS("#devices input[name=name]")),
		chromedp.SendKeys(chromedp.CSS("#devices input[name=name]"), "Work phone"))
	c.prg("#devices .rename", "/security", "/security")
	c.open("/security")
	c.mustContain("devices", "Work phone")
	c.prg("#push-toggle", "/security", "/security")
	c.mustContain("push-state", "off")
	c.prg("#push-toggle", "/security", "/security")
	c.mustContain("push-state", "on")

	step("the security page: an authenticator app; its page: the code")
	c.prg("#totp-start", "/security/totp", "/security")
	c.open("/security/totp")
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(js[string](c, `document.getElementById("totp-secret").textContent`))
	if err != nil {
		t.Fatalf("the TOTP key: %v", err)
	}
	code, err := challenge.TOTP{}.Code(key, bp.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.typeInto("code", code)
	c.prg("#totp-complete", "/security", "/security")
	c.open("/security")
	c.mustContain("totp-state", "set up")

	step("the security page: replace the phone (the activation started, then cancelled)")
	c.prg("#devices .replace", "/security/activate", "/security")
	c.open("/security/activate")
	c.click("activation-cancel", "/security")

	step("signing out")
	c.prg("#logout", "/login", "/login") // signed out: the security page leads to the sign-in page

	step("the second-factor page: push, the authenticator app")
	bp.clock.Advance(16 * time.Minute) // a fresh push budget
	c.login("alice", alicePW, "/2fa")
	c.prg("#push-continue", "/2fa", "/2fa") // not approved yet: said on the page
	c.prg("#use-totp", "/2fa", "/2fa")
	c.prg("#use-push", "/2fa", "/2fa")
	c.click("use-totp", "/2fa")
	code, err = challenge.TOTP{}.Code(key, bp.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.typeInto("code", code)
	c.prg("#totp-submit", "/account", "/account")

	step("the confirmation page: remove the authenticator app")
	c.open("/security")
	c.click("totp-remove", "/security/totp/remove")
	c.prg("#confirm-submit", "/security", "/security")
	c.open("/security")
	c.mustContain("totp-state", "not set up")

	step("the security page: confirm it's you; the QR code page: continue, a new code")
	bp.clock.Advance(authn.DefaultProofTTL)
	c.open("/security")
	c.prg("#stepup", "/2fa", "/security")
	c.open("/2fa")
	c.prg("#use-qr", "/2fa", "/2fa")
	c.prg("#qr-continue", "/2fa", "/2fa") // not approved yet: said on the page
	q := c.qrLoginOf(bp)
	c.markPage()
	ph.scanWrongNumber(q)
	c.waitPage("/2fa", browserWait) // the code ended: a new one is offered
	c.prg("#qr-new", "/2fa", "/2fa")
	c.prg("#use-recovery", "/2fa", "/2fa")
	c.typeInto("code", codes[0])
	c.prg("#recovery-submit", "/security", "/account")

	step("the withdrawal form, and its confirmation: push, QR code, a wrong response, cancel")
	bp.clock.Advance(16 * time.Minute) // a fresh push budget
	c.open("/withdraw")
	c.typeInto("amount", "12.50")
	c.typeInto("to", testIBAN)
	c.prg("#withdraw-submit", "/withdraw/confirm", "/withdraw")
	c.open("/withdraw/confirm")
	c.prg("#tx-push-continue", "/withdraw/confirm", "/withdraw/confirm")
	c.prg("#tx-use-qr", "/withdraw/confirm", "/withdraw/confirm")
	c.typeInto("response", "1111 1111")
	c.prg("#tx-submit", "/withdraw/confirm", "/withdraw/confirm")
	c.prg("#tx-cancel", "/withdraw", "/withdraw")

	step("the security page: push resumed after a denial (a step-up first)")
	c.open("/withdraw")
	c.typeInto("amount", "7")
	c.typeInto("to", testIBAN)
	c.click("withdraw-submit", "/withdraw/confirm")
	c.markPage()
	ph.answer(ph.onlyPrompt("Withdrawal"), false, "")
	c.waitPage("/withdraw", browserWait)
	c.click("nav-security", "/security")
	c.mustContain("push-suspended", "after a request was denied")
	c.prg("#push-resume", "/2fa", "/security")
	c.open("/2fa")
	if !c.has("challenge") {
		c.click("use-challenge", "/2fa")
	}
	c.typeInto("response", ph.respond(c.text("challenge")))
	c.click("challenge-submit", "/security")
	c.mustLack("push-suspended")

	step("the change-password page: two new passwords that differ, then the change")
	c.click("password-link", "/security/password")
	c.typeInto("current-password", alicePW)
	c.typeInto("new-password", "a new password for alice")
	c.typeInto("again-password", "another new password")
	c.prg("#password-submit", "/security/password", "/security/password")
	c.mustLack("error") // Back shows the form afresh
	c.typeInto("current-password", alicePW)
	c.typeInto("new-password", "a new password for alice")
	c.typeInto("again-password", "a new password for alice")
	c.prg("#password-submit", "/security", "/security/password")
	c.open("/security")

	step("the confirmation page: revoke the phone")
	c.markPage()
	c.do("click Revoke", chromedp.Click(chromedp.CSS("#devices .revoke")))
	c.waitPage("/security/devices/revoke", browserStep)
	c.prg("#confirm-submit", "/security", "/security") // Back: the confirmation of a phone gone leads to the security page
	c.mustContain("notice", "That phone is no longer there")
	c.mustLack("devices")

	if p := c.problems(); len(p) > 0 {
		t.Fatalf("the browser reported script errors or CSP violations:\n%s", strings.Join(p, "\n"))
	}
	step("done")
}
