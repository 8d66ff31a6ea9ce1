package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/keyline/keyline/authn"
)

// DefaultDevicesMirror is how long a user's devices-version mirror
// stays live after the last time a Service handed it the records'
// version (see WithDevicesMirror).
const DefaultDevicesMirror = 5 * time.Minute

// WithDevicesMirror sets how long a user's mirror of the records'
// devices version (authn.MirroredIssuer) stays live after a Service last
// handed it the version it holds, by a read of the records or a raise
// after a change (default DefaultDevicesMirror; a value that is not
// positive keeps the default). It bounds what a lost RaiseDevices
// costs: for at most that long, instances holding the user's devices
// as they were may issue challenges from them (a device paired
// meanwhile not offered, an old drift or name), never a login of a
// revoked device. Past it, the next BeginChallenge of the user reads
// the records once: one more round trip, to the records, per user and
// life.
func WithDevicesMirror(life time.Duration) Option {
	return func(o *options) {
		if life > 0 {
			o.mirrorLife = life
		}
	}
}

var _ authn.MirroredIssuer = (*Store)(nil)

// IssueMirrored implements authn.MirroredIssuer: one script, the check
// of the user's devices-version mirror (kept in the user hash beside the
// epoch mirror) followed by PutChallenge's script.
func (s *Store) IssueMirrored(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, version uint64, fresh bool, now time.Time) (bool, error) {
	if version >= maxLuaInt {
		return false, fmt.Errorf("redisstore: devices version %d out of range", version)
	}
	keys, args, err := s.challengeArgs(c, lim, now)
	if err != nil {
		return false, err
	}
	f := 0
	if fresh {
		f = 1
	}
	r, err := scriptIssueMirrored.Run(ctx, s.rdb, keys, append(args, version, f, durMicros(s.mirrorLife))...).Int()
	if err != nil {
		return false, wrap("issue mirrored", err)
	}
	if r == 3 {
		return true, nil
	}
	return false, putOutcome(r)
}

// RaiseDevices implements authn.MirroredIssuer: one script raises the
// user's devices-version mirror (it never falls).
func (s *Store) RaiseDevices(ctx context.Context, user string, version uint64, now time.Time) error {
	if version >= maxLuaInt {
		return fmt.Errorf("redisstore: devices version %d out of range", version)
	}
	if err := scriptRaiseDevices.Run(ctx, s.rdb, []string{s.keys(user).user}, micros(now), version).Err(); err != nil {
		return wrap("raise devices", err)
	}
	return nil
}
