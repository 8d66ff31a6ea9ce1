package main

import (
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn/memstore"
)

// changePassword posts the change-password form.
func changePassword(b *browser, current, next, again string) *page {
	b.t.Helper()
	return b.post("/security/password", url.Values{"current": {current}, "new": {next}, "again": {again}})
}

// TestChangePassword: the security page links to the change-password
// page; with a fresh step-up a new password typed twice replaces the
// old one (post/redirect/get, a success notice); the old one no longer
// signs in, the new one does; another session of the user ends (issue
// 17: the deny texts said "change your password" and there was no such
// page).
func TestChangePassword(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	other := h.browser()
	h.challengeLogin(other, "alice", alicePW, ph)

	pg := b.get("/security")
	if !strings.Contains(pg.body, `id="password-link" href="/security/password"`) {
		t.Fatalf("the security page does not link to the change-password page:\n%s", pg.body)
	}
	// Signed in on trust, without a fresh step-up: the page asks for one.
	pg = b.get("/security/password")
	pg.mustContain("title", "Change your password")
	if pg.has("password-form") || !pg.has("stepup") {
		t.Fatalf("the password can be changed without a step-up:\n%s", pg.body)
	}
	pg = stepUpWithPhone(t, b, b.post("/security/stepup", url.Values{"next": {"/security/password"}}), ph)
	if pg.path() != "/security/password" || !pg.has("password-form") {
		t.Fatalf("after the step-up on %s; want the change-password form:\n%s", pg.path(), pg.body)
	}
	for _, id := range []string{`id="current-password"`, `autocomplete="current-password"`, `id="new-password"`, `autocomplete="new-password"`, `id="again-password"`} {
		if !strings.Contains(pg.body, id) {
			t.Errorf("the form lacks %s", id)
		}
	}

	const newPW = "a new and longer password"
	// The step-up lapses under the form: a new one, back to the empty
	// form (the passwords were not kept for after it), nothing changed.
	h.clock.Advance(h.p.proofTTL)
	pg = changePassword(b, alicePW, newPW, newPW)
	if pg.path() != "/2fa" {
		t.Fatalf("a change after the step-up lapsed: on %s; want a new step-up", pg.path())
	}
	pg.mustContain("notice", "nothing was changed")
	s := h.sessionOf(b)
	kept := s.factor != nil && s.factor.pending != nil
	s.mu.Unlock()
	if kept {
		t.Fatal("the passwords were kept in the session for after the step-up")
	}
	if pg = stepUpWithPhone(t, b, pg, ph); pg.path() != "/security/password" || !pg.has("password-form") {
		t.Fatalf("after the second step-up on %s", pg.path())
	}
	if pg := other.get("/account"); pg.path() != "/account" {
		t.Fatalf("the other session ended before the change: on %s", pg.path())
	}
	b.get("/security/password")
	pg = changePassword(b, alicePW, newPW, newPW)
	if pg.path() != "/security" {
		t.Fatalf("after the change on %s; want /security:\n%s", pg.path(), pg.body)
	}
	pg.mustContain("notice", "Your password was changed")
	if strings.Contains(pg.body, `class="notice warning"`) {
		t.Fatal("the success is amber")
	}
	if b.last.url != h.url+"/security" || pg.status != 200 {
		t.Fatal("the change did not end on a GET page")
	}
	// This session goes on; the other one ended.
	if pg := b.get("/account"); pg.path() != "/account" {
		t.Fatalf("the session that changed the password ended: on %s", pg.path())
	}
	if pg := other.get("/account"); pg.path() != "/login" {
		t.Fatalf("another session of alice survived the change: on %s", pg.path())
	}

	b.post("/logout", nil)
	if pg := b.login("alice", alicePW); pg.path() != "/login" {
		t.Fatalf("the old password still signs in: on %s", pg.path())
	} else {
		pg.mustContain("error", wrongLogin)
	}
	if pg := b.login("alice", newPW); pg.path() != "/2fa" {
		t.Fatalf("the new password does not sign in: on %s", pg.path())
	}
	if !strings.Contains(h.logs.String(), `"event":"portal_password_changed"`) {
		t.Error("the change is not in the audit log")
	}
}

// TestChangePasswordRefused: a wrong current password, two new ones that
// differ, one too short or the same as the current: each is refused,
// says why, and changes nothing.
func TestChangePasswordRefused(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("alice", alicePW) // no second factor: changes are made on trust
	pg := b.get("/security/password")
	if !pg.has("password-form") {
		t.Fatalf("no form for a user without a second factor:\n%s", pg.body)
	}
	for _, tc := range []struct {
		what, current, next, again, want string
	}{
		{"a wrong current password", "not-alice-password", "a new and longer password", "a new and longer password", "current password is wrong"},
		{"two new ones that differ", alicePW, "a new and longer password", "a new and longer passwore", "not the same"},
		{"a short one", alicePW, "short", "short", "at least 12 characters"},
		{"the current one", alicePW, alicePW, alicePW, "differ from the current"},
	} {
		pg := changePassword(b, tc.current, tc.next, tc.again)
		if pg.path() != "/security/password" || !pg.has("password-form") {
			t.Fatalf("%s: on %s; want the form again", tc.what, pg.path())
		}
		pg.mustContain("error", tc.want)
		pg.mustContain("error", "nothing was changed")
		if strings.Contains(pg.body, tc.next) || strings.Contains(pg.body, tc.current) {
			t.Fatalf("%s: a password is shown again on the page", tc.what)
		}
	}
	b.post("/logout", nil)
	if pg := b.login("alice", alicePW); pg.path() == "/login" {
		t.Fatal("a refused change changed the password")
	}
}

// TestDeclinedLinksToPasswordChange: the texts of a declined sign-in
// and a declined withdrawal link to the change-password page; a user
// signed out by the denial who follows the link signs in first and
// comes back to it.
func TestDeclinedLinksToPasswordChange(t *testing.T) {
	h := newHarness(t)

	// A withdrawal declined on bob's phone.
	bb := h.browser()
	bobs := h.enrollFirstPhone(bb, "bob", bobPW, "Bob's phone")
	if pg := bb.post("/withdraw", url.Values{"amount": {"10"}, "currency": {"EUR"}, "to": {"Savings 1"}}); !pg.has("push-number") {
		t.Fatalf("the withdrawal is not signed by push:\n%s", pg.body)
	}
	if _, err := bobs.answer(false, ""); err != nil {
		t.Fatal(err)
	}
	pg := bb.post("/withdraw/push/finish", nil)
	pg.mustContain("notice", "You declined this withdrawal on your phone")
	if !strings.Contains(pg.body, `id="notice-link" href="/security/password"`) {
		t.Fatalf("the declined withdrawal does not link to the change-password page:\n%s", pg.body)
	}

	// A sign-in declined on alice's phone.
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	if pg := b.login("alice", alicePW); !pg.has("push-number") {
		t.Fatalf("no push at the sign-in:\n%s", pg.body)
	}
	if _, err := ph.answer(false, ""); err != nil {
		t.Fatal(err)
	}
	pg = b.post("/2fa/push/finish", nil)
	if pg.path() != "/login" {
		t.Fatalf("after the denial on %s", pg.path())
	}
	pg.mustContain("notice", "You declined this sign-in on your phone")
	if !strings.Contains(pg.body, `id="notice-link" href="/security/password"`) {
		t.Fatalf("the declined sign-in does not link to the change-password page:\n%s", pg.body)
	}
	// Following it: sign in first, then the page.
	if pg = b.get("/security/password"); pg.path() != "/login" {
		t.Fatalf("the link, signed out: on %s; want the sign-in page", pg.path())
	}
	h.challengeLoginTo(b, "alice", alicePW, ph, "/security/password")

	// A browser without a session follows the link too.
	fresh := h.browser()
	if pg = fresh.get("/security/password"); pg.path() != "/login" {
		t.Fatalf("the link, no session: on %s", pg.path())
	}
	h.challengeLoginTo(fresh, "alice", alicePW, ph, "/security/password")
}

// challengeLoginTo signs in with the password and the phone's response
// (push switched for a challenge) and checks where it lands.
func (h *harness) challengeLoginTo(b *browser, username, password string, ph *phone, want string) *page {
	h.t.Helper()
	pg := b.post("/login", url.Values{"username": {username}, "password": {password}})
	if pg.has("push-number") || !pg.has("challenge") {
		pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	}
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(pg.text("challenge"))}})
	if pg.path() != want {
		h.t.Fatalf("after signing in on %s; want %s:\n%s", pg.path(), want, pg.body)
	}
	return pg
}

// TestChangedPasswordKept: a changed password is kept in the data
// directory's passwords file (mode 0600, the other users' lines kept): a
// portal started again on it signs in with the new password and not the
// old one. A line of a user the portal no longer has is ignored; a
// broken file stops the start.
func TestChangedPasswordKept(t *testing.T) {
	dir := t.TempDir()
	inDir := func(c *config) { c.DataDir = dir }
	h := newHarness(t, inDir)
	const alicePW2, bobPW2 = "alice's second password", "bob's second password"
	for _, u := range []struct{ name, old, next string }{{"alice", alicePW, alicePW2}, {"bob", bobPW, bobPW2}} {
		b := h.browser()
		b.login(u.name, u.old)
		b.get("/security/password")
		if pg := changePassword(b, u.old, u.next, u.next); pg.path() != "/security" {
			t.Fatalf("%s: the change ended on %s", u.name, pg.path())
		}
	}
	b := h.browser()
	b.login("alice", alicePW2)
	b.get("/security/password")
	changePassword(b, alicePW2, alicePW2+"!", alicePW2+"!") // a second change replaces alice's line
	path := filepath.Join(dir, passwordsFileName)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("the passwords file has mode %v; want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if n := strings.Count(string(raw), "\n"); n != 2 || strings.Count(string(raw), "alice:") != 1 || strings.Count(string(raw), "bob:") != 1 {
		t.Fatalf("the passwords file holds %d lines; want one for alice and one for bob:\n%s", n, raw)
	}
	if strings.Contains(string(raw), alicePW2) {
		t.Fatal("the passwords file holds a password")
	}

	// Another portal on the same data directory (a restart), with a line
	// for a user it does not have.
	if err := os.WriteFile(path, append(raw, []byte("carol:"+hashPassword("x", testArgon)+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, inDir)
	for _, tc := range []struct {
		user, pw string
		in       bool
	}{{"alice", alicePW, false}, {"alice", alicePW2, false}, {"alice", alicePW2 + "!", true}, {"bob", bobPW, false}, {"bob", bobPW2, true}} {
		pg := h2.browser().login(tc.user, tc.pw)
		if in := pg.path() != "/login"; in != tc.in {
			t.Errorf("after a restart, %s with %q: signed in %v; want %v", tc.user, tc.pw, in, tc.in)
		}
	}

	if err := os.WriteFile(path, []byte("alice:not a hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config{DataDir: dir, InsecureDemo: true, DemoUsers: true, Store: memstore.New(), Logger: quiet, Stderr: io.Discard, Argon: testArgon}
	if p, err := newPortal(cfg); err == nil {
		p.Close()
		t.Fatal("a broken passwords file did not stop the start")
	} else if !strings.Contains(err.Error(), "passwords file") {
		t.Fatalf("a broken passwords file: %v; want it named", err)
	}
}
