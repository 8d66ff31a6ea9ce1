package challenge

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The one-shot verification gives what a verifier built for the call
// gives: the same match or the same error, for every suite of the
// grammar, keys longer than a block included, on the fast path and on
// the slow one.

// onceAgrees checks VerifyOnce and AppendResponsesOnce against
// NewVerifier for one suite, key, input and window, with a right and a
// wrong response. It returns how many right responses it checked.
func onceAgrees(t *testing.T, p propSpec, s Suite, key []byte, in Input, w Window) int {
	t.Helper()
	v, err := NewVerifier(s, key)
	require.NoError(t, err)
	want, wantErr := v.AppendResponses(nil, in, w)
	got, gotErr := s.AppendResponsesOnce(nil, key, in, w)
	require.Equal(t, wantErr, gotErr, "%s: AppendResponsesOnce error", s)
	require.Equal(t, want, got, "%s: AppendResponsesOnce", s)
	checked := 0
	right := propReference(t, p, key, in)
	for _, resp := range []string{right, wrongResponse(right)} {
		wm, werr := v.Verify(in, resp, w)
		gm, gerr := s.VerifyOnce(key, in, resp, w)
		require.Equal(t, werr, gerr, "%s: VerifyOnce error", s)
		require.Equal(t, wm, gm, "%s: VerifyOnce match", s)
		if werr == nil {
			checked++
		}
	}
	return checked
}

// wrongResponse returns a response of the suite's shape other than right.
func wrongResponse(right string) string {
	b := []byte(right)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func TestVerifyOnceAgreesWithVerifier(t *testing.T) {
	r := propRand(t)
	matched := 0
	specs := propAllSpecs(r)
	for i := range 400 {
		p := specs[i*len(specs)/400]
		s, err := ParseSuite(p.String())
		require.NoError(t, err)
		matched += onceAgrees(t, p, s, propKey(r), propInput(r, p, s), propWindow(r, p))
	}
	require.Greater(t, matched, 300, "most right responses match: the check is not vacuous")
}

func TestVerifyOnceAgreesOnTheSlowPath(t *testing.T) {
	forceFallback(t)
	r := propRand(t)
	for range 60 {
		p := propGenSpec(r)
		s, err := ParseSuite(p.String())
		require.NoError(t, err)
		onceAgrees(t, p, s, propKey(r), propInput(r, p, s), propWindow(r, p))
	}
}

// The one-shot calls refuse what NewVerifier and Verify refuse, with the
// same errors.
func TestVerifyOnceErrors(t *testing.T) {
	key := benchKey(32)
	in := Input{Question: benchQuestion, Time: benchTime}
	for _, c := range []struct {
		name string
		s    Suite
		key  []byte
		in   Input
		resp string
		w    Window
	}{
		{"zero suite", Suite{}, key, in, "12345678", benchWindow},
		{"short key", Default, key[:15], in, "12345678", benchWindow},
		{"bad window", Default, key, in, "12345678", Window{Behind: -1}},
		{"wide window", Default, key, in, "12345678", Window{Ahead: MaxWindow + 1}},
		{"malformed", Default, key, in, "1234567", benchWindow},
		{"no time", Default, key, Input{Question: benchQuestion}, "12345678", benchWindow},
		{"bad question", Default, key, Input{Question: "12ab", Time: benchTime}, "12345678", benchWindow},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, want := func() (Match, error) {
				v, err := NewVerifier(c.s, c.key)
				if err != nil {
					return Match{}, err
				}
				return v.Verify(c.in, c.resp, c.w)
			}()
			require.Error(t, want)
			_, got := c.s.VerifyOnce(c.key, c.in, c.resp, c.w)
			require.Equal(t, want, got)
		})
	}
}

func TestTOTPAndHOTPVerifyOnce(t *testing.T) {
	r := propRand(t)
	for i := range 200 {
		h := HOTP{Hash: propHashList[i%3], Digits: 6 + i%5}
		key := propKey(r)
		counter := r.Uint64N(1 << 40)
		w := Window{Behind: r.IntN(3), Ahead: r.IntN(11)}
		right, err := h.Code(key, counter+uint64(r.IntN(w.Ahead+1)))
		require.NoError(t, err)
		hv, err := h.NewVerifier(key)
		require.NoError(t, err)
		for _, code := range []string{right, fmt.Sprintf("%0*d", h.Digits, r.IntN(1000)), "12"} {
			wm, werr := hv.Verify(counter, code, w)
			gm, gerr := h.VerifyOnce(key, counter, code, w)
			require.Equal(t, werr, gerr)
			require.Equal(t, wm, gm)
		}

		tp := TOTP{Hash: h.Hash, Digits: h.Digits, Period: time.Duration(1+r.IntN(90)) * time.Second, AllowShortKey: i%2 == 0}
		at := time.Unix(r.Int64N(propYear2200), 0)
		code, err := tp.Code(key, at.Add(-tp.Period))
		require.NoError(t, err)
		tv, err := tp.NewVerifier(key)
		require.NoError(t, err)
		wm, werr := tv.Verify(at, code, Window{Behind: 1})
		require.NoError(t, werr)
		gm, gerr := tp.VerifyOnce(key, at, code, Window{Behind: 1})
		require.NoError(t, gerr)
		require.Equal(t, wm, gm)
		_, werr = tv.Verify(time.Time{}, code, Window{})
		_, gerr = tp.VerifyOnce(key, time.Time{}, code, Window{})
		require.Equal(t, werr, gerr)
	}
	_, err := TOTP{AllowShortKey: true}.VerifyOnce(benchKey(9), benchTime, "123456", Window{})
	require.ErrorIs(t, err, ErrInvalidKey)
}

// TestVerifyOnceAllocatesNothing pins the one-shot calls' promise of no
// allocation on the fast path.
func TestVerifyOnceAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	key := benchKey(32)
	in := Input{Question: benchQuestion, Time: benchTime}
	right, err := Default.Respond(key, in)
	require.NoError(t, err)
	otpKey := benchKey(20)
	totpRight, err := TOTP{}.Code(otpKey, benchTime)
	require.NoError(t, err)
	long := benchKey(300) // hashed to a block's worth first
	buf := make([]byte, 0, 64)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"OCRA/right", func() { sinkMatch, sinkErr = Default.VerifyOnce(key, in, right, benchWindow) }},
		{"OCRA/wrong", func() { sinkMatch, sinkErr = Default.VerifyOnce(key, in, "00000000", benchWindow) }},
		{"OCRA/long-key", func() { sinkMatch, sinkErr = Default.VerifyOnce(long, in, right, benchWindow) }},
		{"OCRA/append", func() { buf, sinkErr = Default.AppendResponsesOnce(buf[:0], key, in, benchWindow) }},
		{"TOTP", func() { sinkMatch, sinkErr = TOTP{}.VerifyOnce(otpKey, benchTime, totpRight, benchWindow) }},
		{"HOTP", func() { sinkMatch, sinkErr = HOTP{}.VerifyOnce(otpKey, 42, "123456", Window{Ahead: 10}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Zero(t, testing.AllocsPerRun(200, c.f))
		})
	}
}

// TestVerifyOnceWipes checks that the pooled key schedule holds nothing
// of the key once the call returns.
func TestVerifyOnceWipes(t *testing.T) {
	key := benchKey(32)
	o, s := getOnce(algSHA256, 8)
	in := Input{Question: benchQuestion, Time: benchTime}
	m, err := Default.writeMessage(s.msg[:], &in)
	require.NoError(t, err)
	require.NoError(t, o.prepare(s, key, m))
	require.NotZero(t, o.k.n)
	require.NotEqual(t, make([]byte, o.k.n), o.k.outer[:o.k.n])
	require.NotEqual(t, make([]byte, s.stateLen), s.state[:s.stateLen])
	o.release(s)
	require.Zero(t, o.k.n)
	require.Equal(t, [maxStateSize]byte{}, o.k.outer)
	require.Equal(t, [maxBlockSize]byte{}, o.pad)
	require.Equal(t, [maxStateSize]byte{}, s.state)
	require.Equal(t, make([]byte, len(s.last)), s.last[:])
}

// BenchmarkOCRAVerifyOneShot is Suite.VerifyOnce: the key schedule and
// one verification (Default at ±1), from pooled scratch. Its floor is the
// key's two pad blocks and the 8 blocks of a verification: 10 SHA-256
// blocks, as many as BenchmarkSHA256Sum631 hashes. Compare with
// BenchmarkOCRAVerifyOnce (NewVerifier, then Verify), BenchmarkOCRAVerify
// (a prebuilt verifier) and BenchmarkOCRAVerifyHMAC (bare crypto/hmac).
func BenchmarkOCRAVerifyOneShot(b *testing.B) {
	key := benchKey(32)
	v, err := NewVerifier(Default, key)
	require.NoError(b, err)
	in := Input{Question: benchQuestion, Time: benchTime}
	resp := wrongOCRA(b, v, in, benchWindow)
	_, err = Default.VerifyOnce(key, in, resp, benchWindow)
	require.ErrorIs(b, err, ErrMismatch)
	b.ReportAllocs()
	for b.Loop() {
		sinkMatch, sinkErr = Default.VerifyOnce(key, in, resp, benchWindow)
	}
}

// BenchmarkOCRAVerifyHMAC is the bare crypto/hmac baseline: the DataInput
// laid out once (as the verifiers do), a fresh crypto/hmac of the key,
// and one MAC per step of the window, each compared. No parsing of the
// response, no rendering of digits.
func BenchmarkOCRAVerifyHMAC(b *testing.B) {
	key := benchKey(32)
	in := Input{Question: benchQuestion, Time: benchTime}
	var buf [maxMessage]byte
	m, err := Default.writeMessage(buf[:], &in)
	require.NoError(b, err)
	msg := buf[:m.n]
	want := make([]byte, sha256.Size)
	sum := make([]byte, 0, sha256.Size)
	b.ReportAllocs()
	for b.Loop() {
		mac := hmac.New(sha256.New, key)
		for off := -1; off <= 1; off++ {
			putStep(msg[m.varOff:], m.centre+uint64(off))
			mac.Reset()
			mac.Write(msg)
			sum = mac.Sum(sum[:0])
			sinkBool = hmac.Equal(sum, want)
		}
	}
}

func BenchmarkSHA256Sum631(b *testing.B) {
	msg := make([]byte, 631) // 631 + 9 bytes of padding = 10 blocks
	b.ReportAllocs()
	for b.Loop() {
		sinkSHA256 = sha256.Sum256(msg)
	}
}

// BenchmarkTOTPVerifyOneShot is TOTP.VerifyOnce at ±1: two pad blocks and
// 2 SHA-1 blocks per step, 8 blocks, as many as BenchmarkSHA1Sum503.
func BenchmarkTOTPVerifyOneShot(b *testing.B) {
	key := benchKey(20)
	code := wrongTOTP(b, key)
	b.ReportAllocs()
	for b.Loop() {
		sinkMatch, sinkErr = TOTP{}.VerifyOnce(key, benchTime, code, benchWindow)
	}
}

func BenchmarkSHA1Sum503(b *testing.B) {
	msg := make([]byte, 503) // 503 + 9 = 8 blocks
	b.ReportAllocs()
	for b.Loop() {
		sinkSHA1 = sha1.Sum(msg)
	}
}
