package sqlstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

// The removed devices' statements: standard SQL both dialects read
// alike, over the table of migration "removed" (SQLite 3, PostgreSQL 4).
const (
	// rmKeep copies device ($1, $2) as it stands, before its deletion in
	// the same transaction, with removed_at $3 and until_at $4. It
	// replaces an earlier row of the same device.
	rmKeep = `INSERT INTO authn_removed_devices (` + devCols + `, removed_at, until_at)
		SELECT ` + devCols + `, $3, $4 FROM authn_devices WHERE user_id = $1 AND id = $2
		ON CONFLICT (user_id, id) DO UPDATE SET name = excluded.name, platform = excluded.platform,
			account_name = excluded.account_name, suite = excluded.suite, install_id = excluded.install_id,
			state = excluded.state, secret = excluded.secret, last_step = excluded.last_step,
			drift = excluded.drift, pair_tries = excluded.pair_tries, session_id = excluded.session_id,
			replacing = excluded.replacing, push_token = excluded.push_token, created_at = excluded.created_at,
			removed_at = excluded.removed_at, until_at = excluded.until_at`
	rmGet = `SELECT ` + devCols + `, removed_at, until_at FROM authn_removed_devices
		WHERE user_id = $1 AND id = $2 AND until_at > $3`
	rmDeleteUser = `DELETE FROM authn_removed_devices WHERE user_id = $1`
	rmSweep      = `DELETE FROM authn_removed_devices WHERE until_at <= $1`
)

// keepRemoved keeps device (user, id) as removed until until (nothing
// for the zero time), inside the caller's transaction, before the caller
// deletes the device.
func (s *Store) keepRemoved(c *conn, user, id string, until, now time.Time) error {
	if until.IsZero() {
		return nil
	}
	_, err := c.exec(rmKeep, user, id, nanos(now), nanos(until))
	return err
}

// RemovedDevice implements authn.RecordStore.
func (s *Store) RemovedDevice(ctx context.Context, user, deviceID string, now time.Time) (authn.RemovedRecord, error) {
	var out authn.RemovedRecord
	err := s.read(ctx, "RemovedDevice", func(c *conn) error {
		var removed, until int64
		d, err := scanDevice(scanTail{c.row(rmGet, user, deviceID, nanos(now)), []any{&removed, &until}})
		ok, err := found(err)
		if err != nil {
			return err
		}
		if !ok {
			return authn.ErrStoreNotFound
		}
		out = authn.RemovedRecord{Device: d, RemovedAt: at(removed), Until: at(until)}
		return nil
	})
	if err != nil {
		return authn.RemovedRecord{}, err
	}
	return out, nil
}

// scanTail scans a row of a device's columns followed by more: the
// device's go to the caller's destinations, the rest to tail.
type scanTail struct {
	sc   scanner
	tail []any
}

// Scan implements scanner.
func (t scanTail) Scan(dest ...any) error { return t.sc.Scan(append(dest, t.tail...)...) }
