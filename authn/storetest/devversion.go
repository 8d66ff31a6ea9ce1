package storetest

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testDevicesVersion checks the devices version of authn.LoginRecords on
// a record store that reads it (skipped otherwise): raised by every
// change to what authn.SameDevices compares (pairing, a replacement,
// rename, a new sealed secret, a drift that moves, a revocation), left
// by a commit that only moves the last step, and never back to a value
// it had, not even after DeleteUser and the user's return.
func testDevicesVersion(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	lr, ok := s.(pair).RecordStore.(authn.LoginRecords)
	if !ok {
		t.Skip("the record store does not read a user's devices in one step (authn.LoginRecords)")
	}
	ctx := t.Context()
	read := func() authn.UserDevices {
		t.Helper()
		d, err := lr.UserDevices(ctx, "alice", t0)
		require.NoError(t, err)
		return d
	}
	seen := map[uint64]bool{}
	last := read().Version
	require.Equal(t, uint64(0), last, "a user never seen")
	seen[last] = true
	// raised checks that what ran raised the version to a value never
	// seen before for the user, and above the last one.
	raised := func(what string) {
		t.Helper()
		v := read().Version
		require.Greater(t, v, last, "%s raises the devices version", what)
		require.False(t, seen[v], "%s: a version the user had before", what)
		seen[v], last = true, v
	}
	kept := func(what string) {
		t.Helper()
		require.Equal(t, last, read().Version, "%s leaves the devices version", what)
	}

	pendingDevice(t, s, "alice", "dev-1", t0)
	last = read().Version // a pending device is in no challenge: raising is allowed, not needed
	seen[last] = true
	_, err := activate(ctx, s, "alice", "dev-1", t0)
	require.NoError(t, err)
	raised("pairing")
	e := userState(t, s, "alice", t0).Epoch

	require.NoError(t, s.CommitStep(ctx, "alice", "dev-1", e, 100, 0, t0))
	kept("a commit of the last step alone (every login)")
	require.NoError(t, s.CommitStep(ctx, "alice", "dev-1", e, 101, 2, t0))
	raised("a commit that moves the drift")
	require.Equal(t, 2, read().Devices[0].Drift)
	require.NoError(t, s.CommitStep(ctx, "alice", "dev-1", e, 102, 2, t0))
	kept("a commit at the same drift")
	require.ErrorIs(t, s.CommitStep(ctx, "alice", "dev-1", e, 90, -3, t0), authn.ErrStoreConflict)
	kept("a refused commit")

	require.NoError(t, renameDev(ctx, s, "alice", "dev-1", "renamed"))
	raised("a rename")
	old := read().Devices[0].Secret
	require.NoError(t, swapSecret(ctx, s, "alice", "dev-1", old, []byte("resealed root of dev-1")))
	raised("a resealed secret")

	// A replacement: the new device paired, the old one removed, in
	// one step.
	a := waitingActivation("alice", "sid-2", t0)
	a.Replacing = "dev-1"
	require.NoError(t, s.PutActivation(ctx, a, t0))
	dev := deviceRecord("alice", "dev-2", "sid-2", t0)
	dev.Replacing = "dev-1"
	_, err = s.CompleteActivation(ctx, "sid-2", requestHash("dev-2"), serverConfirm("dev-2"), dev, 100, t0)
	require.NoError(t, err)
	last = read().Version
	seen[last] = true
	_, err = activate(ctx, s, "alice", "dev-2", t0)
	require.NoError(t, err)
	raised("a replacement")
	got := read()
	require.Len(t, got.Devices, 1)
	require.Equal(t, "dev-2", got.Devices[0].ID)

	activeDevice(t, s, "alice", "dev-3", t0)
	raised("a second device")
	require.NoError(t, revoke(ctx, s, "alice", "dev-2", t0))
	raised("a revocation")

	// Erased and back: the version goes on from where it was.
	require.NoError(t, s.DeleteUser(ctx, "alice", t0))
	require.Empty(t, read().Devices)
	activeDevice(t, s, "alice", "dev-4", t0)
	raised("pairing after DeleteUser")

	// Another user's changes leave alice's version.
	activeDevice(t, s, "bob", "dev-b", t0)
	kept("another user's pairing")
}

// testDevicesVersionFinish checks, on a store that makes a finish one
// step (authn.FinishStore) and reads the devices version
// (authn.LoginRecords), that AttemptCommit raises the version when the
// drift it commits moves, and leaves it when only the step moves.
func testDevicesVersionFinish(t *testing.T, newStores func(tb testing.TB) Stores) {
	st := newStores(t)
	fs, ok := st.Hot.(authn.FinishStore)
	lr, lok := st.Records.(authn.LoginRecords)
	if !ok || !lok || !st.pair().same() {
		t.Skip("the store does not make a finish one step (authn.FinishStore) or read the devices version")
	}
	ctx := t.Context()
	activeDevice(t, fs, "alice", "dev-1", t0)
	e := userState(t, fs, "alice", t0).Epoch
	version := func() uint64 {
		d, err := lr.UserDevices(ctx, "alice", t0)
		require.NoError(t, err)
		return d.Version
	}
	finish := func(id string, b byte, step uint64) {
		t.Helper()
		putChallenge(t, fs, newChallenge("alice", id, e, t0, tag(b, "dev-1", step, 0)), t0)
		r, err := fs.AttemptCommit(ctx, "alice", "", authn.ChallengeAnswer{ID: id, MAC: mac(b), ServerStep: step0}, 10, policy, t0)
		require.NoError(t, err)
		requireOutcome(t, authn.AttemptMatch, r)
		require.NoError(t, r.Commit)
	}
	v := version()
	finish("ch-1", 1, step0)
	require.Equal(t, v, version(), "a finish at the same drift leaves the devices version")
	finish("ch-2", 2, step0+1)
	require.Greater(t, version(), v, "a finish that moves the drift raises it")
	v = version()
	finish("ch-3", 3, step0+1)
	require.Equal(t, v, version(), "the same step and drift again")
}

// testDevicesVersionConcurrent: changes of one user's devices racing
// (commits that move drifts, renames) each succeed, none waiting on
// another forever (a store raising the version under a lock must not
// make two commits deadlock), and the version ends above where it
// began.
func testDevicesVersionConcurrent(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	lr, ok := s.(pair).RecordStore.(authn.LoginRecords)
	if !ok {
		t.Skip("the record store does not read a user's devices in one step (authn.LoginRecords)")
	}
	ctx := t.Context()
	activeDevice(t, s, "alice", "dev-1", t0)
	activeDevice(t, s, "alice", "dev-2", t0)
	e := userState(t, s, "alice", t0).Epoch
	before, err := lr.UserDevices(ctx, "alice", t0)
	require.NoError(t, err)
	const n = 8
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			dev := []string{"dev-1", "dev-2"}[i%2]
			// Steps apart per goroutine, so that none is refused as a replay.
			errs <- s.CommitStep(ctx, "alice", dev, e, uint64(1000+i), i%3-1, t0)
		})
		wg.Go(func() { errs <- renameDev(ctx, s, "alice", []string{"dev-1", "dev-2"}[i%2], "name "+strconv.Itoa(i)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			require.ErrorIs(t, err, authn.ErrStoreConflict, "only a step older than the last is refused")
		}
	}
	after, err := lr.UserDevices(ctx, "alice", t0)
	require.NoError(t, err)
	require.Greater(t, after.Version, before.Version)
}
