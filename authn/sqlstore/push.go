package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/keyline/keyline/authn"
)

// scanPush reads a push request and its user's current epoch, and marks
// it expired (as read) if it is.
func scanPush(sc scanner, now time.Time) (authn.PushRecord, error) {
	var p authn.PushRecord
	var devices sql.NullString
	var state string
	var epoch, created, exp, userEpoch int64
	err := sc.Scan(&p.ID, &p.User, &p.Number, &p.Nonce, &p.Context[0], &p.Context[1], &p.Context[2], &p.Context[3],
		&devices, &state, &p.Answered, &epoch, &p.Transaction, &p.Challenge, &created, &exp, &userEpoch)
	if err != nil {
		return p, err
	}
	p.State, p.Epoch, p.CreatedAt, p.ExpiresAt = authn.PushState(state), uint64(epoch), at(created), at(exp)
	if err := fromJSON(devices, &p.Devices); err != nil {
		return p, fmt.Errorf("push %q: devices: %w", p.ID, err)
	}
	live := p.State == authn.PushPending || p.State == authn.PushApproved
	if live && (!now.Before(p.ExpiresAt) || uint64(userEpoch) != p.Epoch) {
		p.State = authn.PushExpired
	}
	return p, nil
}

// PutPush implements authn.Store.
func (s *Store) PutPush(ctx context.Context, p authn.PushRecord, now time.Time) error {
	devices, err := jsonText(p.Devices)
	if err != nil {
		return s.fail("PutPush", err)
	}
	return s.single(ctx, "PutPush", func(c *conn) error {
		n, err := c.exec(s.d.q.pushInsert, p.ID, p.User, p.Number, blob(p.Nonce), p.Context[0], p.Context[1],
			p.Context[2], p.Context[3], devices, string(p.State), p.Answered, int64(p.Epoch), blob(p.Transaction),
			p.Challenge, nanos(p.CreatedAt), nanos(p.ExpiresAt))
		if err == nil && n == 0 {
			err = authn.ErrStoreConflict
		}
		return err
	})
}

// Push implements authn.Store.
func (s *Store) Push(ctx context.Context, id string, now time.Time) (authn.PushRecord, error) {
	var p authn.PushRecord
	err := s.read(ctx, "Push", func(c *conn) error {
		var err error
		p, err = scanPush(c.row(s.d.q.pushGet, id), now)
		return notFound(err)
	})
	if err != nil {
		return authn.PushRecord{}, err
	}
	return p, nil
}

// PendingPushes implements authn.HotStore.
//
// epoch is not read: the store checks the user's epoch in its own records.
func (s *Store) PendingPushes(ctx context.Context, user, deviceID string, _ uint64, now time.Time) ([]authn.PushRecord, error) {
	var out []authn.PushRecord
	err := s.read(ctx, "PendingPushes", func(c *conn) error {
		rows, err := c.query(s.d.q.pushPending, user, nanos(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPush(rows, now)
			if err != nil {
				return err
			}
			if p.State == authn.PushPending && slices.Contains(p.Devices, deviceID) {
				out = append(out, p)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetPushState implements authn.HotStore.
//
// epoch is not read: the store checks the user's epoch in its own records.
func (s *Store) SetPushState(ctx context.Context, user, id string, _ uint64, from, to authn.PushState, device string, now time.Time) (authn.PushRecord, error) {
	var out authn.PushRecord
	err := s.write(ctx, "SetPushState", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		p, err := scanPush(c.row(s.d.q.pushGet, id), now)
		ok, err := found(err)
		if err != nil {
			return err
		}
		if !ok || p.User != user {
			return authn.ErrStoreNotFound
		}
		if p.State != from {
			out = p
			if p.State == authn.PushExpired {
				// Record the expiry, as a read of it would have.
				if _, err := c.exec(s.d.q.pushSetState, id, string(p.State), p.Answered); err != nil {
					return err
				}
			}
			return authn.ErrStoreConflict
		}
		p.State = to
		if device != "" {
			p.Answered = device
		}
		if _, err := c.exec(s.d.q.pushSetState, id, string(p.State), p.Answered); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil && !errors.Is(err, authn.ErrStoreConflict) {
		return authn.PushRecord{}, err
	}
	return out, err
}

// ---------------------------------------------------------------------
// Generic single-use keys and budgets.

// TakeOnce implements authn.Store.
func (s *Store) TakeOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	return s.single(ctx, "TakeOnce", func(c *conn) error {
		n, err := c.exec(s.d.q.takeOnce, key, nanos(expiresAt), nanos(now))
		if err == nil && n == 0 {
			err = authn.ErrStoreConflict
		}
		return err
	})
}

// Spend implements authn.Store.
func (s *Store) Spend(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (int, error) {
	var left int
	err := s.write(ctx, "Spend", func(c *conn) error {
		var used, ends int64
		ok, err := found(c.row(s.d.q.budgetGet, key).Scan(&used, &ends))
		if err != nil {
			return err
		}
		if !ok || !now.Before(at(ends)) {
			used, ends = 0, nanos(now.Add(window))
		}
		if used >= int64(limit) {
			_, err := c.exec(s.d.q.budgetPut, key, used, ends)
			if err != nil {
				return err
			}
			return authn.ErrStoreLimit
		}
		used++
		left = limit - int(used)
		_, err = c.exec(s.d.q.budgetPut, key, used, ends)
		return err
	})
	if err != nil {
		return 0, err
	}
	return left, nil
}

// Refund implements authn.Store: the budget's row, read (and locked, on
// PostgreSQL) in the transaction, and the mark taken in authn_taken
// until the window ends, in the same transaction.
func (s *Store) Refund(ctx context.Context, key, mark string, window time.Duration, spentAt, now time.Time) (bool, error) {
	var done bool
	err := s.write(ctx, "Refund", func(c *conn) error {
		done = false
		var used, ends int64
		ok, err := found(c.row(s.d.q.budgetGet, key).Scan(&used, &ends))
		if err != nil || !ok {
			return err
		}
		end := at(ends)
		if !now.Before(end) || end.Add(-window).After(spentAt) || used <= 0 {
			return nil
		}
		// The mark names the budget and the mark, length-prefixed so that
		// no two pairs share one.
		n, err := c.exec(s.d.q.takeOnce, "refund:"+strconv.Itoa(len(key))+":"+key+mark, ends, nanos(now))
		if err != nil || n == 0 {
			return err
		}
		if _, err := c.exec(s.d.q.budgetPut, key, used-1, ends); err != nil {
			return err
		}
		done = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return done, nil
}

// Sweep implements authn.Store.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	q := &s.d.q
	// Completed activations past their pairing deadline end first, each
	// under its user's lock, as a pairing step would end it.
	lapsedN, err := s.sweepLapsed(ctx, now)
	if err != nil {
		return 0, err
	}
	var total int64
	err = s.write(ctx, "Sweep", func(c *conn) error {
		total = int64(lapsedN)
		// Expired waiting activations drop their sealed pending keys now;
		// finished ones are kept a day as tombstones.
		if _, err := c.exec(q.actSweepExpire, nanos(now)); err != nil {
			return err
		}
		for _, st := range []struct {
			q string
			t time.Time
		}{
			{q.chSweep, now},
			{q.actSweep, now.Add(-24 * time.Hour)},
			{q.qSweep, now},
			{q.pushSweep, now.Add(-time.Hour)},
			{q.takeSweep, now},
			{q.budgetSweep, now},
			{rmSweep, now},
		} {
			n, err := c.exec(st.q, nanos(st.t))
			if err != nil {
				return err
			}
			total += n
		}
		// Issue times past the minute are bookkeeping, not records.
		_, err := c.exec(q.isSweep, nanos(now.Add(-time.Minute)))
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(total), nil
}
