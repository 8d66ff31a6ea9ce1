package memstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/internal/change"
)

// ChangeDevice implements authn.RecordStore: each change is one atomic
// step of its own.
func (s *Store) ChangeDevice(ctx context.Context, user, deviceID string, c authn.DeviceChange, now time.Time) (authn.DeviceRecord, error) {
	return change.DeviceSteps{
		PairingTry: s.countPairingTry, Discard: s.discardDevice, Activate: s.activateDevice, Rename: s.renameDevice,
		PushToken: s.setPushToken, Secret: s.updateSecret, Revoke: s.revokeDevice,
	}.Device(ctx, user, deviceID, c, now)
}

// ChangeUser implements authn.RecordStore: each change is one atomic
// step of its own.
func (s *Store) ChangeUser(ctx context.Context, user string, c authn.UserChange, now time.Time) error {
	return change.UserSteps{
		PushOff: s.setPushOff, PushSuspended: s.suspendPush, RecoveryCodes: s.putRecoveryCodes,
		TOTP: s.putTOTP, DeleteTOTP: s.deleteTOTP,
	}.User(ctx, user, c, now)
}

// RaiseEpoch implements authn.HotStore. This store keeps the records
// too, and its challenges and push requests are checked against the
// epoch there, which the revocation or replacement already bumped: there
// is nothing to raise. (So its hot half is paired with its own records,
// the one value passed to authn.Config as Hot and as Records.)
func (s *Store) RaiseEpoch(context.Context, string, uint64, time.Time) error { return nil }
