package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/keyline/keyline/authn"
)

func scanDevice(sc scanner) (authn.DeviceRecord, error) {
	var d authn.DeviceRecord
	var state string
	var last, drift, tries, created int64
	err := sc.Scan(&d.ID, &d.User, &d.Name, &d.Platform, &d.AccountName, &d.Suite, &d.InstallID, &state, &d.Secret,
		&last, &drift, &tries, &d.SessionID, &d.Replacing, &d.PushToken, &created)
	d.State, d.LastStep, d.Drift, d.PairTries, d.CreatedAt = authn.DeviceState(state), uint64(last), int(drift), int(tries), at(created)
	return d, err
}

func (s *Store) device(c *conn, user, id string) (authn.DeviceRecord, bool, error) {
	d, err := scanDevice(c.row(s.d.q.devGet, user, id))
	ok, err := found(err)
	return d, ok, err
}

// lockDevice locks the user's row and returns the user's device of that
// ID: ErrStoreNotFound if there is none.
func (s *Store) lockDevice(c *conn, user, id string) (authn.DeviceRecord, error) {
	if err := s.lockRow(c, user); err != nil {
		return authn.DeviceRecord{}, err
	}
	d, ok, err := s.device(c, user, id)
	if err == nil && !ok {
		err = authn.ErrStoreNotFound
	}
	return d, err
}

func (s *Store) devices(c *conn, q string, args ...any) ([]authn.DeviceRecord, error) {
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []authn.DeviceRecord{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// lockPending locks the user's row and returns the user's device of that
// ID if it is pending, with its activation: the first step of a pairing
// try, a discard and an activation. An activation past its pairing
// deadline is ended now (see lapse), its device deleted. ErrStoreNotFound
// if there is none, it is not pending, or its activation lapsed.
func (s *Store) lockPending(c *conn, user, deviceID string, now time.Time) (authn.DeviceRecord, authn.ActivationRecord, error) {
	d, err := s.lockDevice(c, user, deviceID)
	if err != nil {
		return authn.DeviceRecord{}, authn.ActivationRecord{}, err
	}
	if d.State != authn.DevicePending {
		return authn.DeviceRecord{}, authn.ActivationRecord{}, authn.ErrStoreNotFound
	}
	a, ok, err := s.getActivation(c, d.SessionID, now)
	if err != nil {
		return authn.DeviceRecord{}, authn.ActivationRecord{}, err
	}
	if ok && lapsed(a, now) {
		// Ended and committed: the outcome is not found.
		if err := s.lapse(c, &a, now); err != nil {
			return authn.DeviceRecord{}, authn.ActivationRecord{}, err
		}
		return authn.DeviceRecord{}, authn.ActivationRecord{}, authn.ErrStoreNotFound
	}
	return d, a, nil
}

// discard deletes a pending device and sets its activation discarded.
func (s *Store) discard(c *conn, d authn.DeviceRecord, a authn.ActivationRecord) error {
	if a.SessionID != "" && a.DeviceID == d.ID {
		return s.end(c, a, authn.ActivationDiscarded)
	}
	_, err := c.exec(s.d.q.devDelete, d.User, d.ID)
	return err
}

// countPairingTry is ChangeDevice with PairingTry set (authn.DeviceChange).
func (s *Store) countPairingTry(ctx context.Context, user, deviceID string, max int, now time.Time) (int, error) {
	var tries int
	err := s.write(ctx, "ChangeDevice PairingTry", func(c *conn) error {
		d, a, err := s.lockPending(c, user, deviceID, now)
		if err != nil {
			return err
		}
		tries = d.PairTries
		if tries >= max {
			if err := s.discard(c, d, a); err != nil {
				return err
			}
			return authn.ErrStoreLimit
		}
		tries++
		_, err = c.exec(s.d.q.devPairTries, user, deviceID, int64(tries))
		return err
	})
	if err != nil && !errors.Is(err, authn.ErrStoreLimit) {
		return 0, err
	}
	return tries, err
}

// discardDevice is ChangeDevice with Discard set (authn.DeviceChange).
func (s *Store) discardDevice(ctx context.Context, user, deviceID string, now time.Time) error {
	return s.write(ctx, "ChangeDevice Discard", func(c *conn) error {
		d, a, err := s.lockPending(c, user, deviceID, now)
		if err != nil {
			return err
		}
		return s.discard(c, d, a)
	})
}

// activateDevice is ChangeDevice with Activate set (authn.DeviceChange).
func (s *Store) activateDevice(ctx context.Context, user, deviceID string, removedUntil, now time.Time) (authn.DeviceRecord, error) {
	var out authn.DeviceRecord
	err := s.write(ctx, "ChangeDevice Activate", func(c *conn) error {
		d, _, err := s.lockPending(c, user, deviceID, now)
		if err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.devActivate, user, deviceID); err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.actMoveIfCompleted, d.SessionID, string(authn.ActivationActive)); err != nil {
			return err
		}
		if d.Replacing != "" && d.Replacing != deviceID {
			if err := s.keepRemoved(c, user, d.Replacing, removedUntil, now); err != nil {
				return err
			}
			n, err := c.exec(s.d.q.devDelete, user, d.Replacing)
			if err != nil {
				return err
			}
			if n > 0 {
				if _, err := c.exec(s.d.q.userBumpEpoch, user); err != nil {
					return err
				}
			}
		}
		d.State, d.Replacing = authn.DeviceActive, ""
		out = d
		return nil
	})
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	return out, nil
}

// Devices implements authn.Store.
func (s *Store) Devices(ctx context.Context, user string) ([]authn.DeviceRecord, error) {
	var out []authn.DeviceRecord
	err := s.read(ctx, "Devices", func(c *conn) error {
		var err error
		out, err = s.devices(c, s.d.q.devList, user)
		return err
	})
	return out, err
}

// updateDevice runs a one-statement update of a device.
func (s *Store) updateDevice(ctx context.Context, op, q, user, deviceID string, v any) error {
	return s.single(ctx, op, func(c *conn) error {
		n, err := c.exec(q, user, deviceID, v)
		if err == nil && n == 0 {
			err = authn.ErrStoreNotFound
		}
		return err
	})
}

// renameDevice is ChangeDevice with Name set (authn.DeviceChange).
func (s *Store) renameDevice(ctx context.Context, user, deviceID, name string) error {
	return s.updateDevice(ctx, "ChangeDevice Name", s.d.q.devRename, user, deviceID, name)
}

// setPushToken is ChangeDevice with PushToken set (authn.DeviceChange),
// and PushTokenWas as was.
func (s *Store) setPushToken(ctx context.Context, user, deviceID, token string, was *string) error {
	if was == nil {
		return s.updateDevice(ctx, "ChangeDevice PushToken", s.d.q.devPushToken, user, deviceID, token)
	}
	// The condition is in the UPDATE itself, so that a token set by
	// another statement between a read and the write cannot be
	// overwritten (a plain setPushToken takes no lock but the row's);
	// when it matches no row, a read in the same transaction tells an
	// unknown device from another token.
	return s.write(ctx, "ChangeDevice PushTokenWas", func(c *conn) error {
		n, err := c.exec(s.d.q.devPushTokenIf, user, deviceID, token, *was)
		if err != nil || n > 0 {
			return err
		}
		_, ok, err := s.device(c, user, deviceID)
		switch {
		case err != nil:
			return err
		case !ok:
			return authn.ErrStoreNotFound
		}
		return authn.ErrStoreConflict
	})
}

// revokeDevice is ChangeDevice with Revoke set (authn.DeviceChange).
func (s *Store) revokeDevice(ctx context.Context, user, deviceID string, removedUntil, now time.Time) error {
	return s.write(ctx, "ChangeDevice Revoke", func(c *conn) error {
		d, err := s.lockDevice(c, user, deviceID)
		if err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.actMoveIfCompleted, d.SessionID, string(authn.ActivationCancelled)); err != nil {
			return err
		}
		if err := s.keepRemoved(c, user, deviceID, removedUntil, now); err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.devDelete, user, deviceID); err != nil {
			return err
		}
		_, err = c.exec(s.d.q.userBumpEpoch, user)
		return err
	})
}

// DevicesPage implements authn.Store.
func (s *Store) DevicesPage(ctx context.Context, afterUser, afterID string, limit int) ([]authn.DeviceRecord, error) {
	if limit <= 0 {
		return []authn.DeviceRecord{}, nil
	}
	var out []authn.DeviceRecord
	err := s.read(ctx, "DevicesPage", func(c *conn) error {
		var err error
		out, err = s.devices(c, s.d.q.devPage, afterUser, afterID, int64(limit))
		return err
	})
	return out, err
}

// updateSecret is ChangeDevice with Secret set (authn.DeviceChange).
func (s *Store) updateSecret(ctx context.Context, user, deviceID string, old, sealed []byte) error {
	return s.write(ctx, "ChangeDevice Secret", func(c *conn) error {
		d, err := s.lockDevice(c, user, deviceID)
		if err != nil {
			return err
		}
		if !bytes.Equal(d.Secret, old) {
			return authn.ErrStoreConflict
		}
		_, err = c.exec(s.d.q.devSecret, user, deviceID, blob(sealed))
		return err
	})
}

// CommitStep implements authn.Store.
func (s *Store) CommitStep(ctx context.Context, user, deviceID string, epoch, step uint64, drift int, now time.Time) error {
	if s.d.q.commitStepFn != "" {
		return s.commitOne(ctx, user, deviceID, epoch, step, drift)
	}
	// One statement is the compare-and-set; a refusal reads why after it
	// (the reason as it stands then: both are refusals).
	return s.single(ctx, "CommitStep", func(c *conn) error {
		return s.commitIn(c, user, deviceID, epoch, step, drift)
	})
}

// commitIn is CommitStep's compare-and-set on c, and on a refusal the
// read of why (the dialects without a commit function).
func (s *Store) commitIn(c *conn, user, deviceID string, epoch, step uint64, drift int) error {
	n, err := c.exec(s.d.q.devCommitStep, user, deviceID, int64(epoch), int64(step), int64(drift))
	if err != nil || n > 0 {
		return err
	}
	var state string
	ok, err := found(c.row(s.d.q.devStepState, user, deviceID).Scan(&state))
	if err != nil {
		return err
	}
	if !ok || authn.DeviceState(state) != authn.DeviceActive {
		return authn.ErrStoreNotFound
	}
	return authn.ErrStoreConflict
}
