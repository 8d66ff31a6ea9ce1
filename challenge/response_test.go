package challenge

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The RFC 6287 C.1 vector for OCRA-1:HOTP-SHA256-8:QN08-PSHA1 with
// question 11111111 is 01501458; the malformed spellings below are checked
// against it, so a refusal cannot hide behind a mismatch.
func TestResponseSpellings(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA256-8:QN08-PSHA1")
	v, err := NewVerifier(s, []byte("12345678901234567890123456789012"))
	require.NoError(t, err)
	in := Input{Question: "11111111", PINHash: s.HashPIN("1234")}

	for _, ok := range []string{
		"01501458", " 01501458", "01501458  ", "  01501458 ",
		"0150 1458", "0150-1458", " 0150-1458 ",
	} {
		_, err := v.Verify(in, ok, Window{})
		require.NoError(t, err, "%q", ok)
	}

	for _, tt := range []struct{ resp, reason string }{
		{"", "empty"},
		{"   ", "empty"},
		{"0150145", "has 7 digits, want 8"},
		{"015014580", "more than 8 digits"},
		{"0150  1458", "misplaced separator at character 5"},
		{"0150--1458", "misplaced separator at character 5"},
		{"01-501458", "misplaced separator at character 3"},
		{"015 01458", "misplaced separator at character 4"},
		{"-01501458", "misplaced separator at character 1"},
		{"01501458-", "misplaced separator at character 9"},
		{"0150 -1458", "misplaced separator at character 5"},
		{"0150\t1458", "character 5 is not a digit"},
		{"\t01501458", "character 1 is not a digit"},
		{"01501458\n", "character 9 is not a digit"},
		{"+01501458", "character 1 is not a digit"},
		{"0150145a", "character 8 is not a digit"},
		{"０１５０１４５８", "character 1 is not ASCII; only the digits 0-9 are accepted"},
		{"٠١٥٠١٤٥٨", "character 1 is not ASCII; only the digits 0-9 are accepted"},
		{"0150_1458", "character 5 is not a digit"},
		{strings.Repeat(" ", 300) + "01501458", "longer than 256 bytes"},
	} {
		_, err := v.Verify(in, tt.resp, Window{})
		require.ErrorIs(t, err, ErrMalformed, "%q", tt.resp)
		require.NotErrorIs(t, err, ErrMismatch)
		require.Equal(t, "malformed response: "+tt.reason, err.Error(), "%q", tt.resp)
	}

	// A well-formed wrong response is a mismatch, not malformed.
	_, err = v.Verify(in, "01501459", Window{})
	require.ErrorIs(t, err, ErrMismatch)
	require.NotErrorIs(t, err, ErrMalformed)
}

func TestResponseSixDigitGrouping(t *testing.T) {
	key := []byte("12345678901234567890")
	at := time.Unix(1111111109, 0)
	tp := TOTP{}
	code, err := tp.Code(key, at)
	require.NoError(t, err)
	require.Equal(t, "081804", code) // RFC 6238 B, SHA1, last 6 of 07081804
	v, err := tp.NewVerifier(key)
	require.NoError(t, err)
	for _, ok := range []string{"081804", "081 804", "081-804", "0818 04", "0818-04"} {
		_, err := v.Verify(at, ok, Window{})
		require.NoError(t, err, "%q", ok)
	}
	for _, bad := range []string{"08 1804", "08180 4", "081 8 04", "081  804"} {
		_, err := v.Verify(at, bad, Window{})
		require.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
}

func TestResponseTenDigitGrouping(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA512-10:QA10")
	key := []byte(strings.Repeat("k", 64))
	in := Input{Question: "HELLO"}
	r, err := s.Respond(key, in)
	require.NoError(t, err)
	require.Len(t, r, 10)
	v, err := NewVerifier(s, key)
	require.NoError(t, err)
	for _, ok := range []string{r, r[:4] + " " + r[4:8] + " " + r[8:], r[:4] + "-" + r[4:8] + "-" + r[8:], r[:8] + " " + r[8:]} {
		_, err := v.Verify(in, ok, Window{})
		require.NoError(t, err, "%q", ok)
	}
	_, err = v.Verify(in, r[:5]+" "+r[5:], Window{})
	require.ErrorIs(t, err, ErrMalformed)
}

func TestResponseHex(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA256-0:QH64")
	key := []byte("12345678901234567890123456789012")
	in := Input{Question: "00ff"}
	r, err := s.Respond(key, in)
	require.NoError(t, err)
	require.Len(t, r, 64)
	require.Equal(t, strings.ToLower(r), r, "rendered in lower case")
	v, err := NewVerifier(s, key)
	require.NoError(t, err)
	for _, ok := range []string{r, strings.ToUpper(r), "  " + r + " "} {
		_, err := v.Verify(in, ok, Window{})
		require.NoError(t, err)
	}
	for _, bad := range []string{r[:63], r + "0", r[:32] + " " + r[32:], r[:63] + "g"} {
		_, err := v.Verify(in, bad, Window{})
		require.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
	wrong := []byte(r)
	wrong[10] ^= 1
	_, err = v.Verify(in, string(wrong), Window{})
	require.ErrorIs(t, err, ErrMismatch)
}

// Errors name what is wrong with the input, never the response given or
// the one expected.
func TestErrorsCarryNoResponse(t *testing.T) {
	key := []byte("12345678901234567890123456789012")
	v, err := NewVerifier(Default, key)
	require.NoError(t, err)
	at := time.Unix(1700000000, 0)
	in := Input{Question: "123457", Time: at}
	right, err := Default.Respond(key, in)
	require.NoError(t, err)
	for _, resp := range []string{"1234567", "123456789", "98765432", right[:7] + "x"} {
		_, err := v.Verify(in, resp, Window{Behind: 1, Ahead: 1})
		require.Error(t, err)
		msg := err.Error()
		require.NotContains(t, msg, right)
		require.NotContains(t, msg, right[:6])
		if len(resp) >= 6 {
			require.NotContains(t, msg, resp[:6])
		}
	}
}

func TestCanonicalResponse(t *testing.T) {
	for in, want := range map[string]string{"01501458": "01501458", " 0150-1458 ": "01501458", "0150 1458": "01501458"} {
		got, err := Default.CanonicalResponse(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := Default.CanonicalResponse("0150145")
	require.ErrorIs(t, err, ErrMalformed)
	hexSuite := MustParseSuite("OCRA-1:HOTP-SHA1-0:QH08")
	got, err := hexSuite.CanonicalResponse(" " + strings.Repeat("AB", 20))
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("ab", 20), got)
	_, err = Suite{}.CanonicalResponse("1")
	require.ErrorIs(t, err, ErrInvalidSuite)
}
