package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

var recoveryCodeRE = regexp.MustCompile(`^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`)

// mustNotBreak fails the test if the text of an element the selector
// matches is broken across lines.
func (c *chromeTab) mustNotBreak(selector string) {
	c.t.Helper()
	broken := js[[]string](c, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).filter(e => {
		const r = document.createRange(); r.selectNodeContents(e);
		const tops = new Set(Array.from(r.getClientRects(), q => Math.round(q.top)));
		return tops.size > 1; }).map(e => e.innerText)`, strconv.Quote(selector)))
	if len(broken) > 0 {
		c.t.Fatalf("broken across lines: %q\n%s", broken, c.describe())
	}
}

// metrics is what the portal's /metrics says.
func (bp *browserPortal) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(bp.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reload reloads the page as the browser's reload button does, and
// waits for the page it shows.
func (c *chromeTab) reload(wantPath string) {
	c.t.Helper()
	c.markPage()
	c.do("reload", chromedp.Reload())
	c.waitPage(wantPath, browserStep)
}

// back goes back one page in the history, as the Back button does, and
// checks that the browser shows a page of the portal: not its own error
// page ("Confirm Form Resubmission", ERR_CACHE_MISS) for a page that was
// the answer to a form.
func (c *chromeTab) back(wantPath string) {
	c.t.Helper()
	c.markPage()
	// Later, not in the evaluation: a page that goes at once would fail
	// it ("Inspected target navigated or closed").
	js[chromedp.Void](c, `setTimeout(() => history.back(), 0)`)
	c.waitPage(wantPath, browserStep)
	if !c.has("title") {
		c.t.Fatalf("Back shows no page of the portal\n%s", c.describe())
	}
}

// notForbidden fails the test if the page is the bare 403 the portal
// used to answer to an expired or repeated form.
func (c *chromeTab) notForbidden() {
	c.t.Helper()
	if title, _ := c.lookup("title"); title == "Forbidden" || strings.Contains(c.describe(), "did not come from this site") {
		c.t.Fatalf("a form ended on a 403 page\n%s", c.describe())
	}
}

// TestBrowserForms walks the forms as people use them: a double-click
// on Sign in, a pairing code typed before the phone activated (which the
// page's own reload once sent again, spending a try), Back and reload
// after a form, a sign-in page left open 16 minutes, a withdrawal form
// left idle 31 minutes (its fields kept through the new sign-in), and a
// change asked for when its step-up had lapsed (made once the user
// confirms, not asked for again).
func TestBrowserForms(t *testing.T) {
	began := time.Now()
	bin := findChromium(t)
	bp := startBrowserPortal(t)
	c := startChrome(t, bin, bp.url)
	ph := newAppPhone(t, bp.url, bp.clock.Now)
	alice := bp.p.users["alice"]
	ctx := context.Background()
	step := func(name string) { t.Logf("%6.2fs  %s", time.Since(began).Seconds(), name) }

	step("a double-click on Sign in signs in once, without a 403")
	c.open("/login")
	c.typeInto("username", "alice")
	c.typeInto("password", alicePW)
	c.markPage()
	// Two clicks, the second while the first is on its way: the
	// browser sends both unless the page stops it.
	js[chromedp.Void](c, `(() => { const b = document.getElementById("login-submit"); b.click(); setTimeout(() => b.click(), 5); })()`)
	c.waitPage("/security", browserWait)
	c.notForbidden()
	c.mustContain("user", "Alice Example")
	if m := bp.metrics(t); !strings.Contains(m, `portal_password_checks_total{outcome="ok"} 1`+"\n") ||
		!strings.Contains(m, "portal_csrf_refused_total 0\n") {
		t.Fatalf("the double-click sent the form more than once:\n%s", m)
	}

	step("a pairing code typed before the phone activated: shown again, not sent again")
	c.click("activate", "/security/activate")
	c.reload("/security/activate") // reloading the activation page starts nothing new
	c.do("open \"Can't scan?\"", chromedp.Click(chromedp.CSS("#cant-scan > summary")))
	sessionID := c.text("session-id")
	c.typeInto("code", "123456")
	c.click("pair-submit", "/security/activate") // post/redirect/get: the address is the page's own
	c.mustContain("error", "No phone has completed this activation yet")
	c.shot("activation-early-code")
	c.markPage()
	pairing := ph.activate(sessionID, "Alice's phone")
	c.waitPage("/security/activate", browserWait) // the page's script moved on, with GET
	c.mustLack("error")
	c.shot("activation-completed")
	st, err := bp.p.svc.ActivationStatus(ctx, alice.ID, sessionID)
	if err != nil || st.State != authn.ActivationCompleted || st.TriesLeft != 3 {
		t.Fatalf("activation %+v, %v; want completed with its 3 tries left (no code sent again)", st, err)
	}
	c.typeInto("code", pairing)
	c.click("pair-submit", "/security/recovery")

	step("recovery codes, offered once the first factor is added: made once, reload-safe, kept until saved")
	c.mustContain("notice", "is active")
	c.mustContain("recovery-offer", "recovery codes")
	c.shot("recovery-offer")
	c.click("recovery-new", "/2fa") // making them is a change: confirm it's you, with the new phone
	c.click("use-challenge", "/2fa")
	c.typeInto("response", ph.respond(c.text("challenge")))
	c.click("challenge-submit", "/security/recovery")
	codes := c.lines("#recovery-codes .recovery-code")
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown; want 10: %q", len(codes), codes)
	}
	for _, code := range codes {
		if !recoveryCodeRE.MatchString(code) {
			t.Fatalf("recovery code %q; want four groups of four", code)
		}
	}
	c.shot("recovery-codes")
	c.reload("/security/recovery")
	if again := c.lines("#recovery-codes .recovery-code"); !slices.Equal(again, codes) {
		t.Fatalf("the reload shows %q; want the same codes %q", again, codes)
	}
	if f, err := bp.p.svc.Factors(ctx, alice.ID); err != nil || f.RecoveryCodes != 10 {
		t.Fatalf("factors %+v, %v; want the 10 codes of one set", f, err)
	}
	for _, id := range []string{"recovery-copy", "recovery-print", "recovery-download"} {
		if !c.visible(id) {
			t.Fatalf("no #%s on the recovery codes page\n%s", id, c.describe())
		}
	}
	file, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`fetch(document.getElementById("recovery-download").href).then(r => r.text())`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("downloading the codes: %v", err)
	}
	for _, code := range codes {
		if !strings.Contains(file, code+"\n") {
			t.Fatalf("the download lacks %s:\n%s", code, file)
		}
	}
	c.click("recovery-saved", "/security")
	c.mustContain("recovery-left", "10")
	c.back("/security/recovery") // the codes are gone from the session: Back shows the offer, no codes
	c.mustLack("recovery-codes")
	c.open("/security/recovery/codes.txt")
	if strings.Contains(c.describe(), codes[0]) {
		t.Fatal("the codes can still be downloaded after \"I saved them\"")
	}
	c.open("/security")
	c.mustContain("devices", "Alice's phone")

	step("a change asked for after the step-up lapsed is made once the user confirms it's you")
	c.mustContain("push-state", "on")
	c.shot("security")

	step("Revoke asks first, naming the phone, and warns that it is the last factor")
	c.markPage()
	c.do("click Revoke", chromedp.Click(chromedp.CSS("#devices .revoke")))
	c.waitPage("/security/devices/revoke", browserStep)
	c.mustContain("confirm-text", "Alice's phone")
	c.mustContain("last-factor", "anyone with your password")
	c.shot("revoke-confirm")
	c.click("confirm-cancel", "/security")
	c.mustContain("devices", "Alice's phone") // nothing was revoked
	bp.clock.Advance(authn.DefaultProofTTL)   // the page still offers the change; the proof is gone
	c.click("push-toggle", "/2fa")
	c.mustContain("notice", "Confirm it's you")
	c.shot("step-up")
	if !c.has("challenge") {
		c.click("use-challenge", "/2fa")
	}
	c.typeInto("response", ph.respond(c.text("challenge")))
	c.click("challenge-submit", "/security")
	c.mustContain("push-state", "off")
	c.mustContain("notice", "Push approval is off")
	c.click("push-toggle", "/security") // turning it on needs no step-up
	c.mustContain("push-state", "on")

	step("a wrong response: the form is shown again at its own address; reload and Back send nothing")
	c.logout()
	bp.clock.Advance(16 * time.Minute) // a fresh push budget
	c.login("alice", alicePW, "/2fa")
	c.click("use-challenge", "/2fa")
	question := c.text("challenge")
	c.typeInto("response", "1111 1111")
	c.click("challenge-submit", "/2fa")
	c.mustContain("error", "Wrong response")
	c.reload("/2fa")
	c.mustLack("error") // the reload sent nothing: no second failure
	if f, err := bp.p.svc.Factors(ctx, alice.ID); err != nil || f.RecentFail > 1 {
		t.Fatalf("factors %+v, %v: the reload counted another failure", f, err)
	}
	if got := c.text("challenge"); got != question {
		t.Fatalf("the challenge changed from %s to %s on reload", question, got)
	}

	step("a countdown that runs out says \"Expired — get a new one\", and the link gets one")
	bp.clock.Advance(3 * time.Minute) // the challenge's lifetime, on the portal's clock
	js[chromedp.Void](c, `document.getElementById("challenge-expires").setAttribute("data-remaining", "0")`)
	c.waitUntil("the countdown's end", `document.querySelector("[data-countdown]").innerText.startsWith("Expired — get a new one")`, browserStep)
	c.shot("challenge-expired")
	c.markPage()
	c.do("click \"get a new one\"", chromedp.Click(chromedp.CSS("[data-countdown] a")))
	c.waitPage("/2fa", browserStep)
	if question = c.text("challenge"); !sixDigitsRE.MatchString(question) {
		t.Fatalf("no new challenge after \"get a new one\": %q", question)
	}
	c.typeInto("response", ph.respond(question))
	c.click("challenge-submit", "/account")

	step("a withdrawal form idle for 31 minutes: sign in again, and the form is there, filled")
	c.click("nav-withdraw", "/withdraw")
	c.typeInto("amount", "12,50")
	c.typeInto("to", testIBAN)
	c.typeInto("memo", "Lunch")
	bp.clock.Advance(31 * time.Minute)
	c.click("withdraw-submit", "/login")
	c.notForbidden()
	c.mustContain("notice", "nothing was done")
	c.typeInto("username", "alice")
	c.typeInto("password", alicePW)
	c.click("login-submit", "/2fa")
	if !c.has("challenge") {
		c.click("use-challenge", "/2fa")
	}
	c.typeInto("response", ph.respond(c.text("challenge")))
	c.click("challenge-submit", "/withdraw")
	c.shot("withdraw-kept")
	for id, want := range map[string]string{"amount": "12,50", "to": testIBAN, "memo": "Lunch"} {
		if got := js[string](c, `document.getElementById("`+id+`").value`); got != want {
			t.Fatalf("#%s holds %q after signing in again; want %q", id, got, want)
		}
	}

	step("the amount as read is echoed before the phone signs it")
	c.click("withdraw-submit", "/withdraw/confirm")
	c.mustContain("amount-echo", "“12,50”", "EUR 12.50")
	c.shot("withdraw-echo")

	step("a withdrawal declined on the phone ends: no QR code is offered for it")
	if !c.has("push-number") {
		t.Fatalf("the withdrawal is not asked by push\n%s", c.describe())
	}
	c.markPage()
	ph.answer(ph.onlyPrompt("Withdrawal"), false, "")
	c.waitPage("/withdraw", browserWait)
	c.mustContain("notice", "You declined this withdrawal on your phone")
	c.mustLack("tx-qr")
	c.mustLack("withdraw-waiting")
	c.shot("withdraw-declined")

	step("push, suspended by the denial, resumed from the security page (a step-up's proof)")
	c.click("nav-security", "/security")
	c.mustContain("push-suspended", "after a request was denied")
	c.click("push-resume", "/security")
	c.mustContain("notice", "Push approval works again")
	c.mustLack("push-suspended")

	step("a sign-in page left open 16 minutes: shown again with a note, the username kept")
	c.logout()
	c.open("/login")
	c.typeInto("username", "alice")
	c.typeInto("password", alicePW)
	bp.clock.Advance(16 * time.Minute)
	c.click("login-submit", "/login")
	c.notForbidden()
	c.mustContain("notice", "nothing was done")
	c.shot("login-expired")
	if got := js[string](c, `document.getElementById("username").value`); got != "alice" {
		t.Fatalf("#username holds %q on the sign-in page shown again; want alice", got)
	}
	c.typeInto("password", alicePW)
	c.click("login-submit", "/2fa")

	step("the push budget spent: \"Push works again at HH:MM\" in local time, and push is not offered")
	c.timezone("Asia/Tokyo") // the person's own time, not the server's nor UTC
	if c.has("push-number") {
		c.click("use-challenge", "/2fa") // withdrawn: its unit comes back
	}
	for range 3 { // three pushes started elsewhere
		if _, err := bp.p.svc.BeginPush(ctx, alice.ID, enroll.PushContext{Action: "Login"}); err != nil {
			t.Fatalf("spending the push budget: %v", err)
		}
	}
	budget, err := bp.p.svc.PushBudget(ctx, alice.ID)
	if err != nil || budget.Left != 0 {
		t.Fatalf("push budget %+v, %v; want it spent", budget, err)
	}
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	c.reload("/2fa")
	c.mustContain("push-spent", "Push works again at "+budget.FreesAt.Add(time.Second-1).In(tokyo).Format("15:04"))
	c.mustLack("use-push")
	c.shot("push-spent")

	if p := c.problems(); len(p) > 0 {
		t.Fatalf("the browser reported script errors or CSP violations:\n%s", strings.Join(p, "\n"))
	}
	step("done")
}
