package authn

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"time"

	"github.com/keyline/keyline/internal/crockford"
)

const (
	recoveryCodes = 10
	recoveryChars = 16 // 80 bits of Crockford base32
	purposeRecov  = "recovery-code"
)

// NewRecoveryCodes makes the user's recovery codes: 10 single-use codes
// of 80 random bits, written as 16 Crockford base32 characters in groups
// of four. Show them once; the store keeps only keyed MACs of them
// (HMAC-SHA256 under the keyring's recovery key, over the user and the
// code). A new set voids the old. It takes a step-up proof.
func (s *Service) NewRecoveryCodes(ctx context.Context, user string, proof *Proof) (_ []string, err error) {
	ctx, sp := s.trace(ctx, "NewRecoveryCodes", MethodRecovery, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return nil, err
	}
	if err := s.checkProof(user, proof, s.now()); err != nil {
		return nil, err
	}
	codes := make([]string, recoveryCodes)
	macs := make([][32]byte, recoveryCodes)
	for i := range codes {
		var raw [recoveryChars]byte
		for j := range raw {
			var b [1]byte
			rand.Read(b[:])
			raw[j] = crockford.Alphabet[b[0]&31] // 32 letters: 5 uniform bits of each byte
		}
		canon := string(raw[:])
		macs[i] = s.recoveryMAC(s.macs.primary[purposeRecov], user, canon)
		codes[i] = canon[0:4] + "-" + canon[4:8] + "-" + canon[8:12] + "-" + canon[12:16]
	}
	if err := s.records.ChangeUser(ctx, user, UserChange{RecoveryCodes: macs}, s.now()); err != nil {
		return nil, storeErr(err)
	}
	s.event(ctx, EventProofUsed, "", user, "", ReasonNewRecoveryCodes)
	s.event(ctx, EventRecoveryCodesIssued, MethodRecovery, user, "", "")
	return codes, nil
}

func (s *Service) recoveryMAC(key *macKey, user, canon string) [32]byte {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(user)))
	var out [32]byte
	key.sum(out[:0], []byte("keyline/v1/recovery"), l[:], []byte(user), []byte(canon))
	return out
}

// parseRecoveryCode reads a code as typed: case, spaces and dashes are
// ignored, O reads as 0, I and L as 1.
func parseRecoveryCode(typed string) (string, bool) {
	if len(typed) > 64 {
		return "", false
	}
	vals, bad := crockford.Values(typed)
	if bad > 0 || len(vals) != recoveryChars {
		return "", false
	}
	return crockford.Encode(vals), true
}

// VerifyRecoveryCode logs the user in with one of their recovery codes,
// once (a code that passes is used up), counted before it is checked
// under the same lockout as every factor. A use raises an alert event.
// Its Result carries a step-up Proof, with which a user who lost their
// phone starts an activation that replaces it (StartActivation with
// Replacing).
func (s *Service) VerifyRecoveryCode(ctx context.Context, user, code string, opts ...LoginOption) (_ Result, err error) {
	ctx, sp := s.trace(ctx, "VerifyRecoveryCode", MethodRecovery, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodRecovery, user, opts); err != nil {
		return Result{}, err
	}
	now := s.now()
	var candidates [][32]byte
	if canon, ok := parseRecoveryCode(code); ok {
		// One MAC per key in the ring: the set may predate a rotation.
		for _, byPurpose := range s.macs.byID {
			candidates = append(candidates, s.recoveryMAC(byPurpose[purposeRecov], user, canon))
		}
	}
	c, res, err := s.countCode(ctx, MethodRecovery, user, opts, now)
	if err != nil {
		return Result{}, err
	}
	taken, left, err := s.records.TakeRecoveryCode(ctx, user, candidates)
	if err != nil {
		return Result{}, storeErr(err)
	}
	if !taken {
		s.slowGuessing(ctx, MethodRecovery, user, res.Slow)
		s.observe(ctx, EventCheck, MethodRecovery, user, "")
		s.event(ctx, EventRecoveryFailed, MethodRecovery, user, "", ReasonMismatch)
		if res.RetryAfter > 0 {
			s.event(ctx, EventUserLocked, MethodRecovery, user, "", ReasonFailures)
			return Result{}, &LockedError{RetryAfter: res.RetryAfter, cause: ErrInvalidCode}
		}
		return Result{}, ErrInvalidCode
	}
	// The success resets the failures the count left, last.
	if err := s.hot.ResetUser(ctx, user, res.Client, now); err != nil {
		return Result{}, storeErr(err)
	}
	s.observe(ctx, EventCheck, MethodRecovery, user, "")
	s.emit(ctx, Event{Name: EventRecoveryCodeUsed, Method: MethodRecovery, User: user, Count: left})
	r := Result{User: user, Method: MethodRecovery, At: now}
	r.Proof = s.newProof(user, MethodRecovery, now)
	if err := s.knownClient(ctx, &r, c, now); err != nil {
		return Result{}, err
	}
	return r, nil
}

// countCode counts one attempt at a code the Service checks itself (a
// TOTP or recovery code) in the client's lockout bucket, before the code
// is checked: the lock refuses it (audited), or the attempt is counted as
// a failure that the caller's check, on success, resets.
func (s *Service) countCode(ctx context.Context, m Method, user string, opts []LoginOption, now time.Time) (loginClient, AttemptResult, error) {
	c, err := s.client(ctx, user, opts, now)
	if err != nil {
		return loginClient{}, AttemptResult{}, err
	}
	res, err := s.hot.Attempt(ctx, user, c.bucket, nil, s.lockPolicy(), now)
	if err != nil {
		return loginClient{}, AttemptResult{}, storeErr(err)
	}
	if res.Outcome == AttemptLocked {
		s.event(ctx, EventLoginRefused, m, user, "", ReasonLocked)
		return loginClient{}, AttemptResult{}, &LockedError{RetryAfter: res.RetryAfter}
	}
	return c, res, nil
}
