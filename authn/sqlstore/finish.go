package sqlstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

var _ authn.FinishStore = (*Store)(nil)

// AttemptCommit implements authn.FinishStore: Attempt and, on a match,
// CommitStep in one atomic step. On SQLite that is one write
// transaction (one commit, one fsync) holding the database's write lock
// throughout; on PostgreSQL one call of authn_finish (migration 0005),
// run in autocommit: one round trip.
func (s *Store) AttemptCommit(ctx context.Context, user, client string, a authn.ChallengeAnswer, maxDrift int, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	if s.d.q.finishFn != "" {
		return s.finishOne(ctx, user, client, a, maxDrift, p, now)
	}
	var res authn.AttemptResult
	err := s.write(ctx, "AttemptCommit", func(c *conn) error {
		var err error
		res, err = s.attemptIn(c, user, client, a.ID, a.MAC, a.ServerStep, p, now)
		if err != nil || res.Outcome != authn.AttemptMatch {
			return err
		}
		t := res.Match
		res.Commit = s.commitIn(c, user, t.Device, res.Challenge.Epoch, t.Step, authn.CommitDrift(t, a.ServerStep, maxDrift))
		if res.Commit != nil && !outcome(res.Commit) {
			return res.Commit // a failure: the whole step rolls back
		}
		return nil
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}

// finishOne is AttemptCommit in one statement: authn_finish, which runs
// authn_attempt and then authn_commit_step in the call's transaction.
func (s *Store) finishOne(ctx context.Context, user, client string, a authn.ChallengeAnswer, maxDrift int, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	var res authn.AttemptResult
	err := s.single(ctx, "AttemptCommit", func(c *conn) error {
		var commit int64
		var err error
		res, err = scanAttempt(c.row(s.d.q.finishFn, user, client, a.ID, a.MAC[:], int64(a.ServerStep), int64(p.MaxFailures),
			int64(p.Window), int64(p.MaxAttempts), s.locks(p), int64(p.Horizon), int64(p.SlowLock),
			int64(p.MaxClients), int64(p.Max), nanos(now), int64(maxDrift)), a.MAC, &commit)
		if err != nil || res.Outcome != authn.AttemptMatch {
			return err
		}
		res.Commit = commitResult(commit)
		if res.Commit != nil && !outcome(res.Commit) {
			return res.Commit
		}
		return nil
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}
