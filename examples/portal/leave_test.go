package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn"
)

var leavePageRE = regexp.MustCompile(`data-leave="/2fa/leave" data-leave-page="([^"]+)"`)

// leavePageOf is the page token the page's leave beacon carries.
func leavePageOf(t *testing.T, pg *page) string {
	t.Helper()
	m := leavePageRE.FindStringSubmatch(pg.body)
	if m == nil {
		t.Fatalf("no leave beacon on %s:\n%s", pg.url, pg.body)
	}
	return m[1]
}

// beacon posts what portal.js's pagehide beacon posts, as Chromium sends
// it (Origin null under the portal's Referrer-Policy, Fetch Metadata
// same-origin), and returns the status.
func (b *browser) beacon(form url.Values) int {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.h.url+"/2fa/leave", strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("Origin", "null")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pushLeft is what is left of the user's push budget.
func (h *harness) pushLeft(u *user) int {
	h.t.Helper()
	budget, err := h.p.svc.PushBudget(context.Background(), u.ID)
	if err != nil {
		h.t.Fatalf("PushBudget: %v", err)
	}
	return budget.Left
}

// pushIDOf is the push the browser's session shows.
func (h *harness) pushIDOf(b *browser) string {
	h.t.Helper()
	s := h.sessionOf(b)
	defer s.mu.Unlock()
	if s.factor == nil {
		return ""
	}
	return s.factor.pushID
}

// TestLeaveBeaconPush: closing the tab or typing another address on the
// push page withdraws the push, and its unit of the push budget comes
// back (issue 17: "no push spent on a page the user is leaving"). The
// beacon needs the CSRF token; the beacon of a page reloaded (the page
// shown again first) does nothing, and the reloaded page's push still
// works; a beacon that won the race against the reload leaves a new push
// for the page fetched next; the beacon of a page that moved on after
// the phone approved does nothing, as does one for an approved push.
func TestLeaveBeaconPush(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	alice := h.p.users["alice"]
	full := h.pushLeft(alice)

	pg := b.login("alice", alicePW)
	number, pushID, page := pg.text("push-number"), h.pushIDOf(b), leavePageOf(t, pg)
	if got := h.pushLeft(alice); got != full-1 {
		t.Fatalf("push budget %d left with a push shown; want %d", got, full-1)
	}
	csrf := b.csrf()

	// Without the CSRF token, or from another site: refused, nothing done.
	if st := b.beacon(url.Values{"page": {page}}); st != http.StatusForbidden {
		t.Fatalf("a beacon without the CSRF token: %d; want 403", st)
	}
	if st := b.beacon(url.Values{"csrf": {"x" + csrf}, "page": {page}}); st != http.StatusForbidden {
		t.Fatalf("a beacon with a wrong CSRF token: %d; want 403", st)
	}
	req, _ := http.NewRequest(http.MethodPost, h.url+"/2fa/leave", strings.NewReader(url.Values{"csrf": {csrf}, "page": {page}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a beacon from another site: %v, %v; want 403", resp, err)
	} else {
		resp.Body.Close()
	}
	// Another page's token: nothing.
	if st := b.beacon(url.Values{"csrf": {csrf}, "page": {"not-" + page}}); st != http.StatusNoContent {
		t.Fatalf("a beacon naming another page: %d; want 204", st)
	}
	if st := h.pushState(alice, pushID); st != authn.PushPending || h.pushLeft(alice) != full-1 {
		t.Fatalf("after refused beacons the push is %s, %d left; want it pending, %d left", st, h.pushLeft(alice), full-1)
	}

	// A reload: the page is fetched again first, showing the same push;
	// the beacon of the page it replaced does nothing.
	pg = b.get("/2fa")
	if pg.text("push-number") != number || h.pushIDOf(b) != pushID {
		t.Fatalf("the reload shows push %s (%s); want the same push %s (%s)", h.pushIDOf(b), pg.text("push-number"), pushID, number)
	}
	reloaded := leavePageOf(t, pg)
	if reloaded == page {
		t.Fatal("the reloaded page has the same page token")
	}
	if st := b.beacon(url.Values{"csrf": {csrf}, "page": {page}}); st != http.StatusNoContent {
		t.Fatalf("the replaced page's beacon: %d; want 204", st)
	}
	if st := h.pushState(alice, pushID); st != authn.PushPending {
		t.Fatalf("the replaced page's beacon left the push %s; want it pending", st)
	}

	// Leaving the page shown last: the push is withdrawn, its unit back.
	if st := b.beacon(url.Values{"csrf": {csrf}, "page": {reloaded}}); st != http.StatusNoContent {
		t.Fatalf("the beacon: %d; want 204", st)
	}
	if st := h.pushState(alice, pushID); st != authn.PushCancelled {
		t.Fatalf("the page left, the push is %s; want cancelled", st)
	}
	if got := h.pushLeft(alice); got != full {
		t.Fatalf("push budget %d left after the page was left; want %d (the unit back)", got, full)
	}
	if !strings.Contains(h.logs.String(), `"event":"portal_page_left"`) {
		t.Fatal("no portal_page_left event in the log")
	}

	// A reload whose beacon came first: the page shows a new push.
	pg = b.get("/2fa")
	if !pg.has("push-number") || h.pushIDOf(b) == "" || h.pushIDOf(b) == pushID {
		t.Fatalf("after the beacon the page shows push %q; want a new one:\n%s", h.pushIDOf(b), pg.body)
	}
	if got := h.pushLeft(alice); got != full-1 {
		t.Fatalf("push budget %d left with the new push; want %d", got, full-1)
	}

	// The page moves on after the phone approved: the finish renewed the
	// session, and the beacon sent as the page went does nothing.
	page, csrf, pushID = leavePageOf(t, pg), b.csrf(), h.pushIDOf(b)
	if _, err := ph.answer(true, pg.text("push-number")); err != nil {
		t.Fatal(err)
	}
	pg = b.post("/2fa/push/finish", nil)
	if pg.path() != "/account" {
		t.Fatalf("after the approval on %s; want /account", pg.path())
	}
	if st := b.beacon(url.Values{"csrf": {csrf}, "page": {page}}); st != http.StatusForbidden {
		t.Fatalf("the beacon of the page that moved on: %d; want 403 (its token was renewed away)", st)
	}
	pg = b.get("/account")
	if pg.path() != "/account" || pg.has("notice") || pg.has("error") {
		t.Fatalf("after the beacon the account page is %s:\n%s", pg.path(), pg.body)
	}
	if st := h.pushState(alice, pushID); st != authn.PushFinished {
		t.Fatalf("the push is %s; want finished", st)
	}

	// Approved, the page left before it finished: nothing is withdrawn,
	// and the page fetched again finishes the login.
	b.post("/logout", nil)
	pg = b.login("alice", alicePW)
	page, csrf, pushID = leavePageOf(t, pg), b.csrf(), h.pushIDOf(b)
	if _, err := ph.answer(true, pg.text("push-number")); err != nil {
		t.Fatal(err)
	}
	if st := b.beacon(url.Values{"csrf": {csrf}, "page": {page}}); st != http.StatusNoContent {
		t.Fatalf("the beacon: %d; want 204", st)
	}
	if st := h.pushState(alice, pushID); st != authn.PushApproved {
		t.Fatalf("the approved push is %s after the beacon; want still approved", st)
	}
	if pg = b.post("/2fa/push/finish", nil); pg.path() != "/account" {
		t.Fatalf("finishing the approved push after the beacon: on %s; want /account", pg.path())
	}
}

// TestLeaveBeaconQR: leaving the QR login page withdraws its code, its
// unit of the push budget back, and the page fetched next shows a new
// code; the beacon of a page reloaded does nothing.
func TestLeaveBeaconQR(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	alice := h.p.users["alice"]
	full := h.pushLeft(alice)

	pg := qrLoginPage(t, b) // the push the page started is withdrawn for the code
	q, page, csrf := h.qrOf(b), leavePageOf(t, pg), b.csrf()
	if got := h.pushLeft(alice); got != full-1 {
		t.Fatalf("push budget %d left with a QR code shown; want %d", got, full-1)
	}
	pg = b.get("/2fa") // a reload: the same code
	if h.qrOf(b).handle != q.handle {
		t.Fatal("the reload shows another code")
	}
	if st := b.beacon(url.Values{"csrf": {csrf}, "page": {page}}); st != http.StatusNoContent {
		t.Fatalf("the replaced page's beacon: %d; want 204", st)
	}
	st, err := h.p.svc.QRLoginStatus(context.Background(), alice.ID, q.handle, 0)
	if err != nil || st != authn.PushPending {
		t.Fatalf("the replaced page's beacon left the code %s, %v; want pending", st, err)
	}
	if code := b.beacon(url.Values{"csrf": {csrf}, "page": {leavePageOf(t, pg)}}); code != http.StatusNoContent {
		t.Fatalf("the beacon: %d; want 204", code)
	}
	st, err = h.p.svc.QRLoginStatus(context.Background(), alice.ID, q.handle, 0)
	if err != nil || st != authn.PushCancelled {
		t.Fatalf("the page left, the code is %s, %v; want cancelled", st, err)
	}
	if got := h.pushLeft(alice); got != full {
		t.Fatalf("push budget %d left after the page was left; want %d (the unit back)", got, full)
	}
	pg = b.get("/2fa")
	if !pg.has("login-qr") || h.qrOf(b).handle == q.handle {
		t.Fatalf("after the beacon the page shows no new code:\n%s", pg.body)
	}
}
