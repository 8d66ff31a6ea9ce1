package vault

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// bioBenchVault returns the blob of a vault of n credentials sealed at
// the default Argon2id parameters with biometric unlock on, the
// biometric key, and the last credential with its server enrollment.
func bioBenchVault(b *testing.B, n int) ([]byte, KeyWrapper, *enroll.Credential, enroll.Enrollment) {
	b.Helper()
	v, err := New(testPIN, Options{})
	require.NoError(b, err)
	var c *enroll.Credential
	var e enroll.Enrollment
	for i := range n {
		c, e = confirmed(b, "Example Bank", fmt.Sprintf("user-%03d", i))
		require.NoError(b, v.Add(c))
	}
	bio := newFakeWrapper()
	require.NoError(b, v.EnableBiometricUnlock(testPIN, bio))
	blob, err := v.Seal()
	require.NoError(b, err)
	return blob, bio, c, e
}

// BenchmarkOpenBiometric is a cold start with Face ID: the same vault as
// BenchmarkOpen/default (two credentials, t=3, 64 MiB, p=4), opened with
// the biometric key instead of the PIN. The fake key is AES-GCM in
// process; a phone's enclave adds its own time (tens of milliseconds)
// and none of the heap.
func BenchmarkOpenBiometric(b *testing.B) {
	blob, bio, _, _ := bioBenchVault(b, 2)
	b.SetBytes(int64(len(blob)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := OpenBiometric(blob, bio, Options{})
		if err != nil {
			b.Fatal(err)
		}
		v.Zero()
	}
}

// BenchmarkOpenCredential is the notification extension's open, for a
// vault of 2 and of 100 credentials (the most a vault holds).
func BenchmarkOpenCredential(b *testing.B) {
	for _, n := range []int{2, maxCredentials} {
		b.Run(fmt.Sprintf("credentials=%d", n), func(b *testing.B) {
			blob, bio, c, _ := bioBenchVault(b, n)
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := OpenCredential(blob, bio, c.Issuer(), c.User(), Options{})
				if err != nil {
					b.Fatal(err)
				}
				got.Zero()
			}
		})
	}
}

// BenchmarkPushAnswerBiometric is all the extension does with the vault
// to answer a push: open the account's credential with the biometric
// key, open the prompt, answer it. "peak-heap-B" is the most the heap
// in use grew over one answer (HeapInuse, sampled after each step, with
// the collector off), the figure that must fit the extension's ~24 MiB;
// B/op counts garbage too.
func BenchmarkPushAnswerBiometric(b *testing.B) {
	for _, n := range []int{2, maxCredentials} {
		b.Run(fmt.Sprintf("credentials=%d", n), func(b *testing.B) {
			blob, bio, c, e := bioBenchVault(b, n)
			now := t0.Add(time.Hour)
			wire, err := enroll.SealPrompt(enroll.DeriveKeys(e.Secret, e.Device.Suite), enroll.PushPrompt{
				RequestID: "req-1",
				Nonce:     make([]byte, enroll.PushNonceSize),
				Issuer:    c.Issuer(),
				User:      c.User(),
				DeviceID:  c.DeviceID(),
				Context:   enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"},
				ExpiresAt: now.Add(time.Minute),
			})
			require.NoError(b, err)
			answer := func() {
				got, err := OpenCredential(blob, bio, c.Issuer(), c.User(), Options{})
				if err != nil {
					b.Fatal(err)
				}
				p, err := got.OpenPrompt(wire, now)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := got.AnswerPush(p, true, "42", now); err != nil {
					b.Fatal(err)
				}
				got.Zero()
			}
			peak := peakHeap(answer)
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			for b.Loop() {
				answer()
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
		})
	}
}

// peakHeap runs f with the garbage collector off and returns how much
// more heap was in use at its end than before: with nothing collected,
// that bounds the peak from above.
func peakHeap(f func()) uint64 {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.HeapInuse - before.HeapInuse
}
