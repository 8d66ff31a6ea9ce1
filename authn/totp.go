package authn

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll/totpkey"
)

const kindTOTP = "totp"

// TOTPOptions tune StartTOTP.
type TOTPOptions struct {
	// AccountName labels the key in the authenticator app. Required: the
	// opaque user ID is never shown there.
	AccountName string
	// Key sets the algorithm, digits, period and secret size; the zero
	// value is what authenticator apps accept (SHA1, 6 digits, 30 s).
	Key totpkey.Options
}

// ImportOptions tune ImportTOTP.
type ImportOptions struct {
	// LastStep is the last time step the old system accepted: codes for
	// it and before are refused, as they would have been there.
	LastStep uint64
	// Proof is a step-up proof of the user, required when the user
	// already has a factor that logs them in ([Factors.HasFactor]), as
	// for StartTOTP; a migration tool acting for many users gets one
	// from [Operator.Proof]. Nil for a user with no factor yet.
	Proof *Proof
}

var totpWindow = challenge.Window{Behind: 1, Ahead: 1}

func hashName(h crypto.Hash) string {
	switch h {
	case crypto.SHA256:
		return "SHA256"
	case crypto.SHA512:
		return "SHA512"
	}
	return "SHA1"
}

func hashOf(name string) crypto.Hash {
	switch name {
	case "SHA256":
		return crypto.SHA256
	case "SHA512":
		return crypto.SHA512
	}
	return crypto.SHA1
}

// hasFactor reports whether the user has a factor that logs them in
// (see Factors.HasFactor): an active device, an active TOTP key or an
// unused recovery code.
func (s *Service) hasFactor(ctx context.Context, user string) (bool, error) {
	devs, err := s.activeDevices(ctx, user)
	if err != nil {
		return false, err
	}
	active := false
	switch t, err := s.records.TOTP(ctx, user); {
	case err == nil:
		active = t.Active
	case !errors.Is(err, ErrStoreNotFound):
		return false, storeErr(err)
	}
	_, codes, err := s.records.TakeRecoveryCode(ctx, user, nil)
	if err != nil {
		return false, storeErr(err)
	}
	return logsIn(len(devs), active, codes), nil
}

// StartTOTP makes a new TOTP key for user, to show once as an otpauth URI
// or QR code; it answers nothing until ConfirmTOTP has seen a code from
// it. A user with a factor that logs them in ([Factors.HasFactor]) must
// present a step-up proof; one who already has an active TOTP key must
// remove it first.
func (s *Service) StartTOTP(ctx context.Context, user string, proof *Proof, opts TOTPOptions) (_ *totpkey.Key, err error) {
	ctx, sp := s.trace(ctx, "StartTOTP", MethodTOTP, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return nil, err
	}
	if opts.AccountName == "" {
		return nil, fmt.Errorf("authn: %w: TOTPOptions.AccountName is required (the user ID is never shown)", ErrInvalidInput)
	}
	now := s.now()
	has, err := s.hasFactor(ctx, user)
	if err != nil {
		return nil, err
	}
	if has || proof != nil {
		if err := s.checkProof(user, proof, now); err != nil {
			return nil, err
		}
		s.event(ctx, EventProofUsed, "", user, "", ReasonStartTOTP)
	}
	key, err := totpkey.New(s.cfg.Issuer, opts.AccountName, opts.Key)
	if err != nil {
		return nil, err
	}
	secret := key.Secret()
	defer secret.Zero()
	id := newID()
	sealed, err := s.keys.Seal(kindTOTP, user, id, secret)
	if err != nil {
		return nil, err
	}
	p := key.TOTP()
	rec := TOTPRecord{ID: id, User: user, Secret: sealed, Hash: hashName(p.Hash), Digits: p.Digits, Period: p.Period, CreatedAt: now}
	if err := s.records.ChangeUser(ctx, rec.User, UserChange{TOTP: &rec}, now); err != nil {
		if errors.Is(err, ErrStoreConflict) {
			return nil, fmt.Errorf("%w: the user has an active TOTP key; remove it first", ErrAlreadyEnrolled)
		}
		return nil, storeErr(err)
	}
	s.event(ctx, EventTOTPStarted, MethodTOTP, user, "", "")
	return key, nil
}

// ImportTOTP stores an existing TOTP key for user, active at once: for
// services migrating from another TOTP store. Keys under 16 bytes need
// p.AllowShortKey. It replaces an inactive key and refuses over an
// active one. A user with a factor that logs them in needs a step-up
// proof (opts.Proof), as for StartTOTP.
func (s *Service) ImportTOTP(ctx context.Context, user string, key []byte, p challenge.TOTP, opts ImportOptions) (err error) {
	ctx, sp := s.trace(ctx, "ImportTOTP", MethodTOTP, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	if _, err := p.NewVerifier(key); err != nil {
		return err
	}
	has, err := s.hasFactor(ctx, user)
	if err != nil {
		return err
	}
	if has || opts.Proof != nil {
		if err := s.checkProof(user, opts.Proof, s.now()); err != nil {
			return err
		}
		s.event(ctx, EventProofUsed, "", user, "", ReasonImportTOTP)
	}
	if p.Hash == 0 {
		p.Hash = crypto.SHA1
	}
	if p.Digits == 0 {
		p.Digits = 6
	}
	if p.Period == 0 {
		p.Period = 30 * time.Second
	}
	now := s.now()
	id := newID()
	sealed, err := s.keys.Seal(kindTOTP, user, id, key)
	if err != nil {
		return err
	}
	rec := TOTPRecord{ID: id, User: user, Secret: sealed, Hash: hashName(p.Hash), Digits: p.Digits, Period: p.Period,
		ShortKey: p.AllowShortKey, CreatedAt: now}
	if err := s.records.ChangeUser(ctx, rec.User, UserChange{TOTP: &rec}, now); err != nil {
		if errors.Is(err, ErrStoreConflict) {
			return fmt.Errorf("%w: the user has an active TOTP key", ErrAlreadyEnrolled)
		}
		return storeErr(err)
	}
	if err := s.records.CommitTOTP(ctx, user, id, opts.LastStep, now); err != nil {
		return storeErr(err)
	}
	s.event(ctx, EventTOTPImported, MethodTOTP, user, "", "")
	return nil
}

// ConfirmTOTP activates the user's new TOTP key with a code from the
// authenticator app, counted before it is checked like every code.
func (s *Service) ConfirmTOTP(ctx context.Context, user, code string, opts ...LoginOption) (err error) {
	ctx, sp := s.trace(ctx, "ConfirmTOTP", MethodTOTP, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodTOTP, user, opts); err != nil {
		return err
	}
	_, err = s.useTOTP(ctx, user, code, true, opts)
	if err == nil {
		s.event(ctx, EventTOTPActivated, MethodTOTP, user, "", "")
	}
	return err
}

// VerifyTOTP checks a TOTP code within one step either side, once (RFC
// 6238 §5.2: a step at or before the last accepted one never passes),
// counted before it is checked, under the same lockout as every factor.
func (s *Service) VerifyTOTP(ctx context.Context, user, code string, opts ...LoginOption) (_ Result, err error) {
	ctx, sp := s.trace(ctx, "VerifyTOTP", MethodTOTP, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodTOTP, user, opts); err != nil {
		return Result{}, err
	}
	return s.useTOTP(ctx, user, code, false, opts)
}

// useTOTP checks a TOTP code of user (already admitted) and commits its
// step: a login, or the activation of a new key.
func (s *Service) useTOTP(ctx context.Context, user, code string, activate bool, opts []LoginOption) (Result, error) {
	now := s.now()
	c, res, err := s.countCode(ctx, MethodTOTP, user, opts, now)
	if err != nil {
		return Result{}, err
	}
	rec, err := s.records.TOTP(ctx, user)
	switch {
	case errors.Is(err, ErrStoreNotFound) || err == nil && rec.Active == activate:
		// No key (of the kind wanted): the failure is counted all the
		// same, and the answer reads like a wrong code.
		rec = TOTPRecord{ID: "", Secret: s.dummy, Hash: "SHA1", Digits: 6, Period: 30 * time.Second}
	case err != nil:
		return Result{}, storeErr(err)
	}
	failed := func(reason Reason, err error) (Result, error) {
		s.slowGuessing(ctx, MethodTOTP, user, res.Slow)
		s.event(ctx, EventTOTPFailed, MethodTOTP, user, "", reason)
		if res.RetryAfter > 0 {
			s.event(ctx, EventUserLocked, MethodTOTP, user, "", ReasonFailures)
			return Result{}, &LockedError{RetryAfter: res.RetryAfter, cause: err}
		}
		return Result{}, err
	}
	p := challenge.TOTP{Hash: hashOf(rec.Hash), Digits: rec.Digits, Period: rec.Period, AllowShortKey: rec.ShortKey}
	var key []byte
	if rec.ID == "" {
		key, err = s.keys.Open(kindDummy, "", "", rec.Secret)
	} else {
		key, err = s.keys.Open(kindTOTP, user, rec.ID, rec.Secret)
	}
	if err != nil {
		return Result{}, fmt.Errorf("authn: TOTP key does not open: %w", err)
	}
	m, err := p.VerifyOnce(key, now, code, totpWindow)
	clear(key)
	if errors.Is(err, challenge.ErrInvalidKey) || errors.Is(err, challenge.ErrInvalidInput) {
		return Result{}, err // a record the parameters or key of which are refused: not a check
	}
	s.observe(ctx, EventCheck, MethodTOTP, user, "")
	switch {
	case errors.Is(err, challenge.ErrMalformed):
		return failed(ReasonMalformed, err)
	case err != nil || rec.ID == "":
		return failed(ReasonMismatch, ErrInvalidCode)
	}
	switch err := s.records.CommitTOTP(ctx, user, rec.ID, m.Step, now); {
	case errors.Is(err, ErrStoreConflict):
		return failed(ReasonReplay, ErrReplay)
	case errors.Is(err, ErrStoreNotFound):
		return failed(ReasonRemoved, ErrInvalidCode)
	case err != nil:
		return Result{}, storeErr(err)
	}
	// The success resets the failures the count left, last: a lost
	// reset leaves the user with failures, never the reverse.
	if err := s.hot.ResetUser(ctx, user, res.Client, now); err != nil {
		return Result{}, storeErr(err)
	}
	s.event(ctx, EventLoginSucceeded, MethodTOTP, user, "", "")
	r := Result{User: user, Method: MethodTOTP, Step: m.Step, Drift: m.Offset, At: now}
	r.Proof = s.newProof(user, MethodTOTP, now)
	if err := s.knownClient(ctx, &r, c, now); err != nil {
		return Result{}, err
	}
	return r, nil
}

// RemoveTOTP removes the user's TOTP key, given a step-up proof.
func (s *Service) RemoveTOTP(ctx context.Context, user string, proof *Proof) (err error) {
	ctx, sp := s.trace(ctx, "RemoveTOTP", MethodTOTP, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	if err := s.checkProof(user, proof, s.now()); err != nil {
		return err
	}
	if err := s.records.ChangeUser(ctx, user, UserChange{DeleteTOTP: true}, s.now()); err != nil {
		if errors.Is(err, ErrStoreNotFound) {
			return ErrNotFound
		}
		return storeErr(err)
	}
	s.event(ctx, EventTOTPRemoved, MethodTOTP, user, "", "")
	return nil
}
