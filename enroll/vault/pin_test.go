package vault

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckPIN(t *testing.T) {
	tests := []struct {
		pin, user string
		want      PINReason // 0: accepted
	}{
		// accepted
		{"4826", "", 0},
		{"93715", "", 0},
		{"720591", "", 0},
		{"Qz7#", "", 0},
		{"k9!mX2", "user-42", 0},
		{"yzab", "", 0},        // letters do not run round
		{"1243", "", 0},        // not quite a run
		{"2101", "", 0},        // not a year
		{"4200", "user-42", 0}, // "42" is too short a part to count
		{"~!@#", "", 0},
		{"0852x", "", 0}, // the list is of exact PINs

		// length and characters
		{"", "", PINLength},
		{"482", "", PINLength},
		{"4826193", "", PINLength},
		{strings.Repeat("7", 1000), "", PINLength},
		{"48 26", "", PINCharacters},
		{"4826\n", "", PINCharacters},
		{"48é6", "", PINCharacters},
		{"\x0048266", "", PINCharacters},
		{"4826\x7f", "", PINCharacters},
		{"１２３４", "", PINCharacters}, // full-width digits

		// repeats
		{"0000", "", PINRepeated},
		{"1111", "", PINRepeated},
		{"aaaa", "", PINRepeated},
		{"aAaA", "", PINRepeated},
		{"######", "", PINRepeated},

		// runs
		{"1234", "", PINSequence},
		{"0123", "", PINSequence},
		{"4567", "", PINSequence},
		{"9876", "", PINSequence},
		{"3210", "", PINSequence},
		{"7890", "", PINSequence}, // round from 9 to 0, as on a keypad row
		{"8901", "", PINSequence},
		{"0987", "", PINSequence},
		{"123456", "", PINSequence},
		{"654321", "", PINSequence},
		{"56789", "", PINSequence},
		{"abcd", "", PINSequence},
		{"ABCDEF", "", PINSequence},
		{"aBcD", "", PINSequence},
		{"zyxw", "", PINSequence},

		// patterns
		{"1212", "", PINPattern},
		{"6969", "", PINPattern},
		{"12121", "", PINPattern},
		{"123123", "", PINPattern},
		{"121212", "", PINPattern},
		{"1122", "", PINPattern},
		{"112233", "", PINPattern},
		{"abab", "", PINPattern},

		// common
		{"2580", "", PINCommon},
		{"1004", "", PINCommon},
		{"1987", "", PINCommon},
		{"2001", "", PINCommon},
		{"2099", "", PINCommon},
		{"147258", "", PINCommon},
		{"QWERTY", "", PINCommon},
		{"1q2w3e", "", PINCommon},

		// the user name
		{"ada1", "ada@example.com", PINUserName},
		{"Ada1", "ADA@example.com", PINUserName},
		{"exam", "ada@example.com", PINUserName}, // part of the name
		{"ple.", "ada@example.com", PINUserName},
		{"mary", "mary-42", PINUserName},
		{"y-42", "mary-42", PINUserName},
		{"bob!", "bob", PINUserName},
		{"x9bob", "Bob", PINUserName},
		{"jean", "Jean-Luc", PINUserName},
		{"9ren7", "rené", 0}, // "ren" is not a part: the part is "rené"
		{"ab12", "ab", 0},    // a two-letter name does not refuse PINs containing it
	}
	for _, tc := range tests {
		err := CheckPIN(tc.pin, tc.user)
		name := fmt.Sprintf("CheckPIN(%q, %q)", tc.pin, tc.user)
		if tc.want == 0 {
			require.NoError(t, err, name)
			continue
		}
		require.ErrorIs(t, err, ErrWeakPIN, name)
		var pe *PINError
		require.True(t, errors.As(err, &pe), name)
		require.Equal(t, tc.want, pe.Reason, name)
		if len(tc.pin) >= MinPINLen {
			require.NotContains(t, err.Error(), tc.pin, name)
		}
	}
}

// The refusals among all-digit PINs are few, and pinned, so that a
// change of policy is a visible decision. The figures are in CheckPIN's
// documentation.
func TestCheckPINDigitCounts(t *testing.T) {
	for _, tc := range []struct{ n, refused int }{{4, 433}, {5, 120}, {6, 2121}} {
		lim := 1
		for range tc.n {
			lim *= 10
		}
		refused := 0
		pin := []byte(strings.Repeat("0", tc.n))
		for range lim {
			if CheckPIN(string(pin), "") != nil {
				refused++
			}
			// The next PIN: add one, carrying.
			for j := len(pin) - 1; j >= 0; j-- {
				if pin[j]++; pin[j] <= '9' {
					break
				}
				pin[j] = '0'
			}
		}
		require.Equal(t, tc.refused, refused, "%d digits", tc.n)
	}
}

func TestPINReasonsHaveMessages(t *testing.T) {
	seen := map[string]bool{}
	for r := PINLength; r <= PINUnchanged; r++ {
		msg := (&PINError{Reason: r}).Error()
		require.True(t, strings.HasPrefix(msg, "vault: PIN refused: the PIN "), msg)
		require.False(t, seen[msg], "two reasons share %q", msg)
		seen[msg] = true
	}
	require.Equal(t, "is refused", PINReason(0).String())
}

// Every common PIN is within the policy's length, in lower case (the
// check folds case), and not already refused by an earlier rule.
func TestCommonPINsList(t *testing.T) {
	for p := range commonPINs {
		require.GreaterOrEqual(t, len(p), MinPINLen, p)
		require.LessOrEqual(t, len(p), MaxPINLen, p)
		require.Equal(t, strings.ToLower(p), p)
		require.False(t, repeated(p, 1) || isRun(p) || isPattern(p), "%q is caught by another rule", p)
		var pe *PINError
		require.True(t, errors.As(CheckPIN(p, ""), &pe))
		require.Equal(t, PINCommon, pe.Reason, p)
	}
}

func BenchmarkCheckPIN(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = CheckPIN("k9!mX2", "ada@example.com")
	}
}
