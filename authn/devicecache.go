package authn

import (
	"context"
	"errors"
	"sync"
	"time"
)

// deviceCacheSize bounds the users whose devices a Service keeps for
// BeginChallenge (a few hundred bytes each: sealed secrets, never a key
// in the clear).
const deviceCacheSize = 8192

// deviceCache keeps, per user, the epoch and active devices a Service
// last read or was told of by IssueChallenge. It is only a guess: every
// challenge issued from it is checked against the records in the step
// that stores it (IssueStore), so a stale entry costs one more round
// trip, never a wrong challenge. Bounded: when full, an arbitrary entry
// is dropped.
type deviceCache struct {
	mu sync.Mutex
	m  map[string]UserDevices
}

func (c *deviceCache) get(user string) (UserDevices, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[user]
	return d, ok
}

func (c *deviceCache) put(user string, d UserDevices) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]UserDevices{}
	}
	if _, ok := c.m[user]; !ok && len(c.m) >= deviceCacheSize {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[user] = d
}

func (c *deviceCache) drop(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, user)
}

// issueStore returns the one store keeping both halves, if it checks the
// devices a challenge was made from (IssueStore).
func (s *Service) issueStore() (IssueStore, bool) {
	if !s.oneStore {
		return nil, false
	}
	is, ok := s.hot.(IssueStore)
	return is, ok
}

// devicesMovedError: the devices a challenge's tags were made from are
// no longer the user's; nothing was stored. now is what the store found.
type devicesMovedError struct{ now UserDevices }

func (e *devicesMovedError) Error() string { return "authn: the user's devices moved" }

// putChallenge stores a challenge made from expect at c.Epoch: with
// IssueChallenge, checking expect in the same step (a *devicesMovedError
// when they moved), when the store offers it and expect is set;
// otherwise with PutChallenge.
func (s *Service) putChallenge(ctx context.Context, c ChallengeRecord, lim ChallengeLimits, expect []DeviceRecord, now time.Time) error {
	is, ok := s.issueStore()
	if !ok || expect == nil {
		return s.hot.PutChallenge(ctx, c, lim, now)
	}
	fresh, stale, err := is.IssueChallenge(ctx, c, lim, expect, now)
	if err == nil && stale {
		return &devicesMovedError{now: fresh}
	}
	return err
}

// loginDevices returns the user's epoch and active devices for a
// challenge: the cache's guess when the store checks it (IssueStore),
// else a read of the records (two round trips).
func (s *Service) loginDevices(ctx context.Context, user string, now time.Time) (UserDevices, error) {
	if _, ok := s.issueStore(); ok {
		if d, ok := s.devices.get(user); ok {
			return d, nil
		}
	}
	st, err := s.records.User(ctx, user, now)
	if err != nil {
		return UserDevices{}, storeErr(err)
	}
	devs, err := s.activeDevices(ctx, user)
	if err != nil {
		return UserDevices{}, err
	}
	if devs == nil {
		devs = []DeviceRecord{} // none: still a list to check
	}
	return UserDevices{Epoch: st.Epoch, Devices: devs}, nil
}

// rememberDevices keeps a user's devices for the next BeginChallenge,
// where the store checks them (IssueStore); elsewhere it keeps nothing.
func (s *Service) rememberDevices(user string, d UserDevices) {
	if _, ok := s.issueStore(); ok {
		s.devices.put(user, d)
	}
}

// movedDevices reports whether err says the devices moved, and what
// they are now.
func movedDevices(err error) (UserDevices, bool) {
	var m *devicesMovedError
	if errors.As(err, &m) {
		return m.now, true
	}
	return UserDevices{}, false
}
