package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testMirroredIssue checks authn.MirroredIssuer on a hot store that
// implements it (skipped otherwise): a cached version passes only a
// live mirror equal to it, a fresh one raises the mirror unless it is
// above, RaiseDevices only raises, a stale issue stores nothing, the
// mirror's life is bounded and not extended by cached issues, a stored
// challenge has PutChallenge's outcomes, and DeleteUser erases the
// mirror.
func testMirroredIssue(t *testing.T, newStores func(tb testing.TB) Stores) {
	st := newStores(t)
	mi, ok := st.Hot.(authn.MirroredIssuer)
	if !ok {
		t.Skip("the hot store does not mirror the devices version (authn.MirroredIssuer)")
	}
	s := st.pair()
	ctx := t.Context()
	n := 0
	// issue issues a new challenge (a new ID and question) claiming the
	// devices at v, and reports whether it was stale; when it was not,
	// the challenge's one tag matches once.
	issue := func(v uint64, fresh bool, now time.Time) bool {
		t.Helper()
		n++
		id := "ch-m" + string(rune('a'+n%26)) + string(rune('a'+n/26))
		stale, err := mi.IssueMirrored(ctx, newChallenge("alice", id, 0, now, tag(byte(n), "dev-1", step0, 0)), limits, v, fresh, now)
		require.NoError(t, err)
		want := authn.AttemptMatch
		if stale {
			want = authn.AttemptNoChallenge // nothing stored
		}
		requireOutcome(t, want, attempt(t, s, "alice", id, mac(byte(n)), step0, policy, now))
		return stale
	}

	require.True(t, issue(5, false, t0), "no mirror: a cached version is stale")
	require.False(t, issue(5, true, t0), "a fresh version sets the mirror")
	require.False(t, issue(5, false, t0), "a cached version equal to the mirror")
	require.True(t, issue(4, false, t0), "a cached version below the mirror")
	require.True(t, issue(6, false, t0), "a cached version above the mirror")

	require.NoError(t, mi.RaiseDevices(ctx, "alice", 7, t0))
	require.True(t, issue(5, false, t0), "raised: the old cached version is stale")
	require.True(t, issue(5, true, t0), "a fresh read older than the raise is stale too")
	require.False(t, issue(7, false, t0), "the raised version")
	require.NoError(t, mi.RaiseDevices(ctx, "alice", 6, t0))
	require.False(t, issue(7, false, t0), "a late, lower raise changes nothing")
	require.True(t, issue(6, false, t0))
	require.False(t, issue(8, true, t0), "a fresh read above the mirror raises it")
	require.True(t, issue(7, false, t0))

	// The mirror's life runs from the last fresh read or raise, with
	// the Service's clock; cached issues do not extend it. A day is past
	// any life a store chooses.
	later := t0.Add(24 * time.Hour)
	for range 3 {
		require.False(t, issue(8, false, t0.Add(time.Second)))
	}
	require.True(t, issue(8, false, later), "an expired mirror: a cached version is stale")
	require.True(t, issue(7, true, later), "an expired mirror still only rises")
	require.False(t, issue(8, true, later), "a fresh read makes it live again")
	require.False(t, issue(8, false, later))
	require.NoError(t, mi.RaiseDevices(ctx, "alice", 8, later.Add(24*time.Hour)))
	require.False(t, issue(8, false, later.Add(24*time.Hour)), "a raise to the same version makes it live again")

	// Stored: PutChallenge's checks and outcomes.
	at := later.Add(24 * time.Hour)
	c := newChallenge("alice", "ch-q1", 0, at)
	_, err := mi.IssueMirrored(ctx, c, limits, 8, false, at)
	require.NoError(t, err)
	c.ID = "ch-q2"
	stale, err := mi.IssueMirrored(ctx, c, limits, 8, false, at)
	require.False(t, stale)
	require.ErrorIs(t, err, authn.ErrStoreConflict, "a question within the horizon")
	require.NoError(t, st.Hot.RaiseEpoch(ctx, "alice", 3, at))
	stale, err = mi.IssueMirrored(ctx, newChallenge("alice", "ch-e", 2, at), limits, 8, false, at)
	require.False(t, stale)
	require.ErrorIs(t, err, authn.ErrStoreConflict, "an epoch older than the store's copy")
	tight := limits
	tight.PerMinute = 1
	stale, err = mi.IssueMirrored(ctx, newChallenge("alice", "ch-l", 3, at), tight, 8, false, at)
	require.False(t, stale)
	require.ErrorIs(t, err, authn.ErrStoreLimit, "the per-minute budget")

	// DeleteUser erases the mirror.
	require.NoError(t, st.Hot.DeleteUser(ctx, "alice", at))
	require.True(t, issue(8, false, at), "no mirror after DeleteUser")
	require.False(t, issue(1, true, at), "a returning user starts a new mirror")
}
