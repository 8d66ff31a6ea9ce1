package memstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// removedKey is the key of a removed device in Store.removed: the user,
// a NUL (which no user ID holds), the device ID.
func removedKey(user, deviceID string) string { return user + "\x00" + deviceID }

// keepRemoved keeps d as removed until until (nothing for the zero
// time). The caller holds the lock.
func (s *Store) keepRemoved(d *authn.DeviceRecord, until, now time.Time) {
	if until.IsZero() {
		return
	}
	if s.removed == nil {
		s.removed = map[string]*authn.RemovedRecord{}
	}
	s.removed[removedKey(d.User, d.ID)] = &authn.RemovedRecord{Device: cloneDevice(d), RemovedAt: now, Until: until}
}

// dropRemoved erases the user's removed devices. The caller holds the
// lock.
func (s *Store) dropRemoved(user string) {
	for k, r := range s.removed {
		if r.Device.User == user {
			delete(s.removed, k)
		}
	}
}

// sweepRemoved deletes the removed devices whose end has come and says
// how many. The caller holds the lock.
func (s *Store) sweepRemoved(now time.Time) int {
	n := 0
	for k, r := range s.removed {
		if !now.Before(r.Until) {
			delete(s.removed, k)
			n++
		}
	}
	return n
}

// RemovedDevice implements authn.RecordStore.
func (s *Store) RemovedDevice(_ context.Context, user, deviceID string, now time.Time) (authn.RemovedRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.removed[removedKey(user, deviceID)]
	if !ok || !now.Before(r.Until) {
		return authn.RemovedRecord{}, authn.ErrStoreNotFound
	}
	out := *r
	out.Device = cloneDevice(&r.Device)
	return out, nil
}
