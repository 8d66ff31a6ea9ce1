package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/keyline/keyline/enroll"
	"github.com/stretchr/testify/require"
)

// fixedKey is a KeyWrapper (or a biometric key) under a fixed
// AES-256-GCM key, so that the wrapped blobs of testdata and the seed
// corpus open in every run.
type fixedKey struct{ key string }

// fixedWrapper is the KeyWrapper of testdata/v1, testdata/v2 and the seed
// corpus; fixedBiometric the biometric key of testdata/v2.
var (
	fixedWrapper   = fixedKey{"keyline test wrapper key 32 byte"}
	fixedBiometric = fixedKey{"keyline test biometric key 32 by"}
)

func (w fixedKey) aead() cipher.AEAD {
	block, _ := aes.NewCipher([]byte(w.key))
	aead, _ := cipher.NewGCM(block)
	return aead
}

func (w fixedKey) Wrap(secret []byte) ([]byte, error) {
	a := w.aead()
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, secret, nil), nil
}

func (w fixedKey) Unwrap(wrapped []byte) ([]byte, error) {
	a := w.aead()
	if len(wrapped) < a.NonceSize() {
		return nil, errFakeUnwrap
	}
	out, err := a.Open(nil, wrapped[:a.NonceSize()], wrapped[a.NonceSize():], nil)
	if err != nil {
		return nil, errFakeUnwrap
	}
	return out, nil
}

// fuzzOpts are light Argon2id parameters with a low cap, so that an input
// with a recomputed checksum cannot make a fuzz run allocate much.
func fuzzOpts(wrapped bool) Options {
	o := Options{
		Argon2:    lightArgon2,
		MinArgon2: lightArgon2,
		MaxArgon2: Argon2Params{Time: 2, MemoryKiB: 256, Threads: 2},
	}
	if wrapped {
		o.KeyWrapper = fixedWrapper
	}
	return o
}

// requireKnownError checks that err is one of the documented outcomes.
func requireKnownError(t *testing.T, err error, also ...error) {
	t.Helper()
	for _, s := range append([]error{ErrCorrupt, ErrWrongPIN, ErrParams, ErrKeyWrapper}, also...) {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("undocumented error: %v", err)
}

// requireWholeVault checks that an opened vault is usable throughout: it
// lists, gets, seals and opens again to the same contents.
func requireWholeVault(t *testing.T, v *Vault, pin string, opts Options) {
	t.Helper()
	for _, e := range v.List() {
		c, err := v.Get(e.Issuer, e.User)
		require.NoError(t, err)
		require.True(t, c.Confirmed())
		require.Len(t, c.PairingCode(), 6)
	}
	blob, err := v.Seal()
	require.NoError(t, err)
	w, err := Open(blob, pin, opts)
	require.NoError(t, err)
	require.Equal(t, v.List(), w.List())
}

func FuzzOpen(f *testing.F) {
	c, _ := confirmed(f, "Example Bank", "user-42")
	for _, wrapped := range []bool{false, true} {
		v, err := New(testPIN, fuzzOpts(wrapped))
		require.NoError(f, err)
		require.NoError(f, v.Add(c))
		blob, err := v.Seal()
		require.NoError(f, err)
		f.Add(blob, false, wrapped)
		f.Add(blob[:len(blob)-40], true, wrapped)
	}
	f.Fuzz(func(t *testing.T, blob []byte, fixChecksum, wrapped bool) {
		if fixChecksum && len(blob) >= checksumLen {
			blob = reChecksum(blob)
		}
		opts := fuzzOpts(wrapped)
		v, err := Open(blob, testPIN, opts)
		if err != nil {
			require.Nil(t, v)
			requireKnownError(t, err)
			return
		}
		require.NotNil(t, v)
		requireWholeVault(t, v, testPIN, opts)
	})
}

func FuzzImport(f *testing.F) {
	c, _ := confirmed(f, "Example Bank", "user-42")
	other, _ := confirmed(f, "Other Bank", "user-7")
	src, err := New(testPIN, fuzzOpts(false))
	require.NoError(f, err)
	require.NoError(f, src.Add(c))
	blob, pass, err := src.Export()
	require.NoError(f, err)
	_, pass2, err := src.Export()
	require.NoError(f, err)
	f.Add(blob, pass, false)
	f.Add(blob, pass2, false)
	f.Add(blob[:len(blob)/2], pass, true)
	f.Fuzz(func(t *testing.T, blob []byte, passphrase string, fixChecksum bool) {
		if fixChecksum && len(blob) >= checksumLen {
			blob = reChecksum(blob)
		}
		opts := fuzzOpts(false)
		v, err := Import(blob, passphrase, otherPIN, opts)
		if err != nil {
			require.Nil(t, v)
			requireKnownError(t, err, ErrWrongPassphrase, ErrWeakPIN)
		} else {
			require.NotNil(t, v)
			requireWholeVault(t, v, otherPIN, opts)
		}

		// Merged into a vault: all or nothing.
		dst, err := New(testPIN, opts)
		require.NoError(t, err)
		require.NoError(t, dst.Add(other))
		before := dst.List()
		added, err := dst.Import(blob, passphrase)
		if err != nil {
			require.Nil(t, added)
			requireKnownError(t, err, ErrWrongPassphrase, ErrAlreadyEnrolled, enroll.ErrInvalidInput)
			require.Equal(t, before, dst.List())
			return
		}
		require.Len(t, dst.List(), len(before)+len(added))
		requireWholeVault(t, dst, testPIN, opts)
	})
}

// corpusArgs reads the arguments of a seed corpus file.
func corpusArgs(t *testing.T, target, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", target, name))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Equal(t, "go test fuzz v1", lines[0])
	var args []string
	for _, l := range lines[1:] {
		open := strings.IndexByte(l, '(')
		require.True(t, open > 0 && strings.HasSuffix(l, ")"), l)
		v := l[open+1 : len(l)-1]
		if strings.HasPrefix(v, `"`) {
			u, err := strconv.Unquote(v)
			require.NoError(t, err)
			v = u
		}
		args = append(args, v)
	}
	return args
}

// The valid seeds of the corpus stay valid, so that the fuzzers start
// from inputs that reach the end of the code.
func TestVaultFuzzCorpusValidSeeds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wrapped bool
	}{{"valid", false}, {"valid-wrapped", true}, {"valid-v2", false}, {"valid-v2-biometric", false}, {"valid-v2-wrapped", true}} {
		a := corpusArgs(t, "FuzzOpen", tc.name)
		v, err := Open([]byte(a[0]), testPIN, fuzzOpts(tc.wrapped))
		require.NoError(t, err, tc.name)
		require.Equal(t, 1, v.Len())
	}
	for _, tc := range []struct {
		name    string
		wrapped bool
	}{{"valid", false}, {"valid-wrapped", true}} {
		a := corpusArgs(t, "FuzzOpenBiometric", tc.name)
		v, err := OpenBiometric([]byte(a[0]), fixedWrapper, fuzzOpts(tc.wrapped))
		require.NoError(t, err, tc.name)
		require.Equal(t, 1, v.Len())
	}
	for _, name := range []string{"valid", "valid-typed-loosely"} {
		a := corpusArgs(t, "FuzzImport", name)
		v, err := Import([]byte(a[0]), a[1], otherPIN, fuzzOpts(false))
		require.NoError(t, err, name)
		require.Equal(t, 1, v.Len())
	}
}
