package challenge

import (
	"crypto"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseSuiteAccepts(t *testing.T) {
	tests := []struct {
		in       string
		hash     crypto.Hash
		digits   int
		counter  bool
		qfmt     QuestionFormat
		qlen     int
		pin      crypto.Hash
		session  int
		timeStep time.Duration
	}{
		{"OCRA-1:HOTP-SHA256-8:QN06-T30S", crypto.SHA256, 8, false, QuestionNumeric, 6, 0, 0, 30 * time.Second},
		{"OCRA-1:HOTP-SHA1-6:QN08", crypto.SHA1, 6, false, QuestionNumeric, 8, 0, 0, 0},
		{"OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", crypto.SHA256, 8, true, QuestionNumeric, 8, crypto.SHA1, 0, 0},
		{"OCRA-1:HOTP-SHA512-8:QN08-T1M", crypto.SHA512, 8, false, QuestionNumeric, 8, 0, 0, time.Minute},
		{"OCRA-1:HOTP-SHA512-8:QA10-T1M", crypto.SHA512, 8, false, QuestionAlphanumeric, 10, 0, 0, time.Minute},
		{"OCRA-1:HOTP-SHA1-4:QH08-S512", crypto.SHA1, 4, false, QuestionHex, 8, 0, 512, 0},
		{"OCRA-1:HOTP-SHA1-0:QH64", crypto.SHA1, 0, false, QuestionHex, 64, 0, 0, 0},
		{"OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S999-T48H", crypto.SHA512, 10, true, QuestionAlphanumeric, 64, crypto.SHA512, 999, 48 * time.Hour},
		{"OCRA-1:HOTP-SHA256-8:QN04-PSHA256-S001-T59S", crypto.SHA256, 8, false, QuestionNumeric, 4, crypto.SHA256, 1, 59 * time.Second},
		{"OCRA-1:HOTP-SHA256-8:QH64-T30S", crypto.SHA256, 8, false, QuestionHex, 64, 0, 0, 30 * time.Second},
		{"OCRA-1:HOTP-SHA1-6:C-QN06-T1H", crypto.SHA1, 6, true, QuestionNumeric, 6, 0, 0, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSuite(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.in, s.String())
			require.Equal(t, tt.hash, s.Hash())
			require.Equal(t, tt.digits, s.Digits())
			require.Equal(t, tt.counter, s.TakesCounter())
			require.Equal(t, tt.qfmt, s.QuestionFormat())
			require.Equal(t, tt.qlen, s.QuestionLength())
			require.Equal(t, tt.pin, s.PINHash())
			require.Equal(t, tt.pin != 0, s.TakesPIN())
			require.Equal(t, tt.session, s.SessionLength())
			require.Equal(t, tt.timeStep, s.TimeStep())
			require.Equal(t, tt.timeStep != 0, s.TakesTime())
			require.False(t, s.IsZero())

			text, err := s.MarshalText()
			require.NoError(t, err)
			var back Suite
			require.NoError(t, back.UnmarshalText(text))
			require.Equal(t, s, back)
		})
	}
}

func TestParseSuiteRefuses(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"OCRA-1:HOTP-SHA256-8:QN99", `ocra suite "OCRA-1:HOTP-SHA256-8:QN99": question length 99 out of range 4..64`},
		{"OCRA-1:HOTP-SHA256-8:QN03", `ocra suite "OCRA-1:HOTP-SHA256-8:QN03": question length 3 out of range 4..64`},
		{"OCRA-1:HOTP-SHA1-4:QH8-S512", `ocra suite "OCRA-1:HOTP-SHA1-4:QH8-S512": question length "8" is not two digits`},
		{"ocra-1:hotp-sha1-6:qn08", `ocra suite "ocra-1:hotp-sha1-6:qn08": must be upper case`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T30s", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T30s": must be upper case`},
		{"", `ocra suite "": want three parts separated by ':', got 1`},
		{"OCRA-1:HOTP-SHA1-6", `ocra suite "OCRA-1:HOTP-SHA1-6": want three parts separated by ':', got 2`},
		{"OCRA-1:HOTP-SHA1-6:QN08:", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08:": want three parts separated by ':', got 4`},
		{"OCRA-2:HOTP-SHA1-6:QN08", `ocra suite "OCRA-2:HOTP-SHA1-6:QN08": version "OCRA-2" is not OCRA-1`},
		{"OCRA-1:TOTP-SHA1-6:QN08", `ocra suite "OCRA-1:TOTP-SHA1-6:QN08": crypto function "TOTP-SHA1-6" does not start with HOTP-`},
		{"OCRA-1:HOTP-SHA1:QN08", `ocra suite "OCRA-1:HOTP-SHA1:QN08": crypto function "HOTP-SHA1" has no truncation length`},
		{"OCRA-1:HOTP-MD5-6:QN08", `ocra suite "OCRA-1:HOTP-MD5-6:QN08": hash "MD5" is not SHA1, SHA256 or SHA512`},
		{"OCRA-1:HOTP-SHA1-3:QN08", `ocra suite "OCRA-1:HOTP-SHA1-3:QN08": truncation length 3 out of range (0, or 4..10)`},
		{"OCRA-1:HOTP-SHA1-11:QN08", `ocra suite "OCRA-1:HOTP-SHA1-11:QN08": truncation length 11 out of range (0, or 4..10)`},
		{"OCRA-1:HOTP-SHA1-06:QN08", `ocra suite "OCRA-1:HOTP-SHA1-06:QN08": truncation length "06" is not a number without leading zeros`},
		{"OCRA-1:HOTP-SHA1-6:", `ocra suite "OCRA-1:HOTP-SHA1-6:": unknown data input ""`},
		{"OCRA-1:HOTP-SHA1-6:C", `ocra suite "OCRA-1:HOTP-SHA1-6:C": no question (Q) data input`},
		{"OCRA-1:HOTP-SHA1-6:QX08", `ocra suite "OCRA-1:HOTP-SHA1-6:QX08": question format "X" is not A, N or H`},
		{"OCRA-1:HOTP-SHA1-6:Q", `ocra suite "OCRA-1:HOTP-SHA1-6:Q": question "Q" has no format`},
		{"OCRA-1:HOTP-SHA1-6:QN08-C", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-C": data input "C" repeated or out of order (want C, Q, P, S, T)`},
		{"OCRA-1:HOTP-SHA1-6:C-C-QN08", `ocra suite "OCRA-1:HOTP-SHA1-6:C-C-QN08": data input "C" repeated or out of order (want C, Q, P, S, T)`},
		{"OCRA-1:HOTP-SHA1-6:QN08-QN08", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-QN08": data input "QN08" repeated or out of order (want C, Q, P, S, T)`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1": data input "PSHA1" repeated or out of order (want C, Q, P, S, T)`},
		{"OCRA-1:HOTP-SHA1-6:PSHA1-QN08", `ocra suite "OCRA-1:HOTP-SHA1-6:PSHA1-QN08": data input "PSHA1" before the question (Q)`},
		{"OCRA-1:HOTP-SHA1-6:QN08-PMD5", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-PMD5": PIN hash "MD5" is not SHA1, SHA256 or SHA512`},
		{"OCRA-1:HOTP-SHA1-6:QN08-S64", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-S64": session length "64" is not three digits`},
		{"OCRA-1:HOTP-SHA1-6:QN08-S000", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-S000": session length 0 out of range 1..999`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T0H", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T0H": time step 0H out of range 1..48`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T49H", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T49H": time step 49H out of range 1..48`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T60S", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T60S": time step 60S out of range 1..59`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T60M", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T60M": time step 60M out of range 1..59`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T05S", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T05S": time step "05" is not a number without leading zeros`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1D", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T1D": time step unit "D" is not S, M or H`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T": time step "T" has no length and unit`},
		{"OCRA-1:HOTP-SHA1-6:QN08-X", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-X": unknown data input "X"`},
		{"OCRA-1:HOTP-SHA1-6: QN08", `ocra suite "OCRA-1:HOTP-SHA1-6: QN08": invalid character at byte 19`},
		{"OCRA-1:HOTP-SHA1-6:QN08\x00", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08\x00": invalid character at byte 23`},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1M-", `ocra suite "OCRA-1:HOTP-SHA1-6:QN08-T1M-": unknown data input ""`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSuite(tt.in)
			require.Error(t, err)
			require.Equal(t, tt.msg, err.Error())
			require.ErrorIs(t, err, ErrInvalidSuite)
			var se *SuiteError
			require.True(t, errors.As(err, &se))
			require.True(t, s.IsZero(), "a refused suite returns the zero Suite")
		})
	}
}

func TestParseSuiteLongInput(t *testing.T) {
	long := "OCRA-1:HOTP-SHA1-6:QN08-" + string(make([]byte, 1<<20))
	_, err := ParseSuite(long)
	require.ErrorIs(t, err, ErrInvalidSuite)
	require.Less(t, len(err.Error()), 400, "the error does not echo the whole input")
}

func TestMustParseSuitePanics(t *testing.T) {
	require.Panics(t, func() { MustParseSuite("OCRA-1:HOTP-SHA1-6:QN8") })
}

func TestZeroSuite(t *testing.T) {
	var s Suite
	require.True(t, s.IsZero())
	_, err := s.Respond(make([]byte, 20), Input{Question: "1"})
	require.ErrorIs(t, err, ErrInvalidSuite)
	_, err = NewVerifier(s, make([]byte, 20))
	require.ErrorIs(t, err, ErrInvalidSuite)
	_, err = s.MarshalText()
	require.ErrorIs(t, err, ErrInvalidSuite)
	require.Equal(t, "", s.NewQuestion())
	var u Suite
	require.ErrorIs(t, u.UnmarshalText([]byte("OCRA-1:HOTP-SHA1-6:QN8")), ErrInvalidSuite)
	require.True(t, u.IsZero(), "a failed UnmarshalText leaves the Suite unchanged")
}

func TestDefault(t *testing.T) {
	require.Equal(t, "OCRA-1:HOTP-SHA256-8:QN06-T30S", Default.String())
	require.Equal(t, MustParseSuite("OCRA-1:HOTP-SHA256-8:QN06-T30S"), Default)
}

func TestQuestionFormatString(t *testing.T) {
	require.Equal(t, "numeric", QuestionNumeric.String())
	require.Equal(t, "alphanumeric", QuestionAlphanumeric.String())
	require.Equal(t, "hex", QuestionHex.String())
	require.Equal(t, "invalid", QuestionFormat('X').String())
}

func TestHashPIN(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1")
	// RFC 6287 Appendix C: SHA1("1234").
	require.Equal(t, "7110eda4d09e062aa5e4a390b0a572ac0d2c0220", hex.EncodeToString(s.HashPIN("1234")))
	require.Nil(t, Default.HashPIN("1234"))
}
