package storetest

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// Stores are the two halves of storage a Service runs on (authn.Config's
// Hot and Records). An engine that keeps both (memstore, sqlstore) is
// passed as both.
type Stores struct {
	Hot     authn.HotStore
	Records authn.RecordStore
}

// Both is an engine that keeps both halves (memstore, sqlstore) as
// Stores: the one value as Hot and as Records.
func Both(s authn.Store) Stores { return Stores{Hot: s, Records: s} }

// pair is Stores seen as one authn.Store, doing what the Service does
// around each step that spans the halves: a revocation or an activation
// in the records is followed by RaiseEpoch in the hot store with the
// records' new epoch; User reads the lockout fields from the hot store
// and the rest from the records; DeleteUser and Sweep run on both; push
// steps get the records' epoch. The suite's store tests call the halves
// through it. Under RunHot or RunRecords one half is nil, and what the
// Service would do on it is skipped (the tests those run call no method
// of the missing half).
type pair struct {
	authn.HotStore
	authn.RecordStore
}

var _ authn.Store = pair{}

func (s Stores) pair() pair { return pair{s.Hot, s.Records} }

// same reports whether both halves are one value (a store keeping both).
func (p pair) same() bool {
	h, r := any(p.HotStore), any(p.RecordStore)
	return isComparable(h) && h == r
}

func isComparable(v any) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return v == v
}

// ChangeDevice is the records' change, then, after a revocation or an
// activation (which may replace a device), RaiseEpoch in the hot store.
func (p pair) ChangeDevice(ctx context.Context, user, deviceID string, c authn.DeviceChange, now time.Time) (authn.DeviceRecord, error) {
	d, err := p.RecordStore.ChangeDevice(ctx, user, deviceID, c, now)
	if err != nil || !(c.Revoke || c.Activate) || p.HotStore == nil {
		return d, err
	}
	u, err := p.RecordStore.User(ctx, user, now)
	if err != nil {
		return d, err
	}
	return d, p.HotStore.RaiseEpoch(ctx, user, u.Epoch, now)
}

// User is the records' user state with the lockout fields of the hot
// store's shared bucket (of unknown clients).
func (p pair) User(ctx context.Context, user string, now time.Time) (authn.UserState, error) {
	var u authn.UserState
	if p.RecordStore != nil {
		var err error
		if u, err = p.RecordStore.User(ctx, user, now); err != nil || p.HotStore == nil {
			return u, err
		}
	}
	all, err := p.HotStore.Lockout(ctx, user, now)
	if err != nil {
		return u, err
	}
	l := all[0].State
	u.Failures, u.Level, u.LockedUntil, u.LastFailure = l.Failures, l.Level, l.LockedUntil, l.LastFailure
	u.Slow, u.SlowSince = l.Slow, l.SlowSince
	return u, nil
}

// DeleteUser erases the user's records, then the hot state.
func (p pair) DeleteUser(ctx context.Context, user string, now time.Time) error {
	if p.RecordStore != nil {
		if err := p.RecordStore.DeleteUser(ctx, user, now); err != nil || p.same() || p.HotStore == nil {
			return err
		}
	}
	return p.HotStore.DeleteUser(ctx, user, now)
}

// Sweep sweeps the records, then the hot store, and adds the counts.
func (p pair) Sweep(ctx context.Context, now time.Time) (int, error) {
	n := 0
	if p.RecordStore != nil {
		var err error
		if n, err = p.RecordStore.Sweep(ctx, now); err != nil || p.same() || p.HotStore == nil {
			return n, err
		}
	}
	m, err := p.HotStore.Sweep(ctx, now)
	return n + m, err
}

// recordsEpoch is the user's epoch in the records, as the Service reads
// it for a push step of the hot store: 0 when one store keeps both.
func recordsEpoch(ctx context.Context, s authn.Store, user string, now time.Time) (uint64, error) {
	if p, ok := s.(pair); ok && (p.same() || p.RecordStore == nil) {
		return 0, nil
	}
	u, err := s.User(ctx, user, now)
	return u.Epoch, err
}

// Push is the hot store's read, checked against the records' epoch as
// the Service checks it.
func (p pair) Push(ctx context.Context, id string, now time.Time) (authn.PushRecord, error) {
	rec, err := p.HotStore.Push(ctx, id, now)
	if err != nil || p.same() || p.RecordStore == nil || (rec.State != authn.PushPending && rec.State != authn.PushApproved) {
		return rec, err
	}
	u, err := p.RecordStore.User(ctx, rec.User, now)
	if err != nil {
		return authn.PushRecord{}, err
	}
	if rec.Epoch < u.Epoch {
		rec.State = authn.PushExpired
	}
	return rec, nil
}

// movePush is SetPushState with the records' epoch, as the Service
// calls it.
func movePush(ctx context.Context, s authn.Store, user, id string, from, to authn.PushState, device string, now time.Time) (authn.PushRecord, error) {
	e, err := recordsEpoch(ctx, s, user, now)
	if err != nil {
		return authn.PushRecord{}, err
	}
	return s.SetPushState(ctx, user, id, e, from, to, device, now)
}

// pendingOf is PendingPushes with the records' epoch, as the Service
// calls it.
func pendingOf(ctx context.Context, s authn.Store, user, deviceID string, now time.Time) ([]authn.PushRecord, error) {
	e, err := recordsEpoch(ctx, s, user, now)
	if err != nil {
		return nil, err
	}
	return s.PendingPushes(ctx, user, deviceID, e, now)
}

// The records' device changes, by name, as the suite's tests call them.

func getDevice(ctx context.Context, s authn.Store, user, id string) (authn.DeviceRecord, error) {
	ds, err := s.Devices(ctx, user)
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d, nil
		}
	}
	return authn.DeviceRecord{}, authn.ErrStoreNotFound
}

func activate(ctx context.Context, s authn.Store, user, id string, now time.Time) (authn.DeviceRecord, error) {
	return s.ChangeDevice(ctx, user, id, authn.DeviceChange{Activate: true}, now)
}

func pairingTry(ctx context.Context, s authn.Store, user, id string, max int, now time.Time) (int, error) {
	d, err := s.ChangeDevice(ctx, user, id, authn.DeviceChange{PairingTry: max}, now)
	return d.PairTries, err
}

func renameDev(ctx context.Context, s authn.Store, user, id, name string) error {
	_, err := s.ChangeDevice(ctx, user, id, authn.DeviceChange{Name: &name}, t0)
	return err
}

func setToken(ctx context.Context, s authn.Store, user, id, token string) error {
	_, err := s.ChangeDevice(ctx, user, id, authn.DeviceChange{PushToken: &token}, t0)
	return err
}

func revoke(ctx context.Context, s authn.Store, user, id string, now time.Time) error {
	_, err := s.ChangeDevice(ctx, user, id, authn.DeviceChange{Revoke: true}, now)
	return err
}

func swapSecret(ctx context.Context, s authn.Store, user, id string, old, sealed []byte) error {
	_, err := s.ChangeDevice(ctx, user, id, authn.DeviceChange{Secret: &authn.SecretSwap{Old: old, New: sealed}}, t0)
	return err
}

// The records' user changes, by name.

func pushOff(ctx context.Context, s authn.Store, user string, off bool, now time.Time) error {
	return s.ChangeUser(ctx, user, authn.UserChange{PushOff: &off}, now)
}

func suspend(ctx context.Context, s authn.Store, user string, until, now time.Time) error {
	return s.ChangeUser(ctx, user, authn.UserChange{PushSuspended: &until}, now)
}

func storeTOTP(ctx context.Context, s authn.Store, r authn.TOTPRecord, now time.Time) error {
	return s.ChangeUser(ctx, r.User, authn.UserChange{TOTP: &r}, now)
}

func dropTOTP(ctx context.Context, s authn.Store, user string) error {
	return s.ChangeUser(ctx, user, authn.UserChange{DeleteTOTP: true}, t0)
}

func storeCodes(ctx context.Context, s authn.Store, user string, macs [][32]byte, now time.Time) error {
	if macs == nil {
		macs = [][32]byte{}
	}
	return s.ChangeUser(ctx, user, authn.UserChange{RecoveryCodes: macs}, now)
}

func codesLeftOf(ctx context.Context, s authn.Store, user string) (int, error) {
	_, n, err := s.TakeRecoveryCode(ctx, user, nil)
	return n, err
}
