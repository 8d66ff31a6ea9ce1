package challenge

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// encoded returns the 128 question bytes the HMAC sees for q.
func encoded(s Suite, q string) [128]byte {
	var b [128]byte
	s.encodeQuestion(b[:], q, "")
	return b
}

// Over the whole 6-digit space: the RFC's numeric encoding maps v, 16·v,
// 256·v, ... to the same bytes; on the values NewQuestion draws from (not
// 0, not a multiple of 16) it is one-to-one, and every other value shares
// its bytes with one of them or is 0.
func TestNumericQuestionEncodingOneToOne(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA256-8:QN06-T30S")
	type entry struct {
		enc [4]byte // six digits fit in 20 bits: at most 3 bytes
		v   int
	}
	var drawn []entry
	others := 0
	q := []byte("000000")
	for v := range 1000000 {
		for i, x := 5, v; i >= 0; i, x = i-1, x/10 {
			q[i] = byte('0' + x%10)
		}
		full := encoded(s, string(q))
		if !isZero(full[4:]) {
			t.Fatalf("value %d spills past 4 bytes", v)
		}
		e := entry{v: v}
		copy(e.enc[:], full[:4])
		oneToOne := numericOneToOne(q)
		if oneToOne != (v != 0 && v%16 != 0) {
			t.Fatalf("numericOneToOne(%s) = %v", q, oneToOne)
		}
		if oneToOne {
			drawn = append(drawn, e)
		} else {
			others++
		}
	}
	require.Len(t, drawn, 937500)
	require.Equal(t, 62500, others)
	slices.SortFunc(drawn, func(a, b entry) int { return slices.Compare(a.enc[:], b.enc[:]) })
	for i := 1; i < len(drawn); i++ {
		require.NotEqual(t, drawn[i-1].enc, drawn[i].enc, "%06d and %06d encode alike", drawn[i-1].v, drawn[i].v)
	}
	// The collisions the RFC's encoding has, as the design documents.
	one := encoded(s, "000001")
	for _, q := range []string{"000016", "000256", "004096", "065536"} {
		require.Equal(t, one, encoded(s, q), q)
	}
	require.Equal(t, encoded(s, "012345"), encoded(s, "12345"), "leading zeros are lost")
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// The fast uint64 path and the big-number path of encodeDecimal agree.
func TestEncodeDecimalPaths(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN64")
	for _, q := range []string{
		"1", "15", "16", "255", "4096", "9999999999999999999", "1152921504606846975",
		"1152921504606846976", "18446744073709551615", "18446744073709551616",
		"99999999999999999999", strings.Repeat("9", 64), strings.Repeat("1", 40),
	} {
		var fast, slow [128]byte
		s.encodeQuestion(fast[:], q, "")
		// Split so the total stays the same but the fast path is skipped
		// only when the length demands it; compare with a half split.
		s.encodeQuestion(slow[:], q[:len(q)/2], q[len(q)/2:])
		require.Equal(t, fast, slow, q)
		want := bigEncode(q)
		require.Equal(t, want, fast[:len(want)], q)
		require.True(t, isZero(fast[len(want):]), q)
	}
}

// bigEncode is the reference code's conversion, written independently:
// decimal → hex string, odd length gets a trailing "0", then bytes.
func bigEncode(q string) []byte {
	var digits []byte // little-endian base 16
	for i := 0; i < len(q); i++ {
		carry := int(q[i] - '0')
		for j := range digits {
			v := int(digits[j])*10 + carry
			digits[j] = byte(v % 16)
			carry = v / 16
		}
		for carry > 0 {
			digits = append(digits, byte(carry%16))
			carry /= 16
		}
	}
	if len(digits)%2 == 1 {
		digits = append([]byte{0}, digits...) // a trailing zero nibble
	}
	out := make([]byte, len(digits)/2)
	for i := range out {
		hi := digits[len(digits)-1-2*i]
		lo := digits[len(digits)-2-2*i]
		out[i] = hi<<4 | lo
	}
	return out
}

func TestNewQuestion(t *testing.T) {
	for _, suite := range []string{
		"OCRA-1:HOTP-SHA256-8:QN06-T30S",
		"OCRA-1:HOTP-SHA1-6:QN04",
		"OCRA-1:HOTP-SHA1-6:QN64",
		"OCRA-1:HOTP-SHA1-6:QA08",
		"OCRA-1:HOTP-SHA1-6:QA64",
		"OCRA-1:HOTP-SHA256-8:QH64-T30S",
		"OCRA-1:HOTP-SHA1-6:QH07",
	} {
		s := MustParseSuite(suite)
		seen := map[string]bool{}
		for range 2000 {
			q := s.NewQuestion()
			require.Len(t, q, s.QuestionLength())
			require.NoError(t, s.checkQuestion(q, "question"), "%s: %q", suite, q)
			if s.QuestionFormat() == QuestionNumeric {
				require.True(t, numericOneToOne([]byte(q)), q)
			}
			if s.QuestionFormat() == QuestionHex {
				require.Equal(t, strings.ToLower(q), q)
			}
			seen[q] = true
		}
		// 2000 draws from at least 9375 values repeat rarely; from the
		// larger spaces essentially never.
		require.Greater(t, len(seen), 1700, suite)
	}
}

// Each digit position of a 6-digit question is roughly uniform: a crude
// check that the rejection sampling has no gross bias (chi-square with 9
// degrees of freedom; 40 is far beyond the 0.9999 quantile, about 33.7).
func TestNewQuestionDigitsUniform(t *testing.T) {
	const n = 20000
	var counts [6][10]int
	for range n {
		q := Default.NewQuestion()
		for i := range 6 {
			counts[i][q[i]-'0']++
		}
	}
	// Positions 0..1 are uniform over all digits; the last four are skewed
	// slightly by the rejection of multiples of 16, so test the first two.
	for i := range 2 {
		chi := 0.0
		for d := range 10 {
			e := float64(n) / 10
			diff := float64(counts[i][d]) - e
			chi += diff * diff / e
		}
		require.Less(t, chi, 40.0, "position %d: %v", i, counts[i])
	}
}
