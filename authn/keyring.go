package authn

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/hkdf"

	"github.com/keyline/keyline/enroll"
)

// MasterKeySize is the size of a master key in bytes.
const MasterKeySize = 32

const (
	keyringVersion     = 0x01
	keyringNonceSize   = 12
	keyringTagSize     = 16
	keyringADLabel     = "keyline/v1/seal"
	keyringLabel       = "keyline/v1/server/"
	keyringSealPurpose = "seal"
	keyringMaxIDLen    = 64
)

// Keyring errors, matched with [errors.Is].
var (
	// ErrInvalidKeyring reports keys refused by [NewKeyring]: no primary,
	// or a primary not among the keys; a key ID empty, longer than 64
	// bytes or with a character outside [A-Za-z0-9._-]; a key not of
	// [MasterKeySize] bytes, all zeros, or the same as another one.
	ErrInvalidKeyring = errors.New("authn: invalid keyring")

	// ErrUnknownKey reports a key ID that is not in the keyring: a value
	// sealed under a key since retired, or one from another server. The
	// error names the ID; key IDs are not secret.
	ErrUnknownKey = errors.New("authn: key not in the keyring")

	// ErrSealed reports a sealed value that does not open: altered,
	// truncated, of an unknown version, or presented for another kind,
	// user or record than it was sealed for. The error does not say
	// which.
	ErrSealed = errors.New("authn: sealed value does not open")

	// ErrKeyringZeroed reports a keyring used after [Keyring.Zero].
	ErrKeyringZeroed = errors.New("authn: keyring was zeroed")
)

// Keyring holds the server's master keys: it seals secrets at rest (see
// [Keyring.Seal]) and derives purpose keys for MACs (see
// [Keyring.MACKey]). One key, the primary, seals and makes MACs; the
// others are kept to open and check what older keys made, until every
// value is resealed (see [Keyring.NeedsReseal]).
//
// A Keyring is safe for concurrent use. It prints, with any verb and
// through slog, its key IDs and primary but no key material.
//
// A sealed value is, byte by byte:
//
//	version  1 byte    0x01
//	idLen    1 byte    length of the key ID, 1 to 64
//	keyID    idLen     ID of the master key that sealed, in the clear
//	nonce    12 bytes  random, from crypto/rand
//	sealed   n + 16    AES-256-GCM ciphertext of the n-byte plaintext, then the tag
//
// 2 + len(keyID) + 12 + n + 16 bytes in all. The AES key is never a
// master key itself: for each master key it is HKDF-SHA256(master, salt
// empty, info "keyline/v1/server/seal"), 32 bytes, derived once by
// [NewKeyring]. The associated data, authenticated but not stored, is
//
//	"keyline/v1/seal" ‖ 0x01 ‖ lp(kind) ‖ lp(user) ‖ lp(recordID) ‖ lp(keyID)
//
// where lp(s) is the length of s as 4 bytes big-endian, then s. A sealed
// value copied to another record, user or kind of record, or given
// another key ID or version byte, does not open. With random 96-bit
// nonces, one master key should seal no more than 2^32 values (NIST SP
// 800-38D); rotate the primary well before.
//
// The purpose key of purpose p (see [Keyring.MACKey]) is
// HKDF-SHA256(master, salt empty, info "keyline/v1/server/" ‖ p), 32
// bytes. The sealing key lives under the same prefix, so the purpose
// "seal" is refused.
type Keyring struct {
	primary string
	ids     []string // sorted

	mu     sync.RWMutex
	keys   map[string]*keyringKey
	zeroed bool
}

// keyringKey is one master key and the sealing cipher derived from it.
type keyringKey struct {
	id     string
	master enroll.Secret
	aead   cipher.AEAD
}

// NewKeyring returns a keyring of keys, which maps key IDs to master keys
// of [MasterKeySize] bytes; primary names the one that seals and makes
// MACs. A key ID is 1 to 64 characters of [A-Za-z0-9._-], stored in the
// clear in every sealed value: "2025-06" or "k7", never anything secret.
// Every key must be random: no two the same, none all zeros. The keyring
// copies the keys, so the caller may wipe its own. Every refusal wraps
// [ErrInvalidKeyring]; none shows a key byte.
func NewKeyring(primary string, keys map[string][]byte) (*Keyring, error) {
	if primary == "" {
		return nil, fmt.Errorf("%w: no primary key ID", ErrInvalidKeyring)
	}
	ids := slices.Sorted(maps.Keys(keys))
	for _, id := range ids {
		if err := keyringCheckID(id); err != nil {
			return nil, err
		}
	}
	if _, ok := keys[primary]; !ok {
		if keyringCheckID(primary) != nil {
			return nil, fmt.Errorf("%w: the primary is not a valid key ID", ErrInvalidKeyring)
		}
		return nil, fmt.Errorf("%w: the primary %q is not among the keys", ErrInvalidKeyring, primary)
	}
	var zero [MasterKeySize]byte
	for i, id := range ids {
		key := keys[id]
		if len(key) != MasterKeySize {
			return nil, fmt.Errorf("%w: key %q is %d bytes, want %d", ErrInvalidKeyring, id, len(key), MasterKeySize)
		}
		if subtle.ConstantTimeCompare(key, zero[:]) == 1 {
			return nil, fmt.Errorf("%w: key %q is all zeros", ErrInvalidKeyring, id)
		}
		for _, prev := range ids[:i] {
			if subtle.ConstantTimeCompare(key, keys[prev]) == 1 {
				return nil, fmt.Errorf("%w: keys %q and %q are the same", ErrInvalidKeyring, prev, id)
			}
		}
	}

	k := &Keyring{primary: primary, ids: ids, keys: make(map[string]*keyringKey, len(ids))}
	for _, id := range ids {
		master := enroll.Secret(bytes.Clone(keys[id]))
		sealKey := keyringHKDF(master, keyringSealPurpose)
		block, err := aes.NewCipher(sealKey)
		sealKey.Zero()
		if err != nil { // not reached: the key is 32 bytes
			master.Zero()
			k.Zero()
			return nil, fmt.Errorf("authn: keyring: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil { // not reached
			master.Zero()
			k.Zero()
			return nil, fmt.Errorf("authn: keyring: %w", err)
		}
		k.keys[id] = &keyringKey{id: id, master: master, aead: aead}
	}
	return k, nil
}

// keyringCheckID returns an error wrapping ErrInvalidKeyring if id is not a
// valid key ID. It does not quote the ID: a string that is not an ID may
// be something else pasted in the wrong place.
func keyringCheckID(id string) error {
	if len(id) == 0 || len(id) > keyringMaxIDLen {
		return fmt.Errorf("%w: a key ID is %d bytes, want 1 to %d", ErrInvalidKeyring, len(id), keyringMaxIDLen)
	}
	if i := keyringBadByte(id); i >= 0 {
		return fmt.Errorf("%w: a key ID has a character outside [A-Za-z0-9._-] at byte %d", ErrInvalidKeyring, i)
	}
	return nil
}

// keyringBadByte returns the index of the first byte of s outside
// [A-Za-z0-9._-], or -1.
func keyringBadByte(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return i
		}
	}
	return -1
}

// keyringValidName reports whether s is 1 to 64 bytes of [A-Za-z0-9._-]: a
// valid key ID or purpose.
func keyringValidName(s string) bool {
	return len(s) > 0 && len(s) <= keyringMaxIDLen && keyringBadByte(s) < 0
}

// keyringHKDF returns HKDF-SHA256(master, salt empty, info
// "keyline/v1/server/" ‖ purpose), 32 bytes.
func keyringHKDF(master enroll.Secret, purpose string) enroll.Secret {
	k := make(enroll.Secret, 32)
	// Reading 32 bytes from HKDF-SHA256 cannot fail.
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(keyringLabel+purpose)), k); err != nil {
		panic("authn: hkdf: " + err.Error())
	}
	return k
}

// Primary returns the ID of the key that seals and makes MACs.
func (k *Keyring) Primary() string { return k.primary }

// IDs returns the IDs of all keys, sorted. The slice is the caller's.
func (k *Keyring) IDs() []string { return slices.Clone(k.ids) }

// Seal encrypts plaintext for one record under the primary key and
// returns the sealed value, in the format given at [Keyring]. kind names what the record is
// ("device-secret", "pending-activation", ...) and must not be empty;
// user is the opaque user ID and recordID the server-assigned record ID,
// empty where there is none. The kind, the user, the record ID and the
// key ID are bound to the value as associated data: [Keyring.Open] with
// any other kind, user or record ID fails. Each call draws a fresh random
// nonce, so sealing the same plaintext twice gives two different values.
//
// An empty kind gives an error wrapping [ErrInvalidInput], a
// zeroed keyring [ErrKeyringZeroed].
func (k *Keyring) Seal(kind, user, recordID string, plaintext []byte) ([]byte, error) {
	if err := keyringCheckInput("Seal", kind, user, recordID); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.zeroed {
		return nil, ErrKeyringZeroed
	}
	key := k.keys[k.primary]
	out := make([]byte, 2+len(key.id)+keyringNonceSize, 2+len(key.id)+keyringNonceSize+len(plaintext)+keyringTagSize)
	out[0] = keyringVersion
	out[1] = byte(len(key.id))
	copy(out[2:], key.id)
	nonce := out[2+len(key.id):]
	rand.Read(nonce) // never fails: crypto/rand crashes the program rather than return an error
	return key.aead.Seal(out, nonce, plaintext, keyringAD(kind, user, recordID, key.id)), nil
}

// Open decrypts a value made by [Keyring.Seal], under whichever key of the
// keyring sealed it, for the same kind, user and record ID. It returns
// nil and an error wrapping [ErrUnknownKey] if the value names a key ID
// not in the keyring, and nil and [ErrSealed] if it does not open for any
// other reason: altered, truncated, of another version, or sealed for
// another kind, user or record. Open never panics, whatever sealed holds;
// an empty plaintext opens as an empty, non-nil slice.
func (k *Keyring) Open(kind, user, recordID string, sealed []byte) ([]byte, error) {
	if err := keyringCheckInput("Open", kind, user, recordID); err != nil {
		return nil, err
	}
	id, nonce, ciphertext, ok := keyringParse(sealed)
	if !ok {
		return nil, ErrSealed
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.zeroed {
		return nil, ErrKeyringZeroed
	}
	key := k.keys[string(id)]
	if key == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	plaintext, err := key.aead.Open(nil, nonce, ciphertext, keyringAD(kind, user, recordID, key.id))
	if err != nil {
		return nil, ErrSealed
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	return plaintext, nil
}

// keyringCheckInput refuses an empty kind and strings too long for a 4-byte
// length.
func keyringCheckInput(op, kind, user, recordID string) error {
	if kind == "" {
		return fmt.Errorf("authn: %w: Keyring.%s: empty kind", ErrInvalidInput, op)
	}
	if uint64(len(kind)) > math.MaxUint32 || uint64(len(user)) > math.MaxUint32 || uint64(len(recordID)) > math.MaxUint32 {
		return fmt.Errorf("authn: %w: Keyring.%s: kind, user or record ID of 4 GiB or more", ErrInvalidInput, op)
	}
	return nil
}

// keyringParse splits a sealed value into its key ID, nonce and
// ciphertext. It checks the version, that the key ID is well formed and
// that the value is long enough to hold a nonce and a tag; ok is false
// otherwise.
func keyringParse(sealed []byte) (id, nonce, ciphertext []byte, ok bool) {
	if len(sealed) < 2 || sealed[0] != keyringVersion {
		return nil, nil, nil, false
	}
	n := int(sealed[1])
	if n == 0 || n > keyringMaxIDLen || len(sealed) < 2+n+keyringNonceSize+keyringTagSize {
		return nil, nil, nil, false
	}
	id = sealed[2 : 2+n]
	if keyringBadByte(string(id)) >= 0 {
		return nil, nil, nil, false
	}
	return id, sealed[2+n : 2+n+keyringNonceSize], sealed[2+n+keyringNonceSize:], true
}

// keyringAD returns the associated data of a sealed value:
// "keyline/v1/seal" ‖ version ‖ lp(kind) ‖ lp(user) ‖ lp(recordID) ‖
// lp(keyID).
func keyringAD(kind, user, recordID, keyID string) []byte {
	ad := make([]byte, 0, len(keyringADLabel)+1+4*4+len(kind)+len(user)+len(recordID)+len(keyID))
	ad = append(ad, keyringADLabel...)
	ad = append(ad, keyringVersion)
	for _, s := range [...]string{kind, user, recordID, keyID} {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(s)))
		ad = append(ad, s...)
	}
	return ad
}

// SealedKeyID returns the ID of the key that sealed a value. The ID is in
// the clear, so no key is needed: a rotation job reads it to find the
// values still sealed under an old key. A value that is not well formed
// (too short, another version, a malformed key ID) gives [ErrSealed];
// a well-formed header says nothing yet about whether the value opens.
func SealedKeyID(sealed []byte) (string, error) {
	id, _, _, ok := keyringParse(sealed)
	if !ok {
		return "", ErrSealed
	}
	return string(id), nil
}

// NeedsReseal reports whether sealed was made under a key other than the
// primary: [Keyring.Open] it and [Keyring.Seal] the plaintext again to
// move it to the primary, before the old key is dropped from the keyring.
// A value that is not well formed (see [SealedKeyID]) reports false: it
// was sealed under no key, and resealing cannot mend it.
func (k *Keyring) NeedsReseal(sealed []byte) bool {
	id, _, _, ok := keyringParse(sealed)
	return ok && string(id) != k.primary
}

// MACKey returns the primary key's ID and its purpose key for purpose,
// for making MACs: step-up proofs, challenge tags, API nonces and the
// like. Store or send the key ID with what the MAC protects, so that
// [Keyring.MACKeyByID] finds the key to check it after a rotation. The
// key is HKDF-SHA256 of the master key with info "keyline/v1/server/"
// ‖ purpose, 32 bytes, a fresh copy the caller may wipe.
//
// A purpose is 1 to 64 characters of [A-Za-z0-9._-], other than "seal"
// (the label of the sealing key); purposes are constants of the program,
// so MACKey panics on an invalid one, as it does on a zeroed keyring:
// there is no key to return, and an empty one would make MACs anyone can
// forge.
func (k *Keyring) MACKey(purpose string) (keyID string, key enroll.Secret) {
	if err := keyringCheckPurpose(purpose); err != nil {
		panic(err.Error())
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.zeroed {
		panic(ErrKeyringZeroed.Error())
	}
	return k.primary, keyringHKDF(k.keys[k.primary].master, purpose)
}

// MACKeyByID returns the purpose key for purpose of the key keyID, for
// checking a MAC made with [Keyring.MACKey], possibly under a key that is
// no longer the primary. A key ID not in the keyring gives an error
// wrapping [ErrUnknownKey], which names the ID only if it is well formed
// (keyID may come off the wire); an invalid purpose (see
// [Keyring.MACKey]) gives one wrapping [ErrInvalidInput], a zeroed
// keyring [ErrKeyringZeroed].
func (k *Keyring) MACKeyByID(keyID, purpose string) (enroll.Secret, error) {
	if err := keyringCheckPurpose(purpose); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.zeroed {
		return nil, ErrKeyringZeroed
	}
	key := k.keys[keyID]
	if key == nil {
		if !keyringValidName(keyID) {
			// It may come off the wire: not echoed.
			return nil, fmt.Errorf("%w: a key ID that is not well formed", ErrUnknownKey)
		}
		return nil, fmt.Errorf("%w: %q", ErrUnknownKey, keyID)
	}
	return keyringHKDF(key.master, purpose), nil
}

// keyringCheckPurpose refuses a purpose that is not 1 to 64 characters of
// [A-Za-z0-9._-], or is the sealing key's.
func keyringCheckPurpose(purpose string) error {
	if !keyringValidName(purpose) {
		return fmt.Errorf("authn: %w: MAC key purpose %q is not 1 to 64 characters of [A-Za-z0-9._-]", ErrInvalidInput, purpose)
	}
	if purpose == keyringSealPurpose {
		return fmt.Errorf("authn: %w: MAC key purpose %q is reserved for sealing", ErrInvalidInput, purpose)
	}
	return nil
}

// Zero overwrites the keyring's copies of the master keys with zeros and
// drops its sealing ciphers; afterwards Seal, Open and MACKeyByID return
// [ErrKeyringZeroed] and MACKey panics. The AES key schedules inside
// crypto/aes cannot be reached and are left to the garbage collector, as
// are purpose keys already handed out. Zero may be called more than
// once, and concurrently with other methods.
func (k *Keyring) Zero() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range k.keys {
		key.master.Zero()
		key.aead = nil
	}
	k.zeroed = true
}

// String describes the keyring by its key IDs and primary, e.g.
// `authn.Keyring{Primary: "k2", IDs: ["k1" "k2"], Keys: [redacted]}`.
func (k *Keyring) String() string {
	if k == nil {
		return "authn.Keyring(nil)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "authn.Keyring{Primary: %q, IDs: %q, Keys: [redacted]", k.primary, k.ids)
	if k.isZeroed() {
		b.WriteString(", Zeroed: true")
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String.
func (k *Keyring) GoString() string { return k.String() }

// Format prints String for every verb.
func (k *Keyring) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue describes the keyring to slog by its primary and key IDs.
func (k *Keyring) LogValue() slog.Value {
	if k == nil {
		return slog.StringValue("authn.Keyring(nil)")
	}
	attrs := []slog.Attr{slog.String("primary", k.primary), slog.Any("ids", slices.Clone(k.ids))}
	if k.isZeroed() {
		attrs = append(attrs, slog.Bool("zeroed", true))
	}
	return slog.GroupValue(attrs...)
}

func (k *Keyring) isZeroed() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.zeroed
}
