package enroll

import "crypto/sha256"

// labelAttest starts the attestation challenge's hash input.
const labelAttest = "keyline/v1/attest"

// AttestationChallenge is what a platform attestation sent with an
// activation must vouch for (PROTOCOL.md, "Attestation binding"):
//
//	SHA-256("keyline/v1/attest" ‖ offer_fields ‖ lp(install ID))
//
// The phone passes it as App Attest's clientDataHash, as the Android
// Key Attestation challenge of the key it attests, or, base64url, as
// the Play Integrity nonce, before it calls [Activate] (which binds the
// attestation's hash into the transcript). The server's attestation
// check recomputes it from the offer and the request's install ID and
// requires the attestation to carry it: an attestation made for one
// activation does not serve another, and the offer is single-use.
func (o Offer) AttestationChallenge(installID string) []byte {
	b := o.encode([]byte(labelAttest))
	b = appendField(b, []byte(installID))
	sum := sha256.Sum256(b)
	return sum[:]
}
