package vault

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"github.com/keyline/keyline/enroll"
)

// ErrPINRequired reports a change that only the PIN may make, asked of a
// vault opened with the biometric key ([OpenBiometric]) whose PIN has not
// been given since: binding it to another platform key
// ([Vault.SetKeyWrapper]) needs a new PIN wrap, and that needs the PIN.
var ErrPINRequired = errors.New("vault: this change needs the PIN")

// OpenBiometric opens a blob with the biometric key: a [KeyWrapper] whose
// Unwrap the phone performs only after the user's presence is
// confirmed (Face ID, Touch ID, a fingerprint), given to
// [Vault.EnableBiometricUnlock]. It runs no Argon2id and does not call
// opts.KeyWrapper: one Unwrap, an HKDF and the AES-GCM of the contents,
// so that it fits where the PIN's 64 MiB do not (an iOS notification
// extension has about 24 MiB in all; see [OpenCredential] for that case).
//
// opts are those the vault is opened with otherwise: a blob whose PIN
// wrap is bound to a KeyWrapper opens only with one in opts, and one that
// is not, only without (as [Open]); the Argon2id parameters of its PIN
// wrap must lie within the bounds, because the vault writes them into its
// next seal.
//
// It refuses, changing nothing and returning a nil vault:
//
//   - bytes that are not a vault of format version 2, are truncated or
//     fail the checksum: [ErrCorrupt];
//   - Argon2id parameters out of bounds: [ErrParams] (and [ErrCorrupt]);
//   - a blob without biometric unlock, a biometric key that fails (the
//     user cancelled, or the key was invalidated by a new enrolment of
//     biometrics: the platform's error is wrapped) or that does not
//     recover this vault's key: [ErrKeyWrapper]; open with the PIN then;
//   - contents that do not authenticate: [ErrCorrupt].
//
// The vault it returns does everything but the changes that need the
// PIN: [Vault.ChangePIN] and [Vault.EnableBiometricUnlock] take it as an
// argument; [Vault.SetKeyWrapper] is [ErrPINRequired]. Its seals carry
// the blob's PIN wrap unchanged, Argon2id parameters included: new
// parameters in Options.Argon2 are taken at the next [Open] with the PIN.
func OpenBiometric(blob []byte, key KeyWrapper, opts Options) (*Vault, error) {
	cfg, h, vk, pt, err := openBiometric(blob, key, opts)
	if err != nil {
		return nil, err
	}
	creds, err := decodeContents(pt)
	clear(pt)
	if err != nil {
		vk.Zero()
		return nil, err
	}
	return &Vault{
		cfg:     cfg,
		key:     vk,
		salt:    bytes.Clone(h.slot.salt),
		params:  h.slot.params,
		carried: pinWrap{bound: h.pin.bound, slot: bytes.Clone(h.pin.slot)},
		bio:     key,
		bioWrap: bytes.Clone(h.bio),
		creds:   creds,
	}, nil
}

// OpenCredential opens a blob with the biometric key, as [OpenBiometric],
// and returns the credential for issuer and user ([ErrNoCredential] if
// the vault holds none), and nothing else: the other credentials are
// passed over undecoded, the decrypted contents are wiped before it
// returns, and no vault is returned, so nothing can be sealed from it. It is the call of an iOS notification service
// or content extension answering a push ([enroll.Credential.OpenPrompt],
// [enroll.Credential.AnswerPush]): such a process has about 24 MiB, and
// it needs one account's keys for one answer, not the vault. Zero the
// credential when done.
//
// Its heap is the blob, the decrypted contents and the one credential
// decoded: all it allocates, garbage included, is about 13 KiB for a
// vault of two credentials and 45 KiB for a full one of 100
// (BenchmarkOpenCredential, TestOpenCredentialMemory), against 64 MiB
// for the Argon2id of the PIN at the default parameters. The contents
// are as long as the credentials: each carries its device's attestation
// (a few KiB from App Attest or Android Key Attestation, at most 64 KiB),
// and the heap holds them twice, sealed and open.
func OpenCredential(blob []byte, key KeyWrapper, issuer, user string, opts Options) (*enroll.Credential, error) {
	_, _, vk, pt, err := openBiometric(blob, key, opts)
	if err != nil {
		return nil, err
	}
	vk.Zero()
	defer clear(pt)
	return findCredential(pt, issuer, user)
}

// findCredential decodes the credential for issuer and user from a
// vault's contents, and no other: the others are passed over by their
// issuer and user (peekAccount), so the heap never holds more than one
// decoded credential. The contents are authenticated: they are what the
// vault sealed, every credential validated when it was added.
func findCredential(pt []byte, issuer, user string) (*enroll.Credential, error) {
	if len(pt) < 4 {
		return nil, wrap(ErrCorrupt, "vault contents truncated")
	}
	n := binary.BigEndian.Uint32(pt)
	if n > maxCredentials {
		return nil, wrap(ErrCorrupt, "vault holds %d credentials, more than %d", n, maxCredentials)
	}
	rest := pt[4:]
	for range n {
		if len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
			return nil, wrap(ErrCorrupt, "vault contents truncated")
		}
		l := binary.BigEndian.Uint32(rest)
		f := rest[4 : 4+l]
		rest = rest[4+l:]
		if len(f) > enroll.MaxCredentialSize {
			return nil, wrap(ErrCorrupt, "credential of %d bytes, more than %d", len(f), enroll.MaxCredentialSize)
		}
		if iss, usr, ok := peekAccount(f); ok && (string(iss) != issuer || string(usr) != user) {
			continue
		}
		c, err := enroll.DecodeCredential(f)
		if err != nil {
			return nil, err
		}
		if c.Issuer() == issuer && c.User() == user {
			return c, nil
		}
		c.Zero()
	}
	return nil, ErrNoCredential
}

// peekAccount reads the issuer and the user of an encoded credential
// without decoding it (no key derivation, no allocation): the version
// byte 1, then the session ID, issuer and user fields of
// [enroll.EncodeCredential]'s format. It is findCredential's fast path
// past the other accounts; when it does not recognise the bytes (ok is
// false), findCredential decodes them in full, and the credential it
// returns is always one it decoded and compared. TestPeekAccount pins it
// to the encoder.
func peekAccount(enc []byte) (issuer, user []byte, ok bool) {
	if len(enc) < 1 || enc[0] != 1 {
		return nil, nil, false
	}
	rest := enc[1:]
	var f [3][]byte
	for i := range f {
		if len(rest) < 4 || uint64(binary.BigEndian.Uint32(rest)) > uint64(len(rest)-4) {
			return nil, nil, false
		}
		l := binary.BigEndian.Uint32(rest)
		f[i], rest = rest[4:4+l], rest[4+l:]
	}
	return f[1], f[2], true
}

// openBiometric is the common part of OpenBiometric and OpenCredential:
// it returns the resolved options, the header, the vault key and the
// plaintext.
func openBiometric(blob []byte, key KeyWrapper, opts Options) (config, *headerV2, enroll.Secret, []byte, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return config{}, nil, nil, nil, err
	}
	if key == nil {
		return config{}, nil, nil, nil, wrap(ErrInvalidInput, "no biometric key")
	}
	if !isV2(blob) {
		if len(blob) >= len(vaultMagic) && string(blob[:len(vaultMagic)]) == vaultMagic {
			return config{}, nil, nil, nil, wrap(ErrKeyWrapper, "the vault has no biometric unlock (format version 1): open it with the PIN")
		}
		_, err := parseV2(blob)
		return config{}, nil, nil, nil, err
	}
	h, err := parseV2(blob)
	if err != nil {
		return config{}, nil, nil, nil, err
	}
	if err := checkV2(h, cfg); err != nil {
		return config{}, nil, nil, nil, err
	}
	if h.bio == nil {
		return config{}, nil, nil, nil, wrap(ErrKeyWrapper, "the vault has no biometric unlock: open it with the PIN")
	}
	u, err := unwrapPlatform(key, h.bio)
	if err != nil {
		return config{}, nil, nil, nil, err
	}
	// A copy of the vault's own: the platform's slice is wiped now.
	vk := enroll.Secret(bytes.Clone(u))
	u.Zero()
	if len(vk) != vaultKeyLen {
		vk.Zero()
		return config{}, nil, nil, nil, wrap(ErrKeyWrapper, "the biometric key did not recover this vault's key")
	}
	pt, keyOK, err := openContentsV2(h, vk)
	if !keyOK && err == nil {
		err = wrap(ErrKeyWrapper, "the biometric key did not recover this vault's key (another key or another vault)")
	}
	if err != nil {
		vk.Zero()
		return config{}, nil, nil, nil, err
	}
	return cfg, h, vk, pt, nil
}

// openV2 is Open for a version-2 blob.
func openV2(blob []byte, pin string, cfg config) (*Vault, error) {
	h, err := parseV2(blob)
	if err != nil {
		return nil, err
	}
	pt, vk, argonKey, err := openV2WithPIN(h, pin, cfg)
	if err != nil {
		return nil, err
	}
	creds, err := decodeContents(pt)
	clear(pt)
	if err != nil {
		vk.Zero()
		argonKey.Zero()
		return nil, err
	}
	v := &Vault{
		cfg:     cfg,
		key:     vk,
		pinKey:  argonKey,
		salt:    bytes.Clone(h.slot.salt),
		params:  h.slot.params,
		bioWrap: bytes.Clone(h.bio),
		creds:   creds,
	}
	if h.slot.params != cfg.params {
		v.setPIN(pin)
	}
	return v, nil
}

// verifyPIN checks pin against the vault: against the PIN key when the
// vault holds it; otherwise by opening the carried PIN wrap, after which
// the vault holds the PIN key. Called with the lock held.
func (v *Vault) verifyPIN(pin string) error {
	if v.pinKey != nil {
		k := deriveArgon2(pin, v.salt, v.params)
		ok := subtle.ConstantTimeCompare(k, v.pinKey) == 1
		k.Zero()
		if !ok {
			return ErrWrongPIN
		}
		return nil
	}
	s, _, err := parsePINSlot(v.carried.bound, v.carried.slot)
	if err != nil {
		return err
	}
	platform, err := recoverPlatform(s, v.carried.bound, v.cfg.wrapper)
	if err != nil {
		return err
	}
	defer platform.Zero()
	argonKey := deriveArgon2(pin, s.salt, s.params)
	vk, err := openPINBox(s, v.carried.bound, argonKey, platform)
	if err != nil {
		argonKey.Zero()
		return err
	}
	ok := subtle.ConstantTimeCompare(vk, v.key) == 1
	vk.Zero()
	if !ok {
		argonKey.Zero()
		return wrap(ErrCorrupt, "the vault's PIN wrap holds another key")
	}
	v.pinKey = argonKey
	return nil
}

// rekey sets a new PIN and draws a new vault key, wrapping it with the
// biometric key if the vault has one; biometric unlock that the vault
// holds no key object for (it was opened with the PIN) is turned off. On
// error nothing changes. Called with the lock held.
func (v *Vault) rekey(pin string) error {
	vk := newVaultKey()
	var bioWrap []byte
	if v.bioWrap != nil && v.bio != nil {
		w, err := wrapPlatform(v.bio, vk)
		if err != nil {
			vk.Zero()
			return err
		}
		bioWrap = w
	}
	v.setPIN(pin)
	v.key.Zero()
	v.key, v.bioWrap = vk, bioWrap
	if bioWrap == nil {
		v.bio = nil
	}
	return nil
}

// EnableBiometricUnlock lets the vault be opened with key, the biometric
// key ([OpenBiometric], [OpenCredential]), from the next [Vault.Seal] on;
// the PIN keeps opening it. The PIN must be right ([ErrWrongPIN]): adding
// a way in takes the strongest one, and it is how the user re-enrols
// after the platform invalidated the old key (a new finger or face
// enrolled): open with the PIN, make a new key, enable it. Enabling
// again replaces the previous key. key.Wrap is called once, now, with
// the vault key; an error is [ErrKeyWrapper]. On error nothing changes.
//
// key is a [KeyWrapper] whose Unwrap needs the user's presence and whose
// Wrap does not, so that enabling and a PIN change raise no prompt:
//
//   - iOS: a P-256 key in the Secure Enclave with access control
//     [.privateKeyUsage, .biometryCurrentSet] (invalidated when
//     biometrics change); Wrap is SecKeyCreateEncryptedData with its
//     public key, Unwrap SecKeyCreateDecryptedData (the Face ID prompt).
//   - Android: an RSA key pair in the Android Keystore, purpose
//     DECRYPT, OAEP padding, with setUserAuthenticationRequired(true)
//     and setInvalidatedByBiometricEnrollment(true); Wrap encrypts with
//     the public key ("RSA/ECB/OAEPWithSHA-256AndMGF1Padding", no
//     prompt: public-key operations are not gated), Unwrap decrypts
//     through a BiometricPrompt CryptoObject (BIOMETRIC_STRONG). The
//     Keystore does not encrypt with EC keys, and an AES key that needs
//     authentication would prompt at every Wrap too.
//
// Keep it apart from Options.KeyWrapper: the biometric key is lost
// whenever biometrics change, and the PIN must still open the vault
// then.
func (v *Vault) EnableBiometricUnlock(pin string, key KeyWrapper) error {
	if key == nil {
		return wrap(ErrInvalidInput, "no biometric key")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return err
	}
	if err := v.verifyPIN(pin); err != nil {
		return err
	}
	w, err := wrapPlatform(key, v.key)
	if err != nil {
		return err
	}
	v.bio, v.bioWrap = key, w
	return nil
}

// DisableBiometricUnlock turns biometric unlock off from the next
// [Vault.Seal] on; only the PIN opens the new blob. It needs no PIN:
// it takes a way in away. Blobs sealed before still open with the
// biometric key: delete that key from the platform's key store too.
func (v *Vault) DisableBiometricUnlock() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return err
	}
	v.bio, v.bioWrap = nil, nil
	return nil
}

// BiometricUnlock reports whether the next [Vault.Seal] writes a blob
// that opens with a biometric key.
func (v *Vault) BiometricUnlock() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.bioWrap != nil
}

// HasBiometricUnlock reports whether blob is a vault that says it opens
// with a biometric key, so that an app knows whether to offer Face ID
// before asking for the PIN. It checks the structure and the checksum
// only: nothing is authenticated before [OpenBiometric].
func HasBiometricUnlock(blob []byte) bool {
	if !isV2(blob) {
		return false
	}
	h, err := parseV2(blob)
	return err == nil && h.bio != nil
}
