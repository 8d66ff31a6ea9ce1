package enroll

import (
	"crypto/sha256"
	"strings"

	"github.com/keyline/keyline/internal/crockford"
)

// Session IDs name an activation in a form a person can type: the first
// 80 bits of SHA-256("keyline/v1/sid" ‖ server public key) in Crockford's
// base32, four groups of four characters, and a check character:
//
//	7K3M-9QXD-2HFA-W4ZN-P
//
// Deriving the ID from the server's ephemeral key lets a phone that typed
// it check the offer it fetches: a substituted key would need a second
// preimage of 80 bits.
const (
	sidLabel   = "keyline/v1/sid"
	sidChars   = 16 // 80 bits, 5 per character
	sidGrouped = sidChars + sidChars/4 + 1
)

// sessionIDFor derives the session ID of a server public key.
func sessionIDFor(serverKey []byte) string {
	h := sha256.New()
	h.Write([]byte(sidLabel))
	h.Write(serverKey)
	sum := h.Sum(nil)
	var vals [sidChars + 1]byte
	// 80 bits, most significant first, 5 at a time.
	var acc uint64
	bits := 0
	j := 0
	for _, b := range sum[:10] {
		acc = acc<<8 | uint64(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			vals[j] = byte(acc>>bits) & 31
			j++
		}
	}
	vals[sidChars] = crockford.Check(vals[:sidChars])
	return formatSessionID(vals[:])
}

func formatSessionID(vals []byte) string {
	var b strings.Builder
	b.Grow(sidGrouped)
	for i, v := range vals {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(crockford.Alphabet[v])
	}
	return b.String()
}

// ParseSessionID reads a session ID as a person typed it and returns it in
// canonical form (upper case, grouped with dashes). It ignores case,
// spaces and dashes, and reads O as 0 and I and L as 1, as Crockford's
// base32 does. A wrong character, a missing or extra one, or a check
// character that does not match is [ErrSessionIDTypo], with the reason.
func ParseSessionID(typed string) (string, error) {
	if len(typed) > 64 {
		return "", wrap(ErrSessionIDTypo, "too long")
	}
	vals, bad := crockford.Values(typed)
	switch {
	case bad > 0:
		return "", wrap(ErrSessionIDTypo, "character %d is not a session ID character", bad)
	case len(vals) > sidChars+1:
		return "", wrap(ErrSessionIDTypo, "more than %d characters", sidChars+1)
	case len(vals) != sidChars+1:
		return "", wrap(ErrSessionIDTypo, "has %d characters, want %d", len(vals), sidChars+1)
	}
	if crockford.Check(vals[:sidChars]) != vals[sidChars] {
		return "", wrap(ErrSessionIDTypo, "check character does not match; a character is mistyped")
	}
	return formatSessionID(vals), nil
}

// checkSessionID reports whether sid is the canonical session ID of key.
func checkSessionID(sid string, key []byte) error {
	if sid != sessionIDFor(key) {
		return wrap(ErrOfferMismatch, "server key does not hash to the session ID")
	}
	return nil
}
