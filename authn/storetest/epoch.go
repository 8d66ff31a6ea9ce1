package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testLostRaise checks what holds when the hot store misses a
// revocation (the Service's RaiseEpoch after it was lost: the hot store
// unreachable right after the records' step): a pending push request of
// the old epoch cannot be approved nor listed, and reads expired, since
// every push step gets the records' epoch; a challenge of the old epoch
// may still match in a hot store with an epoch copy, but CommitStep in
// the records refuses it; and the next challenge, which carries the new
// epoch, brings the hot store up to date, so that the old challenge
// reads expired from then on.
func testLostRaise(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	p, _ := s.(pair)
	records := authn.RecordStore(s)
	if p.RecordStore != nil {
		records = p.RecordStore // bypass the pair's RaiseEpoch
	}
	ctx := t.Context()
	activeDevice(t, s, "alice", "dev-1", t0)
	activeDevice(t, s, "alice", "dev-2", t0)
	e := userState(t, s, "alice", t0).Epoch
	putPush(t, s, newPush("alice", "push-1", e, t0, "dev-1", "dev-2"), t0)
	putChallenge(t, s, newChallenge("alice", "ch-1", e, t0, tag(1, "dev-1", step0, 0)), t0)
	putChallenge(t, s, newChallenge("alice", "ch-2", e, t0, tag(2, "dev-1", step0, 0)), t0)

	now := t0.Add(time.Second)
	_, err := records.ChangeDevice(ctx, "alice", "dev-2", authn.DeviceChange{Revoke: true}, now)
	require.NoError(t, err)
	e2 := userState(t, s, "alice", now).Epoch
	require.Greater(t, e2, e, "the revocation bumped the epoch in the records")

	rec, err := movePush(ctx, s, "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", now)
	require.ErrorIs(t, err, authn.ErrStoreConflict, "a request made before a revocation approved")
	require.Equal(t, authn.PushExpired, rec.State)
	requirePushState(t, s, "push-1", now, authn.PushExpired, "a request made before a revocation")
	require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now), "requests made before a revocation")

	r := attempt(t, s, "alice", "ch-1", mac(1), step0, policy, now)
	if r.Outcome == authn.AttemptMatch {
		require.ErrorIs(t, s.CommitStep(ctx, "alice", "dev-1", r.Challenge.Epoch, step0, 0, now), authn.ErrStoreConflict,
			"a challenge of the old epoch committed")
	} else {
		requireOutcome(t, authn.AttemptExpired, r, "a challenge of the old epoch")
	}

	putChallenge(t, s, newChallenge("alice", "ch-3", e2, now, tag(3, "dev-1", step0, 0)), now)
	requireOutcome(t, authn.AttemptExpired, attempt(t, s, "alice", "ch-2", mac(2), step0, policy, now),
		"a challenge of the old epoch, once a challenge of the new one was stored")
	requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-3", mac(3), step0, policy, now))
}
