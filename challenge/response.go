package challenge

import (
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// maxResponseInput bounds what the response parser reads, so that a huge
// input is refused before any work.
const maxResponseInput = 256

// parsedResponse holds a response reduced to what is compared: its value
// for decimal responses, its bytes for hex ones.
type parsedResponse struct {
	value uint64            // decimal responses
	raw   [maxHashSize]byte // hex responses, decoded
	n     int               // len(raw) used
}

// parseResponse checks that s is a well-formed response and stores its
// canonical form in p. For digits > 0 a response is exactly that many
// ASCII digits; spaces around it are ignored, and one space or dash may
// follow any fourth digit ("1234 5678", "1234-5678", "1234 56") or, in a
// six-digit code, the third instead (the 3+3 grouping authenticator apps
// display, "123 456").
// For digits == 0 it is hexLen hex digits in either case, spaces around
// ignored. Anything else is ErrMalformed with a reason that never repeats
// the input.
func parseResponse(p *parsedResponse, s string, digits, hexLen int) error {
	if len(s) > maxResponseInput {
		return malformed(fmt.Sprintf("longer than %d bytes", maxResponseInput))
	}
	i, j := 0, len(s)
	for i < j && s[i] == ' ' {
		i++
	}
	for j > i && s[j-1] == ' ' {
		j--
	}
	s = s[i:j]
	if s == "" {
		return malformed("empty")
	}
	if digits == 0 {
		if len(s) != hexLen {
			return malformed(fmt.Sprintf("has %d characters, want %d hex digits", len(s), hexLen))
		}
		for k := 0; k < len(s); k++ {
			c := s[k]
			if !isDigit(c) && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
				return malformed(fmt.Sprintf("character %d is not a hex digit", k+1))
			}
			if k%2 == 0 {
				p.raw[k/2] = hexValue(c) << 4
			} else {
				p.raw[k/2] |= hexValue(c)
			}
		}
		p.n = len(s) / 2
		return nil
	}
	n, split3 := 0, false
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			if n == digits {
				return malformed(fmt.Sprintf("more than %d digits", digits))
			}
			p.value = p.value*10 + uint64(c-'0')
			n++
		case c == ' ' || c == '-':
			// Groups of four, or 3+3 for six digits, never both.
			boundary := (n%4 == 0 && !split3) || (digits == 6 && n == 3)
			if n == 0 || n == digits || !boundary || k+1 == len(s) || !isDigit(s[k+1]) {
				return malformed(fmt.Sprintf("misplaced separator at character %d", k+1))
			}
			split3 = n == 3
		case c >= 0x80:
			return malformed(fmt.Sprintf("character %d is not ASCII; only the digits 0-9 are accepted", k+1))
		default:
			return malformed(fmt.Sprintf("character %d is not a digit", k+1))
		}
	}
	if n != digits {
		return malformed(fmt.Sprintf("has %d digits, want %d", n, digits))
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// match reports, in constant time, whether the response is the one key k
// gives for mac: 1 if so, 0 if not.
func (p *parsedResponse) match(k *hmacKey, mac []byte) int {
	if k.digits == 0 {
		return subtle.ConstantTimeCompare(p.raw[:p.n], mac)
	}
	d := uint64(truncate(mac)) % pow10[k.digits]
	x := d ^ p.value
	// x == 0 exactly when the values agree; fold it to one bit without a
	// branch.
	return int(((x | -x) >> 63) ^ 1)
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

// CanonicalResponse checks that response is well formed for the suite,
// by the rules Verify applies, and returns it reduced to its digits (or,
// for a suite with 0 digits, to lowercase hex). A malformed response wraps
// ErrMalformed and says why. It is for callers that compare responses by
// other means, such as keyed tags of precomputed responses.
func (s Suite) CanonicalResponse(response string) (string, error) {
	if s.s == "" {
		return "", zeroSuite()
	}
	var p parsedResponse
	if err := parseResponse(&p, response, int(s.digits), s.ResponseLen()); err != nil {
		return "", err
	}
	if s.digits == 0 {
		return hex.EncodeToString(p.raw[:p.n]), nil
	}
	out := make([]byte, s.digits)
	v := p.value
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out), nil
}
