package challenge

import (
	"crypto"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"
)

// Cross-checks of HOTP and TOTP against two independent implementations,
// on random keys, counters and times: github.com/pquerna/otp (Go) and the
// OATH Toolkit's oathtool (C, the Debian package "oathtool").
//
// The cases are random. Each test logs its seed; a failure prints it.
// To replay a failing run exactly:
//
//	KEYLINE_TEST_SEED=<seed> go test -race -count=1 -run '<TestName>' ./challenge
//
// Without KEYLINE_TEST_SEED the seed is taken from the clock.
//
// Where a check could be defeated by an honest collision (two steps of a
// window giving the same 6-digit code, about 10^-6 per pair), the expected
// result is not assumed: it is computed from the other implementation's
// codes for every step of the window (xcExpect), so the checks are exact
// and never flaky.

// xcRand returns the test's random source, seeded from KEYLINE_TEST_SEED
// or the clock, and logs the seed.
func xcRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KEYLINE_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "KEYLINE_TEST_SEED")
		seed = v
	}
	t.Logf("seed %d (replay: KEYLINE_TEST_SEED=%d go test -run '^%s$' ./challenge)", seed, seed, t.Name())
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

type xcHash struct {
	hash crypto.Hash
	alg  otp.Algorithm
	name string // oathtool's --totp mode
}

var xcHashes = []xcHash{
	{crypto.SHA1, otp.AlgorithmSHA1, "SHA1"},
	{crypto.SHA256, otp.AlgorithmSHA256, "SHA256"},
	{crypto.SHA512, otp.AlgorithmSHA512, "SHA512"},
}

func xcBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var xcBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// xcCounter draws a counter: small, near a power of two, near the top of
// the range, or uniform over all of it.
func xcCounter(r *rand.Rand) uint64 {
	switch r.IntN(5) {
	case 0:
		return r.Uint64N(1000)
	case 1:
		return uint64(1)<<r.IntN(64) + uint64(r.IntN(5)) - 2
	case 2:
		return math.MaxUint64 - r.Uint64N(10)
	default:
		return r.Uint64()
	}
}

// xcYear2200 is 2200-01-01T00:00:00Z.
var xcYear2200 = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// xcUnix draws a Unix time in seconds: near the epoch, on a step boundary,
// uniform up to 2200, or (rarely) up to the year 9999.
func xcUnix(r *rand.Rand, period int64) int64 {
	switch r.IntN(6) {
	case 0:
		return r.Int64N(3 * period)
	case 1:
		return max(0, r.Int64N(xcYear2200/period)*period-r.Int64N(2)) // first second of a step, or last
	case 2:
		return r.Int64N(253402300800) // up to 9999-12-31
	default:
		return r.Int64N(xcYear2200 + 1)
	}
}

// xcExpect is the verifiers' documented choice among matches, computed
// from codes given by another implementation: the step of the window
// nearest the centre whose code is code, the earlier on a tie; steps
// outside 0..MaxUint64 are skipped. ok is false for no match.
func xcExpect(codeAt func(step uint64) string, centre uint64, w Window, code string) (Match, bool) {
	for d := 0; d <= max(w.Behind, w.Ahead); d++ {
		for side, off := range []int{-d, d} {
			if off < -w.Behind || off > w.Ahead || (d == 0 && side == 1) {
				continue
			}
			var step uint64
			if off < 0 {
				if centre < uint64(-off) {
					continue
				}
				step = centre - uint64(-off)
			} else {
				if centre > math.MaxUint64-uint64(off) {
					continue
				}
				step = centre + uint64(off)
			}
			if codeAt(step) == code {
				return Match{Step: step, Offset: off}, true
			}
		}
	}
	return Match{}, false
}

// xcCheckVerify checks err and m against the expectation of xcExpect.
func xcCheckVerify(t *testing.T, want Match, ok bool, got Match, err error, msg string, args ...any) {
	t.Helper()
	if ok {
		require.NoError(t, err, append([]any{msg}, args...)...)
		require.Equal(t, want, got, append([]any{msg}, args...)...)
	} else {
		require.ErrorIs(t, err, ErrMismatch, append([]any{msg}, args...)...)
	}
}

// xcOutside returns a centre for a window w such that step lies outside
// it, k+1 steps beyond its edge, on either side that the uint64 range
// allows.
func xcOutside(r *rand.Rand, step uint64, w Window) uint64 {
	k := uint64(r.IntN(3))
	ahead := step <= math.MaxUint64-uint64(w.Behind)-1-k // centre after step: step is behind the window
	behind := step >= uint64(w.Ahead)+1+k
	if ahead && (!behind || r.IntN(2) == 0) {
		return step + uint64(w.Behind) + 1 + k
	}
	return step - uint64(w.Ahead) - 1 - k
}

func xcWindow(r *rand.Rand) Window {
	return Window{Behind: r.IntN(4), Ahead: r.IntN(4)}
}

func TestCrossCheckHOTPPquerna(t *testing.T) {
	r := xcRand(t)
	const cases = 300
	negatives, mismatches := 0, 0
	for i := range cases {
		hs := xcHashes[r.IntN(len(xcHashes))]
		digits := 6 + r.IntN(5) // 6..10; pquerna formats any width
		key := xcBytes(r, 16+r.IntN(49))
		counter := xcCounter(r)

		h := HOTP{Hash: hs.hash, Digits: digits}
		// The zero values select SHA1 and 6 digits.
		if hs.hash == crypto.SHA1 && r.IntN(3) == 0 {
			h.Hash = 0
		}
		if digits == 6 && r.IntN(3) == 0 {
			h.Digits = 0
		}
		secret := xcBase32.EncodeToString(key)
		opts := hotp.ValidateOpts{Digits: otp.Digits(digits), Algorithm: hs.alg}
		codeAt := func(c uint64) string {
			code, err := hotp.GenerateCodeCustom(secret, c, opts)
			require.NoError(t, err)
			return code
		}
		ctx := []any{"case %d: %s %d digits, key %x, counter %d", i, hs.name, digits, key, counter}

		want := codeAt(counter)
		require.Len(t, want, digits, ctx...)
		got, err := h.Code(key, counter)
		require.NoError(t, err, ctx...)
		require.Equal(t, want, got, ctx...)

		v, err := h.NewVerifier(key)
		require.NoError(t, err, ctx...)
		w := xcWindow(r)
		m, err := v.Verify(counter, want, w)
		require.NoError(t, err, ctx...)
		require.Equal(t, Match{Step: counter, Offset: 0}, m, ctx...)

		// Centred so that the code's counter is outside the window: a
		// mismatch, unless another counter of the window has the same code.
		centre := xcOutside(r, counter, w)
		wantM, ok := xcExpect(codeAt, centre, w, want)
		m, err = v.Verify(centre, want, w)
		xcCheckVerify(t, wantM, ok, m, err, "case %d: centre %d window %+v", i, centre, w)
		negatives++
		if !ok {
			mismatches++
		}
	}
	// The negative checks must mostly have been real mismatches.
	require.Greater(t, mismatches, negatives*9/10)
}

func TestCrossCheckTOTPPquerna(t *testing.T) {
	r := xcRand(t)
	const cases = 300
	negatives, mismatches := 0, 0
	for i := range cases {
		hs := xcHashes[r.IntN(len(xcHashes))]
		digits := 6 + r.IntN(5)
		var period int64
		switch r.IntN(4) {
		case 0:
			period = 30
		case 1:
			period = 60
		case 2:
			period = 1 + r.Int64N(10)
		default:
			period = 1 + r.Int64N(86400)
		}
		short := r.IntN(4) == 0
		var key []byte
		if short {
			key = xcBytes(r, 10+r.IntN(6)) // 10..15 bytes: only with AllowShortKey
		} else {
			key = xcBytes(r, 16+r.IntN(49))
		}
		sec := xcUnix(r, period)
		at := time.Unix(sec, r.Int64N(1e9)) // the fraction of a second must not matter

		tp := TOTP{Hash: hs.hash, Digits: digits, Period: time.Duration(period) * time.Second, AllowShortKey: short}
		if period == 30 && r.IntN(2) == 0 {
			tp.Period = 0 // selects 30s
		}
		if hs.hash == crypto.SHA1 && r.IntN(3) == 0 {
			tp.Hash = 0
		}
		secret := xcBase32.EncodeToString(key)
		opts := totp.ValidateOpts{Period: uint(period), Digits: otp.Digits(digits), Algorithm: hs.alg}
		codeAt := func(step uint64) string {
			code, err := totp.GenerateCodeCustom(secret, time.Unix(int64(step)*period, 0), opts)
			require.NoError(t, err)
			return code
		}
		ctx := []any{"case %d: %s %d digits, period %ds, key %x, time %d", i, hs.name, digits, period, key, sec}

		want, err := totp.GenerateCodeCustom(secret, at, opts)
		require.NoError(t, err, ctx...)
		require.Len(t, want, digits, ctx...)
		got, err := tp.Code(key, at)
		require.NoError(t, err, ctx...)
		require.Equal(t, want, got, ctx...)
		step, err := tp.Step(at)
		require.NoError(t, err, ctx...)
		require.Equal(t, uint64(sec/period), step, ctx...)

		if short {
			// Without AllowShortKey the same key is refused.
			strict := tp
			strict.AllowShortKey = false
			_, err := strict.Code(key, at)
			require.ErrorIs(t, err, ErrInvalidKey, ctx...)
			_, err = strict.NewVerifier(key)
			require.ErrorIs(t, err, ErrInvalidKey, ctx...)
		}

		v, err := tp.NewVerifier(key)
		require.NoError(t, err, ctx...)
		w := xcWindow(r)
		m, err := v.Verify(at, want, w)
		require.NoError(t, err, ctx...)
		require.Equal(t, Match{Step: step, Offset: 0}, m, ctx...)

		// Verified at a time whose window excludes the code's step.
		centre := xcOutside(r, step, w)
		at2 := time.Unix(int64(centre)*period+r.Int64N(period), 0)
		wantM, ok := xcExpect(codeAt, centre, w, want)
		m, err = v.Verify(at2, want, w)
		xcCheckVerify(t, wantM, ok, m, err, "case %d: at %v window %+v", i, at2.Unix(), w)
		negatives++
		if !ok {
			mismatches++
		}
	}
	require.Greater(t, mismatches, negatives*9/10)
}

// xcOathtool returns the path of oathtool, or ends the test: it fails
// when KEYLINE_REQUIRE_OATHTOOL=1 (as scripts/test sets) and skips
// otherwise.
func xcOathtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("KEYLINE_REQUIRE_OATHTOOL") == "1" {
			t.Fatalf("oathtool not found (%v) and KEYLINE_REQUIRE_OATHTOOL=1; install the Debian package oathtool", err)
		}
		t.Skipf("oathtool not found (%v): install the Debian package oathtool to cross-check against it (scripts/test requires it)", err)
	}
	return path
}

// xcRun runs oathtool and returns the codes it prints, one per line.
func xcRun(t *testing.T, path string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(path, args...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("oathtool %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("oathtool %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// oathtool's -w N prints the codes of N+1 consecutive steps from the
// counter (or the time step of -N) given, so one process call yields many
// cases. It supports 6, 7 and 8 digits; its HOTP mode is HMAC-SHA1 only,
// so HOTP with SHA256 and SHA512 is checked through TOTP with a 1-second
// step, whose step is the counter.
const xcOathWindow = 39

func TestCrossCheckOathtool(t *testing.T) {
	path := xcOathtool(t)
	r := xcRand(t)
	total := 0

	// HOTP (SHA1): small counters, counters that wrap past 2^64-1 inside
	// oathtool's window (oathtool wraps; our verifier must skip those
	// steps), and uniform ones.
	for batch := range 6 {
		digits := 6 + r.IntN(3)
		key := xcBytes(r, 16+r.IntN(49))
		var counter uint64
		switch batch {
		case 0:
			counter = r.Uint64N(100)
		case 1:
			counter = math.MaxUint64 - uint64(r.IntN(xcOathWindow))
		case 2:
			counter = r.Uint64N(1 << 32)
		default:
			counter = r.Uint64()
		}
		codes := xcRun(t, path, "--hotp", "-d", strconv.Itoa(digits),
			"-c", strconv.FormatUint(counter, 10), "-w", strconv.Itoa(xcOathWindow), hex.EncodeToString(key))
		require.Len(t, codes, xcOathWindow+1)
		h := HOTP{Digits: digits}
		v, err := h.NewVerifier(key)
		require.NoError(t, err)
		codeAt := func(c uint64) string { return codes[c-counter] } // wraps like oathtool
		w := Window{Ahead: xcOathWindow}
		for i, want := range codes {
			c := counter + uint64(i) // wraps past 2^64-1 as oathtool does
			ctx := []any{"hotp batch %d: %d digits, key %x, counter %d", batch, digits, key, c}
			require.Len(t, want, digits, ctx...)
			got, err := h.Code(key, c)
			require.NoError(t, err, ctx...)
			require.Equal(t, want, got, ctx...)
			// Found by look-ahead from the batch's first counter.
			wantM, ok := xcExpect(codeAt, counter, w, want)
			m, err := v.Verify(counter, want, w)
			xcCheckVerify(t, wantM, ok, m, err, "hotp batch %d: code %d", batch, i)
			if c >= counter {
				require.True(t, ok, ctx...) // its own counter is in the window
			}
			total++
		}
	}

	// TOTP: each hash three times, random digits, periods, keys (10..15
	// bytes with AllowShortKey) and times up to 2200.
	for batch := range 3 * len(xcHashes) {
		hs := xcHashes[batch%len(xcHashes)]
		digits := 6 + r.IntN(3)
		var period int64
		switch batch / len(xcHashes) {
		case 0:
			period = 1 // step = Unix time: HOTP at that counter
		case 1:
			period = []int64{30, 60}[r.IntN(2)]
		default:
			period = 1 + r.Int64N(3*3600)
		}
		short := r.IntN(3) == 0
		key := xcBytes(r, 16+r.IntN(49))
		if short {
			key = xcBytes(r, 10+r.IntN(6))
		}
		sec := xcUnix(r, period)
		codes := xcRun(t, path, "--totp="+hs.name, "-d", strconv.Itoa(digits),
			"-s", strconv.FormatInt(period, 10)+"s", "-N", "@"+strconv.FormatInt(sec, 10),
			"-w", strconv.Itoa(xcOathWindow), hex.EncodeToString(key))
		require.Len(t, codes, xcOathWindow+1)
		tp := TOTP{Hash: hs.hash, Digits: digits, Period: time.Duration(period) * time.Second, AllowShortKey: short}
		v, err := tp.NewVerifier(key)
		require.NoError(t, err)
		first := uint64(sec / period)
		codeAt := func(s uint64) string { return codes[s-first] }
		w := Window{Ahead: xcOathWindow}
		for i, want := range codes {
			step := first + uint64(i)
			at := time.Unix(int64(step)*period+r.Int64N(period), r.Int64N(1e9)) // anywhere in the step
			ctx := []any{"totp batch %d: %s %d digits, period %ds, key %x, time %d", batch, hs.name, digits, period, key, at.Unix()}
			require.Len(t, want, digits, ctx...)
			got, err := tp.Code(key, at)
			require.NoError(t, err, ctx...)
			require.Equal(t, want, got, ctx...)
			if !short {
				got, err = HOTP{Hash: hs.hash, Digits: digits}.Code(key, step)
				require.NoError(t, err, ctx...)
				require.Equal(t, want, got, ctx...)
			}
			wantM, ok := xcExpect(codeAt, first, w, want)
			require.True(t, ok)
			m, err := v.Verify(time.Unix(sec, 0), want, w)
			xcCheckVerify(t, wantM, ok, m, err, "totp batch %d: code %d", batch, i)
			total++
		}
	}
	t.Logf("%d codes checked against oathtool", total)
}
