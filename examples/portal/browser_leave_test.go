package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyline/keyline/authn"
)

// activateFirstPhone signs alice in without a second factor, activates
// the phone from the security page (the session ID typed, the pairing
// code typed back), skips the recovery codes offered, and signs out.
func (c *chromeTab) activateFirstPhone(ph *appPhone) {
	c.t.Helper()
	c.activateFromSecurity(ph)
	c.logout()
}

// activateFromSecurity is activateFirstPhone up to the security page it
// ends on, still signed in.
func (c *chromeTab) activateFromSecurity(ph *appPhone) {
	c.t.Helper()
	c.login("alice", alicePW, "/security")
	c.click("activate", "/security/activate")
	c.do("open \"Can't scan?\"", chromedp.Click(chromedp.CSS("#cant-scan > summary")))
	c.waitUntil("the session ID to show", `document.getElementById("session-id").checkVisibility()`, browserStep)
	c.markPage()
	pairing := ph.activate(c.text("session-id"), "Alice's phone")
	c.waitPage("/security/activate", browserWait)
	c.typeInto("code", pairing)
	c.click("pair-submit", "/security/recovery")
	c.click("recovery-later", "/security")
}

// newTab opens another tab in the same browser (sharing its cookies),
// and returns it with the function that closes it, as a person closes
// a tab.
func (c *chromeTab) newTab() (*chromeTab, func()) {
	c.t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx)
	tab := &chromeTab{t: c.t, ctx: ctx, base: c.base, shots: c.shots, only: c.only}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			c.t.Fatalf("opening a tab: %v", err)
		}
	case <-time.After(browserStep):
		c.t.Fatal("the tab did not open")
	}
	return tab, func() {
		c.t.Helper()
		if err := chromedp.Cancel(ctx); err != nil {
			c.t.Fatalf("closing the tab: %v", err)
		}
		cancel()
	}
}

// session returns the tab's server-side session, locked; the caller
// unlocks it.
func (c *chromeTab) session(bp *browserPortal) *session {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range c.cookies() {
		req.AddCookie(ck)
	}
	s := bp.p.sessions.load(req)
	if s == nil {
		c.t.Fatal("the tab has no session")
	}
	return s
}

// waitFor waits until cond holds, polling the portal's side.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(browserWait)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s: %s", browserWait, what, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBrowserLeave: no push spent on a page the user is leaving (issue
// 17). Typing another address on the push page, and closing the tab of
// the push page or of the QR login page, withdraws what the page showed
// (portal.js's pagehide beacon), and its unit of the push budget comes
// back; a reload shows the same push, which still signs in; the page
// that moved on by itself after the approval withdraws nothing.
func TestBrowserLeave(t *testing.T) {
	began := time.Now()
	bin := findChromium(t)
	bp := startBrowserPortal(t)
	c := startChrome(t, bin, bp.url)
	ph := newAppPhone(t, bp.url, bp.clock.Now)
	alice := bp.p.users["alice"]
	ctx := context.Background()
	step := func(name string) { t.Logf("%6.2fs  %s", time.Since(began).Seconds(), name) }
	left := func() int {
		t.Helper()
		b, err := bp.p.svc.PushBudget(ctx, alice.ID)
		if err != nil {
			t.Fatalf("PushBudget: %v", err)
		}
		return b.Left
	}
	// shown is the push or QR code the tab's session shows.
	shown := func(tab *chromeTab) (pushID, qrHandle string) {
		t.Helper()
		s := tab.session(bp)
		defer s.mu.Unlock()
		if s.factor == nil {
			return "", ""
		}
		if s.factor.qr != nil {
			qrHandle = s.factor.qr.handle
		}
		return s.factor.pushID, qrHandle
	}
	pushIs := func(id string, want authn.PushState) func() (bool, string) {
		return func() (bool, string) {
			st, err := bp.p.svc.PushStatus(ctx, alice.ID, id, 0)
			return err == nil && st == want, fmt.Sprintf("push %s, %v, %d pushes left", st, err, left())
		}
	}

	step("activate a phone")
	c.activateFirstPhone(ph)
	full := left()

	step("another address typed on the push page: the push is withdrawn, its unit back")
	c.login("alice", alicePW, "/2fa")
	pushID, _ := shown(c)
	if pushID == "" || left() != full-1 {
		t.Fatalf("push %q, %d left; want a push shown, %d left", pushID, left(), full-1)
	}
	c.do("go elsewhere", chromedp.Navigate("about:blank"))
	waitFor(t, "the push withdrawn", pushIs(pushID, authn.PushCancelled))
	if got := left(); got != full {
		t.Fatalf("%d pushes left after leaving the page; want %d", got, full)
	}

	step("back on the page: a new push; a reload shows the same one, which still signs in")
	c.open("/2fa")
	number := c.text("push-number")
	pushID, _ = shown(c)
	c.reload("/2fa")
	if got := c.text("push-number"); got != number {
		t.Fatalf("the reload shows %s; want the same push's %s", got, number)
	}
	if again, _ := shown(c); again != pushID {
		t.Fatal("the reload started another push")
	}
	time.Sleep(500 * time.Millisecond) // the replaced page's beacon, on its way
	if st, err := bp.p.svc.PushStatus(ctx, alice.ID, pushID, 0); err != nil || st != authn.PushPending {
		t.Fatalf("after the reload the push is %s, %v; want pending", st, err)
	}
	c.markPage()
	ph.answer(ph.onlyPrompt("Login"), true, number)
	c.waitPage("/account", browserWait) // moved on by itself; its beacon withdraws nothing
	time.Sleep(500 * time.Millisecond)
	c.mustLack("notice")
	if st, err := bp.p.svc.PushStatus(ctx, alice.ID, pushID, 0); err != nil || st != authn.PushFinished {
		t.Fatalf("the push that signed in is %s, %v; want finished", st, err)
	}
	c.logout()

	step("the push page's tab closed: the push is withdrawn, its unit back")
	bp.clock.Advance(16 * time.Minute) // a fresh push budget
	c.do("go elsewhere", chromedp.Navigate("about:blank"))
	tab, closeTab := c.newTab()
	tab.login("alice", alicePW, "/2fa")
	pushID, _ = shown(tab)
	if pushID == "" || left() != full-1 {
		t.Fatalf("push %q, %d left; want a push shown, %d left", pushID, left(), full-1)
	}
	closeTab()
	waitFor(t, "the push withdrawn", pushIs(pushID, authn.PushCancelled))
	if got := left(); got != full {
		t.Fatalf("%d pushes left after closing the tab; want %d", got, full)
	}

	step("the QR login page's tab closed: the code is withdrawn, its unit back")
	tab, closeTab = c.newTab()
	tab.open("/2fa")
	tab.click("use-qr", "/2fa")
	_, handle := shown(tab)
	if handle == "" || left() != full-1 {
		t.Fatalf("QR code %v, %d left; want a code shown, %d left", handle != "", left(), full-1)
	}
	closeTab()
	waitFor(t, "the code withdrawn", func() (bool, string) {
		st, err := bp.p.svc.QRLoginStatus(ctx, alice.ID, handle, 0)
		return err == nil && st == authn.PushCancelled, fmt.Sprintf("code %s, %v, %d pushes left", st, err, left())
	})
	if got := left(); got != full {
		t.Fatalf("%d pushes left after closing the tab; want %d", got, full)
	}
	c.open("/2fa") // the page fetched next shows a new code
	if !c.has("login-qr") {
		t.Fatalf("no new QR code after the tab was closed\n%s", c.describe())
	}
	if _, again := shown(c); again == handle || again == "" {
		t.Fatal("the page shows the withdrawn code")
	}

	if p := c.problems(); len(p) > 0 {
		t.Fatalf("the browser reported script errors or CSP violations:\n%s", strings.Join(p, "\n"))
	}
	step("done")
}
