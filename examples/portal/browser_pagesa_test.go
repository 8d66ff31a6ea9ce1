package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
)

// TestBrowserLastUsedAndPassword walks, in headless Chromium, the
// security page's "last used" column (in words, and the local time by
// portal.js) after a sign-in by push; the change-password page (from the
// security page, after that sign-in's step-up, post/redirect/get:
// reload and Back send nothing again), the old password refused and the
// new one taken; and the link of a declined sign-in's text, which a
// signed-out user follows through the sign-in back to the
// change-password page. Then a QR code answered with the wrong number
// (the tries left), and the push budget spent: no new QR code offered,
// and when it works again in local time.
func TestBrowserLastUsedAndPassword(t *testing.T) {
	began := time.Now()
	bin := findChromium(t)
	bp := startBrowserPortal(t)
	c := startChrome(t, bin, bp.url)
	ph := newAppPhone(t, bp.url, bp.clock.Now)
	step := func(name string) { t.Logf("%6.2fs  %s", time.Since(began).Seconds(), name) }
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}

	step("activate a phone: never used yet")
	c.timezone("Asia/Tokyo") // the person's own time, not the server's nor UTC
	c.activateFromSecurity(ph)
	used := "used-" + ph.cred.DeviceID()
	c.mustContain(used, "never")
	c.logout()

	step("sign in with a push: the phone's \"last used\" says so, in words and in local time")
	bp.clock.Advance(3 * time.Minute)
	c.login("alice", alicePW, "/2fa")
	number := c.text("push-number")
	c.markPage()
	at := bp.clock.Now()
	ph.answer(ph.onlyPrompt("Login"), true, number)
	c.waitPage("/account", browserWait)
	bp.clock.Advance(2 * time.Minute)
	c.click("nav-security", "/security")
	c.mustContain(used, "2 minutes ago", "(at "+at.In(tokyo).Format("15:04")+")")
	c.shot("last-used")

	step("change the password: a form behind the sign-in's step-up, then the security page says so")
	c.click("password-link", "/security/password")
	c.mustContain("title", "Change your password")
	c.mustLack("stepup")
	c.shot("password")
	const newPW = "a new and longer password"
	c.typeInto("current-password", "not-alice-password")
	c.typeInto("new-password", newPW)
	c.typeInto("again-password", newPW)
	c.click("password-submit", "/security/password")
	c.mustContain("error", "current password is wrong", "nothing was changed")
	c.typeInto("current-password", alicePW)
	c.typeInto("new-password", newPW)
	c.typeInto("again-password", newPW)
	c.click("password-submit", "/security")
	c.mustContain("notice", "Your password was changed")
	c.reload("/security") // sends nothing again
	c.mustLack("notice")
	c.back("/security/password")
	c.notForbidden()
	c.logout()

	step("the old password no longer signs in; the new one does")
	c.login("alice", alicePW, "/login")
	c.mustContain("error", wrongLogin)
	c.login("alice", newPW, "/2fa")

	step("a declined sign-in links to the change-password page; following it signs in first, then shows it")
	c.markPage()
	ph.answer(ph.onlyPrompt("Login"), false, "")
	c.waitPage("/login", browserWait)
	c.mustContain("notice", "You declined this sign-in on your phone", "change it")
	c.click("notice-link", "/login")
	c.typeInto("username", "alice")
	c.typeInto("password", newPW)
	c.click("login-submit", "/2fa")
	question := c.text("challenge") // push is paused after the denial
	c.typeInto("response", ph.respond(question))
	c.click("challenge-submit", "/security/password")
	c.mustContain("title", "Change your password")
	c.logout()

	step("a QR code answered with the wrong number says the tries left; with the push budget spent, no new QR code is offered, and the page says when it works again")
	c.login("alice", newPW, "/2fa") // push is paused: a challenge, and the QR code offered
	c.click("use-qr", "/2fa")
	q := c.qrLoginOf(bp)
	c.markPage()
	ph.scanWrongNumber(q)
	c.waitPage("/2fa", browserWait)
	c.mustContain("qr-ended", "that counted as a failed attempt", fmt.Sprintf("%d tries left before a lock", authn.DefaultMaxFailures-1))
	// Three pushes in 15 minutes: the sign-in approved, the one declined,
	// and this QR code.
	budget, err := bp.p.svc.PushBudget(context.Background(), bp.p.users["alice"].ID)
	if err != nil || budget.Left != 0 {
		t.Fatalf("the push budget: %+v, %v; want it spent", budget, err)
	}
	c.click("qr-new", "/2fa")
	c.mustLack("login-qr")
	c.mustLack("use-qr")
	c.mustContain("push-spent", "Logging in with a QR code works again at "+budget.FreesAt.Add(time.Second-1).In(tokyo).Format("15:04"))
	c.shot("qr-spent")
	if p := c.problems(); len(p) > 0 {
		t.Fatalf("the browser reported: %q", p)
	}
}
