package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testAttemptCommit checks authn.FinishStore's AttemptCommit on a store
// that implements it (skipped otherwise): the attempt counted and
// compared as Attempt does it, and on a match the step committed in the
// same step, with CommitStep's refusals reported in the result's Commit
// and the drift bounded as authn.CommitDrift bounds it.
func testAttemptCommit(t *testing.T, newStores func(tb testing.TB) Stores) {
	st := newStores(t)
	fs, ok := st.Hot.(authn.FinishStore)
	if !ok || !st.pair().same() {
		t.Skip("the store does not make a finish one step (authn.FinishStore)")
	}
	ctx := t.Context()
	activeDevice(t, fs, "alice", "dev-1", t0)
	pendingDevice(t, fs, "alice", "dev-p", t0)
	e := userState(t, fs, "alice", t0).Epoch
	device := func() authn.DeviceRecord {
		d, err := getDevice(ctx, fs, "alice", "dev-1")
		require.NoError(t, err)
		return d
	}
	try := func(id string, m [16]byte, maxDrift int) authn.AttemptResult {
		r, err := fs.AttemptCommit(ctx, "alice", "", authn.ChallengeAnswer{ID: id, MAC: m, ServerStep: step0}, maxDrift, policy, t0)
		require.NoError(t, err)
		return r
	}

	// A wrong answer: counted, nothing committed.
	putChallenge(t, fs, newChallenge("alice", "ch-1", e, t0, tag(1, "dev-1", step0+1, 0)), t0)
	r := try("ch-1", wrongMAC, 10)
	requireOutcome(t, authn.AttemptMismatch, r)
	require.NoError(t, r.Commit)
	require.Equal(t, 1, r.Failures, "counted")
	require.Equal(t, uint64(0), device().LastStep, "a mismatch commits nothing")

	// The right one: matched, consumed, failures reset and the step
	// committed with its drift, bounded.
	r = try("ch-1", mac(1), 10)
	requireOutcome(t, authn.AttemptMatch, r)
	require.NoError(t, r.Commit)
	require.Equal(t, 0, r.Failures)
	require.Equal(t, "dev-1", r.Match.Device)
	require.Equal(t, uint64(step0+1), device().LastStep)
	require.Equal(t, 1, device().Drift)
	requireOutcome(t, authn.AttemptNoChallenge, try("ch-1", mac(1), 10), "consumed")

	putChallenge(t, fs, newChallenge("alice", "ch-2", e, t0, tag(2, "dev-1", step0+1, 0)), t0)
	r = try("ch-2", mac(2), 0)
	requireOutcome(t, authn.AttemptMatch, r)
	require.NoError(t, r.Commit, "the same step again: two logins in one step")
	require.Equal(t, 0, device().Drift, "the drift bounded by maxDrift")

	// An older step than the last: the match stands, the commit is
	// refused and changes nothing.
	putChallenge(t, fs, newChallenge("alice", "ch-3", e, t0, tag(3, "dev-1", step0, 0)), t0)
	r = try("ch-3", mac(3), 10)
	requireOutcome(t, authn.AttemptMatch, r)
	require.ErrorIs(t, r.Commit, authn.ErrStoreConflict, "a replay")
	require.Equal(t, uint64(step0+1), device().LastStep)
	requireOutcome(t, authn.AttemptNoChallenge, try("ch-3", mac(3), 10), "consumed all the same")

	// A device that is not active: not found.
	putChallenge(t, fs, newChallenge("alice", "ch-4", e, t0, tag(4, "dev-p", step0, 0)), t0)
	r = try("ch-4", mac(4), 10)
	requireOutcome(t, authn.AttemptMatch, r)
	require.ErrorIs(t, r.Commit, authn.ErrStoreNotFound)

	// Locked: nothing counted, compared or committed.
	strict := policy
	strict.MaxFailures = 1
	putChallenge(t, fs, newChallenge("alice", "ch-5", e, t0, tag(5, "dev-1", step0+1, 0)), t0)
	r, err := fs.AttemptCommit(ctx, "alice", "", authn.ChallengeAnswer{ID: "ch-5", MAC: wrongMAC, ServerStep: step0}, 10, strict, t0)
	require.NoError(t, err)
	require.Greater(t, r.RetryAfter, 0*r.RetryAfter, "the failure locked")
	r, err = fs.AttemptCommit(ctx, "alice", "", authn.ChallengeAnswer{ID: "ch-5", MAC: mac(5), ServerStep: step0}, 10, strict, t0)
	require.NoError(t, err)
	requireOutcome(t, authn.AttemptLocked, r)
	require.NoError(t, r.Commit)
	require.Equal(t, uint64(step0+1), device().LastStep)
}
