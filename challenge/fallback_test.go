package challenge

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The slow path: verifiers of a hash that fails the fast path's self-test
// use crypto/hmac. These tests force it (forceFallback), run every vector
// and the cheap cross-checks through it, and compare it with the fast
// path on random keys, messages and windows.

// allAlgorithms are the hashes a verifier can use.
var allAlgorithms = [...]*algorithm{algSHA1, algSHA256, algSHA512}

// quietReport routes the slow path's one-time report to a discarding
// logger and lets it happen again, until the test ends.
func quietReport(tb testing.TB) {
	tb.Helper()
	savedLogger, savedReported := logger.Load(), fallbackReported.Load()
	logger.Store(slog.New(slog.DiscardHandler))
	fallbackReported.Store(false)
	tb.Cleanup(func() {
		logger.Store(savedLogger)
		fallbackReported.Store(savedReported)
	})
}

// forceFallback makes every hash look as if it had failed the self-test
// until the test ends, so that every verifier built meanwhile takes the
// slow path. The test calling it must not be parallel: it changes
// package state that every test reads.
func forceFallback(tb testing.TB) {
	tb.Helper()
	quietReport(tb)
	var saved [len(allAlgorithms)]bool
	for i, a := range allAlgorithms {
		saved[i] = a.rawOK
		a.rawOK = false
	}
	tb.Cleanup(func() {
		for i, a := range allAlgorithms {
			a.rawOK = saved[i]
		}
	})
}

// TestFastPathOnThisRelease fails when the Go release in use lays out a
// marshaled hash state otherwise than the fast path reads it. Verifiers
// still work then (on crypto/hmac), but the benchmarks and the doc's
// speed claims no longer hold: the fast path needs a look.
func TestFastPathOnThisRelease(t *testing.T) {
	for _, a := range allAlgorithms {
		require.True(t, a.rawOK, "%v: the marshaled state's layout changed in %s", a.hash, runtime.Version())
		require.True(t, a.selfTest(), "%v", a.hash)
	}
	require.True(t, FastPath())
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512} {
		v, err := HOTP{Hash: h}.NewVerifier(make([]byte, 20))
		require.NoError(t, err)
		require.Nil(t, v.key.plain, "%v verifier on the slow path", h)
	}
}

// shiftedHash is SHA-256 with its marshaled state moved one byte along, as
// a Go release could lay it out: the state round-trips, but the digest is
// no longer where the fast path reads it.
type shiftedHash struct{ hash.Hash }

func newShifted() hash.Hash { return shiftedHash{sha256.New()} }

func (h shiftedHash) AppendBinary(b []byte) ([]byte, error) {
	return h.Hash.(encoding.BinaryAppender).AppendBinary(append(b, 0xa5))
}

func (h shiftedHash) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] != 0xa5 {
		return errHashState
	}
	return h.Hash.(encoding.BinaryUnmarshaler).UnmarshalBinary(b[1:])
}

// TestSelfTestCatchesAnotherLayout: the self-test refuses a hash whose
// state is laid out otherwise, a key built for it takes crypto/hmac and
// gives the right HMAC, and the fast path forced onto it would have given
// a wrong one: the self-test is what stands between a layout change and
// wrong answers.
func TestSelfTestCatchesAnotherLayout(t *testing.T) {
	quietReport(t)
	require.True(t, newAlgorithm(crypto.SHA256, sha256.New).rawOK)
	a := newAlgorithm(crypto.SHA256, newShifted)
	require.False(t, a.rawOK)

	key := []byte("a key of thirty-two bytes, ok?!!")
	msg := []byte("a message of some length, with its step field at the end: 12345678")
	m := message{n: len(msg), varOff: len(msg) - 8, centre: 1000}
	ref := func(step uint64) []byte {
		mac := hmac.New(sha256.New, key)
		mac.Write(msg[:m.varOff])
		mac.Write(binary.BigEndian.AppendUint64(nil, step))
		return mac.Sum(nil)
	}
	want := append(append(ref(999), ref(1000)...), ref(1001)...)

	k, err := newHMACKey(a, key, 0)
	require.NoError(t, err)
	require.NotNil(t, k.plain)
	require.Equal(t, hex.EncodeToString(want), string(pathMACs(t, k, msg, m, Window{Behind: 1, Ahead: 1})))

	a.rawOK = true // what the package would do without its self-test
	k, err = newHMACKey(a, key, 0)
	require.NoError(t, err)
	require.Nil(t, k.plain)
	require.NotEqual(t, hex.EncodeToString(want), string(pathMACs(t, k, msg, m, Window{Behind: 1, Ahead: 1})))
}

// pathMACs runs k over msg (laid out as m) for every step of w: the hex of
// each whole HMAC when k has 0 digits.
func pathMACs(tb testing.TB, k *hmacKey, msg []byte, m message, w Window) []byte {
	tb.Helper()
	s := k.get()
	defer k.put(s)
	copy(s.msg[:], msg)
	out, err := k.appendResponses(nil, s, m, w)
	require.NoError(tb, err)
	return out
}

// TestFallbackVectors runs every RFC vector, the properties and the
// cross-checks that take no more than a second or two through verifiers
// on crypto/hmac. A slow path that got any step, key or message wrong
// fails here: the HOTP look-ahead and the TOTP checks a step away
// exercise every step of a window, the keys run from 10 bytes to past
// SHA-512's block, and every suite shape of the grammar is drawn.
func TestFallbackVectors(t *testing.T) {
	forceFallback(t)
	require.False(t, FastPath())
	v, err := NewVerifier(Default, make([]byte, 32))
	require.NoError(t, err)
	require.NotNil(t, v.key.plain, "NewVerifier did not take the slow path")
	tv, err := TOTP{Hash: crypto.SHA512}.NewVerifier(make([]byte, 64))
	require.NoError(t, err)
	require.NotNil(t, tv.hotp.key.plain, "TOTP.NewVerifier did not take the slow path")

	for _, c := range []struct {
		name string
		test func(*testing.T)
	}{
		{"OCRAVectors", TestOCRAVectors},
		{"HOTPVectors", TestHOTPVectors},
		{"TOTPVectors", TestTOTPVectors},
		{"PlainOCRAMatchesRespond", TestPlainOCRAMatchesRespond},
		{"VerifyAllocatesNothing", TestVerifyAllocatesNothing},
		{"KeyLength", TestKeyLength},
		{"WindowLimits", TestWindowLimits},
		{"WindowAtTheEdges", TestWindowAtTheEdges},
		{"NearestMatchWins", TestNearestMatchWins},
		{"InputFieldsMustMatchSuite", TestInputFieldsMustMatchSuite},
		{"PropertyRespondVerify", TestPropertyRespondVerify},
		{"PropertyMutualJoin", TestPropertyMutualJoin},
		{"PropertyConcurrentVerifiers", TestPropertyConcurrentVerifiers},
		{"PropertyInputErrors", TestPropertyInputErrors},
		{"CrossCheckHOTPPquerna", TestCrossCheckHOTPPquerna},
		{"CrossCheckTOTPPquerna", TestCrossCheckTOTPPquerna},
		{"CrossCheckOathtool", TestCrossCheckOathtool},
	} {
		t.Run(c.name, c.test)
	}
}

// TestFallbackFirstVerifyAllocatesNothing: on the slow path the
// crypto/hmac is made with the verifier, so that even a verifier's first
// verification allocates nothing (a server that builds a verifier per
// call verifies only once with each). TestVerifyAllocatesNothing, run on
// the slow path by TestFallbackVectors, covers verifiers in reuse.
func TestFallbackFirstVerifyAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	forceFallback(t)
	key := benchKey(32)
	in := Input{Question: benchQuestion, Time: benchTime}
	const runs = 50
	fresh := make([]*Verifier, runs+1) // AllocsPerRun calls once more to warm up
	for i := range fresh {
		v, err := NewVerifier(Default, key)
		require.NoError(t, err)
		require.NotNil(t, v.key.plain)
		fresh[i] = v
	}
	resp, err := Default.Respond(key, in)
	require.NoError(t, err)
	i := 0
	allocs := testing.AllocsPerRun(runs, func() {
		sinkMatch, sinkErr = fresh[i].Verify(in, resp, benchWindow)
		i++
	})
	require.NoError(t, sinkErr)
	require.Zero(t, allocs)
}

// TestFallbackAgreesWithFastPath compares the two paths on random keys of
// every length class (the minimum, the hash sizes, around each block size
// and past SHA-512's), random suites of the whole grammar with every
// hash, random inputs and windows, as whole HMACs where it can (0 digits)
// and as Verify's results.
func TestFallbackAgreesWithFastPath(t *testing.T) {
	r := propRand(t)
	keyLens := []int{16, 20, 32, 63, 64, 65, 127, 128, 129, 200, 300}
	for _, a := range allAlgorithms {
		for _, n := range keyLens {
			for i := range 16 {
				p := propGenSpec(r)
				p.hash = a.hash
				if i%2 == 0 {
					p.digits = 0 // the whole HMAC
				}
				s := MustParseSuite(p.String())
				key := propBytes(r, n)
				in := propInput(r, p, s)
				w := propWindow(r, p)
				ctx := []any{"%s key %x input %+v window %+v", p, key, in, w}

				fk, err := newFastKey(a, key, p.digits)
				require.NoError(t, err)
				fast := &Verifier{suite: s, key: fk}
				slow := &Verifier{suite: s, key: newPlainKey(a, key, p.digits)}
				fl, ferr := fast.AppendResponses([]byte("x"), in, w)
				sl, serr := slow.AppendResponses([]byte("x"), in, w)
				require.Equal(t, ferr, serr, ctx...)
				require.Equal(t, string(fl), string(sl), ctx...)

				resp, err := s.Respond(key, in)
				require.NoError(t, err, ctx...)
				other := propQuestion(r, 'N', p.responseLen())
				if p.digits == 0 {
					other = hex.EncodeToString(propBytes(r, a.size))
				}
				if ferr == nil && r.IntN(2) == 0 {
					// A response of some other step of the window.
					j := r.IntN(w.Behind + w.Ahead + 1)
					other = string(fl[1+j*p.responseLen():][:p.responseLen()])
				}
				for _, c := range []string{resp, other, strings.ToUpper(other), resp[1:]} {
					fm, ferr := fast.Verify(in, c, w)
					sm, serr := slow.Verify(in, c, w)
					require.Equal(t, ferr, serr, append(ctx, "response %q", c)...)
					require.Equal(t, fm, sm, append(ctx, "response %q", c)...)
				}
			}
		}
	}

	// HOTP and TOTP: the 8-byte counter message, keys from TOTP's 10-byte
	// minimum up, counters near both ends of the range.
	for _, a := range allAlgorithms {
		for _, n := range append([]int{10}, keyLens...) {
			for range 8 {
				key := propBytes(r, n)
				counter := xcCounter(r)
				w := Window{Behind: r.IntN(4), Ahead: r.IntN(12)}
				if counter < uint64(w.Behind) || counter > math.MaxUint64-uint64(w.Ahead) {
					w = Window{}
				}
				var msg [8]byte
				binary.BigEndian.PutUint64(msg[:], counter)
				m := message{n: 8, varOff: 0, centre: counter}
				fk, err := newFastKey(a, key, 0)
				require.NoError(t, err)
				want := pathMACs(t, fk, msg[:], m, w)
				got := pathMACs(t, newPlainKey(a, key, 0), msg[:], m, w)
				require.Equal(t, string(want), string(got), "%v key %x counter %d window %+v", a.hash, key, counter, w)
			}
		}
	}
}

// FuzzHMACPaths compares the fast path, the slow path and crypto/hmac
// called directly on any message up to the longest OCRA DataInput, with
// the step field anywhere in it (or none), so that every alignment of the
// message's blocks and of the step field is reachable.
func FuzzHMACPaths(f *testing.F) {
	f.Add(uint8(0), []byte("12345678901234567890"), []byte("\x00\x00\x00\x00\x00\x00\x00\x01"), 0, uint64(1), uint8(1), uint8(1))
	f.Add(uint8(1), bytes.Repeat([]byte{0x5c}, 65), bytes.Repeat([]byte("m"), 55), 47, uint64(1<<40), uint8(2), uint8(0))
	f.Add(uint8(2), bytes.Repeat([]byte{0x36}, 129), bytes.Repeat([]byte("m"), 239), 231, uint64(math.MaxUint64), uint8(3), uint8(0))
	f.Add(uint8(1), bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte("m"), maxMessage), -1, uint64(0), uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, which uint8, key, msg []byte, varOff int, centre uint64, behind, ahead uint8) {
		a := allAlgorithms[int(which)%len(allAlgorithms)]
		if len(key) == 0 || len(msg) > maxMessage {
			return
		}
		msg = bytes.Clone(msg) // the step field is written into it
		m := message{n: len(msg), varOff: -1, centre: centre}
		w := Window{}
		if varOff >= 0 && len(msg) >= 8 {
			m.varOff = varOff % (len(msg) - 7)
			w = Window{Behind: int(behind % 8), Ahead: int(ahead % 8)}
			m.centre = max(centre, uint64(w.Behind))
			m.centre = min(m.centre, math.MaxUint64-uint64(w.Ahead))
		}
		var want []byte
		for off := -w.Behind; off <= w.Ahead; off++ {
			if m.varOff >= 0 {
				binary.BigEndian.PutUint64(msg[m.varOff:], uint64(int64(m.centre)+int64(off)))
			}
			mac := hmac.New(a.new, key)
			mac.Write(msg)
			want = hex.AppendEncode(want, mac.Sum(nil))
		}
		fk, err := newFastKey(a, key, 0)
		require.NoError(t, err)
		require.Equal(t, string(want), string(pathMACs(t, fk, msg, m, w)), "fast path")
		require.Equal(t, string(want), string(pathMACs(t, newPlainKey(a, key, 0), msg, m, w)), "slow path")
	})
}

// TestFallbackReportedOnce: the slow path is reported once per process,
// as a warning through the logger given to SetLogger, naming the hashes
// and the Go release and nothing of the key; the fast path logs nothing.
func TestFallbackReportedOnce(t *testing.T) {
	quietReport(t)
	var buf bytes.Buffer
	SetLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	key := bytes.Repeat([]byte{0xab}, 32)
	build := func() {
		_, err := NewVerifier(Default, key)
		require.NoError(t, err)
		_, err = HOTP{}.NewVerifier(key)
		require.NoError(t, err)
		_, err = TOTP{Hash: crypto.SHA512}.NewVerifier(key)
		require.NoError(t, err)
	}
	if FastPath() {
		build()
		require.Empty(t, buf.String(), "the fast path logged")
	}

	forceFallback(t)
	fallbackReported.Store(false)
	SetLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	build()
	build()
	out := buf.String()
	require.Equal(t, 1, strings.Count(out, "\n"), "%s", out)
	require.Contains(t, out, "level=WARN")
	require.Contains(t, out, "verifiers use crypto/hmac")
	require.Contains(t, out, "hashes=SHA-1,SHA-256,SHA-512")
	require.Contains(t, out, runtime.Version())
	require.NotContains(t, strings.ToLower(out), "abab")
	require.True(t, fallbackReported.Load())
}
