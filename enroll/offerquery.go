package enroll

import (
	"strings"
	"unicode/utf8"

	"github.com/keyline/keyline/challenge"
)

// offerParams are the offer URI's parameters in the one order a URI may
// have them: sorted by name, as [Offer.URI] writes them.
var offerParams = [...]string{"acct", "exp", "iss", "key", "sid", "suite", "user", "v"}

// parseOfferQuery reads an offer URI's query (PROTOCOL.md §1, "The
// offer"): printable ASCII only, without '#' or ';'; exactly the eight
// pairs name=value of offerParams, in that order, separated by single
// '&'; values form-decoded ('+' is a space, '%' and two hex digits a
// byte, any other '%' refused) into valid UTF-8. It returns the values by
// name, or why it refuses.
func parseOfferQuery(q string) (map[string]string, string) {
	for i := 0; i < len(q); i++ {
		if c := q[i]; c < 0x21 || c > 0x7e || c == '#' || c == ';' {
			return nil, "a byte that is not printable ASCII, or '#' or ';'"
		}
	}
	pairs := strings.Split(q, "&")
	if len(pairs) != len(offerParams) {
		return nil, "not exactly the eight parameters acct, exp, iss, key, sid, suite, user, v"
	}
	vals := make(map[string]string, len(offerParams))
	for i, pair := range pairs {
		name, raw, ok := strings.Cut(pair, "=")
		if !ok || name != offerParams[i] {
			return nil, "parameter " + offerParams[i] + " missing, repeated, unknown or out of order"
		}
		v, ok := formDecode(raw)
		if !ok {
			return nil, "parameter " + name + ": a '%' not followed by two hex digits"
		}
		if !utf8.ValidString(v) {
			return nil, "parameter " + name + " is not valid UTF-8"
		}
		vals[name] = v
	}
	return vals, ""
}

// formDecode undoes application/x-www-form-urlencoded escaping.
func formDecode(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// checkOfferSuite says why an offer's suite is one a phone must refuse,
// or "". A phone answers with a question and the time only: it holds no
// counter, PIN or session data, so a suite with C, P or S is refused
// (PROTOCOL.md §1, "Suites"). Every other suite of RFC 6287's grammar, as
// challenge.ParseSuite reads it, must be accepted.
func checkOfferSuite(s challenge.Suite) string {
	switch {
	case s.IsZero():
		return "no suite"
	case s.TakesCounter(), s.TakesPIN(), s.SessionLength() != 0:
		return "suite takes a counter, PIN or session input"
	}
	return ""
}
