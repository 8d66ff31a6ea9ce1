package authn

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"
)

// proofJSON is a Proof's JSON form, version 1.
type proofJSON struct {
	V         int    `json:"v"`
	User      string `json:"user"`
	Method    Method `json:"method"`
	At        string `json:"at"`         // RFC 3339, whole seconds, UTC
	ExpiresAt string `json:"expires_at"` // RFC 3339, whole seconds, UTC
	KeyID     string `json:"key_id"`
	MAC       []byte `json:"mac"` // standard base64
}

// MarshalJSON encodes the proof, MAC included, so that it can be kept in
// a JSON session (server-side, or in a cookie the server seals):
//
//	{"v":1,"user":"alice","method":"challenge","at":"2026-11-27T09:00:05Z",
//	 "expires_at":"2026-11-27T09:05:05Z","key_id":"k1","mac":"<base64>"}
//
// The expiry is readable without a key. The Service does not trust what
// comes back: every factor change, and [Service.CheckProof], checks the
// MAC over the user, method and time under the keyring, the expiry
// against its ProofTTL and the user, so a proof altered in any field, of
// another user, expired or made under keys the Service does not hold is
// refused. Treat the encoding as the bearer token it is.
func (p Proof) MarshalJSON() ([]byte, error) {
	return json.Marshal(proofJSON{V: 1, User: p.User, Method: p.Method, At: p.At.UTC().Format(time.RFC3339),
		ExpiresAt: p.ExpiresAt.UTC().Format(time.RFC3339), KeyID: p.KeyID, MAC: p.MAC})
}

// UnmarshalJSON decodes what [Proof.MarshalJSON] made. It checks the
// form only (version 1, no unknown field, a user, a method, whole-second
// times, a key ID, a 32-byte MAC), not the MAC: the Service does that
// where the proof is used. A refusal wraps [ErrInvalidInput] and leaves
// p unchanged.
func (p *Proof) UnmarshalJSON(b []byte) error {
	var j proofJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		return fmt.Errorf("authn: %w: a proof that is not its JSON form", ErrInvalidInput)
	}
	if d.More() {
		return fmt.Errorf("authn: %w: a proof followed by more JSON", ErrInvalidInput)
	}
	if j.V != 1 {
		return fmt.Errorf("authn: %w: a proof of version %d, want 1", ErrInvalidInput, j.V)
	}
	if j.User == "" || j.Method == "" || !keyringValidName(j.KeyID) || len(j.MAC) != sha256.Size {
		return fmt.Errorf("authn: %w: a proof without a user, a method, a valid key ID or a %d-byte MAC", ErrInvalidInput, sha256.Size)
	}
	at, err1 := time.Parse(time.RFC3339, j.At)
	exp, err2 := time.Parse(time.RFC3339, j.ExpiresAt)
	if err1 != nil || err2 != nil || at.Nanosecond() != 0 || exp.Nanosecond() != 0 {
		return fmt.Errorf("authn: %w: a proof whose times are not whole seconds in RFC 3339", ErrInvalidInput)
	}
	*p = Proof{User: j.User, Method: j.Method, At: at.UTC(), ExpiresAt: exp.UTC(), KeyID: j.KeyID, MAC: j.MAC}
	return nil
}

// CheckProof reports whether p is a step-up proof the Service would
// accept now for a factor change of user: nil if so, else
// [ErrProofRequired], whatever the reason (altered, another user's,
// expired, made under keys this Service does not hold). It spends
// nothing: a portal calls it to decide whether to ask for a second
// factor before the change, for a proof it kept in the user's session.
func (s *Service) CheckProof(user string, p *Proof) error {
	return s.checkProof(user, p, s.now())
}
