package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn/authntest"
)

// TestCSRF: a form without the session's token, or with another token,
// does nothing and is shown again with a note (issue 17: it was a bare
// 403, which a double-click or an expired page met); a form from another
// origin is refused with 403 and does nothing.
func TestCSRF(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.get("/login")
	creds := url.Values{"username": {"alice"}, "password": {alicePW}}
	expired := func(what string, pg *page) {
		t.Helper()
		if pg.status != http.StatusOK || pg.path() != "/login" {
			t.Fatalf("%s: status %d on %s; want the sign-in page again", what, pg.status, pg.path())
		}
		pg.mustContain("notice", "nothing was done")
		if v := regexp.MustCompile(`id="username"[^>]*value="([^"]*)"`).FindStringSubmatch(pg.body); v == nil || v[1] != "alice" {
			t.Fatalf("%s: the username is not filled in again:\n%s", what, pg.body)
		}
	}

	expired("a login without a token", b.postRaw("/login", creds))

	bad := url.Values{"username": {"alice"}, "password": {alicePW}, "csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAA"}}
	expired("a login with a wrong token", b.postRaw("/login", bad))
	// Another browser's token is no good either.
	other := h.browser()
	other.get("/login")
	expired("a login with another session's token", b.post("/login", url.Values{"username": {"alice"}, "password": {alicePW}, "csrf": {other.csrf()}}))
	// Another origin, even with the right token.
	b.get("/login")
	req, _ := http.NewRequest(http.MethodPost, h.url+"/login", strings.NewReader(url.Values{
		"username": {"alice"}, "password": {alicePW}, "csrf": {b.csrf()}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if pg := b.do(req); pg.status != http.StatusForbidden {
		t.Fatalf("a login from another origin: status %d", pg.status)
	} else {
		pg.mustContain("error", "did not come from this site")
	}
	if pg := b.get("/account"); pg.path() != "/login" {
		t.Fatal("a refused form signed the browser in")
	}
	// A client with no session at all.
	fresh := h.browser()
	if pg := fresh.postRaw("/logout", url.Values{}); pg.path() != "/login" {
		t.Fatalf("a post without a session: on %s", pg.path())
	}
	// The token, when right, works; and a signed-in form checks it too.
	b.get("/login")
	if pg := b.post("/login", creds); pg.path() != "/security" {
		t.Fatalf("the right token: on %s", pg.path())
	}
	if pg := b.postRaw("/security/activate", url.Values{}); pg.path() != "/security" || pg.has("activation-link") {
		t.Fatalf("a signed-in post without a token: on %s", pg.path())
	} else {
		pg.mustContain("notice", "This form had expired, so nothing was done")
	}
	if m := b.get("/metrics").body; !strings.Contains(m, "portal_csrf_refused_total 6") {
		t.Errorf("/metrics does not count the 6 refusals:\n%s", grepLines(m, "csrf"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCookieFlags: the session cookie is HttpOnly and SameSite=Strict,
// without an expiry; Secure (and __Host-) under TLS; and its value
// changes at the password and at the second factor.
func TestCookieFlags(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			h := newHarness(t, func(c *config) { c.SecureCookies = tls })
			b := h.browser()
			b.get("/login")
			if len(b.cookies) != 1 {
				t.Fatalf("%d cookies set by the login page; want 1: %q", len(b.cookies), b.cookies)
			}
			c := b.cookies[0]
			name := "portal_session="
			if tls {
				name = "__Host-portal_session="
			}
			for _, want := range []string{name, "Path=/", "HttpOnly", "SameSite=Strict"} {
				if !strings.Contains(c, want) {
					t.Errorf("Set-Cookie %q lacks %q", c, want)
				}
			}
			if strings.Contains(c, "Secure") != tls {
				t.Errorf("Set-Cookie %q: Secure is %v; want %v", c, !tls, tls)
			}
			if strings.Contains(c, "Expires") || strings.Contains(c, "Max-Age") {
				t.Errorf("Set-Cookie %q outlives the browser", c)
			}
			if tls {
				pg := b.get("/login")
				if got := pg.header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
					t.Errorf("no HSTS under TLS: %q", got)
				}
			}
			first := b.sessionCookie()
			b.post("/login", url.Values{"username": {"bob"}, "password": {bobPW}})
			if b.sessionCookie() == first || b.sessionCookie() == "" {
				t.Fatal("the session cookie did not change at the login")
			}
			// The old token names nothing any more.
			stale := h.browser()
			u, _ := url.Parse(h.url)
			stale.c.Jar.SetCookies(u, []*http.Cookie{{Name: h.p.sessions.cookie, Value: first}})
			if pg := stale.get("/account"); pg.path() != "/login" {
				t.Fatalf("the token from before the login still works: %s", pg.path())
			}
			signedIn, n := b.sessionCookie(), len(b.cookies)
			b.post("/logout", nil) // and the login page it leads to starts a new session
			if !strings.Contains(b.cookies[n], "Max-Age=0") {
				t.Errorf("logging out does not clear the cookie: %q", b.cookies[n])
			}
			if b.sessionCookie() == signedIn {
				t.Error("the signed-in token survived the logout")
			}
		})
	}
}

// TestSecurityHeaders: every response carries the CSP (no inline script,
// no framing) and the other headers.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	for _, path := range []string{"/login", "/static/portal.js", "/no-such-page", "/metrics"} {
		pg := b.get(path)
		csp := pg.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP %q allows inline script", path, csp)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
			if got := pg.header.Get(k); got != want {
				t.Errorf("%s: %s is %q; want %q", path, k, got, want)
			}
		}
	}
	if pg := b.get("/no-such-page"); pg.status != http.StatusNotFound || !pg.has("error") {
		t.Fatalf("an unknown page: status %d", pg.status)
	}
	pg := b.get("/login")
	if pg.header.Get("Cache-Control") != "no-store" {
		t.Error("pages may be cached")
	}
	if strings.Contains(pg.body, "<script>") || strings.Contains(pg.body, " onclick=") || strings.Contains(pg.body, "style=") {
		t.Error("the page has inline script or style, which the CSP would block")
	}
	js := b.get("/static/portal.js")
	if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") || !strings.Contains(js.body, "data-poll") {
		t.Fatalf("the script: status %d, type %q", js.status, js.header.Get("Content-Type"))
	}
}

// TestBoundToSession: the QR code and status routes act on the
// requesting session's own ceremony only.
func TestBoundToSession(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("alice", alicePW)
	b.post("/security/activate", nil)
	if img := b.get("/security/activate/qr.png"); img.status != http.StatusOK {
		t.Fatalf("the own QR code: status %d", img.status)
	}
	// The same user in another browser has started nothing.
	other := h.browser()
	other.login("alice", alicePW)
	if img := other.get("/security/activate/qr.png"); img.status != http.StatusNotFound {
		t.Fatalf("another session's QR code: status %d; want 404", img.status)
	}
	if st := other.status("/security/activate/status"); st.State != "none" {
		t.Fatalf("another session's activation status: %+v", st)
	}
	// Not signed in: nothing.
	anon := h.browser()
	if pg := anon.get("/security/activate/qr.png"); pg.path() != "/login" {
		t.Fatalf("the QR code without a session led to %s", pg.path())
	}
	if pg := anon.get("/2fa/push/status"); pg.status != http.StatusUnauthorized {
		t.Fatalf("push status without a session: %d", pg.status)
	}
}

// TestRateLimit: password posts from one address are limited; the page
// says how long to wait, and the bucket refills.
func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *config) { c.LoginRate = rate{burst: 3, perMinute: 3} })
	b := h.browser()
	for i := 0; i < 3; i++ {
		if pg := b.login("alice", "wrong"); pg.status != http.StatusOK {
			t.Fatalf("attempt %d: status %d", i+1, pg.status)
		}
	}
	pg := b.login("alice", alicePW)
	if pg.status != http.StatusTooManyRequests || pg.header.Get("Retry-After") == "" {
		t.Fatalf("the 4th attempt: status %d, Retry-After %q", pg.status, pg.header.Get("Retry-After"))
	}
	pg.mustContain("error", "Too many attempts from your network")
	h.clock.Advance(30 * time.Second)
	if pg := b.login("alice", alicePW); pg.path() != "/security" {
		t.Fatalf("after waiting, the login ended on %s (status %d)", pg.path(), pg.status)
	}
}

// TestForwardedFor: X-Forwarded-For is believed only from a trusted
// proxy; the phone then shows the client's address.
func TestForwardedFor(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		t.Run(map[bool]string{false: "untrusted", true: "trusted"}[trusted], func(t *testing.T) {
			h := newHarness(t, func(c *config) {
				if trusted {
					c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
				}
			})
			b := h.browser()
			ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
			b.post("/logout", nil)
			b.xff = "198.51.100.1, 203.0.113.9"
			pg := b.login("alice", alicePW)
			if !pg.has("push-number") {
				t.Fatal("no push")
			}
			want := "127.0.0.1"
			if trusted {
				want = "203.0.113.9" // the right-most address the proxy added
			}
			if got := ph.prompt().Context.IP; got != want {
				t.Fatalf("the phone shows %s; want %s", got, want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, c := range []struct {
		remote, xff, want string
	}{
		{"192.0.2.1:1234", "203.0.113.9", "192.0.2.1"},              // not a proxy: XFF ignored
		{"10.1.2.3:1234", "203.0.113.9", "203.0.113.9"},             // a proxy
		{"10.1.2.3:1234", "198.51.100.7, 10.9.9.9", "198.51.100.7"}, // two proxies
		{"10.1.2.3:1234", "evil, 203.0.113.9", "203.0.113.9"},       // junk left of the proxy's entry
		{"10.1.2.3:1234", "203.0.113.9, junk", "10.1.2.3"},          // junk the proxy added: believe nothing
		{"10.1.2.3:1234", "", "10.1.2.3"},
		{"[2001:db8::1]:443", "", "2001:db8::1"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientIP(r, proxies).String(); got != c.want {
			t.Errorf("clientIP(%s, XFF %q) = %s; want %s", c.remote, c.xff, got, c.want)
		}
	}
	if got := ipKey(netip.MustParseAddr("2001:db8:1:2:3:4:5:6")); got != "2001:db8:1:2::/64" {
		t.Errorf("ipKey of an IPv6 address = %s", got)
	}
}

// TestAuditLog: after a whole flow the log holds the events, and no
// password, code, response, cookie or CSRF token.
func TestAuditLog(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	secrets := []string{alicePW, ph.cred.PairingCode(), b.sessionCookie(), b.csrf()}
	b.post("/logout", nil)
	b.login("alice", "a-wrong-password")
	b.login("alice", alicePW)
	secrets = append(secrets, b.sessionCookie(), "a-wrong-password")
	pg := b.post("/2fa/method", url.Values{"method": {"challenge"}})
	q := pg.text("challenge")
	resp := ph.respond(q)
	b.post("/2fa/challenge", url.Values{"response": {"9999 0000"}})
	b.post("/2fa/challenge", url.Values{"response": {resp}})
	secrets = append(secrets, resp, "99990000", b.sessionCookie(), b.csrf())

	logs := h.logs.String()
	for _, ev := range []string{"portal_password_failed", "portal_password_ok", "portal_login", "portal_logout",
		"activation_paired", "login_failed", "login_succeeded", "portal_phone_paired"} {
		if !strings.Contains(logs, `"event":"`+ev+`"`) {
			t.Errorf("the log has no %s event", ev)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log contains a secret (%d characters)", len(s))
		}
	}
}

// TestSessionTable: lifetimes, and a full table evicting anonymous
// sessions before it refuses.
func TestSessionTable(t *testing.T) {
	clock := authntest.NewClock(authntest.Start())
	st := newSessions(clock.Now, false)
	st.max = 3
	newSession := func(signedIn bool) (*session, string) {
		t.Helper()
		w := httptest.NewRecorder()
		s, err := st.create(w)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if signedIn {
			s.user, s.signedIn = &user{ID: "portal:u"}, true
		}
		s.mu.Unlock()
		return s, w.Result().Cookies()[0].Value
	}
	load := func(token string) *session {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: st.cookie, Value: token})
		s := st.load(r)
		if s != nil {
			s.mu.Unlock()
		}
		return s
	}
	_, signed := newSession(true)
	newSession(false)
	newSession(false)
	_, fresh := newSession(false) // the table is full: an anonymous one goes
	if st.count() != 3 || load(signed) == nil || load(fresh) == nil {
		t.Fatalf("after eviction: %d sessions, signed-in kept %v", st.count(), load(signed) != nil)
	}
	// Anonymous sessions live 15 minutes idle, signed-in ones 30.
	clock.Advance(20 * time.Minute)
	if load(fresh) != nil {
		t.Fatal("an anonymous session outlived its idle time")
	}
	if load(signed) == nil {
		t.Fatal("a signed-in session expired early")
	}
	clock.Advance(31 * time.Minute)
	if load(signed) != nil {
		t.Fatal("a signed-in session outlived its idle time")
	}
	// Only signed-in sessions: the table refuses.
	for range 3 {
		newSession(true)
	}
	if _, err := st.create(httptest.NewRecorder()); !errors.Is(err, errTooManySessions) {
		t.Fatalf("a full table of signed-in sessions: %v", err)
	}
	// The absolute lifetime holds however busy a session is.
	st2 := newSessions(clock.Now, false)
	w := httptest.NewRecorder()
	s, _ := st2.create(w)
	s.user = &user{ID: "portal:u"}
	s.mu.Unlock()
	token := w.Result().Cookies()[0].Value
	for range 13 * 3 {
		clock.Advance(20 * time.Minute)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(&http.Cookie{Name: st2.cookie, Value: token})
		if s := st2.load(r); s != nil {
			s.mu.Unlock()
		} else {
			if d := clock.Now().Sub(authntest.Start()); d < sessionAbsolute-20*time.Minute {
				t.Fatalf("a busy session ended after %v", d)
			}
			return
		}
	}
	t.Fatal("a busy session outlived the absolute lifetime")
}

// TestIdleLogout: a signed-in browser left alone is signed out.
func TestIdleLogout(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("bob", bobPW)
	if pg := b.get("/account"); pg.path() != "/account" {
		t.Fatalf("on %s", pg.path())
	}
	h.clock.Advance(sessionIdle + time.Second)
	if pg := b.get("/account"); pg.path() != "/login" {
		t.Fatalf("after %v idle, /account led to %s", sessionIdle, pg.path())
	}
}
