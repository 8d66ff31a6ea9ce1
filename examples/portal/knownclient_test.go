package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
)

// knownCookie is the last known-client Set-Cookie header b saw.
func (b *browser) knownCookie(name string) string {
	for i := len(b.cookies) - 1; i >= 0; i-- {
		if strings.HasPrefix(b.cookies[i], name+"=") {
			return b.cookies[i]
		}
	}
	return ""
}

// TestKnownBrowserNotLockedByAttacker: someone who knows alice's password
// types wrong responses from their own browser until locked; alice's
// browser, which passed a second factor before, logs in all the same.
func TestKnownBrowserNotLockedByAttacker(t *testing.T) {
	h := newHarness(t)
	owner := h.browser()
	ph := h.enrollFirstPhone(owner, "alice", alicePW, "Alice's phone")
	owner.post("/logout", nil)
	h.clock.Advance(30 * time.Second)
	h.challengeLogin(owner, "alice", alicePW, ph)
	c := owner.knownCookie(knownClientCookie)
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(c, want) {
			t.Fatalf("the known-client cookie %q lacks %s", c, want)
		}
	}
	if strings.Contains(c, "Secure") {
		t.Fatalf("-insecure-demo over HTTP: the cookie %q is Secure", c)
	}
	owner.post("/logout", nil)

	attacker := h.browser()
	attacker.login("alice", alicePW)
	pg := attacker.post("/2fa/method", url.Values{"method": {"challenge"}})
	for try := 1; try <= authn.DefaultMaxFailures; try++ {
		pg = attacker.post("/2fa/challenge", url.Values{"response": {"0000 0000"}})
	}
	pg.mustContain("locked", "Too many failed attempts")

	h.clock.Advance(30 * time.Second)
	h.challengeLogin(owner, "alice", alicePW, ph) // not locked: its own budget
	if pg := attacker.get("/2fa"); !pg.has("locked") {
		t.Fatalf("the attacker's browser is no longer locked:\n%s", pg.body)
	}
}

// TestKnownClientCookieSecure: under TLS the cookie is Secure, with the
// __Host- prefix.
func TestKnownClientCookieSecure(t *testing.T) {
	h := newHarness(t, func(c *config) { c.SecureCookies = true })
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	h.clock.Advance(30 * time.Second)
	h.challengeLogin(b, "alice", alicePW, ph)
	if c := b.knownCookie(knownClientCookieSecure); !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") {
		t.Fatalf("under TLS the known-client cookie is %q", c)
	}
}
