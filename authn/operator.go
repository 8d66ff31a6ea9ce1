package authn

import (
	"context"
	"fmt"
	"time"
)

// LockState is a user's lockout state, for the help desk.
type LockState struct {
	Locked     bool
	RetryAfter time.Duration
	Failures   int // consecutive failures counted now
	Level      int // locks since the last success
}

// LockState reports the user's lockout state.
func (s *Service) LockState(ctx context.Context, user string) (LockState, error) {
	now := s.now()
	st, err := s.store.User(ctx, user, now)
	if err != nil {
		return LockState{}, storeErr(err)
	}
	ls := LockState{Failures: st.Failures, Level: st.Level}
	if now.Before(st.LockedUntil) {
		ls.Locked, ls.RetryAfter = true, st.LockedUntil.Sub(now)
	}
	return ls, nil
}

// Unlock clears the user's lock, failures and level: an operator's
// decision, audited.
func (s *Service) Unlock(ctx context.Context, user, operator string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if err := s.store.ResetUser(ctx, user, s.now()); err != nil {
		return storeErr(err)
	}
	s.emit(ctx, Event{Name: EventOperatorUnlock, Method: MethodOperator, User: user, Operator: operator})
	return nil
}

// DeleteUser erases every record of the user: devices and their secrets,
// activations, challenges, TOTP key, recovery codes, lockout state. It is
// audited; the audit log itself is the service's to keep or purge.
func (s *Service) DeleteUser(ctx context.Context, user, operator string) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, user, s.now()); err != nil {
		return storeErr(err)
	}
	s.emit(ctx, Event{Name: EventUserDeleted, Method: MethodOperator, User: user, Operator: operator})
	return nil
}

// OperatorProof is the help desk's way to replace a lost phone for a user
// without a recovery code: a step-up proof made on an operator's say-so,
// after the service's own identity checks. It is audited with the
// operator and the reason, and carries MethodOperator (no AMR), so a
// relying party can tell it from a factor.
func (s *Service) OperatorProof(ctx context.Context, user, operator, reason string) (*Proof, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	if operator == "" || reason == "" {
		return nil, fmt.Errorf("authn: %w: operator and reason are required", ErrInvalidInput)
	}
	p := s.newProof(user, MethodOperator, s.now())
	s.emit(ctx, Event{Name: EventOperatorProof, Method: MethodOperator, User: user, Operator: operator, Note: reason})
	return p, nil
}
