package challenge

import (
	"crypto/subtle"
	"fmt"
)

// maxResponseInput bounds what the response parser reads, so that a huge
// input is refused before any work.
const maxResponseInput = 256

// parsedResponse holds a response reduced to its canonical bytes.
type parsedResponse struct {
	b [2 * maxHashSize]byte
	n int
}

// parseResponse checks that s is a well-formed response and stores its
// canonical form in p. For digits > 0 a response is exactly that many
// ASCII digits; spaces around it are ignored, and one space or dash may
// separate groups of four digits ("1234 5678", "1234-5678"; for six-digit
// codes also the 3+3 grouping that authenticator apps display, "123 456").
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
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			case c >= 'A' && c <= 'F':
				c += 'a' - 'A'
			default:
				return malformed(fmt.Sprintf("character %d is not a hex digit", k+1))
			}
			p.b[k] = c
		}
		p.n = len(s)
		return nil
	}
	n := 0
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			if n == digits {
				return malformed(fmt.Sprintf("more than %d digits", digits))
			}
			p.b[n] = c
			n++
		case c == ' ' || c == '-':
			boundary := n%4 == 0 || (digits == 6 && n == 3)
			if n == 0 || n == digits || !boundary || k+1 == len(s) || !isDigit(s[k+1]) {
				return malformed(fmt.Sprintf("misplaced separator at character %d", k+1))
			}
		case c >= 0x80:
			return malformed(fmt.Sprintf("character %d is not ASCII; only the digits 0-9 are accepted", k+1))
		default:
			return malformed(fmt.Sprintf("character %d is not a digit", k+1))
		}
	}
	if n != digits {
		return malformed(fmt.Sprintf("has %d digits, want %d", n, digits))
	}
	p.n = n
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// equal compares the parsed response with a computed one in constant time.
func (p *parsedResponse) equal(want []byte) int {
	return subtle.ConstantTimeCompare(p.b[:p.n], want)
}
