package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyline/keyline/authn"
)

// PutChallenge implements authn.Store.
func (s *Store) PutChallenge(ctx context.Context, ch authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	tags, err := encodeTags(ch.Tags)
	if err != nil {
		return s.fail("PutChallenge", err)
	}
	names, err := jsonText(ch.Names)
	if err != nil {
		return s.fail("PutChallenge", err)
	}
	return s.write(ctx, "PutChallenge", func(c *conn) error {
		if err := s.lockRow(c, ch.User); err != nil {
			return err
		}
		return s.putIn(c, ch, tags, names, lim, now)
	})
}

// putIn is PutChallenge's step in the write transaction c, the user's
// row locked (where the dialect locks rows), with the tags and names
// encoded.
func (s *Store) putIn(c *conn, ch authn.ChallengeRecord, tags []byte, names any, lim authn.ChallengeLimits, now time.Time) error {
	q := &s.d.q
	var n int
	if err := c.row(q.chExists, ch.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return authn.ErrStoreConflict
	}
	e, err := s.epoch(c, ch.User)
	if err != nil {
		return err
	}
	if e != ch.Epoch {
		return authn.ErrStoreConflict
	}
	var until int64
	ok, err := found(c.row(q.qGet, ch.User, ch.Question).Scan(&until))
	if err != nil {
		return err
	}
	if ok && now.Before(at(until)) {
		return authn.ErrStoreConflict
	}
	// The per-minute budget: issue times within the last minute.
	if _, err := c.exec(q.isPrune, ch.User, nanos(now.Add(-time.Minute))); err != nil {
		return err
	}
	if err := c.row(q.isCount, ch.User).Scan(&n); err != nil {
		return err
	}
	if n >= lim.PerMinute {
		return authn.ErrStoreLimit
	}
	// Void the oldest live challenges beyond the outstanding budget.
	live, err := s.strings(c, q.chLive, ch.User, nanos(now))
	if err != nil {
		return err
	}
	for len(live) > 0 && len(live) >= lim.Outstanding {
		if _, err := c.exec(q.chDelete, live[0]); err != nil {
			return err
		}
		live = live[1:]
	}
	if _, err := c.exec(q.qPut, ch.User, ch.Question, nanos(now.Add(lim.Horizon))); err != nil {
		return err
	}
	if _, err := c.exec(q.isInsert, ch.User, nanos(now)); err != nil {
		return err
	}
	_, err = c.exec(q.chInsert, ch.ID, ch.User, ch.Question, int64(ch.Epoch), tags, int64(ch.Window),
		int64(ch.Attempts), nanos(ch.IssuedAt), nanos(ch.ExpiresAt), blob(ch.Payload), names, ch.Resync,
		int64(ch.ResyncDrift))
	if err != nil && s.d.isUnique(err) {
		// Another user's challenge of that ID, stored meanwhile
		// (chExists saw none): refused, and nothing recorded.
		return &refusal{authn.ErrStoreConflict}
	}
	return err
}

func (s *Store) strings(c *conn, q string, args ...any) ([]string, error) {
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanChallenge(sc scanner) (authn.ChallengeRecord, []byte, error) {
	var ch authn.ChallengeRecord
	var tags []byte
	var names sql.NullString
	var epoch, win, attempts, issued, exp, rdrift int64
	err := sc.Scan(&ch.ID, &ch.User, &ch.Question, &epoch, &tags, &win, &attempts, &issued, &exp, &ch.Payload,
		&names, &ch.Resync, &rdrift)
	if err != nil {
		return ch, nil, err
	}
	ch.Epoch, ch.Window, ch.Attempts, ch.ResyncDrift = uint64(epoch), int(win), int(attempts), int(rdrift)
	ch.IssuedAt, ch.ExpiresAt = at(issued), at(exp)
	if err := fromJSON(names, &ch.Names); err != nil {
		return ch, nil, fmt.Errorf("challenge %q: names: %w", ch.ID, err)
	}
	return ch, tags, nil
}

// Attempt implements authn.Store.
func (s *Store) Attempt(ctx context.Context, user, client string, a *authn.ChallengeAnswer, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	if a == nil {
		return s.count(ctx, user, client, p, now)
	}
	challengeID, mac, serverStep := a.ID, a.MAC, a.ServerStep
	if s.d.q.attemptFn != "" {
		return s.attemptOne(ctx, user, client, challengeID, mac, serverStep, p, now)
	}
	var res authn.AttemptResult
	err := s.write(ctx, "Attempt", func(c *conn) error {
		var err error
		res, err = s.attemptIn(c, user, client, challengeID, mac, serverStep, p, now)
		return err
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}

// attemptIn is Attempt with an answer, in the write transaction c (the
// dialects without an attempt function).
func (s *Store) attemptIn(c *conn, user, client, challengeID string, mac [16]byte, serverStep uint64, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	q := &s.d.q
	var res authn.AttemptResult
	err := func() error {
		usr, err := s.lockUser(c, user)
		if err != nil {
			return err
		}
		u, client, err := s.lockedBucket(c, user, client, p, now)
		if err != nil {
			return err
		}
		var ok bool
		if res, ok = locked(u, now); ok {
			res.Client = client
			return nil
		}
		ch, rawTags, err := scanChallenge(c.row(q.chGet, challengeID))
		ok, err = found(err)
		if err != nil {
			return err
		}
		if ok && ch.User != user {
			ok = false
		}
		if ok && (!now.Before(ch.ExpiresAt) || ch.Epoch != usr.Epoch) {
			res = authn.AttemptResult{Outcome: authn.AttemptExpired, Failures: u.Failures, Slow: u.Slow, Client: client}
			_, err := c.exec(q.chDelete, challengeID)
			return err
		}
		// Counted before checked.
		lock := p.Fail(&u, now)
		res = authn.AttemptResult{RetryAfter: lock, Failures: u.Failures, Slow: u.Slow, Client: client}
		switch {
		case !ok:
			res.Outcome = authn.AttemptNoChallenge
		case ch.Attempts+1 > p.MaxAttempts:
			res.Outcome = authn.AttemptExhausted
			if _, err := c.exec(q.chDelete, challengeID); err != nil {
				return err
			}
		default:
			ch.Attempts++
			tags, err := decodeTags(rawTags)
			if err != nil {
				return fmt.Errorf("challenge %q: %w", challengeID, err)
			}
			res.Challenge = ch
			match := -1
			for i, t := range tags {
				eq := subtle.ConstantTimeCompare(mac[:], t.MAC[:])
				if eq == 1 && match < 0 && t.Admissible(serverStep, ch.Window) {
					match = i
				}
			}
			if match < 0 {
				res.Outcome = authn.AttemptMismatch
				if _, err := c.exec(q.chAttempts, challengeID, int64(ch.Attempts)); err != nil {
					return err
				}
				break
			}
			if _, err := c.exec(q.chDelete, challengeID); err != nil {
				return err
			}
			u.Reset()
			res.Outcome = authn.AttemptMatch
			res.Match = tags[match]
			res.RetryAfter, res.Failures = 0, 0
		}
		return s.saveBucket(c, user, client, u)
	}()
	return res, err
}

// locks returns p's lock lengths by level (authn.LockPolicy.Lengths) in
// nanoseconds, as the attempt function takes them: an array literal
// ("{60000000000,...}", which the server reads as its bigint[] parameter),
// made once per policy.
func (s *Store) locks(p authn.LockPolicy) string {
	if t, ok := s.tables.Load(p); ok {
		return t.(string)
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, d := range p.Lengths() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(int64(d), 10))
	}
	b.WriteByte('}')
	t := b.String()
	s.tables.Store(p, t)
	return t
}

// count is Attempt with no answer: the lock check and one failure, in
// one write transaction.
func (s *Store) count(ctx context.Context, user, client string, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	var res authn.AttemptResult
	err := s.write(ctx, "Attempt", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		u, client, err := s.lockedBucket(c, user, client, p, now)
		if err != nil {
			return err
		}
		var ok bool
		if res, ok = locked(u, now); ok {
			res.Client = client
			return nil
		}
		lock := p.Fail(&u, now)
		res = authn.AttemptResult{Outcome: authn.AttemptMismatch, RetryAfter: lock, Failures: u.Failures, Slow: u.Slow, Client: client}
		return s.saveBucket(c, user, client, u)
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}

// attemptOne is Attempt in one statement, a call of a function that
// does in the database what Attempt's transaction does, in the same order
// and with the same arithmetic (PostgreSQL migration 0003 defines it; its
// comments say how), run in autocommit: one round trip. The lockout
// rule goes to it as data, the lock lengths by level.
// TestPostgresAttemptMatchesSQLite checks it against the Go of SQLite's
// Attempt on random sequences.
func (s *Store) attemptOne(ctx context.Context, user, client, challengeID string, mac [16]byte, serverStep uint64, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	var res authn.AttemptResult
	err := s.single(ctx, "Attempt", func(c *conn) error {
		var err error
		res, err = scanAttempt(c.row(s.d.q.attemptFn, user, client, challengeID, mac[:], int64(serverStep), int64(p.MaxFailures),
			int64(p.Window), int64(p.MaxAttempts), s.locks(p), int64(p.Horizon), int64(p.SlowLock),
			int64(p.MaxClients), int64(p.Max), nanos(now)), mac)
		return err
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}

// scanAttempt reads the row of authn_attempt (or of a function that
// returns its columns first, then the extra ones given).
func scanAttempt(row scanner, mac [16]byte, extra ...any) (authn.AttemptResult, error) {
	var res authn.AttemptResult
	err := func() error {
		var outcome int64
		var retry, failures, slow int64
		var bucket string
		var dev []byte
		var step, drift, epoch, win, attempts, issued, exp, rdrift sql.NullInt64
		var id, chUser, question, resync, names sql.NullString
		var payload []byte
		err := row.Scan(append([]any{
			&outcome, &retry, &failures, &slow, &bucket, &dev, &step, &drift, &id, &chUser, &question, &epoch, &win, &attempts,
			&issued, &exp, &payload, &names, &resync, &rdrift}, extra...)...)
		if err != nil {
			return err
		}
		res = authn.AttemptResult{RetryAfter: time.Duration(retry), Failures: int(failures), Slow: int(slow), Client: bucket}
		switch outcome {
		case 0:
			res.Outcome = authn.AttemptMismatch
		case 1:
			res.Outcome = authn.AttemptMatch
			res.Match = authn.Tag{MAC: mac, Device: string(dev), Step: uint64(step.Int64), Drift: int(drift.Int64)}
		case 2:
			res.Outcome = authn.AttemptLocked
			return nil
		case 3:
			res.Outcome = authn.AttemptNoChallenge
			return nil
		case 4:
			res.Outcome = authn.AttemptExpired
			return nil
		case 5:
			res.Outcome = authn.AttemptExhausted
			return nil
		default:
			return fmt.Errorf("unknown attempt outcome %d", outcome)
		}
		ch := authn.ChallengeRecord{ID: id.String, User: chUser.String, Question: question.String,
			Epoch: uint64(epoch.Int64), Window: int(win.Int64), Attempts: int(attempts.Int64),
			IssuedAt: at(issued.Int64), ExpiresAt: at(exp.Int64), Payload: payload, Resync: resync.String,
			ResyncDrift: int(rdrift.Int64)}
		if err := fromJSON(names, &ch.Names); err != nil {
			return fmt.Errorf("challenge %q: names: %w", ch.ID, err)
		}
		res.Challenge = ch
		return nil
	}()
	return res, err
}

// commitOne is CommitStep in one statement (a function call that tells
// a refusal's reason too): one round trip. The function (migration 0002)
// does the compare-and-set (the device active, the step not before its
// last, the user's epoch read FOR SHARE, so that a revocation in progress
// is waited for) and, if it is refused, reads the device as it stands
// then, to tell ErrStoreNotFound from ErrStoreConflict.
func (s *Store) commitOne(ctx context.Context, user, deviceID string, epoch, step uint64, drift int) error {
	return s.single(ctx, "CommitStep", func(c *conn) error {
		var r int64
		if err := c.row(s.d.q.commitStepFn, user, deviceID, int64(epoch), int64(step), int64(drift)).Scan(&r); err != nil {
			return err
		}
		return commitResult(r)
	})
}

// commitResult is the error authn_commit_step's result stands for.
func commitResult(r int64) error {
	switch r {
	case 0:
		return nil
	case 1:
		return authn.ErrStoreNotFound
	case 2:
		return authn.ErrStoreConflict
	}
	return fmt.Errorf("unknown commit result %d", r)
}
