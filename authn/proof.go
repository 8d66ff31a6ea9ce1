package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"log/slog"
	"time"
)

// Proof is a step-up proof: evidence that user passed a second factor at
// At. It is stateless — a MAC under the keyring's proof key over the
// user, the method and the time — and accepted for ProofTTL by every
// factor change of the same user. Treat it like a session token: it may
// be kept in the user's session (it encodes to JSON, see
// [Proof.MarshalJSON]), never shown to another user.
type Proof struct {
	User      string
	Method    Method
	At        time.Time
	ExpiresAt time.Time // At + the Service's ProofTTL: from then on it is refused
	KeyID     string
	MAC       []byte
}

// proofMAC is HMAC-SHA256 under the proof key of "keyline/v1/proof" ‖
// lp(user) ‖ lp(method) ‖ u64(unix seconds).
func proofMAC(key *macKey, user string, m Method, at time.Time) []byte {
	var ul, ml [4]byte
	var t [8]byte
	binary.BigEndian.PutUint32(ul[:], uint32(len(user)))
	binary.BigEndian.PutUint32(ml[:], uint32(len(m)))
	binary.BigEndian.PutUint64(t[:], uint64(at.Unix()))
	return key.sum(make([]byte, 0, sha256.Size), []byte("keyline/v1/proof"), ul[:], []byte(user), ml[:], []byte(m), t[:])
}

func (s *Service) newProof(user string, m Method, at time.Time) *Proof {
	at = at.Truncate(time.Second)
	key := s.macs.primary[purposeProof]
	return &Proof{User: user, Method: m, At: at, ExpiresAt: at.Add(s.cfg.ProofTTL), KeyID: key.id, MAC: proofMAC(key, user, m, at)}
}

// checkProof accepts a proof of user made within ProofTTL (and not in the
// future, beyond a second of clock skew), whose ExpiresAt is the one the
// Service gave it.
func (s *Service) checkProof(user string, p *Proof, now time.Time) error {
	if p == nil || p.User != user || p.At.After(now.Add(time.Second)) || now.Sub(p.At) > s.cfg.ProofTTL ||
		!p.ExpiresAt.Equal(p.At.Add(s.cfg.ProofTTL)) {
		return ErrProofRequired
	}
	key, ok := s.macs.byID[p.KeyID][purposeProof]
	if !ok {
		return ErrProofRequired
	}
	if !hmac.Equal(p.MAC, proofMAC(key, user, p.Method, p.At)) {
		return ErrProofRequired
	}
	return nil
}

// String describes the proof without its MAC: a proof is a bearer token
// for ProofTTL, so it is never printed whole.
func (p Proof) String() string {
	return fmt.Sprintf("authn.Proof{User: %q, Method: %s, At: %s, ExpiresAt: %s, KeyID: %q, MAC: [redacted]}",
		p.User, p.Method, p.At.UTC().Format(time.RFC3339), p.ExpiresAt.UTC().Format(time.RFC3339), p.KeyID)
}

// GoString is String.
func (p Proof) GoString() string { return p.String() }

// Format prints String for every verb.
func (p Proof) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue describes the proof to slog without its MAC.
func (p Proof) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", p.User), slog.String("method", string(p.Method)),
		slog.Time("at", p.At), slog.Time("expires_at", p.ExpiresAt), slog.String("key_id", p.KeyID))
}
