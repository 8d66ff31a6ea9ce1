package challenge

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// Benchmarks of the verifiers, beside what they are measured against:
// github.com/pquerna/otp for TOTP, a plain RFC 6287 implementation (below)
// for OCRA, and the bare hash work a verification cannot avoid. Every
// verification benchmark uses a response that matches no step of the
// window, so that every step is computed. BENCHMARKS.md at the
// repository root records the results.

var (
	benchTime     = time.Unix(1_750_000_000, 0) // fixed, so that runs compare
	benchQuestion = "739208"
	benchWindow   = Window{Behind: 1, Ahead: 1}
)

// Sinks keep the compiler from dropping the work measured. They are typed,
// not interfaces, so that storing a result allocates nothing.
var (
	sinkMatch  Match
	sinkErr    error
	sinkBool   bool
	sinkString string
	sinkSuite  Suite
	sinkVerif  *Verifier
	sinkSHA256 [sha256.Size]byte
	sinkSHA1   [sha1.Size]byte
)

// benchKey returns a fixed key of n bytes.
func benchKey(n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = byte(i*37 + 11)
	}
	return k
}

// wrongCode returns a code of the given number of digits that is none of
// valid.
func wrongCode(tb testing.TB, digits int, valid []string) string {
	tb.Helper()
	for v := 0; v < 1000; v++ {
		c := fmt.Sprintf("%0*d", digits, v)
		if !slices.Contains(valid, c) {
			return c
		}
	}
	tb.Fatal("no wrong code found")
	return ""
}

// splitResponses cuts the output of AppendResponses into responses.
func splitResponses(b []byte, size int) []string {
	var out []string
	for len(b) > 0 {
		out = append(out, string(b[:size]))
		b = b[size:]
	}
	return out
}

// wrongTOTP returns a 6-digit SHA-1 code that is wrong for every step of
// benchWindow around benchTime, asserting it against TOTP.Code.
func wrongTOTP(tb testing.TB, key []byte) string {
	tb.Helper()
	var valid []string
	for off := -benchWindow.Behind; off <= benchWindow.Ahead; off++ {
		c, err := TOTP{}.Code(key, benchTime.Add(time.Duration(off)*30*time.Second))
		require.NoError(tb, err)
		valid = append(valid, c)
	}
	require.Len(tb, valid, 3)
	code := wrongCode(tb, 6, valid)
	require.NotContains(tb, valid, code)
	return code
}

// wrongHOTP returns a 6-digit SHA-1 code that is wrong for the counters
// from counter to counter+ahead.
func wrongHOTP(tb testing.TB, key []byte, counter uint64, ahead int) string {
	tb.Helper()
	var valid []string
	for c := counter; c <= counter+uint64(ahead); c++ {
		code, err := HOTP{}.Code(key, c)
		require.NoError(tb, err)
		valid = append(valid, code)
	}
	return wrongCode(tb, 6, valid)
}

// wrongOCRA returns a Default response that is wrong for every step of w
// around in, asserting that v refuses it.
func wrongOCRA(tb testing.TB, v *Verifier, in Input, w Window) string {
	tb.Helper()
	all, err := v.AppendResponses(nil, in, w)
	require.NoError(tb, err)
	valid := splitResponses(all, Default.ResponseLen())
	require.Len(tb, valid, w.Behind+w.Ahead+1)
	resp := wrongCode(tb, Default.Digits(), valid)
	_, err = v.Verify(in, resp, w)
	require.ErrorIs(tb, err, ErrMismatch)
	return resp
}

// The plain OCRA implementation: what a developer following the reference
// code of RFC 6287 Appendix A would write for the Default suite. Each call
// converts the question with math/big, builds the whole DataInput, keys a
// fresh HMAC and formats the response with fmt.

const plainSuite = "OCRA-1:HOTP-SHA256-8:QN06-T30S"

func plainOCRA(key []byte, question string, step uint64) (string, error) {
	q, ok := new(big.Int).SetString(question, 10)
	if !ok {
		return "", fmt.Errorf("question %q is not a decimal number", question)
	}
	// Hex digits, left-aligned in 128 bytes: pad the string, then decode.
	qHex := q.Text(16)
	qHex += strings.Repeat("0", 256-len(qHex))
	qBytes, err := hex.DecodeString(qHex)
	if err != nil {
		return "", err
	}
	msg := make([]byte, 0, len(plainSuite)+1+len(qBytes)+8)
	msg = append(msg, plainSuite...)
	msg = append(msg, 0)
	msg = append(msg, qBytes...)
	msg = binary.BigEndian.AppendUint64(msg, step)

	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%08d", bin%100_000_000), nil
}

// plainOCRAVerify tries each step from behind to ahead around the time
// step of at, stopping at the first match.
func plainOCRAVerify(key []byte, question string, at time.Time, response string, behind, ahead int) bool {
	step := at.Unix() / 30
	for off := -behind; off <= ahead; off++ {
		want, err := plainOCRA(key, question, uint64(step+int64(off)))
		if err != nil {
			return false
		}
		if hmac.Equal([]byte(want), []byte(response)) {
			return true
		}
	}
	return false
}

// TestPlainOCRAMatchesRespond keeps the baseline honest: the plain
// implementation computes what Default.Respond computes, and accepts and
// refuses what the Verifier does.
func TestPlainOCRAMatchesRespond(t *testing.T) {
	require.Equal(t, plainSuite, Default.String())
	rng := rand.New(rand.NewPCG(6287, 1))
	key := make([]byte, 32)
	for i := range 300 {
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		q := make([]byte, 1+rng.IntN(Default.QuestionLength()))
		for j := range q {
			q[j] = byte('0' + rng.IntN(10))
		}
		question := string(q)
		if i == 0 {
			question = "000000" // the zero question: Q is all zero bytes
		}
		at := time.Unix(1+rng.Int64N(1<<33), 0)
		in := Input{Question: question, Time: at}

		want, err := Default.Respond(key, in)
		require.NoError(t, err)
		got, err := plainOCRA(key, question, uint64(at.Unix()/30))
		require.NoError(t, err)
		require.Equal(t, want, got, "question %q at %d", question, at.Unix())

		// A response made one step away is accepted by both; a random one
		// gets the same verdict from both.
		v, err := NewVerifier(Default, key)
		require.NoError(t, err)
		near, err := Default.Respond(key, Input{Question: question, Time: at.Add(time.Duration(rng.IntN(3)-1) * 30 * time.Second)})
		require.NoError(t, err)
		require.True(t, plainOCRAVerify(key, question, at, near, 1, 1))
		random := fmt.Sprintf("%08d", rng.IntN(100_000_000))
		_, err = v.Verify(in, random, benchWindow)
		require.Equal(t, err == nil, plainOCRAVerify(key, question, at, random, 1, 1))
	}
}

// TestVerifyAllocatesNothing pins the verifiers' promise of no allocation
// per verification, for responses that match and responses that do not.
func TestVerifyAllocatesNothing(t *testing.T) {
	if raceEnabled {
		// Under the race detector sync.Pool drops a quarter of what is
		// put back, so the pooled scratch space is allocated again.
		t.Skip("allocation counts are not meaningful under -race")
	}
	ocraKey := benchKey(32)
	ov, err := NewVerifier(Default, ocraKey)
	require.NoError(t, err)
	in := Input{Question: benchQuestion, Time: benchTime}
	ocraRight, err := Default.Respond(ocraKey, in)
	require.NoError(t, err)
	ocraWrong := wrongOCRA(t, ov, in, benchWindow)

	otpKey := benchKey(20)
	tv, err := TOTP{}.NewVerifier(otpKey)
	require.NoError(t, err)
	totpRight, err := TOTP{}.Code(otpKey, benchTime)
	require.NoError(t, err)
	totpWrong := wrongTOTP(t, otpKey)

	hv, err := HOTP{}.NewVerifier(otpKey)
	require.NoError(t, err)
	const counter = 42
	hotpWindow := Window{Ahead: 10}
	hotpRight, err := HOTP{}.Code(otpKey, counter+3)
	require.NoError(t, err)
	hotpWrong := wrongHOTP(t, otpKey, counter, hotpWindow.Ahead)

	for _, c := range []struct {
		name   string
		verify func() (Match, error)
		ok     bool
	}{
		{"OCRA/right", func() (Match, error) { return ov.Verify(in, ocraRight, benchWindow) }, true},
		{"OCRA/wrong", func() (Match, error) { return ov.Verify(in, ocraWrong, benchWindow) }, false},
		{"TOTP/right", func() (Match, error) { return tv.Verify(benchTime, totpRight, benchWindow) }, true},
		{"TOTP/wrong", func() (Match, error) { return tv.Verify(benchTime, totpWrong, benchWindow) }, false},
		{"HOTP/right", func() (Match, error) { return hv.Verify(counter, hotpRight, hotpWindow) }, true},
		{"HOTP/wrong", func() (Match, error) { return hv.Verify(counter, hotpWrong, hotpWindow) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.verify()
			if c.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrMismatch)
			}
			allocs := testing.AllocsPerRun(200, func() { sinkMatch, sinkErr = c.verify() })
			require.Zero(t, allocs)
		})
	}
}

func BenchmarkTOTPVerify(b *testing.B) { benchTOTPVerify(b) }

// BenchmarkTOTPVerifyFallback is BenchmarkTOTPVerify on the slow path,
// crypto/hmac (see FastPath).
func BenchmarkTOTPVerifyFallback(b *testing.B) {
	forceFallback(b)
	benchTOTPVerify(b)
}

func benchTOTPVerify(b *testing.B) {
	key := benchKey(20)
	v, err := TOTP{}.NewVerifier(key)
	require.NoError(b, err)
	code := wrongTOTP(b, key)
	_, err = v.Verify(benchTime, code, benchWindow)
	require.ErrorIs(b, err, ErrMismatch)
	b.ReportAllocs()
	for b.Loop() {
		sinkMatch, sinkErr = v.Verify(benchTime, code, benchWindow)
	}
}

func BenchmarkTOTPVerifyPquerna(b *testing.B) {
	key := benchKey(20)
	secret := base32.StdEncoding.EncodeToString(key)
	opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	// Same parameters as ours: it accepts our code and refuses the wrong one.
	right, err := TOTP{}.Code(key, benchTime)
	require.NoError(b, err)
	ok, err := totp.ValidateCustom(right, secret, benchTime, opts)
	require.NoError(b, err)
	require.True(b, ok)
	code := wrongTOTP(b, key)
	ok, err = totp.ValidateCustom(code, secret, benchTime, opts)
	require.NoError(b, err)
	require.False(b, ok)
	b.ReportAllocs()
	for b.Loop() {
		sinkBool, sinkErr = totp.ValidateCustom(code, secret, benchTime, opts)
	}
}

func BenchmarkOCRAVerify(b *testing.B) { benchOCRAVerify(b) }

// BenchmarkOCRAVerifyFallback is BenchmarkOCRAVerify on the slow path,
// crypto/hmac (see FastPath).
func BenchmarkOCRAVerifyFallback(b *testing.B) {
	forceFallback(b)
	benchOCRAVerify(b)
}

func benchOCRAVerify(b *testing.B) {
	v, err := NewVerifier(Default, benchKey(32))
	require.NoError(b, err)
	in := Input{Question: benchQuestion, Time: benchTime}
	resp := wrongOCRA(b, v, in, benchWindow)
	b.ReportAllocs()
	for b.Loop() {
		sinkMatch, sinkErr = v.Verify(in, resp, benchWindow)
	}
}

// BenchmarkOCRAVerifyOnce builds a verifier and verifies once, as a
// server that keeps no verifier between calls does.
func BenchmarkOCRAVerifyOnce(b *testing.B) { benchOCRAVerifyOnce(b) }

// BenchmarkOCRAVerifyOnceFallback is BenchmarkOCRAVerifyOnce on the slow
// path, where NewVerifier makes a crypto/hmac for the key.
func BenchmarkOCRAVerifyOnceFallback(b *testing.B) {
	forceFallback(b)
	benchOCRAVerifyOnce(b)
}

func benchOCRAVerifyOnce(b *testing.B) {
	key := benchKey(32)
	v, err := NewVerifier(Default, key)
	require.NoError(b, err)
	in := Input{Question: benchQuestion, Time: benchTime}
	resp := wrongOCRA(b, v, in, benchWindow)
	b.ReportAllocs()
	for b.Loop() {
		sinkVerif, sinkErr = NewVerifier(Default, key)
		sinkMatch, sinkErr = sinkVerif.Verify(in, resp, benchWindow)
	}
}

func BenchmarkOCRAVerifyPlain(b *testing.B) {
	key := benchKey(32)
	v, err := NewVerifier(Default, key)
	require.NoError(b, err)
	resp := wrongOCRA(b, v, Input{Question: benchQuestion, Time: benchTime}, benchWindow)
	require.False(b, plainOCRAVerify(key, benchQuestion, benchTime, resp, 1, 1))
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = plainOCRAVerify(key, benchQuestion, benchTime, resp, 1, 1)
	}
}

func BenchmarkOCRAVerifyWindow(b *testing.B) {
	v, err := NewVerifier(Default, benchKey(32))
	require.NoError(b, err)
	in := Input{Question: benchQuestion, Time: benchTime}
	for _, n := range []int{2, 10} {
		w := Window{Behind: n, Ahead: n}
		b.Run(fmt.Sprintf("window=%d", n), func(b *testing.B) {
			resp := wrongOCRA(b, v, in, w)
			b.ReportAllocs()
			for b.Loop() {
				sinkMatch, sinkErr = v.Verify(in, resp, w)
			}
		})
	}
}

func BenchmarkHOTPVerify(b *testing.B) { benchHOTPVerify(b) }

// BenchmarkHOTPVerifyFallback is BenchmarkHOTPVerify on the slow path,
// crypto/hmac (see FastPath).
func BenchmarkHOTPVerifyFallback(b *testing.B) {
	forceFallback(b)
	benchHOTPVerify(b)
}

func benchHOTPVerify(b *testing.B) {
	key := benchKey(20)
	v, err := HOTP{}.NewVerifier(key)
	require.NoError(b, err)
	const counter = 42
	w := Window{Ahead: 10} // the look-ahead of RFC 4226 §7.4
	code := wrongHOTP(b, key, counter, w.Ahead)
	_, err = v.Verify(counter, code, w)
	require.ErrorIs(b, err, ErrMismatch)
	b.ReportAllocs()
	for b.Loop() {
		sinkMatch, sinkErr = v.Verify(counter, code, w)
	}
}

// The bare block work. HMAC-SHA256 over Default's DataInput (30 + 1 + 128
// + 8 bytes) at ±1 costs 2 blocks for the message before the time step,
// computed once, then 2 per step (the rest of the message, and the outer
// hash): 8 blocks, as many as SHA-256 over 503 bytes (503 + 9 bytes of
// padding = 8 × 64). TOTP at ±1 costs 2 SHA-1 blocks per step: 6, as many
// as SHA-1 over 375 bytes (375 + 9 = 6 × 64). The key's pad blocks are
// hashed once per key, not per verification.

func BenchmarkSHA256Sum503(b *testing.B) {
	msg := make([]byte, 503)
	b.ReportAllocs()
	for b.Loop() {
		sinkSHA256 = sha256.Sum256(msg)
	}
}

func BenchmarkSHA1Sum375(b *testing.B) {
	msg := make([]byte, 375)
	b.ReportAllocs()
	for b.Loop() {
		sinkSHA1 = sha1.Sum(msg)
	}
}

func BenchmarkRespond(b *testing.B) {
	key := benchKey(32)
	in := Input{Question: benchQuestion, Time: benchTime}
	b.ReportAllocs()
	for b.Loop() {
		sinkString, sinkErr = Default.Respond(key, in)
	}
}

func BenchmarkNewVerifier(b *testing.B) {
	key := benchKey(32)
	b.ReportAllocs()
	for b.Loop() {
		sinkVerif, sinkErr = NewVerifier(Default, key)
	}
}

func BenchmarkParseSuite(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkSuite, sinkErr = ParseSuite(plainSuite)
	}
}

func BenchmarkNewQuestion(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkString = Default.NewQuestion()
	}
}
