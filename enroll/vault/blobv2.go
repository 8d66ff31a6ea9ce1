package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"

	"github.com/keyline/keyline/enroll"
)

// Format version 2 (the layout and the reasons are in blob.go's comment).
const (
	vaultMagicV2  = "KLV\x02"
	flagBiometric = 2
	vaultKeyLen   = 32
	pinBoxLen     = gcmNonceLen + vaultKeyLen + gcmTagLen
	sealSaltLen   = 32

	labelPINWrap   = "keyline/v2/vault-pin"
	labelPlatform2 = "keyline/v2/vault-platform"
	labelContents  = "keyline/v2/vault"
	labelKeyCheck2 = "keyline/v2/vault-check"

	// pinSlotHeadLen is the PIN wrap up to its optional platform part:
	// Argon2id parameters, salt and HKDF salt.
	pinSlotHeadLen = 9 + argonSaltLen + hkdfSaltLen
	minBlobLenV2   = len(vaultMagicV2) + 2 + pinSlotHeadLen + pinBoxLen + sealSaltLen + keyCheckLen +
		gcmNonceLen + gcmTagLen + checksumLen
	maxBlobLenV2 = minBlobLenV2 + 2 + maxWrappedLen + wrapCheckLen + 2 + maxWrappedLen + maxContentsLen
)

// pinWrap is the vault key wrapped under the PIN (and the platform
// secret, when bound): the bytes from the Argon2id parameters to the end
// of the box, and whether it is bound to a KeyWrapper (flag bit 0). A
// vault opened with the platform key carries its blob's pinWrap into the
// next seal unchanged: without the PIN it cannot make a new one.
type pinWrap struct {
	bound bool
	slot  []byte
}

// pinSlot is a parsed pinWrap; its slices alias the slot.
type pinSlot struct {
	params    Argon2Params
	salt      []byte
	hkdfSalt  []byte
	wrapped   []byte // nil unless bound
	wrapCheck []byte
	head      []byte // every byte before the box
	box       []byte // nonce, then AES-256-GCM of the vault key
}

// parsePINSlot reads a pinWrap from the front of b and returns the rest.
func parsePINSlot(bound bool, b []byte) (pinSlot, []byte, error) {
	var s pinSlot
	if len(b) < pinSlotHeadLen {
		return s, nil, wrap(ErrCorrupt, "vault is truncated")
	}
	s.params = Argon2Params{
		Time:      binary.BigEndian.Uint32(b[0:]),
		MemoryKiB: binary.BigEndian.Uint32(b[4:]),
		Threads:   b[8],
	}
	s.salt = b[9 : 9+argonSaltLen]
	s.hkdfSalt = b[9+argonSaltLen : pinSlotHeadLen]
	rest := b[pinSlotHeadLen:]
	if bound {
		if len(rest) < 2 {
			return s, nil, wrap(ErrCorrupt, "vault is truncated")
		}
		n := int(binary.BigEndian.Uint16(rest))
		if n == 0 || n > maxWrappedLen || len(rest) < 2+n+wrapCheckLen {
			return s, nil, wrap(ErrCorrupt, "vault platform secret is malformed")
		}
		s.wrapped = rest[2 : 2+n]
		s.wrapCheck = rest[2+n : 2+n+wrapCheckLen]
		rest = rest[2+n+wrapCheckLen:]
	}
	if len(rest) < pinBoxLen {
		return s, nil, wrap(ErrCorrupt, "vault is truncated")
	}
	s.head = b[:len(b)-len(rest)]
	s.box = rest[:pinBoxLen]
	return s, rest[pinBoxLen:], nil
}

// pinBoxAAD is what the PIN box authenticates besides the vault key: the
// magic, the kind, the "bound" flag and the slot's head. The biometric
// flag is left out, so that turning biometric unlock on or off does not
// need the PIN; the key check and the contents' AEAD cover the whole
// header, that flag included.
func pinBoxAAD(bound bool, head []byte) []byte {
	var f byte
	if bound {
		f = flagWrapped
	}
	b := make([]byte, 0, len(vaultMagicV2)+2+len(head))
	b = append(b, vaultMagicV2...)
	b = append(b, kindVault, f)
	return append(b, head...)
}

// pinKEK derives the key that wraps the vault key from the Argon2id
// output and the platform secret (nil when not bound).
func pinKEK(argonKey, platform enroll.Secret, hkdfSalt []byte) enroll.Secret {
	ikm := make([]byte, 0, len(argonKey)+len(platform))
	ikm = append(append(ikm, argonKey...), platform...)
	defer clear(ikm)
	k := make(enroll.Secret, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, ikm, hkdfSalt, []byte(labelPINWrap)), k); err != nil {
		panic("vault: hkdf: " + err.Error())
	}
	return k
}

// contentKeys derives the AES key and the check key of one seal from the
// vault key and the seal's salt.
func contentKeys(key enroll.Secret, sealSalt []byte) (enc, check enroll.Secret) {
	okm := make([]byte, 64)
	if _, err := io.ReadFull(hkdf.New(sha256.New, key, sealSalt, []byte(labelContents)), okm); err != nil {
		panic("vault: hkdf: " + err.Error())
	}
	return enroll.Secret(okm[:32:32]), enroll.Secret(okm[32:])
}

func keyCheckV2(check enroll.Secret, signed []byte) []byte {
	m := hmac.New(sha256.New, check)
	m.Write([]byte(labelKeyCheck2))
	m.Write(signed)
	return m.Sum(nil)
}

func platformCheckV2(platform enroll.Secret, hkdfSalt []byte) []byte {
	m := hmac.New(sha256.New, platform)
	m.Write([]byte(labelPlatform2))
	m.Write(hkdfSalt)
	return m.Sum(nil)[:wrapCheckLen]
}

// makePINWrap wraps key under argonKey (Argon2id at params over salt)
// and, if wrapper is set, a fresh platform secret, with a fresh HKDF
// salt.
func makePINWrap(key, argonKey enroll.Secret, salt []byte, params Argon2Params, wrapper KeyWrapper) (pinWrap, error) {
	hkdfSalt := make([]byte, hkdfSaltLen)
	rand.Read(hkdfSalt)
	var platform enroll.Secret
	b := make([]byte, 0, pinSlotHeadLen+2+maxWrappedLen+wrapCheckLen+pinBoxLen)
	b = binary.BigEndian.AppendUint32(b, params.Time)
	b = binary.BigEndian.AppendUint32(b, params.MemoryKiB)
	b = append(b, params.Threads)
	b = append(b, salt...)
	b = append(b, hkdfSalt...)
	if wrapper != nil {
		platform = make(enroll.Secret, 32)
		defer platform.Zero()
		rand.Read(platform)
		w, err := wrapPlatform(wrapper, platform)
		if err != nil {
			return pinWrap{}, err
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(w)))
		b = append(b, w...)
		b = append(b, platformCheckV2(platform, hkdfSalt)...)
	}
	kek := pinKEK(argonKey, platform, hkdfSalt)
	defer kek.Zero()
	nonce := make([]byte, gcmNonceLen)
	rand.Read(nonce)
	box := newGCM(kek).Seal(nonce, nonce, key, pinBoxAAD(wrapper != nil, b))
	return pinWrap{bound: wrapper != nil, slot: append(b, box...)}, nil
}

// wrapPlatform hands a copy of secret to w and checks what it returns.
func wrapPlatform(w KeyWrapper, secret enroll.Secret) ([]byte, error) {
	arg := enroll.Secret(bytes.Clone(secret))
	out, err := w.Wrap(arg)
	arg.Zero()
	if err != nil {
		return nil, fmt.Errorf("%w: wrap: %w", ErrKeyWrapper, err)
	}
	if len(out) == 0 || len(out) > maxWrappedLen {
		return nil, wrap(ErrKeyWrapper, "wrap returned %d bytes, want 1 to %d", len(out), maxWrappedLen)
	}
	return bytes.Clone(out), nil
}

// recoverPlatform unwraps a bound PIN slot's platform secret with
// wrapper (set: the caller has checked) and checks it; nil for a slot
// that is not bound.
func recoverPlatform(s pinSlot, bound bool, wrapper KeyWrapper) (enroll.Secret, error) {
	if !bound {
		return nil, nil
	}
	p, err := unwrapPlatform(wrapper, s.wrapped)
	if err != nil {
		return nil, err
	}
	if len(p) != 32 || !hmac.Equal(platformCheckV2(p, s.hkdfSalt), s.wrapCheck) {
		p.Zero()
		return nil, wrap(ErrKeyWrapper, "the platform key did not recover this vault's secret (another key or another phone)")
	}
	return p, nil
}

// openPINBox recovers the vault key from a PIN slot with the PIN's
// Argon2id output and the platform secret (nil when not bound). A box
// that does not open is ErrWrongPIN.
func openPINBox(s pinSlot, bound bool, argonKey, platform enroll.Secret) (enroll.Secret, error) {
	kek := pinKEK(argonKey, platform, s.hkdfSalt)
	defer kek.Zero()
	key, err := newGCM(kek).Open(nil, s.box[:gcmNonceLen], s.box[gcmNonceLen:], pinBoxAAD(bound, s.head))
	if err != nil {
		return nil, ErrWrongPIN
	}
	return enroll.Secret(key), nil
}

// unwrapPlatform calls w.Unwrap on a copy of wrapped.
func unwrapPlatform(w KeyWrapper, wrapped []byte) (enroll.Secret, error) {
	u, err := w.Unwrap(bytes.Clone(wrapped))
	if err != nil {
		return nil, fmt.Errorf("%w: unwrap: %w", ErrKeyWrapper, err)
	}
	return enroll.Secret(u), nil
}

// headerV2 is a parsed version-2 blob; its slices alias the blob.
type headerV2 struct {
	pin      pinWrap
	slot     pinSlot
	bio      []byte // nil unless biometric unlock is on
	sealSalt []byte
	signed   []byte // the bytes the key check covers
	keyCheck []byte
	nonce    []byte
	aad      []byte // everything before the ciphertext
	sealed   []byte // ciphertext and tag
}

// isV2 reports whether b claims to be a version-2 blob.
func isV2(b []byte) bool { return len(b) >= len(vaultMagicV2) && string(b[:4]) == vaultMagicV2 }

// parseV2 checks a version-2 blob's structure and checksum. Nothing is
// derived and nothing allocated but the header.
func parseV2(b []byte) (*headerV2, error) {
	if !isV2(b) {
		return nil, wrap(ErrCorrupt, "not a keyline vault of format version 2")
	}
	if len(b) > maxBlobLenV2 {
		return nil, wrap(ErrCorrupt, "vault is longer than %d bytes", maxBlobLenV2)
	}
	if len(b) < minBlobLenV2 {
		return nil, wrap(ErrCorrupt, "vault is truncated")
	}
	body, sum := b[:len(b)-checksumLen], b[len(b)-checksumLen:]
	if want := sha256.Sum256(body); subtle.ConstantTimeCompare(sum, want[:]) != 1 {
		return nil, wrap(ErrCorrupt, "vault checksum does not match: truncated or damaged")
	}
	if body[4] == kindExport {
		return nil, wrap(ErrCorrupt, "this is a backup export: restore it with Import or Vault.Import")
	}
	if body[4] != kindVault {
		return nil, wrap(ErrCorrupt, "unknown vault kind")
	}
	flags := body[5]
	if flags&^(flagWrapped|flagBiometric) != 0 {
		return nil, wrap(ErrCorrupt, "unknown vault flags")
	}
	h := &headerV2{pin: pinWrap{bound: flags&flagWrapped != 0}}
	slot, rest, err := parsePINSlot(h.pin.bound, body[6:])
	if err != nil {
		return nil, err
	}
	h.slot = slot
	h.pin.slot = body[6 : len(body)-len(rest)]
	if flags&flagBiometric != 0 {
		if len(rest) < 2 {
			return nil, wrap(ErrCorrupt, "vault is truncated")
		}
		n := int(binary.BigEndian.Uint16(rest))
		if n == 0 || n > maxWrappedLen || len(rest) < 2+n {
			return nil, wrap(ErrCorrupt, "vault biometric key is malformed")
		}
		h.bio = rest[2 : 2+n]
		rest = rest[2+n:]
	}
	if len(rest) < sealSaltLen+keyCheckLen+gcmNonceLen+gcmTagLen {
		return nil, wrap(ErrCorrupt, "vault is truncated")
	}
	h.sealSalt = rest[:sealSaltLen]
	rest = rest[sealSaltLen:]
	h.signed = body[:len(body)-len(rest)]
	h.keyCheck = rest[:keyCheckLen]
	h.nonce = rest[keyCheckLen : keyCheckLen+gcmNonceLen]
	h.aad = body[:len(body)-len(rest)+keyCheckLen+gcmNonceLen]
	h.sealed = rest[keyCheckLen+gcmNonceLen:]
	return h, nil
}

// sealV2 writes a version-2 blob of plaintext under the vault key, with
// the PIN wrap pin and, if bio is set, the biometric wrap.
func sealV2(key enroll.Secret, pin pinWrap, bio, plaintext []byte) []byte {
	var flags byte
	if pin.bound {
		flags |= flagWrapped
	}
	if bio != nil {
		flags |= flagBiometric
	}
	b := make([]byte, 0, minBlobLenV2+len(pin.slot)+2+len(bio)+len(plaintext))
	b = append(b, vaultMagicV2...)
	b = append(b, kindVault, flags)
	b = append(b, pin.slot...)
	if bio != nil {
		b = binary.BigEndian.AppendUint16(b, uint16(len(bio)))
		b = append(b, bio...)
	}
	sealSalt := make([]byte, sealSaltLen)
	rand.Read(sealSalt)
	b = append(b, sealSalt...)
	enc, check := contentKeys(key, sealSalt)
	defer enc.Zero()
	defer check.Zero()
	b = append(b, keyCheckV2(check, b)...)
	nonce := make([]byte, gcmNonceLen)
	rand.Read(nonce)
	b = append(b, nonce...)
	// Seal into a buffer of its own: GCM's dst must not overlap its
	// associated data.
	b = append(b, newGCM(enc).Seal(nil, nonce, plaintext, b)...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// checkV2 checks a version-2 header against the options before any key
// is used: the Argon2id parameters of the PIN wrap within bounds (a
// vault opened with the platform key writes them into its next seal),
// and the KeyWrapper given exactly when the PIN wrap is bound to one.
func checkV2(h *headerV2, cfg config) error {
	if why := h.slot.params.check(cfg.floor, cfg.ceiling); why != "" {
		return &blobParamsError{why: why}
	}
	switch {
	case h.pin.bound && cfg.wrapper == nil:
		return wrap(ErrKeyWrapper, "the vault was sealed with a platform key and none was given")
	case !h.pin.bound && cfg.wrapper != nil:
		return wrap(ErrKeyWrapper, "the vault was sealed without a platform key; to bind it to one, open it without and use Vault.SetKeyWrapper")
	}
	return nil
}

// openContentsV2 checks the vault key against the header's key check
// (false if it does not match) and decrypts the contents.
func openContentsV2(h *headerV2, key enroll.Secret) (pt []byte, keyOK bool, err error) {
	enc, check := contentKeys(key, h.sealSalt)
	defer enc.Zero()
	defer check.Zero()
	if !hmac.Equal(keyCheckV2(check, h.signed), h.keyCheck) {
		return nil, false, nil
	}
	pt, err = newGCM(enc).Open(nil, h.nonce, h.sealed, h.aad)
	if err != nil {
		return nil, true, wrap(ErrCorrupt, "vault ciphertext does not authenticate")
	}
	return pt, true, nil
}

// openV2WithPIN opens a version-2 blob with the PIN: the Argon2id output
// opens the PIN wrap, whose vault key opens the contents. It returns the
// plaintext, the vault key and the Argon2id output.
func openV2WithPIN(h *headerV2, pin string, cfg config) (pt []byte, key, argonKey enroll.Secret, err error) {
	if err := checkV2(h, cfg); err != nil {
		return nil, nil, nil, err
	}
	// The platform key before the Argon2id: a foreign key is told at
	// once, and no Argon2id runs on a phone that cannot open the vault.
	platform, err := recoverPlatform(h.slot, h.pin.bound, cfg.wrapper)
	if err != nil {
		return nil, nil, nil, err
	}
	defer platform.Zero()
	argonKey = deriveArgon2(pin, h.slot.salt, h.slot.params)
	key, err = openPINBox(h.slot, h.pin.bound, argonKey, platform)
	if err != nil {
		argonKey.Zero()
		return nil, nil, nil, err
	}
	pt, keyOK, err := openContentsV2(h, key)
	if !keyOK && err == nil {
		// The PIN wrap is authentic (its AEAD held) but holds another
		// key than the one the contents were sealed under: forged.
		err = wrap(ErrCorrupt, "the vault's key check does not match its PIN wrap")
	}
	if err != nil {
		argonKey.Zero()
		key.Zero()
		return nil, nil, nil, err
	}
	return pt, key, argonKey, nil
}
