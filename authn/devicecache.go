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

// deviceCache keeps, per user, the epoch, active devices and devices
// version a Service last read or was told of by IssueChallenge. It is
// only a guess: every challenge issued from it is checked in the step
// that stores it, against the records (IssueStore) or against the hot
// store's mirror of the devices version (MirroredIssuer), so a stale
// entry costs one more round trip, never a wrong challenge (with a
// mirror, within the mirror's bounds: see MirroredIssuer). Bounded: when
// full, an arbitrary entry is dropped.
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
// no longer the user's; nothing was stored. now is what the store found,
// unless reread is set: the store (a MirroredIssuer) only knows they
// moved, and the caller reads the records.
type devicesMovedError struct {
	now    UserDevices
	reread bool
}

func (e *devicesMovedError) Error() string { return "authn: the user's devices moved" }

// putChallenge stores a challenge made from o.expect at c.Epoch, when
// o.expect is set: with IssueChallenge, checking o.expect in the same
// step (a *devicesMovedError when they moved), when the store offers it;
// with IssueMirrored, checking their version o.version (o.fresh: just
// read from the records) against the hot store's mirror, when the split
// stores offer it. Otherwise with PutChallenge.
func (s *Service) putChallenge(ctx context.Context, c ChallengeRecord, lim ChallengeLimits, o issueOptions, now time.Time) error {
	if o.expect != nil {
		if is, ok := s.issueStore(); ok {
			fresh, stale, err := is.IssueChallenge(ctx, c, lim, o.expect, now)
			if err == nil && stale {
				return &devicesMovedError{now: fresh}
			}
			return err
		}
		if mi, _, ok := s.mirror(); ok {
			stale, err := mi.IssueMirrored(ctx, c, lim, o.version, o.fresh, now)
			if err == nil && stale {
				return &devicesMovedError{reread: true}
			}
			return err
		}
	}
	return s.hot.PutChallenge(ctx, c, lim, now)
}

// loginDevices returns the user's epoch, active devices and devices
// version for a challenge, and whether they were just read from the
// records (fresh): the cache's guess when the store checks it
// (IssueStore, MirroredIssuer), else a read of the records (one round
// trip with LoginRecords, two without).
func (s *Service) loginDevices(ctx context.Context, user string, now time.Time) (_ UserDevices, fresh bool, _ error) {
	if s.cachesDevices() {
		if d, ok := s.devices.get(user); ok {
			return d, false, nil
		}
	}
	if lr, ok := s.records.(LoginRecords); ok {
		d, err := lr.UserDevices(ctx, user, now)
		if err != nil {
			return UserDevices{}, false, storeErr(err)
		}
		if d.Devices == nil {
			d.Devices = []DeviceRecord{}
		}
		return d, true, nil
	}
	st, err := s.records.User(ctx, user, now)
	if err != nil {
		return UserDevices{}, false, storeErr(err)
	}
	devs, err := s.activeDevices(ctx, user)
	if err != nil {
		return UserDevices{}, false, err
	}
	if devs == nil {
		devs = []DeviceRecord{} // none: still a list to check
	}
	return UserDevices{Epoch: st.Epoch, Devices: devs}, true, nil
}

// rememberDevices keeps a user's devices for the next BeginChallenge,
// where the store checks them (IssueStore, MirroredIssuer); elsewhere it
// keeps nothing.
func (s *Service) rememberDevices(user string, d UserDevices) {
	if s.cachesDevices() {
		s.devices.put(user, d)
	}
}

// movedDevices reports whether err says the devices moved, and what
// they are now, or that the records must be read to know (reread).
func movedDevices(err error) (now UserDevices, reread, moved bool) {
	var m *devicesMovedError
	if errors.As(err, &m) {
		return m.now, m.reread, true
	}
	return UserDevices{}, false, false
}
