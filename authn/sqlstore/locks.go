package sqlstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// The lockout buckets (authn_locks, migration 0002 on SQLite, 0003 on
// PostgreSQL): one row per user and client, client "" the bucket every
// unknown client shares.
const (
	lockCols       = `failures, level, locked_until, last_failure, slow, slow_since`
	qBucketGet     = `SELECT ` + lockCols + ` FROM authn_locks WHERE user_id = $1 AND client = $2`
	qBucketList    = `SELECT client, ` + lockCols + ` FROM authn_locks WHERE user_id = $1 ORDER BY client`
	qBucketKnown   = `SELECT client, ` + lockCols + ` FROM authn_locks WHERE user_id = $1 AND client <> ''`
	qBucketDelete  = `DELETE FROM authn_locks WHERE user_id = $1 AND client = $2`
	qBucketReset   = `UPDATE authn_locks SET failures = 0, level = 0, locked_until = 0, last_failure = 0 WHERE user_id = $1 AND client = $2`
	qBucketDelUser = `DELETE FROM authn_locks WHERE user_id = $1`
	qBucketSave    = `INSERT INTO authn_locks (user_id, client, ` + lockCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (user_id, client) DO UPDATE SET failures = excluded.failures, level = excluded.level,
			locked_until = excluded.locked_until, last_failure = excluded.last_failure, slow = excluded.slow,
			slow_since = excluded.slow_since`
)

func scanBucket(sc scanner, client *string) (authn.UserState, error) {
	var u authn.UserState
	var locked, last, slow, since int64
	var err error
	if client != nil {
		err = sc.Scan(client, &u.Failures, &u.Level, &locked, &last, &slow, &since)
	} else {
		err = sc.Scan(&u.Failures, &u.Level, &locked, &last, &slow, &since)
	}
	u.LockedUntil, u.LastFailure, u.Slow, u.SlowSince = at(locked), at(last), int(slow), at(since)
	return u, err
}

// lockedBucket reads, inside a write transaction that has locked the
// user's row (lockRow or lockUser), the bucket an attempt of the user's
// client counts in (authn.HotStore.Attempt): the client's own; for a
// known client without one, a new one after the user's stale buckets of
// known clients are dropped, unless p.MaxClients live ones are left:
// then the shared bucket "". A bucket never saved reads as the zero
// state. It returns the bucket's client.
func (s *Store) lockedBucket(c *conn, user, client string, p authn.LockPolicy, now time.Time) (authn.UserState, string, error) {
	u, err := scanBucket(c.row(qBucketGet, user, client), nil)
	ok, err := found(err)
	if err != nil || ok || client == "" {
		return u, client, err
	}
	rows, err := c.query(qBucketKnown, user)
	if err != nil {
		return u, client, err
	}
	var stale []string
	live := 0
	for rows.Next() {
		var k string
		b, err := scanBucket(rows, &k)
		if err != nil {
			rows.Close()
			return u, client, err
		}
		if p.Stale(b, now) {
			stale = append(stale, k)
		} else {
			live++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return u, client, err
	}
	for _, k := range stale {
		if _, err := c.exec(qBucketDelete, user, k); err != nil {
			return u, client, err
		}
	}
	if live < p.MaxClients {
		return authn.UserState{}, client, nil
	}
	return s.lockedBucket(c, user, "", p, now)
}

func (s *Store) saveBucket(c *conn, user, client string, u authn.UserState) error {
	_, err := c.exec(qBucketSave, user, client, int64(u.Failures), int64(u.Level), nanos(u.LockedUntil),
		nanos(u.LastFailure), int64(u.Slow), nanos(u.SlowSince))
	return err
}

// ClearLockout implements authn.HotStore.
func (s *Store) ClearLockout(ctx context.Context, user string, now time.Time) error {
	return s.single(ctx, "ClearLockout", func(c *conn) error {
		_, err := c.exec(qBucketDelUser, user)
		return err
	})
}

// Lockout implements authn.HotStore.
func (s *Store) Lockout(ctx context.Context, user string, now time.Time) ([]authn.ClientLockout, error) {
	out := []authn.ClientLockout{{Client: ""}}
	err := s.read(ctx, "Lockout", func(c *conn) error {
		out = out[:1]
		out[0].State = authn.UserState{}
		rows, err := c.query(qBucketList, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b authn.ClientLockout
			if b.State, err = scanBucket(rows, &b.Client); err != nil {
				return err
			}
			if b.Client == "" {
				out[0] = b
				continue
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
