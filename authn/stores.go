package authn

import (
	"context"
	"time"
)

// device returns one device of the user from the records.
// ErrStoreNotFound if the user has none of that ID.
func (s *Service) device(ctx context.Context, user, deviceID string) (DeviceRecord, error) {
	all, err := s.records.Devices(ctx, user)
	if err != nil {
		return DeviceRecord{}, err
	}
	for _, d := range all {
		if d.ID == deviceID {
			return d, nil
		}
	}
	return DeviceRecord{}, ErrStoreNotFound
}

// raiseEpoch tells the hot store the user's epoch after a step of the
// records that may have bumped it (a revocation, a replacement). If it
// fails the error is returned; the step stands, CommitStep refuses any
// challenge of the old epoch, and the next BeginChallenge hands the hot
// store the new epoch with its challenge.
func (s *Service) raiseEpoch(ctx context.Context, user string, now time.Time) error {
	st, err := s.records.User(ctx, user, now)
	if err != nil {
		return err
	}
	return s.hot.RaiseEpoch(ctx, user, st.Epoch, now)
}

// userState is the user's state from both stores: the lockout fields
// from the hot store, the epoch and push settings from the records.
func (s *Service) userState(ctx context.Context, user string, now time.Time) (UserState, error) {
	rec, err := s.records.User(ctx, user, now)
	if err != nil {
		return UserState{}, err
	}
	lock, err := s.hot.Lockout(ctx, user, now)
	if err != nil {
		return UserState{}, err
	}
	rec.Failures, rec.Level, rec.LockedUntil, rec.LastFailure = lock.Failures, lock.Level, lock.LockedUntil, lock.LastFailure
	return rec, nil
}
