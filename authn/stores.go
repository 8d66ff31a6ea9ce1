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
// store the new epoch with its challenge. Such a step changed the user's
// devices too: with a devices mirror, one read of the records gives the
// epoch and the devices version, and both mirrors are raised
// (devicesChanged).
func (s *Service) raiseEpoch(ctx context.Context, user string, now time.Time) error {
	if ok, err := s.devicesChanged(ctx, user, now); ok {
		return err
	}
	st, err := s.records.User(ctx, user, now)
	if err != nil {
		return err
	}
	return s.hot.RaiseEpoch(ctx, user, st.Epoch, now)
}

// userState is the user's state from both stores: the lockout fields
// of the bucket client would count in from the hot store, the epoch and
// push settings from the records.
func (s *Service) userState(ctx context.Context, user, client string, now time.Time) (UserState, error) {
	rec, err := s.records.User(ctx, user, now)
	if err != nil {
		return UserState{}, err
	}
	all, err := s.hot.Lockout(ctx, user, now)
	if err != nil {
		return UserState{}, err
	}
	lock := bucketOf(all, client, s.lockPolicy(), now)
	rec.Failures, rec.Level, rec.LockedUntil, rec.LastFailure = lock.Failures, lock.Level, lock.LockedUntil, lock.LastFailure
	return rec, nil
}

// sameValue reports whether the two halves are one value (an engine
// keeping both), without panicking on a value that cannot be compared.
func sameValue(hot HotStore, records RecordStore) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return any(hot) == any(records)
}

// epoch is the user's epoch in the records, for a push step of the hot
// store: 0 when one store keeps both halves and checks its own.
func (s *Service) epoch(ctx context.Context, user string, now time.Time) (uint64, error) {
	if s.oneStore {
		return 0, nil
	}
	st, err := s.records.User(ctx, user, now)
	return st.Epoch, err
}

// push reads a push request from the hot store; a pending or approved
// one of an older epoch than the user's in the records reads as
// PushExpired, as the hot store reads it when its epoch copy is current
// (this holds when that copy missed a revocation).
// A request read as ended unanswered gives its unit of the push budget
// back (refundPush, once).
func (s *Service) push(ctx context.Context, id string, now time.Time) (PushRecord, error) {
	rec, err := s.hot.Push(ctx, id, now)
	if err != nil || s.oneStore || (rec.State != PushPending && rec.State != PushApproved) {
		if err == nil {
			s.refundPush(ctx, rec, now)
		}
		return rec, err
	}
	epoch, err := s.epoch(ctx, rec.User, now)
	if err != nil {
		return PushRecord{}, err
	}
	if rec.Epoch < epoch {
		rec.State = PushExpired
		s.refundPush(ctx, rec, now)
	}
	return rec, nil
}

// setPushState is the hot store's compare-and-set of a push request's
// state, with the user's epoch from the records.
func (s *Service) setPushState(ctx context.Context, user, id string, from, to PushState, device string, now time.Time) (PushRecord, error) {
	epoch, err := s.epoch(ctx, user, now)
	if err != nil {
		return PushRecord{}, err
	}
	return s.hot.SetPushState(ctx, user, id, epoch, from, to, device, now)
}
