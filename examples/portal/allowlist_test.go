package main

import (
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestAllowlist: with -allow, every login call carries the client's
// address (here forwarded by a trusted proxy), and the Service refuses
// the second factor from elsewhere, with a page that says so.
func TestAllowlist(t *testing.T) {
	h := newHarness(t, func(c *config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.Allow = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	b := h.browser()
	b.xff = "10.1.2.3"
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	h.challengeLogin(b, "alice", alicePW, ph) // from inside: signed in
	b.post("/logout", nil)

	b.xff = "192.0.2.1"
	pg := b.login("alice", alicePW)
	if pg.status != http.StatusForbidden || !strings.Contains(pg.body, "network address is not allowed") {
		t.Fatalf("from outside: status %d on %s; want 403 and the allowlist's message:\n%s", pg.status, pg.path(), pg.body)
	}
	pg = b.post("/2fa/challenge", url.Values{"response": {"12345678"}})
	if pg.path() == "/account" || pg.status == http.StatusOK && !strings.Contains(pg.body, "network address is not allowed") {
		t.Fatalf("a response from outside: status %d on %s:\n%s", pg.status, pg.path(), pg.body)
	}
	if !strings.Contains(h.logs.String(), `"address_refused"`) || !strings.Contains(h.logs.String(), `"addr":"192.0.2.1"`) {
		t.Fatal("the refusal is not in the audit log")
	}
}

func TestAllowFlag(t *testing.T) {
	cfg, err := parseFlags([]string{"-allow", "10.0.0.0/8,192.168.0.0/16", "-allow", "2001:db8::1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.0.0/16", "2001:db8::1/128"}
	if len(cfg.Allow) != len(want) {
		t.Fatalf("-allow gave %v; want %v", cfg.Allow, want)
	}
	for i, p := range cfg.Allow {
		if p.String() != want[i] {
			t.Fatalf("-allow gave %v; want %v", cfg.Allow, want)
		}
	}
	if _, err := parseFlags([]string{"-allow", "10.0.0.0/33"}, io.Discard); err == nil {
		t.Fatal("-allow 10.0.0.0/33 accepted")
	}
}
