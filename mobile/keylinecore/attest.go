package keylinecore

import (
	"github.com/keyline/keyline/enroll"
)

// CodeAttestation: the app's Attester failed; nothing was sent.
const CodeAttestation = "attestation"

// Attester makes the platform's attestation of the app for an
// activation (PROTOCOL.md §2, "Attestation binding"), which a server
// that requires one verifies: iOS App Attest (attestKey with challenge as
// the clientDataHash), Android Key Attestation (a key generated with
// setAttestationChallenge(challenge); the certificate chain, DER
// certificates concatenated) or a Play Integrity token requested with
// the challenge, base64url, as its nonce. The encoding is the server's
// verifier's to define.
type Attester interface {
	// Attest returns an attestation vouching for challenge (32 bytes,
	// bound to the offer and the install ID), at most 64 KiB.
	Attest(challenge []byte) ([]byte, error)
}

// SetAttester makes every later activation carry an attestation from a
// (nil: none, the default). An attestation that fails stops the
// activation before anything is sent (CodeAttestation).
func (p *Phone) SetAttester(a Attester) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attester = a
}

// integrity reads Config.Integrity.
func integrity(s string) (enroll.Integrity, error) {
	var i enroll.Integrity
	if s == "" {
		return enroll.Unknown, nil
	}
	if err := i.UnmarshalText([]byte(s)); err != nil {
		return 0, newError(CodeInvalidInput, `Config.Integrity is not "intact", "rooted", "unknown" or ""`)
	}
	return i, nil
}
