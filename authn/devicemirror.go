package authn

import (
	"context"
	"log/slog"
	"time"
)

// mirror returns the split stores' halves that let a BeginChallenge with
// nothing changed skip the records: a hot store mirroring the devices
// version (MirroredIssuer) beside records that read a user's devices,
// with their version, in one step (LoginRecords). The Service then keeps
// each user's devices, as for an IssueStore, and the hot store checks
// their version in the step that stores the challenge.
func (s *Service) mirror() (MirroredIssuer, LoginRecords, bool) {
	if s.oneStore {
		return nil, nil, false
	}
	mi, ok := s.hot.(MirroredIssuer)
	lr, lok := s.records.(LoginRecords)
	return mi, lr, ok && lok
}

// cachesDevices reports whether the Service keeps each user's devices
// for BeginChallenge: when the store checks them as it stores a
// challenge (IssueStore), or checks their version (MirroredIssuer).
func (s *Service) cachesDevices() bool {
	if _, ok := s.issueStore(); ok {
		return true
	}
	_, _, ok := s.mirror()
	return ok
}

// devicesChanged follows a change of this Service's to the records that
// raised the user's devices version (see LoginRecords): it reads the
// user's devices once, keeps them for the next BeginChallenge, and
// raises the hot store's epoch mirror and devices mirror with what it
// read. It does nothing without a mirror (ok false). The change stands
// whatever happens here: a lost raise costs what MirroredIssuer
// describes, at most the mirror's life, and never a login of a removed
// device (the epoch, checked by CommitStep, sees to that).
func (s *Service) devicesChanged(ctx context.Context, user string, now time.Time) (ok bool, err error) {
	mi, lr, ok := s.mirror()
	if !ok {
		return false, nil
	}
	ud, err := lr.UserDevices(ctx, user, now)
	if err != nil {
		s.devices.drop(user)
		return true, err
	}
	if ud.Devices == nil {
		ud.Devices = []DeviceRecord{}
	}
	s.devices.put(user, ud)
	if err := s.hot.RaiseEpoch(ctx, user, ud.Epoch, now); err != nil {
		return true, err
	}
	return true, mi.RaiseDevices(ctx, user, ud.Version, now)
}

// devicesChangedQuietly is devicesChanged after a change whose caller
// has nothing to do about a lost raise (a rename, a new sealed secret, a
// drift committed by a login): the error is logged, not returned.
func (s *Service) devicesChangedQuietly(ctx context.Context, user string, now time.Time) {
	if _, err := s.devicesChanged(ctx, user, now); err != nil && s.log.Enabled(ctx, slog.LevelWarn) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "keyline: the hot store's devices mirror was not raised",
			slog.String("user", user), slog.String("error", err.Error()))
	}
}
