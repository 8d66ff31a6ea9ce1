package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
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

// The blob format, version 2: a PIN vault ([Vault.Seal] writes it). Every
// integer is big-endian.
//
//	magic        "KLV" and the version byte 0x02
//	kind         'P' (an export is still version 1, below)
//	flags        bit 0: the PIN wrap is bound to a KeyWrapper; bit 1:
//	             biometric unlock is on; the others are zero
//	PIN wrap     argon2 t (4 bytes), m in KiB (4), p (1); salt (16 bytes,
//	             the Argon2id salt); hkdf salt (32); if flag 0, the
//	             wrapped length (2 bytes, 1..4096), the wrapped platform
//	             secret and its check (16 bytes: HMAC-SHA256 under the
//	             platform secret of "keyline/v2/vault-platform" ‖ hkdf
//	             salt, truncated); then the box: a nonce (12) and the
//	             AES-256-GCM (48) of the vault key under the key-encryption
//	             key, with associated data the magic, the kind, the flags
//	             byte with bit 1 cleared, and every byte of the PIN wrap
//	             before the box
//	if flag 1:   biometric length (2 bytes, 1..4096) and what the
//	             biometric key's Wrap returned for the vault key
//	seal salt    32 bytes, fresh at every seal
//	key check    32 bytes: HMAC-SHA256 under the check key of
//	             "keyline/v2/vault-check" ‖ every byte above
//	nonce        12 bytes
//	ciphertext   AES-256-GCM of the contents under the encryption key,
//	             with every byte above as associated data
//	checksum     32 bytes: SHA-256 of every byte above, unkeyed
//
// The keys: the vault key is 32 random bytes, drawn when the vault is
// made and again at every PIN change. The key-encryption key is
// HKDF-SHA256 with input Argon2id(PIN, salt) ‖ platform secret (when
// bound), the hkdf salt, and info "keyline/v2/vault-pin", 32 bytes. The
// encryption key and the check key are HKDF-SHA256 with input the vault
// key, the seal salt and info "keyline/v2/vault", 64 bytes. The contents
// are those of version 1.
//
// Why a random vault key wrapped twice, rather than one key derived from
// the PIN as in version 1: the biometric key must open the vault without
// the PIN, so what it unwraps cannot be derived from the PIN; and the PIN
// must open it without the biometric key, which the platform deletes
// whenever the user enrols a new finger or face. Two wraps of one key
// give both, and opening with the biometric key runs no Argon2id: one
// Unwrap, an HKDF, an HMAC and the AES-GCM of the contents, a few KiB of
// heap, which is what lets an iOS notification extension (about 24 MiB)
// answer a push. The PIN wrap is unchanged in strength: the same
// Argon2id, bound to the same platform secret; what protects the vault
// against someone holding only the blob is still the PIN wrap (and the
// biometric wrap, which only the phone's hardware unwraps).
//
// Why the header is authenticated twice: the PIN box binds the Argon2id
// parameters, the salts and the platform secret to the PIN (a lowered
// parameter is a wrong PIN, as in version 1); the key check and the
// AEAD of the contents, under keys only the vault key gives, cover every
// byte, flags and both wraps included, so that a blob whose PIN wrap is
// stripped, whose wraps are swapped, or whose biometric wrap is removed
// or added does not open by either path. The PIN box leaves the
// biometric flag out so that biometric unlock can be turned on and off
// without the PIN wrap being made again, which needs the PIN; a vault
// opened with the biometric key carries its PIN wrap byte for byte.
//
// Why a fresh vault key at every PIN change but not at every seal: the
// biometric key's Unwrap needs the user, and on Android a symmetric key's
// Wrap does too; a key kept between seals spares a prompt at every
// change, and a key changed with the PIN makes an old blob with the old
// PIN useless for what is sealed after the change.
//
// Blob format version 1 (read by [Open]; written for exports):
//
//	magic        "KLV" and the version byte 0x01
//	kind         'P' for a PIN vault, 'E' for an export
//	flags        bit 0: sealed with a KeyWrapper; the others are zero
//	argon2       t (4 bytes), m in KiB (4), p (1)
//	salt         16 bytes, the Argon2id salt
//	hkdf salt    32 bytes, fresh at every seal
//	if flag 0:   wrapped length (2 bytes, 1..4096), the wrapped platform
//	             secret, and its check (16 bytes: HMAC-SHA256 under the
//	             platform secret of "keyline/v1/vault-platform" ‖ hkdf
//	             salt, truncated)
//	key check    32 bytes: HMAC-SHA256 under the check key of every
//	             byte above
//	nonce        12 bytes
//	ciphertext   AES-256-GCM of the contents, with every byte above as
//	             associated data, so that no header field (the Argon2id
//	             parameters included) can change unnoticed
//	checksum     32 bytes: SHA-256 of every byte above, unkeyed, for
//	             storage damage
//
// The keys: HKDF-SHA256 with input Argon2id(PIN, salt) ‖ platform secret
// (when there is one), the hkdf salt, and info "keyline/v1/vault" (or
// "keyline/v1/vault-export" for an export) gives 64 bytes, the AES key
// and the check key. The contents: a 4-byte count and each credential as
// a field (4-byte length and bytes) in the encoding of
// enroll.EncodeCredential.
const (
	vaultMagic     = "KLV\x01"
	kindVault      = 'P'
	kindExport     = 'E'
	flagWrapped    = 1
	hkdfSaltLen    = 32
	wrapCheckLen   = 16
	maxWrappedLen  = 4096
	keyCheckLen    = 32
	gcmNonceLen    = 12
	gcmTagLen      = 16
	checksumLen    = sha256.Size
	fixedHeaderLen = len(vaultMagic) + 2 + 9 + argonSaltLen + hkdfSaltLen
	minBlobLen     = fixedHeaderLen + keyCheckLen + gcmNonceLen + gcmTagLen + checksumLen

	maxContentsLen = 4 + maxCredentials*(4+enroll.MaxCredentialSize)
	maxBlobLen     = fixedHeaderLen + 2 + maxWrappedLen + wrapCheckLen + keyCheckLen + gcmNonceLen +
		maxContentsLen + gcmTagLen + checksumLen
)

// blobParamsError refuses a blob's Argon2id parameters; it matches both
// ErrParams and ErrCorrupt.
type blobParamsError struct{ why string }

func (e *blobParamsError) Error() string   { return ErrParams.Error() + ": the vault's " + e.why }
func (e *blobParamsError) Unwrap() []error { return []error{ErrParams, ErrCorrupt} }

// vaultHeader is a parsed blob; its slices alias the blob.
type vaultHeader struct {
	kind      byte
	wrapped   []byte // nil when no KeyWrapper sealed it
	wrapCheck []byte
	params    Argon2Params
	salt      []byte
	hkdfSalt  []byte
	keyCheck  []byte
	signed    []byte // the bytes the key check covers
	nonce     []byte
	aad       []byte // everything before the ciphertext
	sealed    []byte // ciphertext and tag
}

// encodeContents writes the contents of a vault: a count and each
// credential's bytes as a field.
func encodeContents(creds []stored) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(creds)))
	for _, s := range creds {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s.enc)))
		b = append(b, s.enc...)
	}
	return b
}

// decodeContents decodes the contents of a vault: valid credentials, at
// most maxCredentials, no issuer and user twice.
func decodeContents(b []byte) ([]stored, error) {
	if len(b) < 4 {
		return nil, wrap(ErrCorrupt, "vault contents truncated")
	}
	n := binary.BigEndian.Uint32(b)
	if n > maxCredentials {
		return nil, wrap(ErrCorrupt, "vault holds %d credentials, more than %d", n, maxCredentials)
	}
	rest := b[4:]
	creds := make([]stored, 0, n)
	fail := func(err error) ([]stored, error) {
		zeroAll(creds)
		return nil, err
	}
	for range n {
		if len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
			return fail(wrap(ErrCorrupt, "vault contents truncated"))
		}
		l := binary.BigEndian.Uint32(rest)
		f := rest[4 : 4+l]
		rest = rest[4+l:]
		s, err := storedOf(f)
		if err != nil {
			return fail(err)
		}
		creds = append(creds, s)
	}
	if len(rest) != 0 {
		return fail(wrap(ErrCorrupt, "vault contents: trailing bytes"))
	}
	sortStored(creds)
	for i := 1; i < len(creds); i++ {
		if creds[i].entry.Issuer == creds[i-1].entry.Issuer && creds[i].entry.User == creds[i-1].entry.User {
			return fail(wrap(ErrCorrupt, "vault holds two credentials for one issuer and user"))
		}
	}
	return creds, nil
}

// vaultKeys derives the AES key and the check key.
func vaultKeys(kind byte, argonKey, platform enroll.Secret, hkdfSalt []byte) (enc, check enroll.Secret) {
	ikm := make([]byte, 0, len(argonKey)+len(platform))
	ikm = append(append(ikm, argonKey...), platform...)
	info := "keyline/v1/vault"
	if kind == kindExport {
		info = "keyline/v1/vault-export"
	}
	okm := make([]byte, 64)
	if _, err := io.ReadFull(hkdf.New(sha256.New, ikm, hkdfSalt, []byte(info)), okm); err != nil {
		panic("vault: hkdf: " + err.Error())
	}
	clear(ikm)
	return enroll.Secret(okm[:32:32]), enroll.Secret(okm[32:])
}

func keyCheckMAC(check enroll.Secret, signed []byte) []byte {
	m := hmac.New(sha256.New, check)
	m.Write([]byte("keyline/v1/vault-check"))
	m.Write(signed)
	return m.Sum(nil)
}

func platformCheck(platform enroll.Secret, hkdfSalt []byte) []byte {
	m := hmac.New(sha256.New, platform)
	m.Write([]byte("keyline/v1/vault-platform"))
	m.Write(hkdfSalt)
	return m.Sum(nil)[:wrapCheckLen]
}

func newGCM(key enroll.Secret) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("vault: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("vault: gcm: " + err.Error())
	}
	return aead
}

// sealBlob writes a blob of kind around plaintext, under argonKey (the
// Argon2id output for salt and params) and, if wrapper is set, a fresh
// platform secret.
func sealBlob(kind byte, argonKey enroll.Secret, salt []byte, params Argon2Params, wrapper KeyWrapper, plaintext []byte) ([]byte, error) {
	hkdfSalt := make([]byte, hkdfSaltLen)
	rand.Read(hkdfSalt)
	var flags byte
	var platform enroll.Secret
	var wrapped []byte
	if wrapper != nil {
		flags |= flagWrapped
		platform = make(enroll.Secret, 32)
		defer platform.Zero()
		rand.Read(platform)
		arg := enroll.Secret(bytes.Clone(platform))
		w, err := wrapper.Wrap(arg)
		arg.Zero()
		if err != nil {
			return nil, fmt.Errorf("%w: wrap: %w", ErrKeyWrapper, err)
		}
		if len(w) == 0 || len(w) > maxWrappedLen {
			return nil, wrap(ErrKeyWrapper, "wrap returned %d bytes, want 1 to %d", len(w), maxWrappedLen)
		}
		wrapped = w
	}
	b := make([]byte, 0, minBlobLen+2+len(wrapped)+wrapCheckLen+len(plaintext))
	b = append(b, vaultMagic...)
	b = append(b, kind, flags)
	b = binary.BigEndian.AppendUint32(b, params.Time)
	b = binary.BigEndian.AppendUint32(b, params.MemoryKiB)
	b = append(b, params.Threads)
	b = append(b, salt...)
	b = append(b, hkdfSalt...)
	if wrapper != nil {
		b = binary.BigEndian.AppendUint16(b, uint16(len(wrapped)))
		b = append(b, wrapped...)
		b = append(b, platformCheck(platform, hkdfSalt)...)
	}
	enc, check := vaultKeys(kind, argonKey, platform, hkdfSalt)
	defer enc.Zero()
	defer check.Zero()
	b = append(b, keyCheckMAC(check, b)...)
	nonce := make([]byte, gcmNonceLen)
	rand.Read(nonce)
	b = append(b, nonce...)
	// Seal into a buffer of its own: GCM's dst must not overlap its
	// associated data.
	b = append(b, newGCM(enc).Seal(nil, nonce, plaintext, b)...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// parseBlob checks a blob's structure and checksum. Nothing is derived
// and nothing allocated but the header.
func parseBlob(b []byte) (*vaultHeader, error) {
	if len(b) < len(vaultMagic) || string(b[:3]) != vaultMagic[:3] {
		return nil, wrap(ErrCorrupt, "not a keyline vault")
	}
	if b[3] != vaultMagic[3] {
		return nil, wrap(ErrCorrupt, "vault format version %d is not supported", b[3])
	}
	if len(b) > maxBlobLen {
		return nil, wrap(ErrCorrupt, "vault is longer than %d bytes", maxBlobLen)
	}
	if len(b) < minBlobLen {
		return nil, wrap(ErrCorrupt, "vault is truncated")
	}
	body, sum := b[:len(b)-checksumLen], b[len(b)-checksumLen:]
	if want := sha256.Sum256(body); subtle.ConstantTimeCompare(sum, want[:]) != 1 {
		return nil, wrap(ErrCorrupt, "vault checksum does not match: truncated or damaged")
	}
	h := &vaultHeader{kind: body[4]}
	flags := body[5]
	if flags&^flagWrapped != 0 {
		return nil, wrap(ErrCorrupt, "unknown vault flags")
	}
	h.params = Argon2Params{
		Time:      binary.BigEndian.Uint32(body[6:]),
		MemoryKiB: binary.BigEndian.Uint32(body[10:]),
		Threads:   body[14],
	}
	h.salt = body[15 : 15+argonSaltLen]
	h.hkdfSalt = body[15+argonSaltLen : fixedHeaderLen]
	rest := body[fixedHeaderLen:]
	if flags&flagWrapped != 0 {
		if len(rest) < 2 {
			return nil, wrap(ErrCorrupt, "vault is truncated")
		}
		n := int(binary.BigEndian.Uint16(rest))
		if n == 0 || n > maxWrappedLen || len(rest) < 2+n+wrapCheckLen {
			return nil, wrap(ErrCorrupt, "vault platform secret is malformed")
		}
		h.wrapped = rest[2 : 2+n]
		h.wrapCheck = rest[2+n : 2+n+wrapCheckLen]
		rest = rest[2+n+wrapCheckLen:]
	}
	if len(rest) < keyCheckLen+gcmNonceLen+gcmTagLen {
		return nil, wrap(ErrCorrupt, "vault is truncated")
	}
	h.signed = body[:len(body)-len(rest)]
	h.keyCheck = rest[:keyCheckLen]
	h.nonce = rest[keyCheckLen : keyCheckLen+gcmNonceLen]
	h.aad = body[:len(body)-len(rest)+keyCheckLen+gcmNonceLen]
	h.sealed = rest[keyCheckLen+gcmNonceLen:]
	return h, nil
}

// openBlob opens a blob of kind with password (a PIN, or an export's
// canonical passphrase), in the order Open documents. It returns the
// plaintext, the Argon2id key and the header.
func openBlob(blob []byte, kind byte, password string, cfg config) (pt []byte, argonKey enroll.Secret, h *vaultHeader, err error) {
	h, err = parseBlob(blob)
	if err != nil {
		return nil, nil, nil, err
	}
	if h.kind != kind {
		if h.kind == kindExport {
			return nil, nil, nil, wrap(ErrCorrupt, "this is a backup export: restore it with Import or Vault.Import")
		}
		if h.kind == kindVault {
			return nil, nil, nil, wrap(ErrCorrupt, "this is a PIN vault, not a backup export")
		}
		return nil, nil, nil, wrap(ErrCorrupt, "unknown vault kind")
	}
	if why := h.params.check(cfg.floor, cfg.ceiling); why != "" {
		return nil, nil, nil, &blobParamsError{why: why}
	}
	if kind == kindExport && h.wrapped != nil {
		return nil, nil, nil, wrap(ErrCorrupt, "a backup export cannot carry a platform key")
	}
	var platform enroll.Secret
	switch {
	case h.wrapped != nil && cfg.wrapper == nil:
		return nil, nil, nil, wrap(ErrKeyWrapper, "the vault was sealed with a platform key and none was given")
	case h.wrapped == nil && cfg.wrapper != nil:
		return nil, nil, nil, wrap(ErrKeyWrapper, "the vault was sealed without a platform key; to bind it to one, open it without and use Vault.SetKeyWrapper")
	case h.wrapped != nil:
		u, err := cfg.wrapper.Unwrap(bytes.Clone(h.wrapped))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: unwrap: %w", ErrKeyWrapper, err)
		}
		platform = enroll.Secret(u)
		defer platform.Zero()
		if len(platform) != 32 || !hmac.Equal(platformCheck(platform, h.hkdfSalt), h.wrapCheck) {
			return nil, nil, nil, wrap(ErrKeyWrapper, "the platform key did not recover this vault's secret (another key or another phone)")
		}
	}
	argonKey = deriveArgon2(password, h.salt, h.params)
	enc, check := vaultKeys(kind, argonKey, platform, h.hkdfSalt)
	defer enc.Zero()
	defer check.Zero()
	if !hmac.Equal(keyCheckMAC(check, h.signed), h.keyCheck) {
		argonKey.Zero()
		return nil, nil, nil, ErrWrongPIN
	}
	pt, err = newGCM(enc).Open(nil, h.nonce, h.sealed, h.aad)
	if err != nil {
		argonKey.Zero()
		return nil, nil, nil, wrap(ErrCorrupt, "vault ciphertext does not authenticate")
	}
	return pt, argonKey, h, nil
}
