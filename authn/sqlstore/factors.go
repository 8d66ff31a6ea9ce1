package sqlstore

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/keyline/keyline/authn"
)

func scanTOTP(sc scanner) (authn.TOTPRecord, error) {
	var t authn.TOTPRecord
	var digits, period, short, active, last, created int64
	err := sc.Scan(&t.ID, &t.User, &t.Secret, &t.Hash, &digits, &period, &short, &active, &last, &created)
	t.Digits, t.Period, t.ShortKey, t.Active = int(digits), time.Duration(period), short != 0, active != 0
	t.LastStep, t.CreatedAt = uint64(last), at(created)
	return t, err
}

// putTOTP is ChangeUser with TOTP set (authn.UserChange).
func (s *Store) putTOTP(ctx context.Context, t authn.TOTPRecord, now time.Time) error {
	return s.write(ctx, "ChangeUser TOTP", func(c *conn) error {
		if err := s.lockRow(c, t.User); err != nil {
			return err
		}
		var active int64
		ok, err := found(c.row(s.d.q.totpActive, t.User).Scan(&active))
		if err != nil {
			return err
		}
		if ok && active != 0 {
			return authn.ErrStoreConflict
		}
		_, err = c.exec(s.d.q.totpPut, t.User, t.ID, blob(t.Secret), t.Hash, int64(t.Digits), int64(t.Period),
			flag(t.ShortKey), int64(t.LastStep), nanos(t.CreatedAt))
		return err
	})
}

// CommitTOTP implements authn.Store.
func (s *Store) CommitTOTP(ctx context.Context, user, id string, step uint64, now time.Time) error {
	return s.write(ctx, "CommitTOTP", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		var gotID string
		var active, last int64
		ok, err := found(c.row(s.d.q.totpStep, user).Scan(&gotID, &active, &last))
		if err != nil {
			return err
		}
		if !ok || gotID != id {
			return authn.ErrStoreNotFound
		}
		if active != 0 && step <= uint64(last) {
			return authn.ErrStoreConflict
		}
		_, err = c.exec(s.d.q.totpCommit, user, int64(step))
		return err
	})
}

// deleteTOTP is ChangeUser with DeleteTOTP set (authn.UserChange).
func (s *Store) deleteTOTP(ctx context.Context, user string) error {
	return s.single(ctx, "ChangeUser DeleteTOTP", func(c *conn) error {
		n, err := c.exec(s.d.q.totpDelete, user)
		if err == nil && n == 0 {
			err = authn.ErrStoreNotFound
		}
		return err
	})
}

// TOTP implements authn.Store.
func (s *Store) TOTP(ctx context.Context, user string) (authn.TOTPRecord, error) {
	var t authn.TOTPRecord
	err := s.read(ctx, "TOTP", func(c *conn) error {
		var err error
		t, err = scanTOTP(c.row(s.d.q.totpGet, user))
		return notFound(err)
	})
	if err != nil {
		return authn.TOTPRecord{}, err
	}
	return t, nil
}

// putRecoveryCodes is ChangeUser with RecoveryCodes set (authn.UserChange).
func (s *Store) putRecoveryCodes(ctx context.Context, user string, macs [][32]byte, now time.Time) error {
	return s.write(ctx, "ChangeUser RecoveryCodes", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.rcDeleteUser, user); err != nil {
			return err
		}
		for _, m := range macs {
			if _, err := c.exec(s.d.q.rcInsert, user, m[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// TakeRecoveryCode implements authn.Store.
func (s *Store) TakeRecoveryCode(ctx context.Context, user string, candidates [][32]byte) (bool, int, error) {
	if len(candidates) == 0 { // a count alone: a read
		var n int
		err := s.read(ctx, "TakeRecoveryCode", func(c *conn) error { return c.row(s.d.q.rcCount, user).Scan(&n) })
		return false, n, err
	}
	var taken bool
	var left int
	err := s.write(ctx, "TakeRecoveryCode", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		type code struct {
			seq int64
			mac []byte
		}
		rows, err := c.query(s.d.q.rcList, user)
		if err != nil {
			return err
		}
		var codes []code
		for rows.Next() {
			var cd code
			if err := rows.Scan(&cd.seq, &cd.mac); err != nil {
				rows.Close()
				return err
			}
			codes = append(codes, cd)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		left = len(codes)
		match := -1
		for i := range codes {
			for _, cand := range candidates {
				if subtle.ConstantTimeCompare(codes[i].mac, cand[:]) == 1 && match < 0 {
					match = i
				}
			}
		}
		if match < 0 {
			return nil
		}
		if _, err := c.exec(s.d.q.rcDeleteOne, codes[match].seq); err != nil {
			return err
		}
		taken, left = true, left-1
		return nil
	})
	if err != nil {
		return false, 0, err
	}
	return taken, left, nil
}
