package vault

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// failingWrapper is a biometric key the platform invalidated (a new
// finger enrolled) or the user cancelled: every call fails.
type failingWrapper struct{ err error }

func (w failingWrapper) Wrap([]byte) ([]byte, error)   { return nil, w.err }
func (w failingWrapper) Unwrap([]byte) ([]byte, error) { return nil, w.err }

var errInvalidated = errors.New("fake keystore: key permanently invalidated")

// bioVault returns a vault of c1 and c2 with biometric unlock on under a
// fresh key, and its blob.
func bioVault(t *testing.T, opts Options, creds ...*enroll.Credential) (*Vault, *fakeWrapper, []byte) {
	t.Helper()
	v := newTestVault(t, opts, creds...)
	bio := newFakeWrapper()
	require.NoError(t, v.EnableBiometricUnlock(testPIN, bio))
	blob, err := v.Seal()
	require.NoError(t, err)
	return v, bio, blob
}

func TestBiometricUnlock(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1, c2)
	plain, err := v.Seal()
	require.NoError(t, err)
	require.False(t, HasBiometricUnlock(plain))
	require.False(t, v.BiometricUnlock())

	bio := newFakeWrapper()
	require.ErrorIs(t, v.EnableBiometricUnlock(otherPIN, bio), ErrWrongPIN)
	require.Empty(t, bio.wrapArgs, "a wrong PIN reaches no key")
	require.False(t, v.BiometricUnlock())
	require.ErrorIs(t, v.EnableBiometricUnlock(testPIN, nil), ErrInvalidInput)
	require.ErrorIs(t, v.EnableBiometricUnlock(testPIN, failingWrapper{errInvalidated}), errInvalidated)
	require.False(t, v.BiometricUnlock())
	long := newFakeWrapper()
	long.wrapLen = maxWrappedLen + 1
	require.ErrorIs(t, v.EnableBiometricUnlock(testPIN, long), ErrKeyWrapper)
	require.ErrorIs(t, v.EnableBiometricUnlock(testPIN, emptyWrapper{}), ErrKeyWrapper)
	require.False(t, v.BiometricUnlock())
	unchanged, err := v.Seal()
	require.NoError(t, err)
	require.False(t, HasBiometricUnlock(unchanged), "a refused enable changes nothing")

	require.NoError(t, v.EnableBiometricUnlock(testPIN, bio))
	require.True(t, v.BiometricUnlock())
	require.Len(t, bio.wrapArgs, 1)
	require.Equal(t, make([]byte, vaultKeyLen), bio.wrapArgs[0], "the key handed to Wrap is zeroed after")
	blob, err := v.Seal()
	require.NoError(t, err)
	require.Len(t, bio.wrapArgs, 1, "a seal does not call the biometric key")
	require.True(t, HasBiometricUnlock(blob))

	// Both ways in open the same vault.
	w, err := OpenBiometric(blob, bio, lightOpts())
	require.NoError(t, err)
	require.Len(t, bio.unwrapped, 1)
	require.Equal(t, make([]byte, vaultKeyLen), bio.unwrapped[0], "what Unwrap returned is zeroed after")
	require.Equal(t, v.List(), w.List())
	requireCredentialIn(t, w, c1)
	requireCredentialIn(t, w, c2)
	require.True(t, w.BiometricUnlock())
	p, err := Open(blob, testPIN, lightOpts())
	require.NoError(t, err)
	require.Equal(t, v.List(), p.List())
	require.True(t, p.BiometricUnlock(), "opened with the PIN, the vault keeps biometric unlock")
	require.ErrorIs(t, openFails(t, blob, otherPIN, lightOpts()), ErrWrongPIN)

	// A vault opened with the biometric key changes and seals without
	// the PIN, carrying the PIN wrap; both ways still open it.
	require.NoError(t, w.Remove(c2.Issuer(), c2.User()))
	again, err := w.Seal()
	require.NoError(t, err)
	require.Equal(t, blob[6:6+pinSlotHeadLen+pinBoxLen], again[6:6+pinSlotHeadLen+pinBoxLen], "the PIN wrap is carried")
	for _, open := range []func() (*Vault, error){
		func() (*Vault, error) { return Open(again, testPIN, lightOpts()) },
		func() (*Vault, error) { return OpenBiometric(again, bio, lightOpts()) },
	} {
		x, err := open()
		require.NoError(t, err)
		require.Equal(t, 1, x.Len())
		requireCredentialIn(t, x, c1)
	}
	require.ErrorIs(t, w.SetKeyWrapper(newFakeWrapper()), ErrPINRequired)

	// Refusals: no biometric unlock, another key, a key that unwraps to
	// garbage, an invalidated key, no key.
	err = func() error { _, err := OpenBiometric(plain, bio, lightOpts()); return err }()
	require.ErrorIs(t, err, ErrKeyWrapper)
	for _, k := range []KeyWrapper{newFakeWrapper(), garbageWrapper{}, emptyWrapper{}, failingWrapper{errInvalidated}} {
		x, err := OpenBiometric(blob, k, lightOpts())
		require.ErrorIs(t, err, ErrKeyWrapper)
		require.False(t, errors.Is(err, ErrCorrupt))
		require.Nil(t, x)
	}
	_, err = OpenBiometric(blob, failingWrapper{errInvalidated}, lightOpts())
	require.ErrorIs(t, err, errInvalidated, "the platform's reason is kept")
	_, err = OpenBiometric(blob, nil, lightOpts())
	require.ErrorIs(t, err, ErrInvalidInput)
}

// The biometric path runs no Argon2id: at the default parameters
// (64 MiB), it allocates a few KiB.
func TestBiometricRunsNoArgon2(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2id at 64 MiB")
	}
	c1, _ := twoCredentials(t)
	_, bio, blob := bioVault(t, Options{}, c1)
	alloc := allocated(func() {
		v, err := OpenBiometric(blob, bio, Options{})
		require.NoError(t, err)
		v.Zero()
	})
	t.Logf("OpenBiometric at t=3, 64 MiB, p=4: %d bytes allocated", alloc)
	require.Less(t, alloc, uint64(1<<20))
	alloc = allocated(func() {
		v, err := Open(blob, testPIN, Options{})
		require.NoError(t, err)
		v.Zero()
	})
	t.Logf("Open with the PIN: %d bytes allocated", alloc)
	require.Greater(t, alloc, uint64(64<<20))
}

// allocated returns the bytes f allocates on the heap: an upper bound of
// how much its peak heap adds to what was live before.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Re-enrolment: the platform invalidated the biometric key; the PIN opens
// the vault, and a new key replaces the old one.
func TestBiometricReenrol(t *testing.T) {
	c1, _ := twoCredentials(t)
	_, old, blob := bioVault(t, lightOpts(), c1)
	_, err := OpenBiometric(blob, failingWrapper{errInvalidated}, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)

	v, err := Open(blob, testPIN, lightOpts())
	require.NoError(t, err)
	fresh := newFakeWrapper()
	require.ErrorIs(t, v.EnableBiometricUnlock(otherPIN, fresh), ErrWrongPIN)
	require.NoError(t, v.EnableBiometricUnlock(testPIN, fresh))
	blob2, err := v.Seal()
	require.NoError(t, err)
	w, err := OpenBiometric(blob2, fresh, lightOpts())
	require.NoError(t, err)
	requireCredentialIn(t, w, c1)
	_, err = OpenBiometric(blob2, old, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)

	// Enabling from a vault opened with the biometric key takes the PIN
	// too, checked through the carried PIN wrap.
	another := newFakeWrapper()
	require.ErrorIs(t, w.EnableBiometricUnlock(otherPIN, another), ErrWrongPIN)
	require.NoError(t, w.EnableBiometricUnlock(testPIN, another))
	require.NoError(t, w.SetKeyWrapper(nil), "once the PIN is given, the vault holds its key")
	blob3, err := w.Seal()
	require.NoError(t, err)
	_, err = OpenBiometric(blob3, another, lightOpts())
	require.NoError(t, err)
}

func TestBiometricDisable(t *testing.T) {
	c1, _ := twoCredentials(t)
	v, bio, blob := bioVault(t, lightOpts(), c1)
	w, err := OpenBiometric(blob, bio, lightOpts())
	require.NoError(t, err)
	require.NoError(t, w.DisableBiometricUnlock())
	require.False(t, w.BiometricUnlock())
	off, err := w.Seal()
	require.NoError(t, err)
	require.False(t, HasBiometricUnlock(off))
	_, err = OpenBiometric(off, bio, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)
	x, err := Open(off, testPIN, lightOpts())
	require.NoError(t, err)
	requireCredentialIn(t, x, c1)
	// As documented: older blobs still open with the key.
	_, err = OpenBiometric(blob, bio, lightOpts())
	require.NoError(t, err)

	v.Zero()
	require.ErrorIs(t, v.DisableBiometricUnlock(), ErrZeroed)
	require.ErrorIs(t, v.EnableBiometricUnlock(testPIN, bio), ErrZeroed)
	require.False(t, v.BiometricUnlock())
}

// A PIN change draws a new vault key: an old blob and the old PIN no
// longer open what is sealed after. The biometric key, when the vault
// holds it, wraps the new key.
func TestBiometricChangePIN(t *testing.T) {
	c1, c2 := twoCredentials(t)
	_, bio, blob := bioVault(t, lightOpts(), c1, c2)
	w, err := OpenBiometric(blob, bio, lightOpts())
	require.NoError(t, err)
	oldKey := bytes.Clone(w.key)

	require.ErrorIs(t, w.ChangePIN(otherPIN, "Xq3&7u"), ErrWrongPIN)
	require.Equal(t, oldKey, []byte(w.key), "a refused change changes nothing")
	bio.failWrap = errInvalidated
	require.ErrorIs(t, w.ChangePIN(testPIN, otherPIN), ErrKeyWrapper)
	require.Equal(t, oldKey, []byte(w.key), "a refused change changes nothing")
	bio.failWrap = nil
	require.NoError(t, w.ChangePIN(testPIN, otherPIN))
	require.NotEqual(t, oldKey, []byte(w.key))
	blob2, err := w.Seal()
	require.NoError(t, err)

	require.ErrorIs(t, openFails(t, blob2, testPIN, lightOpts()), ErrWrongPIN)
	x, err := Open(blob2, otherPIN, lightOpts())
	require.NoError(t, err)
	requireCredentialIn(t, x, c2)
	y, err := OpenBiometric(blob2, bio, lightOpts())
	require.NoError(t, err)
	requireCredentialIn(t, y, c1)
	// The old key (from the old blob and the old PIN) does not open it.
	h, err := parseV2(blob2)
	require.NoError(t, err)
	_, keyOK, err := openContentsV2(h, oldKey)
	require.False(t, keyOK)
	require.NoError(t, err)

	// Opened with the PIN, the vault has no biometric key object to wrap
	// the new key with: the change turns biometric unlock off.
	require.True(t, x.BiometricUnlock())
	require.NoError(t, x.ChangePIN(otherPIN, "Xq3&7u"))
	require.False(t, x.BiometricUnlock())
	blob3, err := x.Seal()
	require.NoError(t, err)
	require.False(t, HasBiometricUnlock(blob3))
	_, err = Open(blob3, "Xq3&7u", lightOpts())
	require.NoError(t, err)
}

// With a KeyWrapper bound to the PIN wrap, the biometric path does not
// call it, and the options must still agree with the blob.
func TestBiometricWithKeyWrapper(t *testing.T) {
	c1, _ := twoCredentials(t)
	opts := lightOpts()
	kw := newFakeWrapper()
	opts.KeyWrapper = kw
	_, bio, blob := bioVault(t, opts, c1)
	unwraps := len(kw.unwrapped)
	w, err := OpenBiometric(blob, bio, opts)
	require.NoError(t, err)
	require.Len(t, kw.unwrapped, unwraps, "the biometric path does not use the KeyWrapper")
	requireCredentialIn(t, w, c1)
	_, err = OpenBiometric(blob, bio, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)
	_, err = Open(blob, testPIN, opts)
	require.NoError(t, err)
	_, err = Open(blob, testPIN, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)

	// The PIN through the carried wrap needs the KeyWrapper.
	require.ErrorIs(t, w.ChangePIN(otherPIN, "Xq3&7u"), ErrWrongPIN)
	require.NoError(t, w.ChangePIN(testPIN, otherPIN))
	blob2, err := w.Seal()
	require.NoError(t, err)
	_, err = Open(blob2, otherPIN, opts)
	require.NoError(t, err)
	_, err = OpenBiometric(blob2, bio, opts)
	require.NoError(t, err)
}

// A blob of format 1 opens with the PIN, and its next seal is format 2,
// to which biometric unlock can be added.
func TestVaultUpgradesFormat1(t *testing.T) {
	m := readV1(t)
	for name, wrapped := range m.Blobs {
		blob := readTestdata(t, "v1", name)
		opts := v1Opts(m, wrapped)
		_, err := OpenBiometric(blob, newFakeWrapper(), opts)
		require.ErrorIs(t, err, ErrKeyWrapper, name)
		require.False(t, HasBiometricUnlock(blob))
		v, err := Open(blob, m.PIN, opts)
		require.NoError(t, err, name)
		bio := newFakeWrapper()
		require.NoError(t, v.EnableBiometricUnlock(m.PIN, bio))
		blob2, err := v.Seal()
		require.NoError(t, err)
		require.Equal(t, vaultMagicV2, string(blob2[:4]))
		w, err := OpenBiometric(blob2, bio, opts)
		require.NoError(t, err, name)
		requireV1Accounts(t, m, w)
		x, err := Open(blob2, m.PIN, opts)
		require.NoError(t, err, name)
		requireV1Accounts(t, m, x)
	}
}

// Downgrades of a format-2 blob, by someone who cannot make the keys but
// can rewrite the bytes and the checksum, are refused on both paths.
func TestFormat2Downgrade(t *testing.T) {
	c1, _ := twoCredentials(t)
	_, bio, blob := bioVault(t, lightOpts(), c1)
	h, err := parseV2(blob)
	require.NoError(t, err)
	pinEnd := 6 + len(h.pin.slot)
	bioEnd := pinEnd + 2 + len(h.bio)
	refused := func(name string, b []byte) {
		t.Helper()
		b = reChecksum(b)
		v, err := Open(b, testPIN, lightOpts())
		require.Error(t, err, name)
		require.Nil(t, v)
		requireKnownError(t, err)
		v, err = OpenBiometric(b, bio, lightOpts())
		require.Error(t, err, name)
		require.Nil(t, v)
		requireKnownError(t, err)
		_, err = OpenCredential(b, bio, c1.Issuer(), c1.User(), lightOpts())
		require.Error(t, err, name)
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	// The PIN wrap stripped, leaving the biometric wrap.
	refused("PIN wrap stripped", cat(blob[:6], blob[pinEnd:]))
	// The PIN box and the biometric wrap swapped (both 60 bytes with
	// this fake key: AES-GCM of 32 bytes, nonce first).
	require.Len(t, h.bio, pinBoxLen)
	box := blob[pinEnd-pinBoxLen : pinEnd]
	refused("wraps swapped", cat(blob[:pinEnd-pinBoxLen], h.bio, blob[pinEnd:pinEnd+2], box, blob[bioEnd:]))
	// The biometric wrap dropped, flag and all.
	noBio := cat(blob[:pinEnd], blob[bioEnd:])
	noBio[5] &^= flagBiometric
	refused("biometric wrap dropped", noBio)
	// Relabelled as format 1, or as an export.
	for i, b := range []byte{1, 3} {
		x := bytes.Clone(blob)
		x[3] = b
		refused([]string{"version 1", "version 3"}[i], x)
	}
	x := bytes.Clone(blob)
	x[4] = kindExport
	refused("kind export", x)
	// The "bound to a KeyWrapper" flag set.
	x = bytes.Clone(blob)
	x[5] |= flagWrapped
	refused("bound flag", x)
	// A biometric wrap added to a blob that had none, under a key the
	// attacker holds: the key it wraps is not the vault's.
	plainV, err := New(testPIN, lightOpts())
	require.NoError(t, err)
	require.NoError(t, plainV.Add(c1))
	plain, err := plainV.Seal()
	require.NoError(t, err)
	ph, err := parseV2(plain)
	require.NoError(t, err)
	fake := newFakeWrapper()
	forged, err := fake.Wrap(make([]byte, vaultKeyLen))
	require.NoError(t, err)
	pe := 6 + len(ph.pin.slot)
	added := cat(plain[:pe], binary.BigEndian.AppendUint16(nil, uint16(len(forged))), forged, plain[pe:])
	added[5] |= flagBiometric
	added = reChecksum(added)
	_, err = OpenBiometric(added, fake, lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)
	_, err = Open(added, testPIN, lightOpts())
	require.ErrorIs(t, err, ErrCorrupt)
}

// Every bit of a format-2 blob with biometric unlock, flipped by a forger
// who recomputes the checksum, is refused on both paths; never a vault.
func TestFormat2Damage(t *testing.T) {
	c1, _ := twoCredentials(t)
	_, bio, blob := bioVault(t, lightOpts(), c1)
	for i := range len(blob) - checksumLen {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(blob)
			b[i] ^= bit
			b = reChecksum(b)
			v, err := Open(b, testPIN, lightOpts())
			require.Nil(t, v, "byte %d", i)
			requireKnownError(t, err)
			v, err = OpenBiometric(b, bio, lightOpts())
			require.Nil(t, v, "byte %d", i)
			requireKnownError(t, err)
		}
	}
	for n := range len(blob) {
		_, err := OpenBiometric(blob[:n], bio, lightOpts())
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
	}
}

func TestOpenCredential(t *testing.T) {
	c1, c2 := twoCredentials(t)
	_, bio, blob := bioVault(t, lightOpts(), c1, c2)
	got, err := OpenCredential(blob, bio, c2.Issuer(), c2.User(), lightOpts())
	require.NoError(t, err)
	requireSameCredential(t, c2, got)
	_, err = OpenCredential(blob, bio, c2.Issuer(), "nobody", lightOpts())
	require.ErrorIs(t, err, ErrNoCredential)
	_, err = OpenCredential(blob, newFakeWrapper(), c2.Issuer(), c2.User(), lightOpts())
	require.ErrorIs(t, err, ErrKeyWrapper)
}

// The notification extension's path fits in a few MiB: OpenCredential of
// a full vault (100 credentials) sealed at the default Argon2id
// parameters allocates some 45 KiB in all, garbage included, where the
// PIN's Argon2id alone needs 64 MiB. The bound leaves room for a runtime
// that allocates more.
func TestOpenCredentialMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("Argon2id at 64 MiB")
	}
	v := newTestVault(t, Options{})
	var last *enroll.Credential
	for i := range maxCredentials {
		c, _ := confirmed(t, "Bank", "user-"+string(rune('a'+i/26))+string(rune('a'+i%26)))
		require.NoError(t, v.Add(c))
		last = c
	}
	bio := newFakeWrapper()
	require.NoError(t, v.EnableBiometricUnlock(testPIN, bio))
	blob, err := v.Seal()
	require.NoError(t, err)
	var mallocs uint64
	alloc := allocated(func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mallocs = ms.Mallocs
		c, err := OpenCredential(blob, bio, last.Issuer(), last.User(), Options{})
		require.NoError(t, err)
		c.Zero()
		runtime.ReadMemStats(&ms)
		mallocs = ms.Mallocs - mallocs
	})
	t.Logf("OpenCredential, 100 credentials, blob of %d bytes: %d bytes in %d allocations", len(blob), alloc, mallocs)
	require.Less(t, alloc, uint64(512<<10))
}

// peekAccount agrees with the decoder on every credential, and refuses
// what it cannot read (findCredential then decodes in full).
func TestPeekAccount(t *testing.T) {
	c1, c2 := twoCredentials(t)
	v := newTestVault(t, lightOpts(), c1, c2)
	for _, s := range v.creds {
		iss, usr, ok := peekAccount(s.enc)
		require.True(t, ok)
		require.Equal(t, s.entry.Issuer, string(iss))
		require.Equal(t, s.entry.User, string(usr))
		for n := range 1 + 3*4 + len(iss) + len(usr) {
			_, _, ok := peekAccount(s.enc[:n])
			require.False(t, ok, "truncated to %d", n)
		}
	}
	_, _, ok := peekAccount([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	require.False(t, ok)
	// A credential the peek cannot read is decoded in full: here,
	// refused as the decoder refuses it.
	pt := encodeContents([]stored{{enc: []byte{2}}})
	_, err := findCredential(pt, c1.Issuer(), c1.User())
	require.ErrorIs(t, err, ErrCorrupt)
}

// A vault opened with the biometric key prints no key material either,
// nor do the biometric path's errors; and it holds no PIN key.
func TestBiometricPrintsNoSecrets(t *testing.T) {
	c1, _ := twoCredentials(t)
	v, bio, blob := bioVault(t, lightOpts(), c1)
	w, err := OpenBiometric(blob, bio, lightOpts())
	require.NoError(t, err)
	require.Nil(t, w.pinKey, "the biometric path derives nothing from the PIN")
	_, errKey := OpenBiometric(blob, garbageWrapper{}, lightOpts())
	_, errCancel := OpenBiometric(blob, failingWrapper{errInvalidated}, lightOpts())
	errPIN := w.EnableBiometricUnlock(otherPIN, bio)
	errChange := w.ChangePIN(otherPIN, "Xq3&7u")
	var out strings.Builder
	for _, x := range []any{v, w, errKey, errCancel, errPIN, errChange} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			fmt.Fprintf(&out, verb+"\n", x)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", x)
	}
	text := strings.ToLower(out.String())
	require.Contains(t, text, "biometric: true")
	for _, s := range [][]byte{v.key, w.key, v.pinKey, rootOf(t, c1)} {
		require.NotEmpty(t, s)
		h := hex.EncodeToString(s)
		for i := 0; i+16 <= len(h); i += 2 {
			require.NotContains(t, text, h[i:i+16])
		}
		require.NotContains(t, text, strings.ToLower(string(s)))
	}
	for _, p := range []string{testPIN, otherPIN, "Xq3&7u"} {
		require.NotContains(t, text, strings.ToLower(p))
	}
}

func TestBiometricConcurrentUse(t *testing.T) {
	c1, c2 := twoCredentials(t)
	_, bio, blob := bioVault(t, lightOpts(), c1)
	w, err := OpenBiometric(blob, bio, lightOpts())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 10 {
				_, err := w.Seal()
				require.NoError(t, err)
				_ = w.BiometricUnlock()
				switch i {
				case 0:
					_ = w.Add(c2)
					_ = w.Remove(c2.Issuer(), c2.User())
				case 1:
					require.NoError(t, w.DisableBiometricUnlock())
					require.NoError(t, w.EnableBiometricUnlock(testPIN, bio))
				}
			}
		})
	}
	wg.Wait()
	sealed, err := w.Seal()
	require.NoError(t, err)
	x, err := OpenBiometric(sealed, bio, lightOpts())
	require.NoError(t, err)
	requireCredentialIn(t, x, c1)
}
