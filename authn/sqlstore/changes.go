package sqlstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// ChangeDevice implements authn.RecordStore: each change is one atomic
// step of its own.
func (s *Store) ChangeDevice(ctx context.Context, user, deviceID string, c authn.DeviceChange, now time.Time) (authn.DeviceRecord, error) {
	if !c.Valid() {
		return authn.DeviceRecord{}, authn.ErrInvalidChange
	}
	var err error
	switch {
	case c.PairingTry != 0:
		var n int
		if n, err = s.countPairingTry(ctx, user, deviceID, c.PairingTry, now); err == nil {
			return authn.DeviceRecord{ID: deviceID, User: user, PairTries: n}, nil
		}
	case c.Activate:
		return s.activateDevice(ctx, user, deviceID, now)
	case c.Name != nil:
		err = s.renameDevice(ctx, user, deviceID, *c.Name)
	case c.PushToken != nil:
		err = s.setPushToken(ctx, user, deviceID, *c.PushToken)
	case c.Secret != nil:
		err = s.updateSecret(ctx, user, deviceID, c.Secret.Old, c.Secret.New)
	case c.Revoke:
		err = s.revokeDevice(ctx, user, deviceID, now)
	}
	return authn.DeviceRecord{}, err
}

// ChangeUser implements authn.RecordStore: each change is one atomic
// step of its own.
func (s *Store) ChangeUser(ctx context.Context, user string, c authn.UserChange, now time.Time) error {
	if !c.Valid() {
		return authn.ErrInvalidChange
	}
	switch {
	case c.PushOff != nil:
		return s.setPushOff(ctx, user, *c.PushOff, now)
	case c.PushSuspended != nil:
		return s.suspendPush(ctx, user, *c.PushSuspended, now)
	case c.RecoveryCodes != nil:
		return s.putRecoveryCodes(ctx, user, c.RecoveryCodes, now)
	case c.TOTP != nil:
		if c.TOTP.User != user {
			return authn.ErrInvalidChange
		}
		return s.putTOTP(ctx, *c.TOTP, now)
	default:
		return s.deleteTOTP(ctx, user)
	}
}

// Lockout implements authn.HotStore: the user's state, which this store
// keeps whole (lockout, epoch and push settings).
func (s *Store) Lockout(ctx context.Context, user string, now time.Time) (authn.UserState, error) {
	return s.User(ctx, user, now)
}

// RaiseEpoch implements authn.HotStore. This store keeps the records
// too, and its challenges and push requests are checked against the
// epoch there, which the revocation or replacement already bumped: there
// is nothing to raise. (So its hot half is paired with its own records,
// the one value passed to authn.Config as Hot and as Records.)
func (s *Store) RaiseEpoch(context.Context, string, uint64, time.Time) error { return nil }
