package authn_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// User-Agent headers as current browsers send them (the formats each
// vendor documents; version numbers are examples).
var userAgents = []struct{ ua, want string }{
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
		"Safari on iPhone"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
		"Chrome on iPhone"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
		"Firefox on iPhone"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/120.2210.150 Mobile/15E148 Safari/605.1.15",
		"Edge on iPhone"},
	{"Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
		"Safari on iPad"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Chrome on Windows"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
		"Edge on Windows"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0",
		"Opera on Windows"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
		"Firefox on Windows"},
	{"Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko",
		"Internet Explorer on Windows"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
		"Safari on macOS"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
		"Firefox on macOS"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Chrome on macOS"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
		"Chrome on Android"},
	{"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
		"Samsung Internet on Android"},
	{"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0",
		"Firefox on Android"},
	{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.0.0",
		"Edge on Android"},
	{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Chrome on Linux"},
	{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
		"Firefox on Linux"},
	{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		"Chrome on ChromeOS"},
	{"curl/8.4.0", "curl"},
	{"python-requests/2.31.0", "python-requests"},
	{"Mozilla/5.0 (X11; Linux x86_64)", "Browser on Linux"},
	{"", ""},
	{"\x00\x01\xff/1.0", ""},
	{"Evil\u202eTool\n/1 (Windows)", "EvilTool on Windows"},
}

func TestBrowserSummary(t *testing.T) {
	for _, c := range userAgents {
		require.Equal(t, c.want, authn.BrowserSummary(c.ua), "%q", c.ua)
	}
	// The headers that made a raw User-Agent unusable as a context.
	require.Greater(t, len(userAgents[0].ua), 128, "Safari on iPhone")
	require.Greater(t, len(userAgents[1].ua), 128, "Chrome on iOS")
}

func request(remote string, header ...string) *http.Request {
	r := httptest.NewRequest("GET", "/login", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func TestClientIP(t *testing.T) {
	lb := authn.TrustedProxies{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}}
	fwd := lb
	fwd.Forwarded = true
	for _, c := range []struct {
		name string
		p    authn.TrustedProxies
		r    *http.Request
		want string
	}{
		{"PeerWithPort", authn.TrustedProxies{}, request("203.0.113.7:51234"), "203.0.113.7"},
		{"PeerIPv6", authn.TrustedProxies{}, request("[2001:db8::7%eth0]:443"), "2001:db8::7"},
		{"PeerMapped", authn.TrustedProxies{}, request("[::ffff:203.0.113.7]:443"), "203.0.113.7"},
		{"PeerWithoutPort", authn.TrustedProxies{}, request("203.0.113.7"), "203.0.113.7"},
		{"NotAnAddress", authn.TrustedProxies{}, request("pipe"), ""},
		{"UntrustedPeerHeaderIgnored", lb, request("203.0.113.7:1", "X-Forwarded-For", "198.51.100.1"), "203.0.113.7"},
		{"NoTrustByDefault", authn.TrustedProxies{}, request("10.0.0.1:1", "X-Forwarded-For", "198.51.100.1"), "10.0.0.1"},
		{"ThroughProxy", lb, request("10.0.0.1:1", "X-Forwarded-For", "198.51.100.1"), "198.51.100.1"},
		{"SpoofedLeftmost", lb, request("10.0.0.1:1", "X-Forwarded-For", "1.2.3.4, 198.51.100.1, 10.0.0.2"), "198.51.100.1"},
		{"SeveralLines", lb, request("10.0.0.1:1", "X-Forwarded-For", "1.2.3.4", "X-Forwarded-For", "198.51.100.1"), "198.51.100.1"},
		{"AllTrusted", lb, request("10.0.0.1:1", "X-Forwarded-For", "10.0.0.3, 10.0.0.2"), "10.0.0.3"},
		{"GarbageHop", lb, request("10.0.0.1:1", "X-Forwarded-For", "198.51.100.1, garbage, 10.0.0.2"), "10.0.0.2"},
		{"HopWithPort", lb, request("10.0.0.1:1", "X-Forwarded-For", "198.51.100.1:4711"), "198.51.100.1"},
		{"ForwardedNotRead", lb, request("10.0.0.1:1", "Forwarded", "for=198.51.100.1"), "10.0.0.1"},
		{"Forwarded", fwd, request("10.0.0.1:1", "Forwarded", `for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711"`), "2001:db8:cafe::17"},
		{"ForwardedThroughTwo", fwd, request("10.0.0.1:1", "Forwarded", `for=192.0.2.60, for="[2001:db8:ffff::1]"`), "192.0.2.60"},
		{"ForwardedUnknown", fwd, request("10.0.0.1:1", "Forwarded", "for=unknown"), "10.0.0.1"},
		{"ForwardedXFFIgnored", fwd, request("10.0.0.1:1", "X-Forwarded-For", "198.51.100.1"), "10.0.0.1"},
	} {
		got := authn.ClientIP(c.r, c.p)
		if c.want == "" {
			require.False(t, got.IsValid(), c.name)
			continue
		}
		require.Equal(t, c.want, got.String(), c.name)
	}
	// The hops nearest the server count, however many a client put
	// before them.
	r := request("10.0.0.1:1", "Forwarded", strings.Repeat("for=192.0.2.1, ", 200)+"for=198.51.100.1")
	require.Equal(t, "198.51.100.1", authn.ClientIP(r, fwd).String())
	// A long chain of trusted hops is walked 32 hops deep at most.
	r = request("10.0.0.1:1", "X-Forwarded-For", "198.51.100.1,"+strings.Repeat("10.0.0.9,", 100)+"10.0.0.2")
	require.Equal(t, "10.0.0.9", authn.ClientIP(r, lb).String())
}

func TestPushContextFrom(t *testing.T) {
	lb := authn.TrustedProxies{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	r := request("10.0.0.1:443", "X-Forwarded-For", "203.0.113.7", "User-Agent", userAgents[1].ua)
	pc := authn.PushContextFrom(r, "Login", lb)
	require.Equal(t, "Login", pc.Action)
	require.Equal(t, "203.0.113.7", pc.IP)
	require.Equal(t, "Chrome on iPhone", pc.Browser)
	require.Empty(t, pc.Place, "the caller's")
	require.NoError(t, pc.Validate())

	pc = authn.PushContextFrom(request("pipe"), "\u202e"+strings.Repeat("Überweisung ", 10), authn.TrustedProxies{})
	require.NoError(t, pc.Validate())
	require.Empty(t, pc.IP)
	require.LessOrEqual(t, len(pc.Action), 64)
	require.True(t, utf8.ValidString(pc.Action), "cut at a rune boundary")
	require.True(t, strings.HasPrefix(pc.Action, "Überweisung Überweisung"))
	require.Equal(t, "Login", authn.PushContextFrom(request("pipe"), "\n\t", authn.TrustedProxies{}).Action)
}

// FuzzPushContextFrom: whatever the headers, the context is one a prompt
// may carry, and nothing panics.
func FuzzPushContextFrom(f *testing.F) {
	for _, c := range userAgents {
		f.Add("10.0.0.1:443", "203.0.113.7, 10.0.0.2", `for="[2001:db8::1]:80"`, c.ua, "Login")
	}
	lb := authn.TrustedProxies{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::/0")}}
	f.Fuzz(func(t *testing.T, remote, xff, forwarded, ua, action string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{
			"X-Forwarded-For": {xff}, "Forwarded": {forwarded}, "User-Agent": {ua}}}
		for _, p := range []authn.TrustedProxies{{}, lb, {Prefixes: lb.Prefixes, Forwarded: true}} {
			pc := authn.PushContextFrom(r, action, p)
			if err := pc.Validate(); err != nil {
				t.Fatalf("%+v: %v", pc, err)
			}
			if a := authn.ClientIP(r, p); a.IsValid() && (a.Zone() != "" || a.Is4In6()) {
				t.Fatalf("ClientIP %v: not in its plain form", a)
			}
		}
	})
}

func BenchmarkPushContextFrom(b *testing.B) {
	lb := authn.TrustedProxies{Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	r := request("10.0.0.1:443", "X-Forwarded-For", "203.0.113.7, 10.0.0.2", "User-Agent", userAgents[1].ua)
	b.ReportAllocs()
	for b.Loop() {
		_ = authn.PushContextFrom(r, "Login", lb)
	}
}
