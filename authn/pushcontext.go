package authn

import (
	"net/http"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyline/keyline/enroll"
)

// What a login page's server knows of its client, for a push prompt: the
// client's address (through the proxies it trusts) and a short summary
// of its browser and system. Both are derived from headers an attacker
// writes, so both are bounded and cleaned here, and only headers that a
// trusted proxy wrote are believed.

// TrustedProxies says whose forwarding header to believe. The zero value
// trusts no proxy: the client is the TCP peer (r.RemoteAddr).
type TrustedProxies struct {
	// Prefixes are the networks of the proxies in front of the server
	// (a load balancer, a CDN's ranges). A forwarding header is read only
	// when the TCP peer is in one of them, and it is walked from the
	// nearest hop outward while the hops are in them too.
	Prefixes []netip.Prefix
	// Forwarded reads the RFC 7239 Forwarded header ("for=" of each
	// element) instead of X-Forwarded-For. Believe exactly the header
	// your proxies write: the other one comes from the client as it sent
	// it.
	Forwarded bool
}

// maxHops bounds the forwarding entries ClientIP walks.
const maxHops = 32

func (p TrustedProxies) trusts(a netip.Addr) bool {
	for _, pre := range p.Prefixes {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client that sent r: the TCP peer
// (r.RemoteAddr, whose port is dropped) unless that peer is a trusted
// proxy; then the forwarding header it wrote is walked from the nearest
// hop outward, and the first hop not in p.Prefixes is the client (the
// farthest one if every hop is trusted). A hop that is not an address
// ("unknown", an obfuscated name, garbage) ends the walk at the last
// address known, as do more than 32 hops. IPv4-mapped IPv6 addresses are
// returned as IPv4, without a zone. The zero Addr (IsValid false) means
// that r.RemoteAddr is not an address.
func ClientIP(r *http.Request, p TrustedProxies) netip.Addr {
	cur, ok := parseHop(r.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !p.trusts(cur) {
		return cur
	}
	var hops []string
	if p.Forwarded {
		hops = forwardedFor(r.Header.Values("Forwarded"))
	} else {
		for _, v := range r.Header.Values("X-Forwarded-For") {
			hops = append(hops, strings.Split(v, ",")...)
		}
	}
	for i, n := len(hops)-1, 0; i >= 0 && n < maxHops; i, n = i-1, n+1 {
		a, ok := parseHop(hops[i])
		if !ok {
			return cur
		}
		cur = a
		if !p.trusts(cur) {
			return cur
		}
	}
	return cur
}

// parseHop reads one address as a forwarding header or RemoteAddr writes
// it: "192.0.2.7", "192.0.2.7:4711", "2001:db8::1", "[2001:db8::1]",
// "[2001:db8::1]:4711", possibly quoted and space-padded.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// forwardedFor returns the "for=" value of each element of RFC 7239
// Forwarded header values, in order; an element without one gives "" (an
// unknown hop).
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			hop := ""
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					hop = val
					break
				}
			}
			out = append(out, hop)
			if len(out) > 4*maxHops {
				// Only the last maxHops can be walked: drop the ones
				// farthest from the server (a client wrote those).
				out = append(out[:0], out[len(out)-maxHops:]...)
			}
		}
	}
	return out
}

// PushContextFrom builds the context a push prompt shows for a login
// page's request r: action (cleaned as below; "Login" if nothing is
// left), the client's address from [ClientIP] ("" when there is none),
// and a short summary of the browser and system from the User-Agent
// header ("Safari on iPhone", "Chrome on Windows"; see
// [BrowserSummary]). Place is left to the caller (a geolocation of IP);
// set it to text that [enroll.PushContext.Validate] accepts.
//
// Whatever r's headers hold, the result passes
// [enroll.PushContext.Validate]: every field is cut at a rune boundary
// within its limit, invalid UTF-8 and control, formatting, bidi and
// line-separator characters are dropped.
func PushContextFrom(r *http.Request, action string, p TrustedProxies) enroll.PushContext {
	pc := enroll.PushContext{Action: cleanText(action, 64), Browser: BrowserSummary(r.UserAgent())}
	if pc.Action == "" {
		pc.Action = "Login"
	}
	if a := ClientIP(r, p); a.IsValid() {
		pc.IP = a.String()
	}
	return pc
}

// BrowserSummary names a User-Agent's browser and system in a few words,
// "<browser> on <system>": "Safari on iPhone", "Chrome on Android",
// "Firefox on macOS", "Edge on Windows". A browser it does not know is
// named by the first product token of the header ("curl"), a system it
// does not know is left out, and an empty header gives "". The result is
// at most 64 bytes of printable ASCII. Real User-Agents are longer than a
// push context's 128 bytes (Safari on an iPhone sends 135, Chrome on iOS
// 143) and say more than a user can check on a phone.
func BrowserSummary(ua string) string {
	if len(ua) > 1024 {
		ua = ua[:1024]
	}
	browser := browserOf(ua)
	system := systemOf(ua)
	switch {
	case browser == "" && system == "":
		return ""
	case browser == "":
		return "Browser on " + system
	case system == "":
		return browser
	}
	return browser + " on " + system
}

// browserRules are tried in order: the tokens of browsers built on
// another (Edge and Opera on Chrome, Chrome and Firefox on iOS's Safari)
// come before the one they carry.
var browserRules = []struct{ token, name string }{
	{"EdgiOS/", "Edge"}, {"EdgA/", "Edge"}, {"Edg/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"},
	{"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Trident/", "Internet Explorer"}, {"MSIE ", "Internet Explorer"},
}

func browserOf(ua string) string {
	for _, r := range browserRules {
		if strings.Contains(ua, r.token) {
			return r.name
		}
	}
	if strings.Contains(ua, "Safari/") && (strings.Contains(ua, "Version/") || strings.Contains(ua, "Mobile/")) {
		return "Safari"
	}
	// Another client: its first product token, as "curl/8.4.0" names it.
	tok, _, _ := strings.Cut(strings.TrimSpace(ua), "/")
	tok, _, _ = strings.Cut(tok, " ")
	if tok == "Mozilla" {
		return ""
	}
	return cleanToken(tok, 32)
}

// systemRules are tried in order: an iPhone's header says "like Mac OS
// X", and Android's says "Linux".
var systemRules = []struct{ token, name string }{
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Windows", "Windows"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"}, {"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

func systemOf(ua string) string {
	for _, r := range systemRules {
		if strings.Contains(ua, r.token) {
			return r.name
		}
	}
	return ""
}

// cleanToken keeps the ASCII letters, digits, '.', '-' and '_' of s, at
// most max bytes of them.
func cleanToken(s string, max int) string {
	b := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(b) < max; i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' {
			b = append(b, c)
		}
	}
	return string(b)
}

// cleanText drops from s what a push context refuses (invalid UTF-8;
// control, formatting, bidi and line-separator characters), trims the
// spaces at its ends, and cuts it at a rune boundary to at most max
// bytes.
func cleanText(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
			unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}
