package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// ---------------------------------------------------------------------
// Lockout buckets (known clients) and the long horizon.

// bucketPolicy is the Service's default policy, with room for two known
// clients so that the cap is reached quickly.
var bucketPolicy = authn.LockPolicy{MaxFailures: 5, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour,
	MaxAttempts: 3, Horizon: 7 * 24 * time.Hour, SlowLock: 24, MaxClients: 2}

// clientAttempt is attempt from client.
func clientAttempt(t *testing.T, s authn.Store, user, client, id string, m [16]byte, p authn.LockPolicy, now time.Time) authn.AttemptResult {
	t.Helper()
	r, err := s.Attempt(t.Context(), user, client, &authn.ChallengeAnswer{ID: id, MAC: m, ServerStep: step0}, p, now)
	require.NoError(t, err, "Attempt %s from %q on %s", user, client, id)
	return r
}

// buckets is the user's buckets by client.
func buckets(t *testing.T, s authn.Store, user string, now time.Time) map[string]authn.UserState {
	t.Helper()
	all, err := s.Lockout(t.Context(), user, now)
	require.NoError(t, err)
	require.NotEmpty(t, all, "the shared bucket is always there")
	require.Equal(t, "", all[0].Client, "the shared bucket first")
	m := map[string]authn.UserState{}
	for i, b := range all {
		if i > 0 {
			require.Less(t, all[i-1].Client, b.Client, "buckets by client")
		}
		m[b.Client] = b.State
	}
	return m
}

func testBuckets(t *testing.T, newStore func(t *testing.T) authn.Store) {
	p := bucketPolicy

	t.Run("AttackerLocksUnknownClientsNotTheKnownBrowser", func(t *testing.T) {
		s := newStore(t)
		// The attacker, an unknown client, types wrong codes until locked.
		for i := 1; i <= p.MaxFailures; i++ {
			r := clientAttempt(t, s, "alice", "", "ch-none", wrongMAC, p, t0)
			requireOutcome(t, authn.AttemptNoChallenge, r)
			require.Equal(t, "", r.Client)
		}
		requireOutcome(t, authn.AttemptLocked, clientAttempt(t, s, "alice", "", "ch-none", wrongMAC, p, t0))
		// The owner's known browser answers its challenge all the same.
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		r := clientAttempt(t, s, "alice", "browser-1", "ch-1", mac(1), p, t0)
		requireOutcome(t, authn.AttemptMatch, r, "the known client's bucket is its own")
		require.Equal(t, "browser-1", r.Client)
		// The success reset its own bucket only: the attacker stays locked.
		requireOutcome(t, authn.AttemptLocked, clientAttempt(t, s, "alice", "", "ch-none", wrongMAC, p, t0.Add(time.Second)))
		b := buckets(t, s, "alice", t0)
		require.True(t, t0.Before(b[""].LockedUntil), "the shared bucket is locked")
		require.Zero(t, b["browser-1"].Failures)
		require.True(t, b["browser-1"].LockedUntil.IsZero())
		// Another user is untouched.
		require.Len(t, buckets(t, s, "bob", t0), 1)
	})

	t.Run("EachBucketCountsAndResetsAlone", func(t *testing.T) {
		s := newStore(t)
		for range 2 {
			clientAttempt(t, s, "alice", "", "ch-none", wrongMAC, p, t0)
		}
		r := clientAttempt(t, s, "alice", "browser-1", "ch-none", wrongMAC, p, t0)
		require.Equal(t, 1, r.Failures, "the known client's failures are its own")
		u, err := s.RecordFailure(t.Context(), "alice", "browser-1", p, t0)
		require.NoError(t, err)
		require.Equal(t, 2, u.Failures, "RecordFailure counts in the client's bucket")
		// A count with no answer (a TOTP or recovery code) too.
		r, err = s.Attempt(t.Context(), "alice", "browser-1", nil, p, t0)
		require.NoError(t, err)
		require.Equal(t, 3, r.Failures)
		require.Equal(t, "browser-1", r.Client)
		require.NoError(t, s.ResetUser(t.Context(), "alice", "browser-1", t0))
		b := buckets(t, s, "alice", t0)
		require.Equal(t, 2, b[""].Failures, "a success resets its own bucket only")
		require.Zero(t, b["browser-1"].Failures)
		require.Equal(t, 3, b["browser-1"].Slow, "the long-horizon count outlives a success")
		require.NoError(t, s.ResetUser(t.Context(), "alice", "browser-9", t0))
		require.NotContains(t, buckets(t, s, "alice", t0), "browser-9", "ResetUser makes no bucket")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "User's lockout fields are the shared bucket's")

		require.NoError(t, s.ClearLockout(t.Context(), "alice", t0))
		b = buckets(t, s, "alice", t0)
		require.Len(t, b, 1, "ClearLockout drops every bucket")
		require.Equal(t, authn.UserState{}, b[""])
	})

	t.Run("KnownClientsPastTheCapShareTheUnknownBucket", func(t *testing.T) {
		s := newStore(t)
		for _, c := range []string{"browser-1", "browser-2"} {
			r := clientAttempt(t, s, "alice", c, "ch-none", wrongMAC, p, t0)
			require.Equal(t, c, r.Client)
		}
		r := clientAttempt(t, s, "alice", "browser-3", "ch-none", wrongMAC, p, t0)
		require.Equal(t, "", r.Client, "past MaxClients, counted in the shared bucket")
		u, err := s.RecordFailure(t.Context(), "alice", "browser-3", p, t0)
		require.NoError(t, err)
		require.Equal(t, 2, u.Failures, "RecordFailure too")
		b := buckets(t, s, "alice", t0)
		require.Len(t, b, 3)
		require.Equal(t, 2, b[""].Failures)
		// A bucket with no failure for the horizon is stale and makes
		// room; one with a recent failure is not.
		later := t0.Add(p.Horizon)
		clientAttempt(t, s, "alice", "browser-1", "ch-none", wrongMAC, p, later.Add(-time.Hour))
		r = clientAttempt(t, s, "alice", "browser-3", "ch-none", wrongMAC, p, later)
		require.Equal(t, "browser-3", r.Client, "browser-2's stale bucket was dropped")
		b = buckets(t, s, "alice", later)
		require.NotContains(t, b, "browser-2")
		require.Contains(t, b, "browser-1")
	})

	t.Run("CountedBeforeCheckedInEveryBucket", func(t *testing.T) {
		s := newStore(t)
		const n = 24
		clients := []string{"", "browser-1", "browser-2"}
		var wg sync.WaitGroup
		results := make([]authn.AttemptResult, n*len(clients))
		errs := make([]error, len(results))
		for i := range results {
			wg.Go(func() {
				results[i], errs[i] = s.Attempt(context.Background(), "alice", clients[i%len(clients)],
					&authn.ChallengeAnswer{ID: "ch-none", MAC: wrongMAC, ServerStep: step0}, p, t0)
			})
		}
		wg.Wait()
		counted := map[string]int{}
		for i, r := range results {
			require.NoError(t, errs[i])
			require.Equal(t, clients[i%len(clients)], r.Client)
			if r.Outcome != authn.AttemptLocked {
				counted[r.Client]++
			}
		}
		for _, c := range clients {
			require.Equal(t, p.MaxFailures, counted[c], "bucket %q: exactly MaxFailures answers counted, the rest refused", c)
		}
	})

	t.Run("SlowDripAlertsThenLocks", func(t *testing.T) {
		for _, client := range []string{"", "browser-1"} {
			s := newStore(t)
			// 4 failures a day, a day and an hour apart: the consecutive
			// failures never reach MaxFailures.
			now := t0
			var slowLocked time.Time
			for day := 1; day <= 6; day++ {
				for i := 1; i <= 4; i++ {
					r := clientAttempt(t, s, "alice", client, "ch-none", wrongMAC, p, now)
					slow := 4*(day-1) + i
					require.Equal(t, slow, r.Slow, "bucket %q: the long-horizon count, day %d", client, day)
					if slow < p.SlowLock {
						requireOutcome(t, authn.AttemptNoChallenge, r, "bucket %q, day %d, failure %d", client, day, i)
						require.Zero(t, r.RetryAfter, "bucket %q: %d failures over the horizon do not lock", client, slow)
					} else {
						require.Equal(t, p.Max, r.RetryAfter, "bucket %q: the slow lock is Max", client)
						slowLocked = now
					}
					now = now.Add(time.Minute)
				}
				now = now.Add(25 * time.Hour)
			}
			require.False(t, slowLocked.IsZero(), "bucket %q: 24 failures over 6 days lock", client)
			require.True(t, slowLocked.Add(p.Max).Equal(buckets(t, s, "alice", slowLocked)[client].LockedUntil))
			// A failure after the horizon starts a new window.
			r := clientAttempt(t, s, "alice", client, "ch-none", wrongMAC, p, t0.Add(p.Horizon+7*25*time.Hour))
			require.Equal(t, 1, r.Slow, "bucket %q: a new window", client)
		}
	})
}
