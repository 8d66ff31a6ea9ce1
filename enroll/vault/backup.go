package vault

import (
	"crypto/rand"
	"errors"
	"strings"

	"github.com/keyline/keyline/internal/crockford"
)

// Export returns a backup of the vault: a blob sealed under a passphrase
// the library draws from crypto/rand, 120 random bits and a check
// character in Crockford's base32, in five groups of five
// ("7K3M9-QXD2H-FAW4Z-NP8RT-C6V1E"). Show the passphrase once and never
// store it beside the blob: whoever has both has every credential.
//
// A backup is a clone of this phone's secrets, not a transfer: a vault
// restored from it ([Import], [Vault.Import]) answers as the very
// same devices, and the server cannot tell the copies apart. Restore it
// only to recover a lost or reset phone. To move to a new phone, activate
// the new phone (a new device) and remove the old device on the server.
//
// The export is not bound to the platform key (it must open on another
// phone); its strength is the passphrase's 120 bits. It is stretched with
// Argon2id at Options.Argon2 all the same.
func (v *Vault) Export() (blob []byte, passphrase string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return nil, "", err
	}
	canon := newPassphrase()
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	k := deriveArgon2(canon, salt, v.cfg.params)
	defer k.Zero()
	pt := encodeContents(v.creds)
	defer clear(pt)
	blob, err = sealBlob(kindExport, k, salt, v.cfg.params, nil, pt)
	if err != nil {
		return nil, "", err
	}
	return blob, groupPassphrase(canon), nil
}

// Import merges a backup made by [Vault.Export] into this vault and
// returns what it added. The passphrase is read as a person types it:
// case, spaces and dashes are ignored, O reads as 0, I and L as 1; a
// check character that does not match is [ErrWrongPassphrase], without
// any key derivation. The import is all or nothing: a credential for an
// issuer and user the vault already holds is [ErrAlreadyEnrolled] (naming
// the issuer and user), and nothing is added; it never overwrites.
// Errors are otherwise those of [Open], with [ErrWrongPassphrase]
// for a passphrase that does not open the export. Seal the vault
// afterwards. See [Vault.Export] on what a restored backup is.
func (v *Vault) Import(blob []byte, passphrase string) ([]Entry, error) {
	v.mu.Lock()
	cfg, err := v.cfg, v.live()
	v.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// The Argon2id of the export runs without the lock.
	creds, err := openExport(blob, passphrase, cfg)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		zeroAll(creds)
		return nil, err
	}
	if err := v.mergeable(creds); err != nil {
		zeroAll(creds)
		return nil, err
	}
	entries := make([]Entry, 0, len(creds))
	for _, s := range creds {
		v.insert(s)
		entries = append(entries, s.entry)
	}
	return entries, nil
}

// mergeable reports why creds cannot join the vault, or nil.
func (v *Vault) mergeable(creds []stored) error {
	for _, s := range creds {
		if v.find(s.entry.Issuer, s.entry.User) >= 0 {
			return wrap(ErrAlreadyEnrolled, "import: the vault already holds a credential for issuer %q and user %q", s.entry.Issuer, s.entry.User)
		}
	}
	if len(v.creds)+len(creds) > maxCredentials {
		return wrap(ErrInvalidInput, "import: the vault would hold more than %d credentials", maxCredentials)
	}
	return nil
}

// Import restores a backup made by [Vault.Export] into a new vault
// sealed under pin, as on a phone that was reset. The PIN must pass
// [CheckPIN] for every user ID and account name in the backup. Errors
// are those of [Vault.Import] and [New]; on error the vault is nil.
// See [Vault.Export] on what a restored backup is.
func Import(blob []byte, passphrase, pin string, opts Options) (*Vault, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := CheckPIN(pin, ""); err != nil {
		return nil, err
	}
	creds, err := openExport(blob, passphrase, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkPINForAll(pin, creds); err != nil {
		zeroAll(creds)
		return nil, err
	}
	v := &Vault{cfg: cfg, key: newVaultKey(), creds: creds}
	v.setPIN(pin)
	return v, nil
}

func openExport(blob []byte, passphrase string, cfg config) ([]stored, error) {
	canon, err := parsePassphrase(passphrase)
	if err != nil {
		return nil, err
	}
	if isV2(blob) {
		return nil, wrap(ErrCorrupt, "this is a PIN vault, not a backup export")
	}
	cfg.wrapper = nil
	pt, k, _, err := openBlob(blob, kindExport, canon, cfg)
	if err != nil {
		if errors.Is(err, ErrWrongPIN) {
			return nil, wrap(ErrWrongPassphrase, "the passphrase does not open this backup")
		}
		return nil, err
	}
	k.Zero()
	creds, err := decodeContents(pt)
	clear(pt)
	return creds, err
}

// Backup passphrases: 24 characters of Crockford's base32 (120 bits from
// crypto/rand) and a Luhn mod 32 check character, shown in five groups
// of five.
const (
	passphraseChars = 24
	passphraseGroup = 5
)

// newPassphrase returns a fresh passphrase in canonical form: 25
// characters, no dashes.
func newPassphrase() string {
	var raw [passphraseChars * 5 / 8]byte
	rand.Read(raw[:])
	vals := make([]byte, 0, passphraseChars+1)
	var acc uint32
	bits := 0
	for _, b := range raw {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			vals = append(vals, byte(acc>>bits)&31)
		}
	}
	clear(raw[:])
	vals = append(vals, crockford.Check(vals))
	out := crockford.Encode(vals)
	clear(vals)
	return out
}

func groupPassphrase(canon string) string {
	var b strings.Builder
	for i := 0; i < len(canon); i++ {
		if i > 0 && i%passphraseGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(canon[i])
	}
	return b.String()
}

// parsePassphrase reads a passphrase as typed and returns its canonical
// form, or [ErrWrongPassphrase] saying what is wrong (never what was
// typed).
func parsePassphrase(typed string) (string, error) {
	if len(typed) > 128 {
		return "", wrap(ErrWrongPassphrase, "too long")
	}
	vals, bad := crockford.Values(typed)
	if bad > 0 {
		return "", wrap(ErrWrongPassphrase, "it holds a character that is not in the passphrase alphabet")
	}
	if len(vals) != passphraseChars+1 {
		return "", wrap(ErrWrongPassphrase, "it has %d characters, want %d", len(vals), passphraseChars+1)
	}
	if crockford.Check(vals[:passphraseChars]) != vals[passphraseChars] {
		return "", wrap(ErrWrongPassphrase, "mistyped: the check character does not match")
	}
	return crockford.Encode(vals), nil
}
