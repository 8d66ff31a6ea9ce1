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

var _ authn.IssueStore = (*Store)(nil)

// IssueChallenge implements authn.IssueStore: the check of the epoch and
// devices and PutChallenge, under one hold of the store's lock.
func (s *Store) IssueChallenge(_ context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, expect []authn.DeviceRecord, now time.Time) (authn.UserDevices, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var active []authn.DeviceRecord
	for _, d := range s.devices[c.User] {
		if d.State == authn.DeviceActive {
			active = append(active, cloneDevice(d))
		}
	}
	if e := s.user(c.User).Epoch; e != c.Epoch || !authn.SameDevices(active, expect) {
		if active == nil {
			active = []authn.DeviceRecord{}
		}
		return authn.UserDevices{Epoch: e, Devices: active}, true, nil
	}
	return authn.UserDevices{}, false, s.putChallenge(c, lim, now)
}
