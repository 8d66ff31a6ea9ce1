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

// testIssueChallenge checks authn.IssueStore's IssueChallenge on a store
// that implements it (skipped otherwise): a challenge made from the
// user's devices as they stand is stored as PutChallenge stores it; one
// made from devices that moved (another epoch, a device added, a drift,
// name or sealed secret changed) stores nothing and returns the devices
// as they stand.
func testIssueChallenge(t *testing.T, newStores func(tb testing.TB) Stores) {
	st := newStores(t)
	is, ok := st.Hot.(authn.IssueStore)
	if !ok || !st.pair().same() {
		t.Skip("the store does not check a challenge's devices (authn.IssueStore)")
	}
	ctx := t.Context()
	active := func() authn.UserDevices {
		ds, err := is.Devices(ctx, "alice")
		require.NoError(t, err)
		out := []authn.DeviceRecord{}
		for _, d := range ds {
			if d.State == authn.DeviceActive {
				out = append(out, d)
			}
		}
		return authn.UserDevices{Epoch: userState(t, is, "alice", t0).Epoch, Devices: out}
	}
	issue := func(id string, ud authn.UserDevices, lim authn.ChallengeLimits) (authn.UserDevices, bool, error) {
		return is.IssueChallenge(ctx, newChallenge("alice", id, ud.Epoch, t0, tag(1, "dev-1", step0, 0)), lim, ud.Devices, t0)
	}
	requireStale := func(id string, ud authn.UserDevices, msg string) authn.UserDevices {
		t.Helper()
		fresh, stale, err := issue(id, ud, limits)
		require.NoError(t, err, msg)
		require.True(t, stale, msg)
		now := active()
		require.Equal(t, now.Epoch, fresh.Epoch, msg)
		require.True(t, authn.SameDevices(now.Devices, fresh.Devices), "%s: the devices as they stand", msg)
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, is, "alice", id, wrongMAC, step0, policy, t0), "%s: nothing stored", msg)
		return fresh
	}

	// No device yet: an empty list is the user's.
	none := active()
	_, stale, err := issue("ch-0", none, limits)
	require.NoError(t, err)
	require.False(t, stale)

	activeDevice(t, is, "alice", "dev-1", t0)
	pendingDevice(t, is, "alice", "dev-p", t0)
	ud := requireStale("ch-1", none, "a device paired since")
	require.Len(t, ud.Devices, 1, "pending devices are not the user's active ones")
	_, stale, err = issue("ch-2", ud, limits)
	require.NoError(t, err)
	require.False(t, stale)
	requireOutcome(t, authn.AttemptMatch, attempt(t, is, "alice", "ch-2", mac(1), step0, policy, t0), "stored, with its tags")

	// Each field that enters a challenge.
	require.NoError(t, is.CommitStep(ctx, "alice", "dev-1", ud.Epoch, step0+1, 2, t0))
	ud = requireStale("ch-3", ud, "a drift changed")
	require.NoError(t, is.CommitStep(ctx, "alice", "dev-1", ud.Epoch, step0+2, 2, t0))
	_, stale, err = issue("ch-4", ud, limits)
	require.NoError(t, err)
	require.False(t, stale, "a later step with the same drift is no change")
	name := "new name"
	_, err = is.ChangeDevice(ctx, "alice", "dev-1", authn.DeviceChange{Name: &name}, t0)
	require.NoError(t, err)
	ud = requireStale("ch-5", ud, "a name changed")
	require.NoError(t, swapSecret(ctx, is, "alice", "dev-1", ud.Devices[0].Secret, []byte("resealed")))
	ud = requireStale("ch-6", ud, "a sealed secret changed")
	activeDevice(t, is, "alice", "dev-2", t0)
	ud = requireStale("ch-7", ud, "a second device")
	require.Len(t, ud.Devices, 2)
	require.NoError(t, revoke(ctx, is, "alice", "dev-2", t0))
	old := ud
	ud = requireStale("ch-8", ud, "a revocation")
	require.Greater(t, ud.Epoch, old.Epoch)
	stillOne := authn.UserDevices{Epoch: old.Epoch, Devices: ud.Devices}
	requireStale("ch-9", stillOne, "the devices as they are, at an old epoch")

	// PutChallenge's outcomes.
	_, stale, err = issue("ch-10", ud, limits)
	require.NoError(t, err)
	require.False(t, stale)
	c := newChallenge("alice", "ch-11", ud.Epoch, t0)
	c.Question = "q-ch-10"
	_, _, err = is.IssueChallenge(ctx, c, limits, ud.Devices, t0)
	require.ErrorIs(t, err, authn.ErrStoreConflict, "a question within its horizon")
	_, _, err = issue("ch-10", ud, limits)
	require.ErrorIs(t, err, authn.ErrStoreConflict, "an ID taken")
	tight := limits
	tight.PerMinute = 1
	_, _, err = issue("ch-12", ud, tight)
	require.ErrorIs(t, err, authn.ErrStoreLimit, "the per-minute budget")
}
