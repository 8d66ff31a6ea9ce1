package keylinecore

import "time"

// KeyStore is the app's key in the phone's secure hardware that never
// leaves it (Android Keystore, iOS Secure Enclave): the vault hands it a
// fresh random 32-byte secret at every seal and keeps only what Wrap
// returns, so that a vault blob copied off the phone does not open. It is
// vault.KeyWrapper's shape; see there for how each platform implements
// it. Unwrap must fail for bytes its key did not wrap.
type KeyStore interface {
	// Wrap encrypts a 32-byte secret under the hardware key; the result
	// is 1 to 4096 bytes.
	Wrap(secret []byte) ([]byte, error)
	// Unwrap decrypts what Wrap returned.
	Unwrap(wrapped []byte) ([]byte, error)
}

// BiometricGate asks the user to prove presence (Face ID, a
// fingerprint, the device's own passcode) before the core acts for them:
// approving a push, signing a transaction, exporting a backup. Android:
// BiometricPrompt; iOS: LAContext.evaluatePolicy. It runs on the caller's
// thread and may block while the system sheet is up.
//
// Unlocking the vault itself by biometrics is a key, not this gate: the
// biometric KeyStore of Phone.EnableBiometricUnlock and
// Phone.UnlockWithBiometrics, whose Unwrap the platform performs only
// once the user is present. The gate stands before each approval
// whichever way the vault was opened.
type BiometricGate interface {
	// Authenticate shows reason ("Approve the login to Example Bank")
	// and returns nil once the user proved presence, an error when they
	// cancelled or failed.
	Authenticate(reason string) error
}

// SecureStorage is where the core keeps its two records, under the names
// VaultRecord and ProfileRecord: app-private storage that is neither
// backed up nor synced (iOS Keychain ThisDeviceOnly or a file excluded
// from backup; Android no-backup files). Neither record is readable
// without the vault's PIN and key store where it matters: the vault blob
// is sealed; the profile holds no secret (server URLs, clock offsets, the
// install ID, the push token).
type SecureStorage interface {
	// Load returns what Store stored under name, or an empty result
	// (nil or zero bytes) and no error when there is none.
	Load(name string) ([]byte, error)
	// Store replaces the record under name, atomically: a reader sees
	// the old bytes or the new, never a mix.
	Store(name string, data []byte) error
	// Delete removes the record under name; deleting one that does not
	// exist is not an error.
	Delete(name string) error
}

// Clock is the phone's clock. The core corrects it per server by the
// offset it learns (see Phone.ClockOffsetSeconds); tests make it fake.
type Clock interface {
	// NowUnixMilli returns the phone's time in Unix milliseconds.
	NowUnixMilli() int64
}

// The names of the core's records in SecureStorage.
const (
	VaultRecord   = "keyline.vault"
	ProfileRecord = "keyline.profile"
)

// systemClock is time.Now, for a Phone made without a Clock.
type systemClock struct{}

func (systemClock) NowUnixMilli() int64 { return time.Now().UnixMilli() }

// nowOf reads a Clock as a time.Time.
func nowOf(c Clock) func() time.Time {
	return func() time.Time { return time.UnixMilli(c.NowUnixMilli()) }
}
