package vault

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// benchVault returns a vault of two credentials sealed with opts, and its
// blob.
func benchVault(b *testing.B, opts Options) (*Vault, []byte) {
	b.Helper()
	v, err := New(testPIN, opts)
	require.NoError(b, err)
	for _, u := range []string{"user-1", "user-2"} {
		c, _ := confirmed(b, "Example Bank", u)
		require.NoError(b, v.Add(c))
	}
	blob, err := v.Seal()
	require.NoError(b, err)
	return v, blob
}

// BenchmarkOpen measures what one PIN guess costs: "default" is the
// library's parameters (t=3, 64 MiB, p=4), the figure the cost comment in
// vault.go rests on; "test" is the light parameters of the tests.
func BenchmarkOpen(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"test", lightOpts()},
		{"test-keywrapper", Options{Argon2: lightArgon2, MinArgon2: lightArgon2, KeyWrapper: newFakeWrapper()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			_, blob := benchVault(b, bc.opts)
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			for b.Loop() {
				v, err := Open(blob, testPIN, bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				v.Zero()
			}
		})
	}
}

// BenchmarkOpenWrongPIN is the attacker's loop: derive, check,
// refuse.
func BenchmarkOpenWrongPIN(b *testing.B) {
	_, blob := benchVault(b, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(blob, otherPIN, Options{}); err == nil {
			b.Fatal("opened with the wrong PIN")
		}
	}
}

// BenchmarkSeal: sealing runs no Argon2id (the PIN key is kept), so it is
// the same at any parameters.
func BenchmarkSeal(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"plain", lightOpts()},
		{"keywrapper", Options{Argon2: lightArgon2, MinArgon2: lightArgon2, KeyWrapper: newFakeWrapper()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v, blob := benchVault(b, bc.opts)
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Seal(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNew is one Argon2id at the default parameters: the cost
// of setting a PIN (ChangePIN pays it twice).
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		v, err := New(testPIN, Options{})
		if err != nil {
			b.Fatal(err)
		}
		v.Zero()
	}
}

// BenchmarkOpenRefusedParams: a blob asking for more than the cap is
// refused before any work.
func BenchmarkOpenRefusedParams(b *testing.B) {
	_, blob := benchVault(b, lightOpts())
	forged := forgeParams(blob, Argon2Params{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(forged, testPIN, lightOpts()); err == nil {
			b.Fatal("opened")
		}
	}
}
