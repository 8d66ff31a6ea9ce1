package challenge

import (
	"crypto"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestInputFieldsMustMatchSuite(t *testing.T) {
	key := make([]byte, 32)
	at := time.Unix(1700000000, 0)
	pin := make([]byte, 20)
	tests := []struct {
		suite, name string
		in          Input
	}{
		{"OCRA-1:HOTP-SHA1-6:QN08", "no question", Input{}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "question too long", Input{Question: "123456789"}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "letters in numeric question", Input{Question: "1234567a"}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "non-ASCII digit", Input{Question: "١٢٣"}},
		{"OCRA-1:HOTP-SHA1-6:QH08", "non-hex", Input{Question: "abcdefg"}},
		{"OCRA-1:HOTP-SHA1-6:QA08", "punctuation", Input{Question: "ABC-123"}},
		{"OCRA-1:HOTP-SHA1-6:QA08", "second question too long", Input{Question: "A", Question2: "123456789"}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "counter not taken", Input{Question: "1", Counter: 1}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "time not taken", Input{Question: "1", Time: at}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "PIN not taken", Input{Question: "1", PINHash: pin}},
		{"OCRA-1:HOTP-SHA1-6:QN08", "session not taken", Input{Question: "1", Session: []byte{1}}},
		{"OCRA-1:HOTP-SHA1-6:QN08-PSHA1", "PIN missing", Input{Question: "1"}},
		{"OCRA-1:HOTP-SHA1-6:QN08-PSHA256", "PIN hash of the wrong size", Input{Question: "1", PINHash: pin}},
		{"OCRA-1:HOTP-SHA1-6:QN08-S064", "session missing", Input{Question: "1"}},
		{"OCRA-1:HOTP-SHA1-6:QN08-S064", "session too long", Input{Question: "1", Session: make([]byte, 65)}},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1M", "time missing", Input{Question: "1"}},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1M", "time before the epoch", Input{Question: "1", Time: time.Unix(-1, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustParseSuite(tt.suite)
			_, err := s.Respond(key, tt.in)
			require.ErrorIs(t, err, ErrInvalidInput)
			v, err := NewVerifier(s, key)
			require.NoError(t, err)
			_, err = v.Verify(tt.in, "123456", Window{})
			require.ErrorIs(t, err, ErrInvalidInput)
			_, err = v.AppendResponses(nil, tt.in, Window{})
			require.ErrorIs(t, err, ErrInvalidInput)
		})
	}
}

func TestSessionIsLeftPadded(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA256-8:QN08-S004")
	key := make([]byte, 32)
	a, err := s.Respond(key, Input{Question: "1", Session: []byte{7}})
	require.NoError(t, err)
	b, err := s.Respond(key, Input{Question: "1", Session: []byte{0, 0, 0, 7}})
	require.NoError(t, err)
	require.Equal(t, a, b)
	c, err := s.Respond(key, Input{Question: "1", Session: []byte{7, 0, 0, 0}})
	require.NoError(t, err)
	require.NotEqual(t, a, c)
}

func TestWindowLimits(t *testing.T) {
	key := make([]byte, 32)
	v, err := NewVerifier(Default, key)
	require.NoError(t, err)
	in := Input{Question: "123457", Time: time.Unix(1700000000, 0)}
	for _, w := range []Window{{Behind: -1}, {Ahead: -1}, {Behind: MaxWindow + 1}, {Ahead: MaxWindow + 1}} {
		_, err := v.Verify(in, "12345678", w)
		require.ErrorIs(t, err, ErrInvalidInput, "%+v", w)
	}
	_, err = v.Verify(in, "12345678", Window{Behind: MaxWindow, Ahead: MaxWindow})
	require.ErrorIs(t, err, ErrMismatch)

	// A suite with neither counter nor time takes only the zero window.
	plain := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN08")
	pv, err := NewVerifier(plain, key)
	require.NoError(t, err)
	_, err = pv.Verify(Input{Question: "1"}, "123456", Window{Ahead: 1})
	require.ErrorIs(t, err, ErrInvalidInput)
}

func TestKeyLength(t *testing.T) {
	_, err := NewVerifier(Default, make([]byte, 15))
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = Default.Respond(make([]byte, 15), Input{Question: "1", Time: time.Unix(1, 0)})
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = HOTP{}.NewVerifier(make([]byte, 15))
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = HOTP{}.Code(make([]byte, 15), 0)
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = TOTP{}.NewVerifier(make([]byte, 10))
	require.ErrorIs(t, err, ErrInvalidKey)
	_, err = TOTP{AllowShortKey: true}.NewVerifier(make([]byte, 10))
	require.NoError(t, err)
	_, err = TOTP{AllowShortKey: true}.Code(make([]byte, 9), time.Unix(1, 0))
	require.ErrorIs(t, err, ErrInvalidKey)
	// Keys longer than the hash block are hashed first (RFC 2104); both
	// paths must agree.
	long := make([]byte, 200)
	for i := range long {
		long[i] = byte(i)
	}
	in := Input{Question: "42", Time: time.Unix(1700000000, 0)}
	r, err := Default.Respond(long, in)
	require.NoError(t, err)
	v, err := NewVerifier(Default, long)
	require.NoError(t, err)
	_, err = v.Verify(in, r, Window{})
	require.NoError(t, err)
}

func TestOTPParameters(t *testing.T) {
	key := make([]byte, 20)
	for _, tp := range []TOTP{
		{Digits: 5}, {Digits: 11}, {Hash: crypto.MD5}, {Period: -time.Second},
		{Period: 1500 * time.Millisecond}, {Period: time.Millisecond},
	} {
		_, err := tp.NewVerifier(key)
		require.ErrorIs(t, err, ErrInvalidInput, "%+v", tp)
		_, err = tp.Code(key, time.Unix(1, 0))
		require.ErrorIs(t, err, ErrInvalidInput, "%+v", tp)
	}
	_, err := TOTP{}.Code(key, time.Time{})
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = TOTP{}.Code(key, time.Unix(-30, 0))
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = HOTP{Digits: 4}.Code(key, 0)
	require.ErrorIs(t, err, ErrInvalidInput)
}

// Steps below 0 cannot have been answered; a window reaching there simply
// tries fewer steps, while AppendResponses, whose layout is fixed, refuses.
func TestWindowAtTheEdges(t *testing.T) {
	key := []byte("12345678901234567890")
	h := HOTP{}
	v, err := h.NewVerifier(key)
	require.NoError(t, err)
	code, err := h.Code(key, 0)
	require.NoError(t, err)
	m, err := v.Verify(1, code, Window{Behind: 5})
	require.NoError(t, err)
	require.Equal(t, Match{Step: 0, Offset: -1}, m)

	s := MustParseSuite("OCRA-1:HOTP-SHA256-8:C-QN08")
	ov, err := NewVerifier(s, make([]byte, 32))
	require.NoError(t, err)
	_, err = ov.AppendResponses(nil, Input{Question: "1", Counter: 1}, Window{Behind: 2})
	require.ErrorIs(t, err, ErrInvalidInput)
	_, err = ov.AppendResponses(nil, Input{Question: "1", Counter: ^uint64(0)}, Window{Ahead: 1})
	require.ErrorIs(t, err, ErrInvalidInput)
	out, err := ov.AppendResponses(nil, Input{Question: "1", Counter: ^uint64(0)}, Window{Behind: 1})
	require.NoError(t, err)
	require.Len(t, out, 16)
}

// Should a response match two steps, the one nearest the centre wins.
// 4-digit responses collide often enough to find such a case quickly.
func TestNearestMatchWins(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA1-4:C-QN08")
	key := []byte("12345678901234567890")
	v, err := NewVerifier(s, key)
	require.NoError(t, err)
	for c := uint64(10); c < 100000; c++ {
		out, err := v.AppendResponses(nil, Input{Question: "1", Counter: c}, Window{Behind: 1, Ahead: 1})
		require.NoError(t, err)
		behind, centre, ahead := string(out[0:4]), string(out[4:8]), string(out[8:12])
		if behind == ahead && behind != centre {
			m, err := v.Verify(Input{Question: "1", Counter: c}, behind, Window{Behind: 1, Ahead: 1})
			require.NoError(t, err)
			require.Equal(t, -1, m.Offset, "tie: the earlier step wins")
			return
		}
	}
	t.Fatal("no collision found")
}
