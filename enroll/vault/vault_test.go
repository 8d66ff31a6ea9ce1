package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

const (
	testPIN  = "k9!mX2"
	otherPIN = "7Rw%4q"
)

// lightArgon2 keeps the tests fast; production never goes below the
// library's floor.
var lightArgon2 = Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

func lightOpts() Options { return Options{Argon2: lightArgon2, MinArgon2: lightArgon2} }

// fakeWrapper stands in for a hardware key: AES-256-GCM under a key of
// its own that it never shows. It records what passed through it.
type fakeWrapper struct {
	mu        sync.Mutex
	aead      cipher.AEAD
	wrapArgs  [][]byte
	unwrapped [][]byte
	failWrap  error
	wrapLen   int // if > 0, Wrap returns this many bytes instead
}

var errFakeUnwrap = errors.New("fake keystore: cannot unwrap")

func newFakeWrapper() *fakeWrapper {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	return &fakeWrapper{aead: aead}
}

func (w *fakeWrapper) Wrap(secret []byte) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.wrapArgs = append(w.wrapArgs, secret)
	if w.failWrap != nil {
		return nil, w.failWrap
	}
	if w.wrapLen > 0 {
		return make([]byte, w.wrapLen), nil
	}
	nonce := make([]byte, w.aead.NonceSize())
	rand.Read(nonce)
	return w.aead.Seal(nonce, nonce, secret, nil), nil
}

func (w *fakeWrapper) Unwrap(wrapped []byte) ([]byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.aead.NonceSize()
	if len(wrapped) < n {
		return nil, errFakeUnwrap
	}
	out, err := w.aead.Open(nil, wrapped[:n], wrapped[n:], nil)
	if err != nil {
		return nil, errFakeUnwrap
	}
	w.unwrapped = append(w.unwrapped, out)
	return out, nil
}

// garbageWrapper unwraps anything to random bytes, as a careless
// implementation without authentication would.
type garbageWrapper struct{}

func (garbageWrapper) Wrap(secret []byte) ([]byte, error) { return bytes.Clone(secret), nil }
func (garbageWrapper) Unwrap([]byte) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	return b, nil
}

// twoCredentials returns two confirmed credentials for different users:
// the first from the activate helper.
func twoCredentials(t *testing.T) (*enroll.Credential, *enroll.Credential) {
	t.Helper()
	_, c1, _, e := activate(t)
	require.NoError(t, c1.CheckServerConfirm(e.ServerConfirm))
	c2, _ := confirmed(t, "Other Bank", "user-7")
	return c1, c2
}

func newTestVault(t *testing.T, opts Options, creds ...*enroll.Credential) *Vault {
	t.Helper()
	v, err := New(testPIN, opts)
	require.NoError(t, err)
	for _, c := range creds {
		require.NoError(t, v.Add(c))
	}
	return v
}

// reChecksum recomputes a blob's trailing checksum, as a deliberate forger
// would.
func reChecksum(b []byte) []byte {
	b = bytes.Clone(b)
	body := b[:len(b)-checksumLen]
	sum := sha256.Sum256(body)
	copy(b[len(body):], sum[:])
	return b
}

// openFails checks that a refused open returns a nil vault and an error.
func openFails(t *testing.T, blob []byte, pin string, opts Options) error {
	t.Helper()
	v, err := Open(blob, pin, opts)
	require.Error(t, err)
	require.Nil(t, v)
	return err
}

func TestVaultRoundTrip(t *testing.T) {
	_, c1, _, e := activate(t)
	require.NoError(t, c1.CheckServerConfirm(e.ServerConfirm))
	c2, _ := confirmed(t, "Other Bank", "user-7")
	v := newTestVault(t, lightOpts(), c1, c2)
	require.Equal(t, 2, v.Len())
	blob, err := v.Seal()
	require.NoError(t, err)

	w, err := Open(blob, testPIN, lightOpts())
	require.NoError(t, err)
	require.Equal(t, v.List(), w.List())
	for _, c := range []*enroll.Credential{c1, c2} {
		got, err := w.Get(c.Issuer(), c.User())
		require.NoError(t, err)
		requireSameCredential(t, c, got)
		require.Equal(t, c.PairingCode(), got.PairingCode())
		require.Equal(t, c.DeviceID(), got.DeviceID())
	}

	list := w.List()
	require.Len(t, list, 2)
	require.Equal(t, Entry{
		Issuer:      "Example Bank",
		User:        "user-42",
		AccountName: "ada@example.com",
		DeviceID:    c1.DeviceID(),
		Suite:       c1.Suite(),
		DeviceName:  "Ada's phone",
		CreatedAt:   c1.CreatedAt(),
	}, list[0])
	require.Equal(t, "Other Bank", list[1].Issuer)

	// The restored credential answers as the server expects.
	got, err := w.Get(c1.Issuer(), c1.User())
	require.NoError(t, err)
	require.Equal(t, e.PairingCode(), got.PairingCode())
	require.Equal(t, e.Device.ID, got.DeviceID())
	verifier, err := challenge.NewVerifier(e.Device.Suite, enroll.DeriveKeys(e.Secret, e.Device.Suite).OCRA)
	require.NoError(t, err)
	q := e.Device.Suite.NewQuestion()
	at := t0.Add(time.Hour)
	resp, err := got.Respond(q, at)
	require.NoError(t, err)
	_, err = verifier.Verify(challenge.Input{Question: q, Time: at}, resp, challenge.Window{})
	require.NoError(t, err)
}

// One round trip at the library's defaults (t=3, 64 MiB, p=4), with the
// default floor.
func TestVaultDefaultParams(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2id at 64 MiB")
	}
	c1, _ := twoCredentials(t)
	v := newTestVault(t, Options{}, c1)
	require.Equal(t, defaultArgon2, v.params)
	blob, err := v.Seal()
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 3, 0, 1, 0, 0, 4}, blob[6:15])
	w, err := Open(blob, testPIN, Options{})
	require.NoError(t, err)
	got, err := w.Get(c1.Issuer(), c1.User())
	require.NoError(t, err)
	requireSameCredential(t, c1, got)
}

func TestVaultWrongPIN(t *testing.T) {
	c1, _ := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1)
	blob, err := v.Seal()
	require.NoError(t, err)
	for _, pin := range []string{otherPIN, "", "k9!mX3", testPIN + " ", strings.ToUpper(testPIN)} {
		err := openFails(t, blob, pin, lightOpts())
		require.ErrorIs(t, err, ErrWrongPIN)
		require.False(t, errors.Is(err, ErrCorrupt))
		if pin != "" {
			require.NotContains(t, err.Error(), pin)
		}
	}
}

// Every single-byte change and every truncation is refused: by the
// checksum, as storage damage; and, when a forger recomputes the
// checksum, as a wrong PIN (header) or corruption (ciphertext), never
// with a vault.
func TestVaultDamage(t *testing.T) {
	c1, c2 := twoCredentials(t)
	for _, wrapper := range []KeyWrapper{nil, newFakeWrapper()} {
		opts := lightOpts()
		opts.KeyWrapper = wrapper
		v := newTestVault(t, opts, c1, c2)
		blob, err := v.Seal()
		require.NoError(t, err)
		keep := bytes.Clone(blob)

		for n := range len(blob) {
			err := openFails(t, blob[:n], testPIN, opts)
			require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
		}
		require.ErrorIs(t, openFails(t, append(bytes.Clone(blob), 0), testPIN, opts), ErrCorrupt)
		for i := range blob {
			b := bytes.Clone(blob)
			b[i] ^= 0x01
			require.ErrorIs(t, openFails(t, b, testPIN, opts), ErrCorrupt, "byte %d", i)
		}

		// A forger who recomputes the checksum.
		counts := map[string]int{}
		for i := range len(blob) - checksumLen {
			// The low bit of each byte: of the parameters' top bytes too,
			// which asks for 2^24 more passes or KiB.
			for _, bit := range []byte{0x01} {
				b := bytes.Clone(blob)
				b[i] ^= bit
				err := openFails(t, reChecksum(b), testPIN, opts)
				switch {
				case errors.Is(err, ErrParams):
					require.ErrorIs(t, err, ErrCorrupt)
					counts["params"]++
				case errors.Is(err, ErrCorrupt):
					counts["corrupt"]++
				case errors.Is(err, ErrWrongPIN):
					counts["wrong PIN"]++
				case errors.Is(err, ErrKeyWrapper):
					// With a wrapper, or without one when the flip sets
					// the header's "wrapped" flag and the bytes after it
					// happen to parse as a wrapped key (it depends on the
					// random salt).
					counts["key wrapper"]++
				default:
					t.Fatalf("byte %d: unexpected error %v", i, err)
				}
			}
		}
		require.Positive(t, counts["corrupt"])
		require.Positive(t, counts["wrong PIN"])
		require.Positive(t, counts["params"])
		// Truncations by a forger: each through the header, then a sample
		// of the ciphertext (all alike: the tag does not authenticate).
		h, err := parseV2(blob)
		require.NoError(t, err)
		for n := 0; n < len(blob)-checksumLen; n++ {
			if n > len(h.aad)+gcmTagLen && n%13 != 0 {
				continue
			}
			b := append(bytes.Clone(blob[:n]), make([]byte, checksumLen)...)
			err := openFails(t, reChecksum(b), testPIN, opts)
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrWrongPIN) || errors.Is(err, ErrKeyWrapper), "truncated to %d: %v", n, err)
		}
		require.Equal(t, keep, blob, "opening must not alter the blob")
		_, err = Open(blob, testPIN, opts)
		require.NoError(t, err)
	}
}

// forgeParams rewrites a blob's Argon2id parameters and its checksum.
func forgeParams(blob []byte, p Argon2Params) []byte {
	b := bytes.Clone(blob)
	binary.BigEndian.PutUint32(b[6:], p.Time)
	binary.BigEndian.PutUint32(b[10:], p.MemoryKiB)
	b[14] = p.Threads
	return reChecksum(b)
}

// Parameters above the cap are refused before anything is allocated or
// derived: the open returns at once.
func TestVaultParamsCap(t *testing.T) {
	c1, _ := twoCredentials(t)
	blob, err := newTestVault(t, lightOpts(), c1).Seal()
	require.NoError(t, err)
	for _, p := range []Argon2Params{
		{Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1},
		{Time: 1, MemoryKiB: 0xffffffff, Threads: 1},
		{Time: 17, MemoryKiB: 64 << 10, Threads: 4},
		{Time: 0xffffffff, MemoryKiB: 64, Threads: 1},
		{Time: 5, MemoryKiB: 1 << 20, Threads: 4}, // 5 GiB of passes
		{Time: 1, MemoryKiB: 64 << 10, Threads: 17},
		{Time: 1, MemoryKiB: 64 << 10, Threads: 255},
	} {
		forged := forgeParams(blob, p)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := openFails(t, forged, testPIN, lightOpts())
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		require.ErrorIs(t, err, ErrParams, "%v", p)
		require.ErrorIs(t, err, ErrCorrupt, "%v", p)
		require.Contains(t, err.Error(), "cap")
		require.Less(t, elapsed, 100*time.Millisecond, "%v", p)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "%v", p)
	}
	// Invalid Argon2id is refused too, not passed on to panic.
	for _, p := range []Argon2Params{{Time: 0, MemoryKiB: 64, Threads: 1}, {Time: 1, MemoryKiB: 64, Threads: 0}, {Time: 1, MemoryKiB: 7, Threads: 1}} {
		err := openFails(t, forgeParams(blob, p), testPIN, Options{Argon2: lightArgon2, MinArgon2: Argon2Params{Time: 1, MemoryKiB: 1, Threads: 1}})
		require.ErrorIs(t, err, ErrParams, "%v", p)
	}
	// And in options.
	start := time.Now()
	_, err = New(testPIN, Options{Argon2: Argon2Params{MemoryKiB: 2 << 20}})
	require.ErrorIs(t, err, ErrParams)
	require.Less(t, time.Since(start), 100*time.Millisecond)
	_, err = New(testPIN, Options{Argon2: Argon2Params{Time: 16, MemoryKiB: 1 << 20}})
	require.ErrorIs(t, err, ErrParams)
	_, err = Open(blob, testPIN, Options{MinArgon2: Argon2Params{MemoryKiB: 2 << 20}})
	require.ErrorIs(t, err, ErrParams)

	// A cap the app lowers applies to blobs; it cannot be raised.
	low := Options{Argon2: lightArgon2, MinArgon2: lightArgon2, MaxArgon2: Argon2Params{MemoryKiB: 63}}
	_, err = low.resolve()
	require.ErrorIs(t, err, ErrParams) // the parameters themselves are above it
	low.Argon2.MemoryKiB, low.MinArgon2.MemoryKiB = 32, 32
	err = openFails(t, blob, testPIN, low)
	require.ErrorIs(t, err, ErrParams)
	require.Contains(t, err.Error(), "above the cap")
	_, err = New(testPIN, Options{MaxArgon2: Argon2Params{MemoryKiB: 1<<20 + 1}})
	require.ErrorIs(t, err, ErrParams)
	_, err = New(testPIN, Options{MaxArgon2: Argon2Params{Threads: 17}})
	require.ErrorIs(t, err, ErrParams)
	_, err = New(testPIN, Options{MaxArgon2: Argon2Params{MemoryKiB: 16 << 10}}) // below the floor
	require.ErrorIs(t, err, ErrParams)
}

// A blob below the floor is refused before any work, whatever its
// authentication: a downgrade would make each guess cheaper.
func TestVaultParamsFloor(t *testing.T) {
	c1, _ := twoCredentials(t)
	blob, err := newTestVault(t, lightOpts(), c1).Seal()
	require.NoError(t, err)

	// The library's floor refuses the test parameters.
	err = openFails(t, blob, testPIN, Options{})
	require.ErrorIs(t, err, ErrParams)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), "below the floor")

	// A floor raised in one field only.
	err = openFails(t, blob, testPIN, Options{Argon2: Argon2Params{Time: 2, MemoryKiB: 64, Threads: 1}, MinArgon2: Argon2Params{Time: 2, MemoryKiB: 64, Threads: 1}})
	require.ErrorIs(t, err, ErrParams)

	// Options below the floor, or a floor above the parameters.
	_, err = New(testPIN, Options{Argon2: lightArgon2})
	require.ErrorIs(t, err, ErrParams)
	_, err = New(testPIN, Options{Argon2: Argon2Params{Time: 2, MemoryKiB: 19 << 10, Threads: 1}, MinArgon2: Argon2Params{Time: 3}})
	require.ErrorIs(t, err, ErrParams)

	// A forged blob at the floor but with lowered parameters fails its
	// key check: the parameters are authenticated too.
	raised := Argon2Params{Time: 2, MemoryKiB: 64, Threads: 1}
	v := newTestVault(t, Options{Argon2: raised, MinArgon2: lightArgon2}, c1)
	blob2, err := v.Seal()
	require.NoError(t, err)
	err = openFails(t, forgeParams(blob2, lightArgon2), testPIN, lightOpts())
	require.ErrorIs(t, err, ErrWrongPIN)
}

func TestVaultKeyWrapper(t *testing.T) {
	c1, _ := twoCredentials(t)
	w1, w2 := newFakeWrapper(), newFakeWrapper()
	opts1 := lightOpts()
	opts1.KeyWrapper = w1
	v := newTestVault(t, opts1, c1)
	blob, err := v.Seal()
	require.NoError(t, err)
	require.Len(t, w1.wrapArgs, 1)
	require.Equal(t, make([]byte, 32), w1.wrapArgs[0], "the secret handed to Wrap is zeroed after")

	got, err := Open(blob, testPIN, opts1)
	require.NoError(t, err)
	requireCredentialIn(t, got, c1)
	require.Len(t, w1.unwrapped, 1)
	require.Equal(t, make([]byte, 32), w1.unwrapped[0], "what Unwrap returned is zeroed after")

	err = openFails(t, blob, otherPIN, opts1)
	require.ErrorIs(t, err, ErrWrongPIN)

	// No wrapper: a copied blob does not open.
	err = openFails(t, blob, testPIN, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)
	require.False(t, errors.Is(err, ErrWrongPIN))

	// Another phone's key: the keystore's own error, wrapped.
	opts2 := lightOpts()
	opts2.KeyWrapper = w2
	err = openFails(t, blob, testPIN, opts2)
	require.ErrorIs(t, err, ErrKeyWrapper)
	require.ErrorIs(t, err, errFakeUnwrap)

	// A wrapper that "unwraps" anything is caught by the platform check,
	// not mistaken for a wrong PIN.
	opts3 := lightOpts()
	opts3.KeyWrapper = garbageWrapper{}
	err = openFails(t, blob, testPIN, opts3)
	require.ErrorIs(t, err, ErrKeyWrapper)
	require.False(t, errors.Is(err, ErrWrongPIN))

	// A blob sealed without a wrapper does not open with one: nobody can
	// plant a vault of their own.
	plain, err := newTestVault(t, lightOpts(), c1).Seal()
	require.NoError(t, err)
	err = openFails(t, plain, testPIN, opts1)
	require.ErrorIs(t, err, ErrKeyWrapper)

	// Wrap failures fail the seal, changing nothing.
	w1.failWrap = errors.New("user cancelled")
	_, err = v.Seal()
	require.ErrorIs(t, err, ErrKeyWrapper)
	require.ErrorContains(t, err, "user cancelled")
	w1.failWrap = nil
	for _, n := range []int{maxWrappedLen + 1} {
		w1.wrapLen = n
		_, err = v.Seal()
		require.ErrorIs(t, err, ErrKeyWrapper)
	}
	w1.wrapLen = 0
	blob2, err := v.Seal()
	require.NoError(t, err)
	_, err = Open(blob2, testPIN, opts1)
	require.NoError(t, err)
}

// A vault sealed without a platform key moves to one, and from one key
// to another.
func TestVaultSetKeyWrapper(t *testing.T) {
	c1, _ := twoCredentials(t)
	plain, err := newTestVault(t, lightOpts(), c1).Seal()
	require.NoError(t, err)
	w1, w2 := newFakeWrapper(), newFakeWrapper()
	opts1, opts2 := lightOpts(), lightOpts()
	opts1.KeyWrapper, opts2.KeyWrapper = w1, w2

	require.ErrorIs(t, openFails(t, plain, testPIN, opts1), ErrKeyWrapper)
	v, err := Open(plain, testPIN, lightOpts())
	require.NoError(t, err)
	require.NoError(t, v.SetKeyWrapper(w1))
	bound, err := v.Seal()
	require.NoError(t, err)
	require.ErrorIs(t, openFails(t, bound, testPIN, lightOpts()), ErrKeyWrapper)
	v, err = Open(bound, testPIN, opts1)
	require.NoError(t, err)
	requireCredentialIn(t, v, c1)

	require.NoError(t, v.SetKeyWrapper(w2))
	rebound, err := v.Seal()
	require.NoError(t, err)
	require.ErrorIs(t, openFails(t, rebound, testPIN, opts1), ErrKeyWrapper)
	_, err = Open(rebound, testPIN, opts2)
	require.NoError(t, err)

	v.Zero()
	require.ErrorIs(t, v.SetKeyWrapper(w1), ErrZeroed)
}

type emptyWrapper struct{}

func (emptyWrapper) Wrap([]byte) ([]byte, error)   { return nil, nil }
func (emptyWrapper) Unwrap([]byte) ([]byte, error) { return nil, nil }

func TestVaultKeyWrapperEmptyWrap(t *testing.T) {
	v, err := New(testPIN, Options{KeyWrapper: emptyWrapper{}, Argon2: lightArgon2, MinArgon2: lightArgon2})
	require.NoError(t, err)
	_, err = v.Seal()
	require.ErrorIs(t, err, ErrKeyWrapper)
}

func requireCredentialIn(t *testing.T, v *Vault, c *enroll.Credential) {
	t.Helper()
	got, err := v.Get(c.Issuer(), c.User())
	require.NoError(t, err)
	requireSameCredential(t, c, got)
}

func TestVaultAddGetRemove(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts())

	require.ErrorIs(t, v.Add(nil), enroll.ErrInvalidInput)
	_, unconfirmed, _, _ := activate(t)
	require.ErrorIs(t, v.Add(unconfirmed), ErrUnconfirmed)

	require.NoError(t, v.Add(c1))
	// A second credential for the same issuer and user, even another
	// activation, is refused.
	_, again, _, e := activate(t)
	require.NoError(t, again.CheckServerConfirm(e.ServerConfirm))
	err := v.Add(again)
	require.ErrorIs(t, err, ErrAlreadyEnrolled)
	require.Contains(t, err.Error(), `"Example Bank"`)
	require.ErrorIs(t, v.Add(c1), ErrAlreadyEnrolled)
	require.NoError(t, v.Add(c2))
	require.Equal(t, 2, v.Len())

	// The vault keeps its own copy: zeroing the original does not reach
	// it, and zeroing what Get returns does not either.
	orig := cloneCredential(t, c1)
	c1.Zero()
	got, err := v.Get("Example Bank", "user-42")
	require.NoError(t, err)
	requireSameCredential(t, orig, got)
	got.Zero()
	requireCredentialIn(t, v, orig)

	_, err = v.Get("Example Bank", "nobody")
	require.ErrorIs(t, err, ErrNoCredential)
	require.ErrorIs(t, v.Remove("Example Bank", "nobody"), ErrNoCredential)
	require.NoError(t, v.Remove("Example Bank", "user-42"))
	_, err = v.Get("Example Bank", "user-42")
	require.ErrorIs(t, err, ErrNoCredential)
	require.Equal(t, 1, v.Len())
	require.Equal(t, "Other Bank", v.List()[0].Issuer)

	// Removed and re-added: allowed.
	require.NoError(t, v.Add(orig))
	require.Equal(t, 2, v.Len())
}

func TestVaultCapacity(t *testing.T) {
	v := newTestVault(t, lightOpts())
	var first *enroll.Credential
	for i := range maxCredentials {
		c, _ := confirmed(t, "Bank", fmt.Sprintf("user-%03d", i))
		if first == nil {
			first = c
		}
		require.NoError(t, v.Add(c))
	}
	extra, _ := confirmed(t, "Bank", "one-too-many")
	require.ErrorIs(t, v.Add(extra), enroll.ErrInvalidInput)
	blob, err := v.Seal()
	require.NoError(t, err)
	w, err := Open(blob, testPIN, lightOpts())
	require.NoError(t, err)
	require.Equal(t, maxCredentials, w.Len())
	requireCredentialIn(t, w, first)
}

func TestVaultZero(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1)
	inside := v.creds[0].enc
	require.True(t, bytes.Contains(inside, rootOf(t, c1)))
	v.Zero()
	// Every byte of the stored credential, its root secret among them,
	// is wiped.
	require.Equal(t, make([]byte, len(inside)), inside)
	_, err := v.Seal()
	require.ErrorIs(t, err, ErrZeroed)
	_, err = v.Get(c1.Issuer(), c1.User())
	require.ErrorIs(t, err, ErrZeroed)
	require.ErrorIs(t, v.Add(c2), ErrZeroed)
	require.ErrorIs(t, v.Remove(c1.Issuer(), c1.User()), ErrZeroed)
	require.ErrorIs(t, v.ChangePIN(testPIN, otherPIN), ErrZeroed)
	require.ErrorIs(t, v.SetKeyWrapper(nil), ErrZeroed)
	_, _, err = v.Export()
	require.ErrorIs(t, err, ErrZeroed)
	_, err = v.Import([]byte("x"), "x")
	require.ErrorIs(t, err, ErrZeroed)
	require.Empty(t, v.List())
	require.Equal(t, "vault.Vault{zeroed}", v.String())
	v.Zero() // twice is fine
}

func TestVaultSealIsFresh(t *testing.T) {
	c1, _ := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1)
	a, err := v.Seal()
	require.NoError(t, err)
	b, err := v.Seal()
	require.NoError(t, err)
	require.Equal(t, len(a), len(b))
	// The same Argon2id salt (set with the PIN), a fresh HKDF salt, key
	// check, nonce and ciphertext.
	require.Equal(t, a[15:31], b[15:31])
	require.NotEqual(t, a[31:63], b[31:63])
	require.NotEqual(t, a[63:], b[63:])
	for _, blob := range [][]byte{a, b} {
		_, err := Open(blob, testPIN, lightOpts())
		require.NoError(t, err)
	}
	// The ciphertext does not contain the root secret, of course.
	require.False(t, bytes.Contains(a, rootOf(t, c1)))
}

func TestVaultChangePIN(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1, c2)
	before, err := v.Seal()
	require.NoError(t, err)
	salt := bytes.Clone(v.salt)

	require.ErrorIs(t, v.ChangePIN(otherPIN, "Xq3&7u"), ErrWrongPIN)
	var pe *PINError
	err = v.ChangePIN(testPIN, "1234")
	require.True(t, errors.As(err, &pe))
	require.Equal(t, PINSequence, pe.Reason)
	err = v.ChangePIN(testPIN, testPIN)
	require.True(t, errors.As(err, &pe))
	require.Equal(t, PINUnchanged, pe.Reason)
	// The new PIN is checked against the vault's user names.
	err = v.ChangePIN(testPIN, "ada9")
	require.True(t, errors.As(err, &pe))
	require.Equal(t, PINUserName, pe.Reason)
	err = v.ChangePIN(testPIN, "7user")
	require.True(t, errors.As(err, &pe))
	require.Equal(t, PINUserName, pe.Reason)
	require.Equal(t, salt, v.salt, "a refused change changes nothing")
	after, err := v.Seal()
	require.NoError(t, err)
	_, err = Open(after, testPIN, lightOpts())
	require.NoError(t, err)

	require.NoError(t, v.ChangePIN(testPIN, otherPIN))
	require.NotEqual(t, salt, v.salt)
	blob, err := v.Seal()
	require.NoError(t, err)
	require.ErrorIs(t, openFails(t, blob, testPIN, lightOpts()), ErrWrongPIN)
	w, err := Open(blob, otherPIN, lightOpts())
	require.NoError(t, err)
	requireCredentialIn(t, w, c1)
	requireCredentialIn(t, w, c2)
	// Old copies still open with the old PIN, as documented.
	_, err = Open(before, testPIN, lightOpts())
	require.NoError(t, err)
	require.ErrorIs(t, v.ChangePIN(testPIN, "Xq3&7u"), ErrWrongPIN)
}

// A blob at parameters other than the configured ones opens, and the
// next seal writes the configured ones.
func TestVaultUpgradesParams(t *testing.T) {
	c1, _ := twoCredentials(t)
	blob, err := newTestVault(t, lightOpts(), c1).Seal()
	require.NoError(t, err)
	stronger := Argon2Params{Time: 2, MemoryKiB: 128, Threads: 2}
	opts := Options{Argon2: stronger, MinArgon2: lightArgon2}
	v, err := Open(blob, testPIN, opts)
	require.NoError(t, err)
	require.Equal(t, stronger, v.params)
	blob2, err := v.Seal()
	require.NoError(t, err)
	require.Equal(t, []byte{0, 0, 0, 2, 0, 0, 0, 128, 2}, blob2[6:15])
	w, err := Open(blob2, testPIN, opts)
	require.NoError(t, err)
	requireCredentialIn(t, w, c1)
}

var passphraseRE = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}$`)

func TestVaultExportImport(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1, c2)
	blob, pass, err := v.Export()
	require.NoError(t, err)
	require.Regexp(t, passphraseRE, pass)
	_, pass2, err := v.Export()
	require.NoError(t, err)
	require.NotEqual(t, pass, pass2)

	// Restored on a reset phone, under a new PIN.
	w, err := Import(blob, pass, otherPIN, lightOpts())
	require.NoError(t, err)
	require.Equal(t, v.List(), w.List())
	requireCredentialIn(t, w, c1)
	requireCredentialIn(t, w, c2)
	sealed, err := w.Seal()
	require.NoError(t, err)
	_, err = Open(sealed, otherPIN, lightOpts())
	require.NoError(t, err)

	// Typed sloppily: lower case, spaces, O for 0, l for 1.
	typed := strings.ToLower(strings.ReplaceAll(pass, "-", " "))
	typed = strings.NewReplacer("0", "o", "1", "l").Replace(typed)
	_, err = Import(blob, typed, otherPIN, lightOpts())
	require.NoError(t, err)

	// Mistyped: the check character catches it before any derivation.
	bad := []byte(pass)
	bad[2] = map[bool]byte{true: 'X', false: 'Y'}[bad[2] != 'X']
	start := time.Now()
	w, err = Import(blob, string(bad), otherPIN, lightOpts())
	require.ErrorIs(t, err, ErrWrongPassphrase)
	require.Contains(t, err.Error(), "mistyped")
	require.Nil(t, w)
	require.Less(t, time.Since(start), 50*time.Millisecond)
	require.NotContains(t, err.Error(), string(bad[:5]))
	for _, p := range []string{"", "too short", pass + "X", "UUUUU-UUUUU-UUUUU-UUUUU-UUUUU"} {
		_, err = Import(blob, p, otherPIN, lightOpts())
		require.ErrorIs(t, err, ErrWrongPassphrase, p)
	}
	// Well formed, but another export's passphrase.
	w, err = Import(blob, pass2, otherPIN, lightOpts())
	require.ErrorIs(t, err, ErrWrongPassphrase)
	require.Nil(t, w)

	// The PIN is checked, against the users of the backup too.
	_, err = Import(blob, pass, "1111", lightOpts())
	require.ErrorIs(t, err, ErrWeakPIN)
	var pe *PINError
	_, err = Import(blob, pass, "ada7", lightOpts())
	require.True(t, errors.As(err, &pe))
	require.Equal(t, PINUserName, pe.Reason)

	// An export is not a PIN vault and the other way round.
	require.ErrorIs(t, openFails(t, blob, pass, lightOpts()), ErrCorrupt)
	_, err = Import(sealed, pass, otherPIN, lightOpts())
	require.ErrorIs(t, err, ErrCorrupt)

	// Damaged exports are refused.
	for i := range blob {
		b := bytes.Clone(blob)
		b[i] ^= 0x40
		w, err := Import(b, pass, otherPIN, lightOpts())
		require.ErrorIs(t, err, ErrCorrupt, "byte %d", i)
		require.Nil(t, w)
	}
}

func TestVaultImportMerge(t *testing.T) {
	c1, c2 := twoCredentials(t)
	src := newTestVault(t, lightOpts(), c1)
	blob, pass, err := src.Export()
	require.NoError(t, err)

	// Into a vault holding another credential: merged.
	dst := newTestVault(t, lightOpts(), c2)
	added, err := dst.Import(blob, pass)
	require.NoError(t, err)
	require.Len(t, added, 1)
	require.Equal(t, "user-42", added[0].User)
	require.Equal(t, 2, dst.Len())
	requireCredentialIn(t, dst, c1)

	// Never overwrites: the same import again conflicts and adds
	// nothing; the error names the account and no secret.
	before := dst.List()
	added, err = dst.Import(blob, pass)
	require.ErrorIs(t, err, ErrAlreadyEnrolled)
	require.Nil(t, added)
	require.Contains(t, err.Error(), `"Example Bank"`)
	require.Contains(t, err.Error(), `"user-42"`)
	require.NotContains(t, err.Error(), pass)
	require.Equal(t, before, dst.List())

	// All or nothing: an export of two where one conflicts adds neither.
	both := newTestVault(t, lightOpts(), c1, c2)
	blob2, pass2, err := both.Export()
	require.NoError(t, err)
	only2 := newTestVault(t, lightOpts(), c2)
	_, err = only2.Import(blob2, pass2)
	require.ErrorIs(t, err, ErrAlreadyEnrolled)
	require.Equal(t, 1, only2.Len())

	// Errors of the blob leave the vault as it was.
	_, err = dst.Import(blob[:len(blob)-1], pass)
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = dst.Import(blob, pass2)
	require.ErrorIs(t, err, ErrWrongPassphrase)
	require.Equal(t, before, dst.List())
}

func TestVaultConcurrentUse(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 20 {
				_, err := v.Get(c1.Issuer(), c1.User())
				require.NoError(t, err)
				_ = v.List()
				_ = v.String()
				_, err = v.Seal()
				require.NoError(t, err)
				if i == 0 {
					_ = v.Add(c2)
					_ = v.Remove(c2.Issuer(), c2.User())
				}
			}
		})
	}
	wg.Wait()
}

func TestVaultNoPINInMemoryOrErrors(t *testing.T) {
	c1, _ := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1)
	// The vault keeps the derived key, not the PIN.
	require.Len(t, v.pinKey, argonKeyLen)
	require.False(t, bytes.Contains(v.pinKey, []byte(testPIN)))
	blob, err := v.Seal()
	require.NoError(t, err)
	require.False(t, bytes.Contains(blob, []byte(testPIN)))

	var errs []error
	_, err = Open(blob, otherPIN, lightOpts())
	errs = append(errs, err)
	errs = append(errs, v.ChangePIN(otherPIN, "Xq3&7u"), v.ChangePIN(testPIN, testPIN), CheckPIN(otherPIN+"!", ""))
	_, err = New("12 4", lightOpts())
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		for _, pin := range []string{testPIN, otherPIN, "Xq3&7u", "12 4"} {
			require.NotContains(t, err.Error(), pin)
			require.NotContains(t, fmt.Sprintf("%+v %#v", err, err), pin)
		}
	}
}

// The vault prints no key material, PIN or passphrase: not with any verb,
// nor through slog; neither do its entries and errors.
func TestVaultPrintsNoSecrets(t *testing.T) {
	c1, c2 := twoCredentials(t)
	opts := lightOpts()
	opts.KeyWrapper = newFakeWrapper()
	v := newTestVault(t, opts, c1, c2)
	blob, pass, err := v.Export()
	require.NoError(t, err)
	_, wrongPass, err := v.Export()
	require.NoError(t, err)
	sealed, err := v.Seal()
	require.NoError(t, err)

	secrets := [][]byte{v.pinKey, rootOf(t, c1), rootOf(t, c2), keysOf(t, c1).OCRA, keysOf(t, c1).Pair, keysOf(t, c2).API}
	texts := []string{testPIN, otherPIN, pass, strings.ReplaceAll(pass, "-", ""), wrongPass, pass[:5] + pass[6:11]}

	_, errOpen := Open(sealed, otherPIN, opts)
	_, errImport := Import(blob, wrongPass, otherPIN, lightOpts())
	_, errImport2 := Import(blob, strings.ToLower(wrongPass[:10]), otherPIN, lightOpts())
	errChange := v.ChangePIN(otherPIN, testPIN)
	errAdd := v.Add(c1)
	values := []any{v, v.List(), v.List()[0], v.params, errOpen, errImport, errImport2, errChange, errAdd}
	var out strings.Builder
	for _, x := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q"} {
			fmt.Fprintf(&out, verb+"\n", x)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", x)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", x)
	}
	text := out.String()
	require.Contains(t, text, "[redacted]")
	require.Contains(t, text, "Credentials: 2")
	for _, s := range secrets {
		require.NotEmpty(t, s)
		h := hex.EncodeToString(s)
		for i := 0; i+16 <= len(h); i += 2 {
			require.NotContains(t, strings.ToLower(text), h[i:i+16])
		}
		require.NotContains(t, text, string(s))
		require.NotContains(t, text, strings.Trim(fmt.Sprint([]byte(s[:6])), "[]"))
	}
	for _, s := range texts {
		require.NotContains(t, text, s)
		require.NotContains(t, strings.ToUpper(text), strings.ToUpper(s))
		require.NotContains(t, text, hex.EncodeToString([]byte(s)))
	}
}
