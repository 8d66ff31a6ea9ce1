package attest

import "errors"

// Why an attestation is refused. Every refusal wraps exactly one of these
// (errors.Is), with the platform and the field concerned in its text; the
// text quotes no input but small numbers and, from a Policy, the
// platform's name (clipped to 16 bytes), and is what authn records in the
// audit event's Note.
var (
	// ErrMissing: the platform's rule requires an attestation and the
	// phone sent none.
	ErrMissing = errors.New("attest: attestation required, none sent")
	// ErrPlatform: the phone claims a platform the Policy has no rule for.
	ErrPlatform = errors.New("attest: platform not admitted")
	// ErrFormat: the attestation does not parse (CBOR, authenticator
	// data, length-prefixed chain, certificate, key description).
	ErrFormat = errors.New("attest: attestation not well formed")
	// ErrChain: the certificates do not chain to a trusted root at the
	// verification time (a signature, a validity period, an unknown root).
	ErrChain = errors.New("attest: certificate chain does not lead to a trusted root")
	// ErrRevoked: a certificate of the chain is on the revocation list.
	ErrRevoked = errors.New("attest: certificate of the chain revoked")
	// ErrChallenge: the attestation was made for another challenge (App
	// Attest's nonce, Android's attestationChallenge): another
	// activation's, or a replay.
	ErrChallenge = errors.New("attest: attestation made for another challenge")
	// ErrApp: the attestation is another app's: App Attest's RP ID hash
	// is not an accepted app ID's, or Android's package name is not an
	// accepted one.
	ErrApp = errors.New("attest: attestation made by another app")
	// ErrSigner: Android's attested app is signed by a certificate whose
	// digest is not accepted.
	ErrSigner = errors.New("attest: app signed by another key")
	// ErrKey: the attested key is not the one described: App Attest's
	// credential ID is not the SHA-256 of the certificate's key, or
	// Android's key was imported rather than made in the keystore.
	ErrKey = errors.New("attest: attested key does not match")
	// ErrCounter: App Attest's counter is not 0, as it is for a new key.
	ErrCounter = errors.New("attest: counter of a new key not zero")
	// ErrEnvironment: App Attest's AAGUID is not the accepted
	// environment's (production, or development when configured).
	ErrEnvironment = errors.New("attest: App Attest environment not accepted")
	// ErrSecurityLevel: Android's key, or its attestation, is not kept
	// in the required secure hardware (TEE, or StrongBox when required).
	ErrSecurityLevel = errors.New("attest: key not kept in the required secure hardware")
	// ErrBootState: Android's root of trust says the verified boot state
	// is not Verified or the bootloader is unlocked.
	ErrBootState = errors.New("attest: device not booted verified and locked")
)
