package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyline/keyline/authn"
)

var _ authn.IssueStore = (*Store)(nil)

// IssueChallenge implements authn.IssueStore: the check of the user's
// epoch and active devices against what the challenge was made from, and
// PutChallenge, in one atomic step. On SQLite that is one write
// transaction (which writes nothing when the devices moved); on
// PostgreSQL one call of authn_issue (migration 0006): one round trip,
// whatever the number of devices.
func (s *Store) IssueChallenge(ctx context.Context, ch authn.ChallengeRecord, lim authn.ChallengeLimits, expect []authn.DeviceRecord, now time.Time) (authn.UserDevices, bool, error) {
	tags, err := encodeTags(ch.Tags)
	if err != nil {
		return authn.UserDevices{}, false, s.fail("IssueChallenge", err)
	}
	names, err := jsonText(ch.Names)
	if err != nil {
		return authn.UserDevices{}, false, s.fail("IssueChallenge", err)
	}
	if s.d.q.issueFn != "" {
		return s.issueOne(ctx, ch, tags, names, lim, expect, now)
	}
	var fresh authn.UserDevices
	var stale bool
	err = s.write(ctx, "IssueChallenge", func(c *conn) error {
		if err := s.lockRow(c, ch.User); err != nil {
			return err
		}
		e, err := s.epoch(c, ch.User)
		if err != nil {
			return err
		}
		all, err := s.devices(c, s.d.q.devList, ch.User)
		if err != nil {
			return err
		}
		active := []authn.DeviceRecord{}
		for _, d := range all {
			if d.State == authn.DeviceActive {
				active = append(active, d)
			}
		}
		if e != ch.Epoch || !authn.SameDevices(active, expect) {
			fresh, stale = authn.UserDevices{Epoch: e, Devices: active}, true
			return nil
		}
		return s.putIn(c, ch, tags, names, lim, now)
	})
	if err != nil {
		return authn.UserDevices{}, false, err
	}
	return fresh, stale, nil
}

// issueOne is IssueChallenge in one statement: authn_issue, handed the
// expected devices as arrays.
func (s *Store) issueOne(ctx context.Context, ch authn.ChallengeRecord, tags []byte, names any, lim authn.ChallengeLimits, expect []authn.DeviceRecord, now time.Time) (authn.UserDevices, bool, error) {
	n := len(expect)
	ids, states, suites, dnames := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	drifts, secrets := make([]int64, n), make([][]byte, n)
	for i, d := range expect {
		ids[i], states[i], suites[i], dnames[i] = d.ID, string(d.State), d.Suite, d.Name
		drifts[i], secrets[i] = int64(d.Drift), d.Secret
	}
	fresh := authn.UserDevices{Devices: []authn.DeviceRecord{}}
	result := int64(-1)
	err := s.single(ctx, "IssueChallenge", func(c *conn) error {
		rows, err := c.query(s.d.q.issueFn, ch.ID, ch.User, ch.Question, int64(ch.Epoch), tags, int64(ch.Window),
			int64(ch.Attempts), nanos(ch.IssuedAt), nanos(ch.ExpiresAt), blob(ch.Payload), names, ch.Resync,
			int64(ch.ResyncDrift), int64(lim.Outstanding), int64(lim.PerMinute), nanos(now.Add(lim.Horizon)),
			nanos(now.Add(-time.Minute)), nanos(now), ids, states, suites, drifts, dnames, secrets)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r int64
			if err := scanUserDevice(rows, &fresh, &r); err != nil {
				return err
			}
			result = r
		}
		return rows.Err()
	})
	if err != nil {
		return authn.UserDevices{}, false, err
	}
	switch result {
	case 0:
		return authn.UserDevices{}, false, nil
	case 1:
		return fresh, true, nil
	case 2:
		return authn.UserDevices{}, false, authn.ErrStoreConflict
	case 3:
		return authn.UserDevices{}, false, authn.ErrStoreLimit
	}
	return authn.UserDevices{}, false, s.fail("IssueChallenge", fmt.Errorf("unknown issue result %d", result))
}

var _ authn.LoginRecords = (*Store)(nil)

// UserDevices implements authn.LoginRecords: one statement reads the
// devices version, the epoch and the active devices. The version is
// raised by triggers on the devices table (migration 0004 on SQLite,
// 0007 on PostgreSQL), in the statement of every change it counts.
func (s *Store) UserDevices(ctx context.Context, user string, now time.Time) (authn.UserDevices, error) {
	out := authn.UserDevices{Devices: []authn.DeviceRecord{}}
	err := s.read(ctx, "UserDevices", func(c *conn) error {
		out.Devices = out.Devices[:0]
		rows, err := c.query(s.d.q.userDevices, user)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var version int64
			if err := scanUserDevice(rows, &out, &version); err != nil {
				return err
			}
			out.Version = uint64(version)
		}
		return rows.Err()
	})
	if err != nil {
		return authn.UserDevices{}, err
	}
	return out, nil
}

// scanUserDevice reads one row of a user's epoch and devices, as the
// userDevices query and authn_issue give them after their own leading
// columns (lead), into out: the epoch, and the device unless the row is
// the one of a user with none (a NULL device ID).
func scanUserDevice(rows *sql.Rows, out *authn.UserDevices, lead ...any) error {
	var epoch int64
	var id, user, name, platform, account, suite, install, state, session, replacing, token sql.NullString
	var secret []byte
	var last, drift, tries, created sql.NullInt64
	dest := append(lead, &epoch, &id, &user, &name, &platform, &account, &suite, &install, &state, &secret,
		&last, &drift, &tries, &session, &replacing, &token, &created)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	out.Epoch = uint64(epoch)
	if id.Valid {
		out.Devices = append(out.Devices, authn.DeviceRecord{ID: id.String, User: user.String, Name: name.String,
			Platform: platform.String, AccountName: account.String, Suite: suite.String, InstallID: install.String,
			State: authn.DeviceState(state.String), Secret: secret, LastStep: uint64(last.Int64),
			Drift: int(drift.Int64), PairTries: int(tries.Int64), SessionID: session.String,
			Replacing: replacing.String, PushToken: token.String, CreatedAt: at(created.Int64)})
	}
	return nil
}
