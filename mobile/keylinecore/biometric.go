package keylinecore

import "github.com/keyline/keyline/enroll/vault"

// Biometric unlock (package vault: OpenBiometric): besides the PIN, the
// vault opens with a second key of the app's, the biometric key, whose
// Unwrap the platform performs only after Face ID, Touch ID or a
// fingerprint, and which runs no Argon2id. It is a KeyStore of its own,
// apart from the one NewPhone takes: the platform invalidates it when
// biometrics change, and the PIN must still open the vault then (see
// vault.Vault.EnableBiometricUnlock for how each platform makes it: iOS
// .biometryCurrentSet, Android setInvalidatedByBiometricEnrollment).

// EnableBiometricUnlock lets the vault be opened with key, the
// biometric key, from now on; the PIN keeps opening it. The PIN must be
// right (CodeWrongPIN): it is also how the user re-enrols after the
// platform invalidated the old key. The vault is sealed again and
// stored.
func (p *Phone) EnableBiometricUnlock(pin string, key KeyStore) error {
	if key == nil {
		return newError(CodeInvalidInput, "a biometric key is required")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return errLocked
	}
	if err := p.v.EnableBiometricUnlock(pin, key); err != nil {
		return wrap(err)
	}
	return p.sealLocked(p.v)
}

// DisableBiometricUnlock leaves the PIN as the only way in. The vault is
// sealed again and stored; delete the biometric key from the platform's
// key store too (older copies of the blob still open with it).
func (p *Phone) DisableBiometricUnlock() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return errLocked
	}
	if err := p.v.DisableBiometricUnlock(); err != nil {
		return wrap(err)
	}
	return p.sealLocked(p.v)
}

// HasBiometricUnlock reports whether the stored vault opens with the
// biometric key, so that the app offers Face ID before asking for the
// PIN. Nothing is authenticated before UnlockWithBiometrics.
func (p *Phone) HasBiometricUnlock() (bool, error) {
	raw, err := p.storage.Load(VaultRecord)
	if err != nil {
		return false, wrapf(err, "loading the vault")
	}
	return vault.HasBiometricUnlock(raw), nil
}

// UnlockWithBiometrics opens the stored vault with the biometric key
// (one Unwrap, which shows the platform's prompt, and no Argon2id). A
// key that fails, was cancelled or was invalidated is CodeKeyStore:
// unlock with the PIN then, and EnableBiometricUnlock with a new key.
// The vault it opens does everything but what needs the PIN, which
// ChangePIN and EnableBiometricUnlock ask for anyway.
func (p *Phone) UnlockWithBiometrics(key KeyStore) error {
	if key == nil {
		return newError(CodeInvalidInput, "a biometric key is required")
	}
	return p.openStored(func(raw []byte) (*vault.Vault, error) {
		return vault.OpenBiometric(raw, key, p.vaultOptions())
	})
}
