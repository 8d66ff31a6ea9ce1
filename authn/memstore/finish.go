package memstore

import (
	"context"
	"time"

	"github.com/keyline/keyline/authn"
)

var _ authn.FinishStore = (*Store)(nil)

// AttemptCommit implements authn.FinishStore: Attempt and, on a match,
// CommitStep, under one hold of the store's lock.
func (s *Store) AttemptCommit(_ context.Context, user, client string, a authn.ChallengeAnswer, maxDrift int, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.attempt(user, client, &a, p, now)
	if err != nil || res.Outcome != authn.AttemptMatch {
		return res, err
	}
	t := res.Match
	res.Commit = s.commitStep(user, t.Device, res.Challenge.Epoch, t.Step, authn.CommitDrift(t, a.ServerStep, maxDrift))
	return res, nil
}
