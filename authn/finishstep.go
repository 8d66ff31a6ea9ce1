package authn

import (
	"context"
	"errors"
	"time"
)

// attemptAndCommit is the store-call sequence of a challenge's finish:
// the counted attempt of the answer and, on a match, the commit of the
// matched device's step (at the challenge's epoch, with the drift
// CommitDrift gives). On a store that makes both one atomic step
// (FinishStore, Hot and Records being that one value) it is one call:
// one durable write per finish. Otherwise it is Attempt in the hot
// store, then, on a match, CommitStep in the records: two round trips,
// each one atomic step, with the same outcomes.
//
// err is a system failure of either call; the commit's refusal
// (ErrStoreConflict, ErrStoreNotFound) is in res.Commit.
func (s *Service) attemptAndCommit(ctx context.Context, user, client string, a ChallengeAnswer, now time.Time) (res AttemptResult, err error) {
	if fs, ok := s.finishStore(); ok {
		return fs.AttemptCommit(ctx, user, client, a, s.cfg.ResyncWindow, s.lockPolicy(), now)
	}
	res, err = s.hot.Attempt(ctx, user, client, &a, s.lockPolicy(), now)
	if err != nil || res.Outcome != AttemptMatch {
		return res, err
	}
	t := res.Match
	drift := CommitDrift(t, a.ServerStep, s.cfg.ResyncWindow)
	res.Commit = s.records.CommitStep(ctx, user, t.Device, res.Challenge.Epoch, t.Step, drift, now)
	if res.Commit != nil && !outcomeErr(res.Commit) {
		return AttemptResult{}, res.Commit
	}
	if res.Commit != nil || drift != t.Drift {
		// The device's drift moved, and with it the devices version: the
		// hot store's mirror follows (a login at the same drift, nearly
		// every one, stays one script and one statement). A refused
		// commit (the epoch moved, the device gone) may say that the
		// mirrors missed a change (a lost raise), and a cache issued this
		// challenge: they are raised again from the records, so that the
		// user's next challenge is made from the devices as they stand.
		s.devicesChangedQuietly(ctx, user, now)
	}
	return res, nil
}

// finishStore returns the one store keeping both halves, if it makes a
// finish one step.
func (s *Service) finishStore() (FinishStore, bool) {
	if !s.oneStore {
		return nil, false
	}
	fs, ok := s.hot.(FinishStore)
	return fs, ok
}

// outcomeErr reports whether err is a commit's documented refusal.
func outcomeErr(err error) bool {
	return errors.Is(err, ErrStoreConflict) || errors.Is(err, ErrStoreNotFound)
}
