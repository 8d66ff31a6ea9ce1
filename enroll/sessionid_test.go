package enroll

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/internal/crockford"
)

func TestSessionIDShape(t *testing.T) {
	for range 200 {
		key := make([]byte, 32)
		rand.Read(key)
		sid := sessionIDFor(key)
		require.Len(t, sid, 21)
		require.Regexp(t, `^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}-[0-9A-HJKMNP-TV-Z]$`, sid)
		got, err := ParseSessionID(sid)
		require.NoError(t, err)
		require.Equal(t, sid, got)
		// As people type it.
		typed := strings.ToLower(strings.ReplaceAll(sid, "-", " "))
		typed = strings.ReplaceAll(typed, "0", "o")
		typed = strings.ReplaceAll(typed, "1", "l")
		got, err = ParseSessionID("  " + typed + " ")
		require.NoError(t, err)
		require.Equal(t, sid, got)
	}
}

// The check character catches every single-character substitution and
// every transposition of two adjacent, different characters... except the
// ones Luhn mod N cannot see (a pair whose values differ by N/2, and the
// like); count them rather than assume.
func TestSessionIDTypos(t *testing.T) {
	key := make([]byte, 32)
	missedTranspositions, transpositions := 0, 0
	for trial := range 50 {
		rand.Read(key)
		sid := strings.ReplaceAll(sessionIDFor(key), "-", "")
		for i := range len(sid) {
			for _, c := range crockford.Alphabet {
				if byte(c) == sid[i] {
					continue
				}
				typo := sid[:i] + string(c) + sid[i+1:]
				_, err := ParseSessionID(typo)
				require.ErrorIs(t, err, ErrSessionIDTypo, "trial %d: %s", trial, typo)
			}
			if i+1 < len(sid) && sid[i] != sid[i+1] {
				transpositions++
				swapped := sid[:i] + string(sid[i+1]) + string(sid[i]) + sid[i+2:]
				if _, err := ParseSessionID(swapped); err == nil {
					missedTranspositions++
				}
			}
		}
		_, err := ParseSessionID(sid[1:])
		require.ErrorIs(t, err, ErrSessionIDTypo)
		_, err = ParseSessionID(sid + "0")
		require.ErrorIs(t, err, ErrSessionIDTypo)
	}
	t.Logf("adjacent transpositions missed: %d of %d", missedTranspositions, transpositions)
	require.Less(t, missedTranspositions*20, transpositions, "more than 5%% of transpositions missed")
	for _, bad := range []string{"", "U", strings.Repeat("0", 100), "ABCD-EFGH-JKMN-PQRS-*"} {
		_, err := ParseSessionID(bad)
		require.ErrorIs(t, err, ErrSessionIDTypo, "%q", bad)
	}
}
