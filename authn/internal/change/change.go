// Package change turns an authn.DeviceChange or authn.UserChange into
// the one engine step it names, so that every engine that keeps the
// records checks a change and dispatches it by the same rule: exactly
// one field set (authn.ErrInvalidChange otherwise, nothing changed), a
// TOTP record only for its own user, a pairing try answered with the
// count. An engine supplies its steps; each is one atomic step of its
// own.
package change

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// DeviceSteps are an engine's steps for each kind of authn.DeviceChange.
// PushToken is handed the change's PushTokenWas as was: when it is not
// nil, the step sets the token only if the device holds *was, in the
// same atomic step (authn.ErrStoreConflict otherwise).
type DeviceSteps struct {
	PairingTry func(ctx context.Context, user, deviceID string, max int, now time.Time) (int, error)
	Discard    func(ctx context.Context, user, deviceID string, now time.Time) error
	Activate   func(ctx context.Context, user, deviceID string, removedUntil, now time.Time) (authn.DeviceRecord, error)
	Rename     func(ctx context.Context, user, deviceID, name string) error
	PushToken  func(ctx context.Context, user, deviceID, token string, was *string) error
	Secret     func(ctx context.Context, user, deviceID string, old, sealed []byte) error
	Revoke     func(ctx context.Context, user, deviceID string, removedUntil, now time.Time) error
}

// Device is authn.RecordStore.ChangeDevice over the engine's steps.
func (st DeviceSteps) Device(ctx context.Context, user, deviceID string, c authn.DeviceChange, now time.Time) (authn.DeviceRecord, error) {
	if !c.Valid() {
		return authn.DeviceRecord{}, authn.ErrInvalidChange
	}
	var err error
	switch {
	case c.PairingTry != 0:
		var n int
		if n, err = st.PairingTry(ctx, user, deviceID, c.PairingTry, now); err == nil {
			return authn.DeviceRecord{ID: deviceID, User: user, PairTries: n}, nil
		}
	case c.Discard:
		err = st.Discard(ctx, user, deviceID, now)
	case c.Activate:
		return st.Activate(ctx, user, deviceID, c.RemovedUntil, now)
	case c.Name != nil:
		err = st.Rename(ctx, user, deviceID, *c.Name)
	case c.PushToken != nil:
		err = st.PushToken(ctx, user, deviceID, *c.PushToken, c.PushTokenWas)
	case c.Secret != nil:
		err = st.Secret(ctx, user, deviceID, c.Secret.Old, c.Secret.New)
	case c.Revoke:
		err = st.Revoke(ctx, user, deviceID, c.RemovedUntil, now)
	}
	return authn.DeviceRecord{}, err
}

// UserSteps are an engine's steps for each kind of authn.UserChange.
type UserSteps struct {
	PushOff       func(ctx context.Context, user string, off bool, now time.Time) error
	PushSuspended func(ctx context.Context, user string, until, now time.Time) error
	RecoveryCodes func(ctx context.Context, user string, macs [][32]byte, now time.Time) error
	TOTP          func(ctx context.Context, t authn.TOTPRecord, now time.Time) error
	DeleteTOTP    func(ctx context.Context, user string) error
}

// User is authn.RecordStore.ChangeUser over the engine's steps.
func (st UserSteps) User(ctx context.Context, user string, c authn.UserChange, now time.Time) error {
	if !c.Valid() {
		return authn.ErrInvalidChange
	}
	switch {
	case c.PushOff != nil:
		return st.PushOff(ctx, user, *c.PushOff, now)
	case c.PushSuspended != nil:
		return st.PushSuspended(ctx, user, *c.PushSuspended, now)
	case c.RecoveryCodes != nil:
		return st.RecoveryCodes(ctx, user, c.RecoveryCodes, now)
	case c.TOTP != nil:
		if c.TOTP.User != user {
			return authn.ErrInvalidChange
		}
		return st.TOTP(ctx, *c.TOTP, now)
	default:
		return st.DeleteTOTP(ctx, user)
	}
}
