// Package crockford reads and writes Crockford's base32 as people type
// it, for the codes keyline asks them to type: session IDs, vault
// passphrases and recovery codes.
package crockford

import "strings"

// Alphabet is Crockford's base32 alphabet: no I, L, O or U.
const Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Values reads typed as people type it: case, spaces and dashes ignored,
// O read as 0, I and L as 1. It returns the 5-bit values, or the 1-based
// position of the first character outside the alphabet.
func Values(typed string) (vals []byte, bad int) {
	vals = make([]byte, 0, len(typed))
	for i := 0; i < len(typed); i++ {
		c := typed[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		v := strings.IndexByte(Alphabet, c)
		if v < 0 {
			return nil, i + 1
		}
		vals = append(vals, byte(v))
	}
	return vals, 0
}

// Encode writes 5-bit values as characters of the alphabet.
func Encode(vals []byte) string {
	out := make([]byte, len(vals))
	for i, v := range vals {
		out[i] = Alphabet[v&31]
	}
	return string(out)
}
