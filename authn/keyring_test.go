package authn

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// krMaster returns a fixed test master key: SHA-256("keyline/test/keyring/"
// ‖ name). The fuzz corpus under testdata/fuzz/FuzzKeyringOpen depends on
// these keys.
func krMaster(name string) []byte {
	h := sha256.Sum256([]byte("keyline/test/keyring/" + name))
	return h[:]
}

// krRing returns a keyring of the named test keys with the given primary.
func krRing(t testing.TB, primary string, names ...string) *Keyring {
	t.Helper()
	keys := make(map[string][]byte, len(names))
	for _, n := range names {
		keys[n] = krMaster(n)
	}
	k, err := NewKeyring(primary, keys)
	require.NoError(t, err)
	return k
}

// krRefSealKey is the sealing key computed independently of keyring.go
// (with the standard library's crypto/hkdf).
func krRefSealKey(t testing.TB, master []byte) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, master, nil, "keyline/v1/server/seal", 32)
	require.NoError(t, err)
	return k
}

// krRefSeal seals as the format comment on Keyring says, independently of
// keyring.go, with a given nonce.
func krRefSeal(t testing.TB, master []byte, keyID string, nonce []byte, kind, user, recordID string, plaintext []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(krRefSealKey(t, master))
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	ad := []byte("keyline/v1/seal\x01")
	for _, s := range []string{kind, user, recordID, keyID} {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(s)))
		ad = append(ad, s...)
	}
	out := append([]byte{0x01, byte(len(keyID))}, keyID...)
	out = append(out, nonce...)
	return gcm.Seal(out, nonce, plaintext, ad)
}

const (
	krKind   = "device-secret"
	krUser   = "user-42"
	krRecord = "dev-1"
)

// krSecret is a 32-byte plaintext.
var krSecret = []byte("0123456789abcdef0123456789abcdef")

func TestKeyringRoundTrip(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	require.Equal(t, "2025", k.Primary())
	require.Equal(t, []string{"2024", "2025"}, k.IDs())

	for _, pt := range [][]byte{nil, {}, {0}, krSecret, bytes.Repeat([]byte{0xa5}, 4096)} {
		sealed, err := k.Seal(krKind, krUser, krRecord, pt)
		require.NoError(t, err)
		require.Len(t, sealed, 2+len("2025")+12+len(pt)+16)
		require.Equal(t, []byte{0x01, 4, '2', '0', '2', '5'}, sealed[:6])
		id, err := SealedKeyID(sealed)
		require.NoError(t, err)
		require.Equal(t, "2025", id)
		require.False(t, k.NeedsReseal(sealed))

		got, err := k.Open(krKind, krUser, krRecord, sealed)
		require.NoError(t, err)
		require.NotNil(t, got, "an empty plaintext opens as non-nil")
		require.Equal(t, len(pt), len(got))
		require.True(t, bytes.Equal(pt, got))

		// A fresh nonce each time.
		again, err := k.Seal(krKind, krUser, krRecord, pt)
		require.NoError(t, err)
		require.NotEqual(t, sealed, again)
		require.NotEqual(t, sealed[6:18], again[6:18])
	}

	// Empty user and record ID are allowed, and bound as empty.
	sealed, err := k.Seal(krKind, "", "", krSecret)
	require.NoError(t, err)
	got, err := k.Open(krKind, "", "", sealed)
	require.NoError(t, err)
	require.Equal(t, krSecret, got)

	// Seal does not keep or alter the plaintext, Open not the sealed value.
	pt := bytes.Clone(krSecret)
	sealed, err = k.Seal(krKind, krUser, krRecord, pt)
	require.NoError(t, err)
	require.Equal(t, krSecret, pt)
	keep := bytes.Clone(sealed)
	got, err = k.Open(krKind, krUser, krRecord, sealed)
	require.NoError(t, err)
	require.Equal(t, keep, sealed)
	clear(got)
	got, err = k.Open(krKind, krUser, krRecord, sealed)
	require.NoError(t, err)
	require.Equal(t, krSecret, got)
}

// Seal follows the documented format byte for byte, and a value sealed
// once with a fixed nonce opens forever.
func TestKeyringKnownAnswer(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	sealed, err := k.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(t, err)
	nonce := sealed[6:18]
	require.Equal(t, krRefSeal(t, krMaster("2025"), "2025", nonce, krKind, krUser, krRecord, krSecret), sealed)

	// The AES key is not the master key itself.
	block, err := aes.NewCipher(krMaster("2025"))
	require.NoError(t, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(t, err)
	_, err = gcm.Open(nil, nonce, sealed[18:], nil)
	require.Error(t, err)

	// The vector: krRefSeal under krMaster("2025"), nonce 00 01 .. 0b.
	const vector = "010432303235000102030405060708090a0b" +
		"8c4dd09c8cdcc3b81709c656d1089a5f0c0a897f8859740cc704a21b39d8547c" + // ciphertext
		"2ea5b6b5fae1227961952b5db4ba313f" // tag
	fixedNonce := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	ref := krRefSeal(t, krMaster("2025"), "2025", fixedNonce, krKind, krUser, krRecord, krSecret)
	require.Equal(t, vector, hex.EncodeToString(ref))
	v, err := hex.DecodeString(vector)
	require.NoError(t, err)
	got, err := k.Open(krKind, krUser, krRecord, v)
	require.NoError(t, err)
	require.Equal(t, krSecret, got)

	// Purpose keys: HKDF-SHA256(master, "", "keyline/v1/server/" ‖ purpose).
	for _, purpose := range []string{"step-up", "challenge-tag", "api-nonce"} {
		want, err := hkdf.Key(sha256.New, krMaster("2025"), nil, "keyline/v1/server/"+purpose, 32)
		require.NoError(t, err)
		id, key := k.MACKey(purpose)
		require.Equal(t, "2025", id)
		require.Equal(t, want, []byte(key))
		want, err = hkdf.Key(sha256.New, krMaster("2024"), nil, "keyline/v1/server/"+purpose, 32)
		require.NoError(t, err)
		key, err = k.MACKeyByID("2024", purpose)
		require.NoError(t, err)
		require.Equal(t, want, []byte(key))
	}
}

// krRequireRefused checks that Open refuses with want (by errors.Is) and
// returns nil.
func krRequireRefused(t *testing.T, k *Keyring, sealed []byte, want error, kind, user, recordID string) {
	t.Helper()
	got, err := k.Open(kind, user, recordID, sealed)
	require.ErrorIs(t, err, want)
	require.Nil(t, got)
	if want == ErrSealed {
		require.Equal(t, ErrSealed, err, "ErrSealed is returned as is, saying nothing of the cause")
	}
}

// Every single-byte change and every truncation fails.
func TestKeyringTamper(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	sealed, err := k.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(t, err)
	ids := map[string]bool{"2024": true, "2025": true}

	unknown := 0
	for i := range sealed {
		for _, x := range []byte{0x01, 0x02, 0x10, 0x80, 0xff} {
			bad := bytes.Clone(sealed)
			bad[i] ^= x
			got, err := k.Open(krKind, krUser, krRecord, bad)
			require.Error(t, err, "byte %d ^ %#x", i, x)
			require.Nil(t, got)
			if errors.Is(err, ErrUnknownKey) {
				// Only when the header now names another well-formed ID.
				id, idErr := SealedKeyID(bad)
				require.NoError(t, idErr)
				require.False(t, ids[id])
				require.Contains(t, err.Error(), fmt.Sprintf("%q", id))
				require.Less(t, i, 6, "only a header byte can change the key ID")
				unknown++
				continue
			}
			require.Equal(t, ErrSealed, err, "byte %d ^ %#x", i, x)
		}
	}
	require.Positive(t, unknown, "some flips of the ID give a valid-looking unknown ID")

	for n := range len(sealed) {
		krRequireRefused(t, k, sealed[:n], ErrSealed, krKind, krUser, krRecord)
	}
	krRequireRefused(t, k, append(bytes.Clone(sealed), 0), ErrSealed, krKind, krUser, krRecord)
	for _, v := range []byte{0x00, 0x02, 0xff} {
		bad := bytes.Clone(sealed)
		bad[0] = v
		krRequireRefused(t, k, bad, ErrSealed, krKind, krUser, krRecord)
		_, err := SealedKeyID(bad)
		require.Equal(t, ErrSealed, err)
		require.False(t, k.NeedsReseal(bad))
	}
	krRequireRefused(t, k, nil, ErrSealed, krKind, krUser, krRecord)

	// A key ID that is not well formed is refused before any lookup.
	for _, id := range []string{"", "20 5", "2025/", strings.Repeat("a", 65)} {
		bad := append([]byte{0x01, byte(len(id))}, id...)
		bad = append(bad, sealed[6:]...)
		krRequireRefused(t, k, bad, ErrSealed, krKind, krUser, krRecord)
	}
}

// A sealed value opens only for its kind, user and record, under its own
// key.
func TestKeyringBinding(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	sealed, err := k.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(t, err)

	for _, c := range []struct{ kind, user, record string }{
		{"pending-activation", krUser, krRecord},
		{krKind, "user-43", krRecord},
		{krKind, krUser, "dev-2"},
		{krKind, "", krRecord},
		{krKind, krUser, ""},
		{krKind + "\x00", krUser, krRecord},
		// The same bytes split differently between the fields.
		{krKind + "u", "ser-42", krRecord},
		{krKind, krUser + "d", "ev-1"},
		{krKind, krUser + krRecord, ""},
	} {
		krRequireRefused(t, k, sealed, ErrSealed, c.kind, c.user, c.record)
	}

	// The key ID is bound: relabelled as another key of the ring, it does
	// not open.
	relabelled := bytes.Clone(sealed)
	copy(relabelled[2:6], "2024")
	krRequireRefused(t, k, relabelled, ErrSealed, krKind, krUser, krRecord)

	// Another server's key of the same ID does not open it.
	other, err := NewKeyring("2025", map[string][]byte{"2025": krMaster("other")})
	require.NoError(t, err)
	krRequireRefused(t, other, sealed, ErrSealed, krKind, krUser, krRecord)

	// An empty kind is a caller's mistake, not a bad value.
	_, err = k.Seal("", krUser, krRecord, krSecret)
	require.ErrorIs(t, err, enroll.ErrInvalidInput)
	got, err := k.Open("", krUser, krRecord, sealed)
	require.ErrorIs(t, err, enroll.ErrInvalidInput)
	require.Nil(t, got)
}

func TestKeyringRotation(t *testing.T) {
	old := krRing(t, "2024", "2024")
	sealed, err := old.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(t, err)
	require.False(t, old.NeedsReseal(sealed))

	// A new primary: old values still open, and want resealing.
	rotated := krRing(t, "2025", "2024", "2025")
	require.True(t, rotated.NeedsReseal(sealed))
	id, err := SealedKeyID(sealed)
	require.NoError(t, err)
	require.Equal(t, "2024", id)
	got, err := rotated.Open(krKind, krUser, krRecord, sealed)
	require.NoError(t, err)
	require.Equal(t, krSecret, got)

	resealed, err := rotated.Seal(krKind, krUser, krRecord, got)
	require.NoError(t, err)
	require.False(t, rotated.NeedsReseal(resealed))
	id, err = SealedKeyID(resealed)
	require.NoError(t, err)
	require.Equal(t, "2025", id)

	// The old key dropped: what it sealed names an unknown key.
	dropped := krRing(t, "2025", "2025")
	got, err = dropped.Open(krKind, krUser, krRecord, sealed)
	require.ErrorIs(t, err, ErrUnknownKey)
	require.NotErrorIs(t, err, ErrSealed)
	require.Contains(t, err.Error(), `"2024"`)
	require.Nil(t, got)
	require.True(t, dropped.NeedsReseal(sealed), "sealed under a key other than the primary")
	got, err = dropped.Open(krKind, krUser, krRecord, resealed)
	require.NoError(t, err)
	require.Equal(t, krSecret, got)

	// Not well formed: no key sealed it.
	for _, bad := range [][]byte{nil, {}, {0x01}, {0x01, 4, '2', '0', '2', '4'}, sealed[:len(sealed)-len(krSecret)-1]} {
		require.False(t, rotated.NeedsReseal(bad))
		_, err := SealedKeyID(bad)
		require.Equal(t, ErrSealed, err)
	}
}

func TestKeyringMACKeys(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	purposes := []string{"step-up", "challenge-tag", "api-nonce", "a", "Z.9_-", strings.Repeat("p", 64)}
	seen := map[string]string{}
	for _, p := range purposes {
		id, key := k.MACKey(p)
		require.Equal(t, "2025", id)
		require.Len(t, key, 32)
		byID, err := k.MACKeyByID("2025", p)
		require.NoError(t, err)
		require.Equal(t, key, byID)
		oldKey, err := k.MACKeyByID("2024", p)
		require.NoError(t, err)
		for _, kk := range []enroll.Secret{key, oldKey} {
			s := string(kk)
			require.NotContains(t, seen, s, "purpose %q", p)
			seen[s] = p
		}
		// Each call returns a fresh copy: wiping one does not touch the next.
		key.Zero()
		_, again := k.MACKey(p)
		require.Equal(t, byID, again)
	}
	// None is the sealing key or a master key.
	for _, name := range []string{"2024", "2025"} {
		require.NotContains(t, seen, string(krRefSealKey(t, krMaster(name))))
		require.NotContains(t, seen, string(krMaster(name)))
	}

	// An old primary's MACs are checked with MACKeyByID after rotation.
	old := krRing(t, "2024", "2024")
	id, oldKey := old.MACKey("step-up")
	require.Equal(t, "2024", id)
	byID, err := k.MACKeyByID(id, "step-up")
	require.NoError(t, err)
	require.Equal(t, oldKey, byID)

	key, err := k.MACKeyByID("2023", "step-up")
	require.ErrorIs(t, err, ErrUnknownKey)
	require.Contains(t, err.Error(), `"2023"`)
	require.Nil(t, key)
	for _, id := range []string{"", "2025 ", "\x1b[31m", strings.Repeat("k", 65)} {
		key, err := k.MACKeyByID(id, "step-up")
		require.ErrorIs(t, err, ErrUnknownKey)
		require.Equal(t, ErrUnknownKey.Error()+": a key ID that is not well formed", err.Error())
		require.Nil(t, key)
	}

	for _, p := range []string{"", "seal", "step up", "step/up", "é", strings.Repeat("p", 65)} {
		key, err := k.MACKeyByID("2025", p)
		require.ErrorIs(t, err, enroll.ErrInvalidInput, "purpose %q", p)
		require.Nil(t, key)
		require.Panics(t, func() { k.MACKey(p) }, "purpose %q", p)
	}
}

func TestNewKeyringRefusals(t *testing.T) {
	a, b := krMaster("a"), krMaster("b")
	for _, c := range []struct {
		name    string
		primary string
		keys    map[string][]byte
		want    string
	}{
		{"no primary", "", map[string][]byte{"a": a}, "no primary"},
		{"primary not among keys", "b", map[string][]byte{"a": a}, `the primary "b" is not among the keys`},
		{"primary not an ID", "b c", map[string][]byte{"a": a}, "the primary is not a valid key ID"},
		{"no keys", "a", nil, `the primary "a" is not among the keys`},
		{"empty ID", "a", map[string][]byte{"a": a, "": b}, "a key ID is 0 bytes"},
		{"ID too long", "a", map[string][]byte{"a": a, strings.Repeat("x", 65): b}, "a key ID is 65 bytes"},
		{"space in ID", "a", map[string][]byte{"a": a, "k 1": b}, "outside [A-Za-z0-9._-] at byte 1"},
		{"slash in ID", "a", map[string][]byte{"a": a, "k/1": b}, "at byte 1"},
		{"colon in ID", "a", map[string][]byte{"a": a, "k:1": b}, "at byte 1"},
		{"NUL in ID", "a", map[string][]byte{"a": a, "k\x00": b}, "at byte 1"},
		{"non-ASCII ID", "a", map[string][]byte{"a": a, "clé": b}, "at byte 2"},
		{"short key", "a", map[string][]byte{"a": a[:31]}, `key "a" is 31 bytes, want 32`},
		{"long key", "a", map[string][]byte{"a": append(bytes.Clone(a), 0)}, `key "a" is 33 bytes, want 32`},
		{"nil key", "a", map[string][]byte{"a": a, "b": nil}, `key "b" is 0 bytes, want 32`},
		{"zero key", "a", map[string][]byte{"a": a, "b": make([]byte, 32)}, `key "b" is all zeros`},
		{"same key twice", "a", map[string][]byte{"a": a, "b": b, "c": bytes.Clone(a)}, `keys "a" and "c" are the same`},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := NewKeyring(c.primary, c.keys)
			require.ErrorIs(t, err, ErrInvalidKeyring)
			require.Nil(t, k)
			require.Contains(t, err.Error(), c.want)
			for _, key := range [][]byte{a, b} {
				require.NotContains(t, err.Error(), hex.EncodeToString(key))
				require.NotContains(t, err.Error(), string(key[:8]))
			}
		})
	}

	// The bounds, accepted.
	long := strings.Repeat("x", 64)
	k, err := NewKeyring(long, map[string][]byte{long: a, "AZaz09._-": b})
	require.NoError(t, err)
	require.Equal(t, []string{"AZaz09._-", long}, k.IDs())
}

// The keyring holds its own copies of the keys: the caller may wipe
// theirs, and Zero wipes the keyring's, not the caller's.
func TestKeyringCopiesAndZero(t *testing.T) {
	keys := map[string][]byte{"2024": krMaster("2024"), "2025": krMaster("2025")}
	k, err := NewKeyring("2025", keys)
	require.NoError(t, err)
	_, before := k.MACKey("step-up")
	for _, v := range keys {
		clear(v)
	}
	_, after := k.MACKey("step-up")
	require.Equal(t, before, after)
	sealed, err := k.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(t, err)
	got, err := k.Open(krKind, krUser, krRecord, sealed)
	require.NoError(t, err)
	require.Equal(t, krSecret, got)

	ids := k.IDs()
	ids[0] = "changed"
	require.Equal(t, []string{"2024", "2025"}, k.IDs())

	mine := krMaster("2025")
	k2, err := NewKeyring("2025", map[string][]byte{"2025": mine})
	require.NoError(t, err)
	k2.Zero()
	require.Equal(t, krMaster("2025"), mine, "Zero leaves the caller's bytes alone")

	k.Zero()
	k.Zero() // twice is fine
	for id, key := range k.keys {
		require.Equal(t, make([]byte, 32), []byte(key.master), id)
		require.Nil(t, key.aead)
	}
	_, err = k.Seal(krKind, krUser, krRecord, krSecret)
	require.ErrorIs(t, err, ErrKeyringZeroed)
	got, err = k.Open(krKind, krUser, krRecord, sealed)
	require.ErrorIs(t, err, ErrKeyringZeroed)
	require.Nil(t, got)
	key, err := k.MACKeyByID("2025", "step-up")
	require.ErrorIs(t, err, ErrKeyringZeroed)
	require.Nil(t, key)
	require.PanicsWithValue(t, ErrKeyringZeroed.Error(), func() { k.MACKey("step-up") })

	// What needs no key still works.
	require.Equal(t, "2025", k.Primary())
	require.Equal(t, []string{"2024", "2025"}, k.IDs())
	require.False(t, k.NeedsReseal(sealed))
	require.Contains(t, k.String(), "Zeroed: true")
}

// No key byte shows through fmt, slog or an error.
func TestKeyringNothingPrintsKeys(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	_, mac := k.MACKey("step-up")
	oldMAC, err := k.MACKeyByID("2024", "step-up")
	require.NoError(t, err)
	secrets := [][]byte{
		krMaster("2024"), krMaster("2025"),
		krRefSealKey(t, krMaster("2024")), krRefSealKey(t, krMaster("2025")),
		mac, oldMAC,
	}

	var errs []any
	for _, keys := range []map[string][]byte{
		{"2024": krMaster("2024"), "2025": krMaster("2025")[:16]},
		{"2024": krMaster("2024"), "2025": krMaster("2024")},
		{"2025": krMaster("2025"), "bad id": krMaster("2024")},
	} {
		_, err := NewKeyring("2025", keys)
		require.Error(t, err)
		errs = append(errs, err)
	}
	_, err = k.MACKeyByID("2023", "step-up")
	require.Error(t, err)
	errs = append(errs, err)

	zeroed := krRing(t, "2025", "2024", "2025")
	zeroed.Zero()
	var nilRing *Keyring
	values := append([]any{k, zeroed, nilRing, mac, oldMAC, struct {
		Ring *Keyring
		Key  enroll.Secret
	}{k, mac}}, errs...)

	var out strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", v)
	}
	text := out.String()
	for _, s := range secrets {
		h := hex.EncodeToString(s)
		for _, enc := range []string{h, strings.ToUpper(h), string(s)} {
			require.NotContains(t, text, enc)
		}
		for i := 0; i+16 <= len(h); i += 2 {
			require.NotContains(t, text, h[i:i+16])
			require.NotContains(t, text, strings.ToUpper(h[i:i+16]))
		}
		require.NotContains(t, text, strings.Trim(fmt.Sprint(s[:6]), "[]"))
		require.NotContains(t, text, string(s[:8]))
	}
	for _, want := range []string{
		`authn.Keyring{Primary: "2025", IDs: ["2024" "2025"], Keys: [redacted]}`,
		`authn.Keyring{Primary: "2025", IDs: ["2024" "2025"], Keys: [redacted], Zeroed: true}`,
		"authn.Keyring(nil)",
		`v.primary=2025 v.ids="[2024 2025]"`,
		`"v":{"primary":"2025","ids":["2024","2025"]}`,
		`"v":{"primary":"2025","ids":["2024","2025"],"zeroed":true}`,
		"[redacted]",
	} {
		require.Contains(t, text, want)
	}
}

// 32 goroutines seal, open, derive and print at once; run with -race.
func TestKeyringConcurrent(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	old := krRing(t, "2024", "2024")
	oldSealed, err := old.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(t, err)
	_, wantMAC := k.MACKey("step-up")

	const workers, rounds = 32, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			user := fmt.Sprintf("user-%d", w)
			for i := range rounds {
				record := fmt.Sprintf("rec-%d", i)
				pt := []byte(user + "/" + record)
				sealed, err := k.Seal(krKind, user, record, pt)
				if err != nil {
					errs <- err
					return
				}
				got, err := k.Open(krKind, user, record, sealed)
				if err != nil || !bytes.Equal(got, pt) {
					errs <- fmt.Errorf("worker %d round %d: %v", w, i, err)
					return
				}
				if _, err := k.Open(krKind, user+"x", record, sealed); err != ErrSealed {
					errs <- fmt.Errorf("worker %d: wrong user opened: %v", w, err)
					return
				}
				if got, err := k.Open(krKind, krUser, krRecord, oldSealed); err != nil || !bytes.Equal(got, krSecret) {
					errs <- fmt.Errorf("worker %d: old value: %v", w, err)
					return
				}
				if !k.NeedsReseal(oldSealed) || k.NeedsReseal(sealed) {
					errs <- fmt.Errorf("worker %d: NeedsReseal", w)
					return
				}
				if _, mac := k.MACKey("step-up"); !bytes.Equal(mac, wantMAC) {
					errs <- fmt.Errorf("worker %d: MAC key differs", w)
					return
				}
				if i%50 == 0 {
					_ = k.String()
					_ = k.LogValue()
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Zero racing with use: every call either works or reports the zeroed
// keyring; none reads half-wiped keys (run with -race).
func TestKeyringZeroWhileInUse(t *testing.T) {
	k := krRing(t, "2025", "2024", "2025")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				sealed, err := k.Seal(krKind, krUser, krRecord, krSecret)
				if err != nil {
					assert.ErrorIs(t, err, ErrKeyringZeroed)
					return
				}
				if _, err := k.Open(krKind, krUser, krRecord, sealed); err != nil {
					assert.ErrorIs(t, err, ErrKeyringZeroed)
					return
				}
				if _, err := k.MACKeyByID("2024", "step-up"); err != nil {
					assert.ErrorIs(t, err, ErrKeyringZeroed)
					return
				}
				if w == 0 && i == 50 {
					k.Zero()
				}
			}
		})
	}
	wg.Wait()
	_, err := k.Seal(krKind, krUser, krRecord, krSecret)
	assert.ErrorIs(t, err, ErrKeyringZeroed)
}

func BenchmarkKeyringSeal(b *testing.B) {
	k := krRing(b, "2025", "2024", "2025")
	b.SetBytes(int64(len(krSecret)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(krKind, krUser, krRecord, krSecret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyringOpen(b *testing.B) {
	k := krRing(b, "2025", "2024", "2025")
	sealed, err := k.Seal(krKind, krUser, krRecord, krSecret)
	require.NoError(b, err)
	b.SetBytes(int64(len(krSecret)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(krKind, krUser, krRecord, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeyringMACKey(b *testing.B) {
	k := krRing(b, "2025", "2024", "2025")
	b.ReportAllocs()
	for b.Loop() {
		k.MACKey("step-up")
	}
}
