package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// cached reports whether the Service's key cache holds user's login keys.
func (e *env) cached(user string) bool {
	_, ok := authn.CachedKeyUsers(e.svc, user)
	return ok
}

// The device keys a challenge derives are kept (keycache.go), and every
// change of the user's devices or of the keys forgets them: an
// activation (a second phone, or a migration's replacement), a
// revocation, the user's deletion, key rotation.
func TestKeyCacheForgetsChangedUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, _ := e.enrollPhone(t, "alice", nil)
	bob, _ := e.enrollPhone(t, "bob", nil)
	begin := func(user string) {
		t.Helper()
		e.clock.Advance(time.Minute) // within the challenge budget
		_, err := e.svc.BeginChallenge(ctx, user)
		require.NoError(t, err)
		require.True(t, e.cached(user), "%s's keys kept after a challenge", user)
	}
	begin("alice")
	begin("bob")

	res := e.login(t, alice, "alice")
	require.True(t, e.cached("alice"))
	_, second := e.enrollPhone(t, "alice", res.Proof)
	require.False(t, e.cached("alice"), "an activation forgets the user's keys")
	require.True(t, e.cached("bob"), "and only the user's")

	begin("alice")
	res = e.login(t, alice, "alice")
	require.NoError(t, e.svc.RevokeDevice(ctx, "alice", second.ID, res.Proof))
	require.False(t, e.cached("alice"), "a revocation forgets the user's keys")

	begin("alice")
	require.NoError(t, e.svc.Operator("op").DeleteUser(ctx, "alice"))
	require.False(t, e.cached("alice"), "deleting the user forgets the keys")

	begin("nobody") // unknown users are cached like known ones
	_, err := e.svc.RotateKeys(ctx)
	require.NoError(t, err)
	n, _ := authn.CachedKeyUsers(e.svc, "bob")
	require.Zero(t, n, "key rotation empties the cache")
	e.login(t, bob, "bob") // the keys derived again from the resealed root log bob in
	require.True(t, e.cached("bob"))
}

// A wrong answer searches the resync window at most once per user and
// time step (resyncbound.go): after a first wrong answer, the drifted
// phone's answer in the same step is refused as any wrong one; in the
// next step it is found. Before the bound every wrong answer searched.
func TestResyncSearchOncePerStep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	phone, _ := e.enrollPhone(t, "alice", nil)
	e.clock.Advance(30*time.Second - time.Duration(e.clock.Now().Unix()%30)*time.Second) // the start of a step
	phone.skew = 5 * 30 * time.Second                                                    // beyond the window, within the resync window
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, phone.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode, "the search ran once in this step already")

	e.clock.Advance(30 * time.Second)
	ch, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, phone.respond(t, ch.Question))
	var rs *authn.ResyncError
	require.True(t, errors.As(err, &rs), "the next step's first wrong answer searches: %v", err)
	res, err := e.svc.FinishChallenge(ctx, "alice", rs.Next.ID, phone.respond(t, rs.Next.Question))
	require.NoError(t, err)
	require.Equal(t, 5, res.Drift)
}

// BeginChallenge allocates a few times per call, whatever the timing
// budget of devices: the store's record (ID, tags, names) and the
// memstore's copy of it. Before the key cache, the one-shot responses and
// the allocation-free tags it allocated 338 times (BENCHMARKS.md).
func TestBeginChallengeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	e := newEnv(t, func(c *authn.Config) {
		c.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
	})
	e.enrollPhone(t, "alice", nil)
	ctx := context.Background()
	for _, user := range []string{"alice", "nobody"} {
		n := testing.AllocsPerRun(20, func() {
			e.clock.Advance(time.Second)
			if _, err := e.svc.BeginChallenge(ctx, user); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocations per BeginChallenge", user, n)
		require.LessOrEqual(t, n, 24.0, user)
	}
}

// A zeroed keyring stops challenges as it did when every one unsealed the
// device roots: cached keys do not outlive it.
func TestKeyCacheEndsWithTheKeyring(t *testing.T) {
	kr := newKeyring(t)
	e := newEnv(t, func(c *authn.Config) { c.Keys = kr })
	e.enrollPhone(t, "alice", nil)
	ctx := context.Background()
	_, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	require.True(t, e.cached("alice"))
	kr.Zero()
	_, err = e.svc.BeginChallenge(ctx, "alice")
	require.ErrorIs(t, err, authn.ErrKeyringZeroed)
	require.False(t, e.cached("alice"))
}
