package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/authn"
)

func scanActivation(sc scanner) (authn.ActivationRecord, error) {
	var a authn.ActivationRecord
	var state string
	var exp, created int64
	err := sc.Scan(&a.SessionID, &a.User, &state, &a.Pending, &exp, &a.Replacing, &a.RequestHash, &a.DeviceID,
		&a.ServerConfirm, &created)
	a.State, a.ExpiresAt, a.CreatedAt = authn.ActivationState(state), at(exp), at(created)
	return a, err
}

// expireActivation marks a waiting activation past its expiry as expired
// (as read; Sweep writes it).
func expireActivation(a *authn.ActivationRecord, now time.Time) {
	if a.State == authn.ActivationWaiting && !now.Before(a.ExpiresAt) {
		a.State = authn.ActivationExpired
		a.Pending = nil
	}
}

func (s *Store) getActivation(c *conn, sessionID string, now time.Time) (authn.ActivationRecord, bool, error) {
	a, err := scanActivation(c.row(s.d.q.actGet, sessionID))
	if ok, err := found(err); !ok {
		return authn.ActivationRecord{}, false, err
	}
	expireActivation(&a, now)
	return a, true, nil
}

// PutActivation implements authn.Store.
func (s *Store) PutActivation(ctx context.Context, a authn.ActivationRecord, now time.Time) error {
	return s.write(ctx, "PutActivation", func(c *conn) error {
		if err := s.lockRow(c, a.User); err != nil {
			return err
		}
		n, err := c.exec(s.d.q.actInsert, a.SessionID, a.User, string(a.State), blob(a.Pending), nanos(a.ExpiresAt),
			a.Replacing, blob(a.RequestHash), a.DeviceID, blob(a.ServerConfirm), nanos(a.CreatedAt))
		if err != nil {
			return err
		}
		if n == 0 {
			return authn.ErrStoreConflict
		}
		// One offer at a time: the user's activations not yet paired
		// are void, and their pending devices go.
		if _, err = c.exec(s.d.q.actVoidUnpaired, a.User, a.SessionID); err != nil {
			return err
		}
		_, err = c.exec(s.d.q.devDeletePendingOf, a.User)
		return err
	})
}

// GetActivation implements authn.Store.
func (s *Store) GetActivation(ctx context.Context, sessionID string, now time.Time) (authn.ActivationRecord, error) {
	var a authn.ActivationRecord
	err := s.read(ctx, "GetActivation", func(c *conn) error {
		var ok bool
		var err error
		if a, ok, err = s.getActivation(c, sessionID, now); err == nil && !ok {
			err = authn.ErrStoreNotFound
		}
		return err
	})
	if err != nil {
		return authn.ActivationRecord{}, err
	}
	if lapsed(a, now) {
		// Past its pairing deadline: ended now, its device deleted, under
		// the user's lock, as it stands then.
		err = s.write(ctx, "GetActivation", func(c *conn) error {
			if err := s.lockRow(c, a.User); err != nil {
				return err
			}
			var ok bool
			var err error
			if a, ok, err = s.getActivation(c, sessionID, now); err == nil && !ok {
				err = authn.ErrStoreNotFound
			}
			if err != nil {
				return err
			}
			return s.lapse(c, &a, now)
		})
		if err != nil {
			return authn.ActivationRecord{}, err
		}
	}
	return a, nil
}

// lapsed reports whether a is a completed activation past its pairing
// deadline.
func lapsed(a authn.ActivationRecord, now time.Time) bool {
	return a.State == authn.ActivationCompleted && !now.Before(a.ExpiresAt)
}

// lapse ends a completed activation past its pairing deadline: its
// pending device deleted, then the activation expired (devices before
// activations, the order of every step that changes both). The caller
// holds the user's lock.
func (s *Store) lapse(c *conn, a *authn.ActivationRecord, now time.Time) error {
	if !lapsed(*a, now) {
		return nil
	}
	if err := s.end(c, *a, authn.ActivationExpired); err != nil {
		return err
	}
	a.State = authn.ActivationExpired
	return nil
}

// CompleteActivation implements authn.Store.
func (s *Store) CompleteActivation(ctx context.Context, sessionID string, requestHash, serverConfirm []byte, dev authn.DeviceRecord, maxDevices int, now time.Time) (authn.ActivationRecord, error) {
	var out authn.ActivationRecord
	err := s.write(ctx, "CompleteActivation", func(c *conn) error {
		a, ok, err := s.getActivation(c, sessionID, now)
		if err != nil {
			return err
		}
		if !ok {
			return authn.ErrStoreNotFound
		}
		if s.d.rowLocks {
			// The activation names the user: lock that user's row, then
			// read the activation again, as it stands under the lock.
			if err := s.lockRow(c, a.User); err != nil {
				return err
			}
			if a, ok, err = s.getActivation(c, sessionID, now); err != nil {
				return err
			}
			if !ok {
				return authn.ErrStoreNotFound
			}
		}
		switch a.State {
		case authn.ActivationWaiting:
		case authn.ActivationCompleted, authn.ActivationActive:
			out = a
			return authn.ErrStoreConflict
		default:
			return authn.ErrStoreNotFound
		}
		var n int
		if err := c.row(s.d.q.devCount, a.User).Scan(&n); err != nil {
			return err
		}
		if n >= maxDevices {
			return authn.ErrStoreLimit
		}
		// The pairing deadline: the offer's lifetime again, from now.
		deadline := now.Add(a.ExpiresAt.Sub(a.CreatedAt))
		done, err := c.exec(s.d.q.actComplete, sessionID, blob(requestHash), blob(serverConfirm), dev.ID, nanos(deadline))
		if err != nil {
			return err
		}
		if done == 0 {
			// Moved meanwhile by a step that does not lock the user
			// (Sweep expiring it): not waiting any more.
			return &refusal{authn.ErrStoreNotFound}
		}
		if _, err := c.exec(s.d.q.devInsert, dev.ID, a.User, dev.Name, dev.Platform, dev.AccountName, dev.Suite,
			dev.InstallID, string(authn.DevicePending), blob(dev.Secret), int64(dev.LastStep), int64(dev.Drift),
			int64(dev.PairTries), dev.SessionID, dev.Replacing, dev.PushToken, nanos(dev.CreatedAt)); err != nil {
			if s.d.isUnique(err) {
				// A device of that ID exists already: undo the completion.
				return fmt.Errorf("device %q exists already: %w", dev.ID, err)
			}
			return err
		}
		a.State = authn.ActivationCompleted
		a.Pending = nil
		a.RequestHash = bytes.Clone(requestHash)
		a.ServerConfirm = bytes.Clone(serverConfirm)
		a.DeviceID = dev.ID
		a.ExpiresAt = deadline
		out = a
		return nil
	})
	if err != nil && !errors.Is(err, authn.ErrStoreConflict) {
		return authn.ActivationRecord{}, err
	}
	return out, err
}

// CancelActivation implements authn.Store.
func (s *Store) CancelActivation(ctx context.Context, user, sessionID string, now time.Time) error {
	return s.write(ctx, "CancelActivation", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		a, ok, err := s.getActivation(c, sessionID, now)
		if err != nil {
			return err
		}
		if !ok || a.User != user {
			return authn.ErrStoreNotFound
		}
		if err := s.lapse(c, &a, now); err != nil {
			return err
		}
		if a.State != authn.ActivationWaiting && a.State != authn.ActivationCompleted {
			return authn.ErrStoreNotFound
		}
		return s.end(c, a, authn.ActivationCancelled)
	})
}

// end ends an activation in state st and drops the pending device it
// made: the device first, then the activation (the order of every step
// that changes both).
func (s *Store) end(c *conn, a authn.ActivationRecord, st authn.ActivationState) error {
	if a.DeviceID != "" {
		if _, err := c.exec(s.d.q.devDeletePending, a.User, a.DeviceID); err != nil {
			return err
		}
	}
	_, err := c.exec(s.d.q.actEnd, a.SessionID, string(st))
	return err
}

// sweepLapsed ends the completed activations past their pairing deadline
// (see lapse), a batch at a time, each in a write of its own that locks
// its user's row first, as every step that changes a user's devices
// does. It returns how many pending devices it deleted.
func (s *Store) sweepLapsed(ctx context.Context, now time.Time) (int, error) {
	const batch = 100
	n := 0
	for {
		type ref struct{ sid, user string }
		var refs []ref
		err := s.read(ctx, "Sweep", func(c *conn) error {
			rows, err := c.query(s.d.q.actLapsed, nanos(now), batch)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r ref
				if err := rows.Scan(&r.sid, &r.user); err != nil {
					return err
				}
				refs = append(refs, r)
			}
			return rows.Err()
		})
		if err != nil {
			return n, err
		}
		for _, r := range refs {
			err := s.write(ctx, "Sweep", func(c *conn) error {
				if err := s.lockRow(c, r.user); err != nil {
					return err
				}
				a, ok, err := s.getActivation(c, r.sid, now)
				if err != nil || !ok || !lapsed(a, now) {
					return err
				}
				if a.DeviceID != "" {
					n++
				}
				return s.lapse(c, &a, now)
			})
			if err != nil {
				return n, err
			}
		}
		if len(refs) < batch {
			return n, nil
		}
	}
}
