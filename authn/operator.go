package authn

import (
	"context"
	"fmt"
	"time"
)

// Operator is the help desk's side of the Service: the actions a person
// takes on a user's behalf, each audited under the operator's name
// (the event's Operator field, with Method MethodOperator). Get one with
// [Service.Operator] for the operator at hand; the zero Operator refuses
// every call (ErrInvalidInput). The operator's own authentication and
// authorisation are the service's to do before it calls
// Service.Operator: an Operator only names who acted.
type Operator struct {
	s    *Service
	name string
}

// Operator returns the help desk actions, audited as taken by the
// operator name (an operator ID or login name, never a secret).
func (s *Service) Operator(name string) Operator { return Operator{s: s, name: name} }

// service returns the Service an Operator acts on, or refuses the zero
// Operator.
func (o Operator) service() (*Service, error) {
	if o.s == nil {
		return nil, fmt.Errorf("authn: %w: an Operator is made by Service.Operator", ErrInvalidInput)
	}
	return o.s, nil
}

// LockState is a user's lockout state, for the help desk: the bucket
// every unknown client shares, and Clients, the known clients' buckets
// (see the package documentation, "Lockout").
type LockState struct {
	Locked     bool
	RetryAfter time.Duration
	Failures   int // consecutive failures counted now
	Level      int // locks since the last success
	Slow       int // failures in the current long-horizon window (Config.SlowHorizon)
	// Clients are the buckets of the user's known clients, by client ID
	// (an opaque hex string); LockState's own fields above are the shared
	// bucket's, and a Client's Clients is nil.
	Clients []ClientLockState
}

// ClientLockState is the lockout state of one known client's bucket.
type ClientLockState struct {
	Client     string // the client ID, opaque
	Locked     bool
	RetryAfter time.Duration
	Failures   int
	Level      int
	Slow       int
}

// lockState is one bucket's state at now.
func lockState(st UserState, now time.Time) LockState {
	ls := LockState{Failures: st.Failures, Level: st.Level, Slow: st.Slow}
	if now.Before(st.LockedUntil) {
		ls.Locked, ls.RetryAfter = true, st.LockedUntil.Sub(now)
	}
	return ls
}

// LockState reports the user's lockout state, every bucket.
func (o Operator) LockState(ctx context.Context, user string) (_ LockState, err error) {
	ctx, sp := o.s.trace(ctx, "Operator.LockState", MethodOperator, user)
	defer sp.done(&err)
	s, err := o.service()
	if err != nil {
		return LockState{}, err
	}
	if err := checkUser(user); err != nil {
		return LockState{}, err
	}
	now := s.now()
	all, err := s.hot.Lockout(ctx, user, now)
	if err != nil {
		return LockState{}, storeErr(err)
	}
	var ls LockState
	for _, b := range all {
		if b.Client == "" {
			ls0 := lockState(b.State, now)
			ls0.Clients = ls.Clients
			ls = ls0
			continue
		}
		c := lockState(b.State, now)
		ls.Clients = append(ls.Clients, ClientLockState{Client: b.Client, Locked: c.Locked, RetryAfter: c.RetryAfter,
			Failures: c.Failures, Level: c.Level, Slow: c.Slow})
	}
	return ls, nil
}

// Unlock clears every lockout bucket of the user, known clients' and the
// shared one: locks, failures, levels and long-horizon counts. An
// operator's decision, audited.
func (o Operator) Unlock(ctx context.Context, user string) (err error) {
	ctx, sp := o.s.trace(ctx, "Operator.Unlock", MethodOperator, user)
	defer sp.done(&err)
	s, err := o.service()
	if err != nil {
		return err
	}
	operator := o.name
	if err := checkUser(user); err != nil {
		return err
	}
	if err := s.hot.ClearLockout(ctx, user, s.now()); err != nil {
		return storeErr(err)
	}
	s.emit(ctx, Event{Name: EventOperatorUnlock, Method: MethodOperator, User: user, Operator: operator})
	return nil
}

// DeleteUser erases every record of the user: devices and their secrets,
// the removed devices kept for [Service.DeviceStatus] (so the user's old
// phones are then never told they were removed: their status call is
// 401, as an unknown device's), activations, challenges, TOTP key,
// recovery codes, lockout state. It is audited; the audit log itself is
// the service's to keep or purge.
func (o Operator) DeleteUser(ctx context.Context, user string) (err error) {
	ctx, sp := o.s.trace(ctx, "Operator.DeleteUser", MethodOperator, user)
	defer sp.done(&err)
	s, err := o.service()
	if err != nil {
		return err
	}
	operator := o.name
	if err := checkUser(user); err != nil {
		return err
	}
	now := s.now()
	s.devices.drop(user) // no sealed secret of the user's kept in memory
	if err := s.records.DeleteUser(ctx, user, now); err != nil {
		return storeErr(err)
	}
	s.forgetKeys(user)
	if err := s.hot.DeleteUser(ctx, user, now); err != nil {
		return storeErr(err)
	}
	s.emit(ctx, Event{Name: EventUserDeleted, Method: MethodOperator, User: user, Operator: operator})
	return nil
}

// Proof is the help desk's way to replace a lost phone for a user
// without a recovery code: a step-up proof made on an operator's say-so,
// after the service's own identity checks. It is audited with the
// operator and the reason, both required (ErrInvalidInput), and carries
// MethodOperator (no AMR), so a relying party can tell it from a factor.
func (o Operator) Proof(ctx context.Context, user, reason string) (_ *Proof, err error) {
	ctx, sp := o.s.trace(ctx, "Operator.Proof", MethodOperator, user)
	defer sp.done(&err)
	s, err := o.service()
	if err != nil {
		return nil, err
	}
	operator := o.name
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
