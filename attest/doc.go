// Package attest verifies, on the server, the platform attestation a
// phone sends with its activation (PROTOCOL.md, "Attestation binding"):
// Apple App Attest attestation objects ([Apple]) and Android Key
// Attestation certificate chains ([Android]). A [Policy] chooses a
// verifier by the platform the phone names, and whether that platform
// must attest; its VerifyDevice is authn's Config.VerifyDevice:
//
//	apple, err := attest.NewApple(attest.AppleConfig{AppIDs: []string{"ABCDE12345.com.example.keyline"}})
//	android, err := attest.NewAndroid(attest.AndroidConfig{
//		Apps:       []attest.AndroidApp{{Package: "com.example.keyline", SignerDigests: [][]byte{digest}}},
//		StatusList: list, // attest.ParseStatusList of Google's status JSON
//	})
//	policy := &attest.Policy{Platforms: map[string]attest.Rule{
//		"ios":     {Verifier: apple, Required: true},
//		"android": {Verifier: android, Required: true},
//	}}
//	cfg.VerifyDevice = policy.VerifyDevice
//
// # What is checked
//
// Both verifiers require the attestation to carry the activation's
// attestation challenge, SHA-256("keyline/v1/attest" ‖ offer_fields ‖
// lp(install ID)), which authn recomputes from its offer and the
// request's install ID: an attestation made for one activation does not
// serve another, and the activation's transcript binds the attestation's
// hash.
//
// App Attest (Apple's "Validating apps that connect to your server"):
// the x5c chain leads to Apple's App Attest root at the verification
// time; the credential certificate's extension 1.2.840.113635.100.8.2
// holds SHA-256(authData ‖ clientDataHash) with the challenge as
// clientDataHash; the RP ID hash is the SHA-256 of an accepted app ID
// ("TEAMID.bundle.id"); the counter is 0; the AAGUID is the configured
// environment's (production by default); the credential ID is the
// SHA-256 of the certificate's public key.
//
// Android Key Attestation (Android's "Verify hardware-backed key pairs
// with key attestation"): the chain leads to one of Google's hardware
// attestation roots, every CA certificate within its validity period at
// the verification time (the attested key's own period is written from
// the phone's clock, and is not checked); no certificate of it is on the
// status list; the
// leaf's key description (extension 1.3.6.1.4.1.11129.2.1.17) has the
// challenge as attestationChallenge, a TEE or StrongBox security level
// for the attestation and for the key (StrongBox when required), a
// hardware-enforced root of trust saying Verified boot and a locked
// bootloader, a key generated in the keystore (not imported), and an
// attestation application ID naming an accepted package whose signing
// certificate digests are all accepted ones.
//
// Every refusal wraps one Err value of this package (errors.Is) naming
// the check, with the platform and field in its text; authn records that
// text in the audit event (EventActivationFailed, ReasonAttestation,
// Event.Note) and tells the phone only device_integrity.
//
// # Offline, and refreshing the inputs
//
// Nothing here calls Apple or Google. The trust inputs are the service's:
// AppleConfig.Roots and AndroidConfig.Roots (nil selects the roots
// shipped in roots/, see [AppleRoots] and [GoogleRoots]), and
// AndroidConfig.StatusList. Google's status list changes daily: fetch
// https://android.googleapis.com/attestation/status on a schedule, read
// it with [ParseStatusList] and hand it to [Android.SetStatusList]; a
// verifier without a list must be asked for (AndroidConfig.NoStatusList).
// Roots change in years: roots/README.md lists where each comes from;
// a service that refreshes them before a release of this package loads
// its PEM with [ParseRoots].
//
// # Security considerations
//
// An attestation tells the server that the activating app is the
// genuine one on a device whose keys live in secure hardware (and, for
// Android, that booted verified and locked) at the time of the
// activation. It says nothing about later: a device rooted after its
// activation keeps its credential. It does not bind keyline's own
// device key (an X25519 key the app holds) to the attested key: the
// binding is the challenge, which covers the offer and the install ID,
// and the transcript, which covers the attestation.
//
// The platform is the phone's claim. Requiring attestation for "ios"
// alone lets a client that names another platform skip it; a service
// that admits only attested devices lists every platform it admits,
// each Required, and leaves AllowOtherPlatforms off (the zero Policy
// admits none).
//
// Android: a leaked attestation key signs whatever a rooting tool asks
// until Google lists it; the status list's age bounds that exposure.
// Chains that put an app's own attestation key (setAttestKeyAlias)
// between the leaf and the device's are refused: that key's certificate
// is not a CA. Play Integrity tokens are not verified here (they need a
// call to Google); a service may put its own [Verifier] in a Rule.
//
// App Attest: the receipt is returned, unverified, for a service that
// asks Apple for the fraud metric later; assertions are not used by
// keyline, which signs with its own key.
package attest
