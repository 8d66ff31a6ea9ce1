package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// qrLoginOf is the QR login the server keeps in the tab's session: what
// the test reads where a phone would read the QR code's image (the test
// checks that the image is the QR code of exactly this text).
func (c *chromeTab) qrLoginOf(bp *browserPortal) qrLoginState {
	c.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range c.cookies() {
		req.AddCookie(ck)
	}
	s := bp.p.sessions.load(req)
	if s == nil {
		c.t.Fatal("the tab has no session")
	}
	defer s.mu.Unlock()
	if s.factor == nil || s.factor.qr == nil {
		c.t.Fatal("the tab's session shows no QR code")
	}
	return *s.factor.qr
}

// cookies are the tab's cookies for the portal (HttpOnly ones included).
func (c *chromeTab) cookies() []*http.Cookie {
	c.t.Helper()
	var cookies []*network.Cookie
	c.do("read the cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{c.base}})
		if err == nil {
			cookies = res.Cookies
		}
		return err
	}))
	var out []*http.Cookie
	for _, ck := range cookies {
		out = append(out, &http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	return out
}

// get fetches path as the tab would, with its cookies, and returns the
// body.
func (c *chromeTab) get(path string) []byte {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range c.cookies() {
		req.AddCookie(ck)
	}
	resp, err := (&http.Client{Timeout: browserStep}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
	}
	return b
}

// TestBrowserQRLogin walks "Log in with QR code" in headless Chromium:
// from the push page, the page shows the QR code and the number; the
// phone (deviceclient) scans it and approves with the number, and the
// page moves on by itself. Then the wrong number (the code ends, in
// amber, with a new one offered), a countdown at its end ("Expired — get
// a new one", whose link shows a new code), and leaving for a challenge
// (the code is withdrawn).
func TestBrowserQRLogin(t *testing.T) {
	began := time.Now()
	bin := findChromium(t)
	bp := startBrowserPortal(t)
	c := startChrome(t, bin, bp.url)
	ph := newAppPhone(t, bp.url, bp.clock.Now)
	alice := bp.p.users["alice"]
	step := func(name string) { t.Logf("%6.2fs  %s", time.Since(began).Seconds(), name) }

	step("activate a phone")
	c.activateFirstPhone(ph)

	step("no notification arrived: \"Log in with QR code\" shows the code and the number")
	c.login("alice", alicePW, "/2fa")
	c.mustContain("use-qr", "Log in with QR code")
	c.click("use-qr", "/2fa")
	if w := js[int](c, `document.getElementById("login-qr").naturalWidth`); w != qrSize {
		t.Fatalf("the QR image is %d pixels wide; want %d (did it load?)", w, qrSize)
	}
	number := c.text("qr-number")
	if !twoDigitsRE.MatchString(number) {
		t.Fatalf("#qr-number is %q; want 2 digits", number)
	}
	c.mustContain("qr-status", "Waiting for you to scan the code")
	q := c.qrLoginOf(bp)
	if q.number != number || strings.Contains(c.describe(), q.handle) ||
		strings.Contains(js[string](c, `document.documentElement.outerHTML`), q.handle) {
		t.Fatal("the page shows another number, or carries the handle")
	}
	// The image the page shows is the QR code of the login's text.
	login, err := enroll.ParseQRLogin(q.text)
	if err != nil {
		t.Fatal(err)
	}
	want, err := login.QR(qrSize)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(c.get("/2fa/qr.png"), want) {
		t.Fatal("the page's QR image is not the QR code of its login")
	}
	c.shot("qr-login")
	// "Can't scan?" open: the code's text, for a phone without a camera,
	// wraps within the page at either size.
	js[bool](c, `document.getElementById("qr-cant-scan").open = true`)
	if got := js[string](c, `document.getElementById("qr-text").innerText`); got != q.text {
		t.Fatalf("\"Can't scan?\" shows %q; the code's text is %q", got, q.text)
	}
	c.shot("qr-login-cant-scan")

	step("the phone scans the code and approves with the number: the page moves on by itself")
	c.markPage()
	ctx, cancel := ph.ctx()
	pr, err := ph.api.ScanLogin(ctx, ph.cred, q.text)
	cancel()
	if err != nil {
		t.Fatalf("phone: ScanLogin: %v", err)
	}
	if pr.Context.Action != "Login" || pr.Context.IP != "127.0.0.1" || !strings.Contains(pr.Context.Browser, "Chrome") {
		t.Fatalf("phone: the prompt shows %+v; want a Login from Chrome at 127.0.0.1", pr.Context)
	}
	ph.answer(pr, true, number)
	c.waitPage("/account", browserWait)
	c.mustContain("user", "Alice Example")
	c.logout()

	step("the wrong number typed on the phone: the code ends, in amber, and a new one is offered")
	c.login("alice", alicePW, "/2fa")
	c.click("use-qr", "/2fa")
	q = c.qrLoginOf(bp)
	c.markPage()
	ph.scanWrongNumber(q)
	c.waitPage("/2fa", browserWait)
	c.mustContain("qr-ended", "was not the one shown here")
	if !js[bool](c, `document.getElementById("qr-ended").classList.contains("warning")`) || c.has("login-qr") {
		t.Fatalf("the ended code is not amber, or still shown\n%s", c.describe())
	}
	c.shot("qr-login-wrong-number")

	step("a countdown at its end: \"Expired — get a new one\"; the link shows a new code")
	c.click("qr-new", "/2fa")
	q = c.qrLoginOf(bp)
	js[chromedp.Void](c, `document.getElementById("qr-expires").setAttribute("data-remaining", "0")`)
	c.waitUntil("the countdown's end", `document.querySelector("[data-countdown]").innerText.startsWith("Expired — get a new one")`, browserStep)
	c.shot("qr-login-expired")
	bp.clock.Advance(3 * time.Minute) // the code's lifetime, on the portal's clock
	c.markPage()
	js[chromedp.Void](c, `document.querySelector("[data-countdown] a").click()`)
	c.waitPage("/2fa", browserWait)
	if !c.has("login-qr") || c.qrLoginOf(bp).handle == q.handle {
		t.Fatalf("the link did not show a new code\n%s", c.describe())
	}

	step("leaving for a challenge withdraws the code")
	q = c.qrLoginOf(bp)
	c.click("use-challenge", "/2fa")
	if !sixDigitsRE.MatchString(c.text("challenge")) {
		t.Fatal("no challenge")
	}
	if st, err := bp.p.svc.QRLoginStatus(context.Background(), alice.ID, q.handle, 0); err != nil || st != authn.PushCancelled {
		t.Fatalf("the code left: %v, %v; want cancelled", st, err)
	}
	if p := c.problems(); len(p) > 0 {
		t.Fatalf("the browser reported: %q", p)
	}
}
