package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keyline/keyline/authn"
)

func scanUser(sc scanner) (authn.UserState, error) {
	var u authn.UserState
	var locked, last, epoch, off, susp int64
	err := sc.Scan(&u.Failures, &u.Level, &locked, &last, &epoch, &off, &susp)
	u.LockedUntil, u.LastFailure, u.Epoch = at(locked), at(last), uint64(epoch)
	u.PushOff, u.PushSuspended = off != 0, at(susp)
	return u, err
}

// lockUser reads the user's state for a read-modify-write step (a user
// never seen reads as the zero state).
func (s *Store) lockUser(c *conn, user string) (authn.UserState, error) {
	u, err := scanUser(c.row(s.d.q.userLock, user))
	if errors.Is(err, sql.ErrNoRows) {
		return authn.UserState{}, nil
	}
	return u, err
}

// lockRow serialises a read-modify-write step with the others of the
// user, where the dialect needs it (rowLocks): it locks the user's row,
// creating it if missing, until the transaction ends. Every step locks
// at most one user's row, and first, so that steps cannot deadlock.
func (s *Store) lockRow(c *conn, user string) error {
	if !s.d.rowLocks {
		return nil
	}
	_, err := s.lockUser(c, user)
	return err
}

func (s *Store) epoch(c *conn, user string) (uint64, error) {
	var e int64
	ok, err := found(c.row(s.d.q.userEpoch, user).Scan(&e))
	if !ok {
		return 0, err
	}
	return uint64(e), nil
}

func locked(u authn.UserState, now time.Time) (authn.AttemptResult, bool) {
	if now.Before(u.LockedUntil) {
		return authn.AttemptResult{Outcome: authn.AttemptLocked, RetryAfter: u.LockedUntil.Sub(now), Failures: u.Failures, Slow: u.Slow}, true
	}
	return authn.AttemptResult{}, false
}

// User implements authn.Store.
func (s *Store) User(ctx context.Context, user string, now time.Time) (authn.UserState, error) {
	var u authn.UserState
	err := s.read(ctx, "User", func(c *conn) error {
		var err error
		u, err = scanUser(c.row(s.d.q.userGet, user))
		if errors.Is(err, sql.ErrNoRows) {
			u, err = authn.UserState{}, nil
		}
		if err != nil {
			return err
		}
		// The lockout fields: those of the shared bucket of unknown clients.
		b, err := scanBucket(c.row(qBucketGet, user, ""), nil)
		if _, err := found(err); err != nil {
			return err
		}
		u.Failures, u.Level, u.LockedUntil, u.LastFailure, u.Slow, u.SlowSince = b.Failures, b.Level, b.LockedUntil, b.LastFailure, b.Slow, b.SlowSince
		return nil
	})
	return u, err
}

// RecordFailure implements authn.Store.
func (s *Store) RecordFailure(ctx context.Context, user, client string, p authn.LockPolicy, now time.Time) (authn.UserState, error) {
	var u authn.UserState
	err := s.write(ctx, "RecordFailure", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		var err error
		if u, client, err = s.lockedBucket(c, user, client, p, now); err != nil {
			return err
		}
		p.Fail(&u, now)
		return s.saveBucket(c, user, client, u)
	})
	if err != nil {
		return authn.UserState{}, err
	}
	return u, nil
}

// ResetUser implements authn.Store.
func (s *Store) ResetUser(ctx context.Context, user, client string, now time.Time) error {
	return s.single(ctx, "ResetUser", func(c *conn) error {
		_, err := c.exec(qBucketReset, user, client)
		return err
	})
}

// setPushOff is ChangeUser with PushOff set (authn.UserChange).
func (s *Store) setPushOff(ctx context.Context, user string, off bool, now time.Time) error {
	return s.single(ctx, "ChangeUser PushOff", func(c *conn) error {
		_, err := c.exec(s.d.q.userPushOff, user, flag(off))
		return err
	})
}

// suspendPush is ChangeUser with PushSuspended set (authn.UserChange).
func (s *Store) suspendPush(ctx context.Context, user string, until, now time.Time) error {
	return s.single(ctx, "ChangeUser PushSuspended", func(c *conn) error {
		_, err := c.exec(s.d.q.userSuspend, user, nanos(until))
		return err
	})
}

// DeleteUser implements authn.Store.
func (s *Store) DeleteUser(ctx context.Context, user string, now time.Time) error {
	q := &s.d.q
	return s.write(ctx, "DeleteUser", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		for _, st := range []string{q.actDeleteUser, q.devDeleteUser, q.devVersionDeleteUser, q.chDeleteUser, q.qDeleteUser, q.isDeleteUser,
			q.totpDelete, q.rcDeleteUser, q.pushDeleteUsr, rmDeleteUser, q.userDelete, qBucketDelUser} {
			if _, err := c.exec(st, user); err != nil {
				return err
			}
		}
		return nil
	})
}
