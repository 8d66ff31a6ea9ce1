package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Lockout.

func testLockout(t *testing.T, newStore func(t *testing.T) authn.Store) {
	p := authn.LockPolicy{MaxFailures: 3, Base: time.Minute, Max: 5 * time.Minute, Window: 24 * time.Hour, MaxAttempts: 100}
	// fail counts a failure with an unknown challenge (counted, and never
	// expiring between locks).
	fail := func(t *testing.T, s authn.Store, now time.Time) authn.AttemptResult {
		t.Helper()
		r := attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, now)
		requireOutcome(t, authn.AttemptNoChallenge, r, "a failure at %v", now.Sub(t0))
		return r
	}

	t.Run("Escalation", func(t *testing.T) {
		s := newStore(t)
		now := t0
		for i := 1; i < p.MaxFailures; i++ {
			r := fail(t, s, now)
			require.Zero(t, r.RetryAfter, "failure %d does not lock", i)
			require.Equal(t, i, r.Failures)
			now = now.Add(time.Second)
		}
		level := -1
		for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
			r := fail(t, s, now)
			require.Equal(t, want, r.RetryAfter, "lock %d: Base·2^level, at most Max", i+1)
			u := userState(t, s, "alice", now)
			require.True(t, now.Add(want).Equal(u.LockedUntil), "lock %d: LockedUntil %v, want now+%v", i+1, u.LockedUntil.Sub(now), want)
			if want < p.Max {
				require.Greater(t, u.Level, level, "lock %d: the level rises", i+1)
			} else {
				require.GreaterOrEqual(t, u.Level, level, "lock %d: the level stays at least", i+1)
			}
			level = u.Level

			// While locked: refused, nothing counted, even the right MAC
			// on a live challenge.
			mid := now.Add(want / 2)
			id := fmt.Sprintf("ch-live-%d", i)
			putChallenge(t, s, newChallenge("alice", id, u.Epoch, mid, tag(1, "dev-1", step0, 0)), mid)
			lr := attempt(t, s, "alice", id, mac(1), step0, p, mid)
			requireOutcome(t, authn.AttemptLocked, lr, "lock %d", i+1)
			require.Equal(t, want-want/2, lr.RetryAfter)
			lr = attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, now.Add(want-time.Second))
			requireOutcome(t, authn.AttemptLocked, lr, "lock %d, a second before its end", i+1)
			require.Equal(t, time.Second, lr.RetryAfter)
			require.Equal(t, u, userState(t, s, "alice", mid), "lock %d: a locked attempt changes nothing", i+1)

			// After the lock the level stays and the next failure locks
			// again, at the next level.
			now = now.Add(want + time.Second)
			require.Equal(t, level, userState(t, s, "alice", now).Level, "the level persists past the lock")
		}
	})

	t.Run("LockedAttemptDoesNotConsume", func(t *testing.T) {
		s := newStore(t)
		pp := p
		pp.MaxAttempts = 1
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for range p.MaxFailures {
			fail(t, s, t0)
		}
		for range 3 {
			requireOutcome(t, authn.AttemptLocked, attempt(t, s, "alice", "ch-1", mac(1), step0, pp, t0.Add(time.Second)))
		}
		// The lock ends before the challenge does: its one attempt is
		// still there.
		now := t0.Add(time.Minute + time.Second)
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-1", mac(1), step0, pp, now), "the locked attempts were not counted on the challenge")
		u := userState(t, s, "alice", now)
		require.Zero(t, u.Failures)
		require.Zero(t, u.Level, "a match resets the level")
		require.False(t, u.LockedUntil.After(now))

		// With the level reset, the next lock is Base again.
		for i := 1; i <= p.MaxFailures; i++ {
			r := fail(t, s, now)
			if i < p.MaxFailures {
				require.Zero(t, r.RetryAfter)
			} else {
				require.Equal(t, p.Base, r.RetryAfter, "the first lock after a reset is Base")
			}
		}
	})

	t.Run("MatchOnTheLastFailure", func(t *testing.T) {
		// Counted before checked: the attempt that reaches MaxFailures is
		// still compared, and a match resets everything.
		s := newStore(t)
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for range p.MaxFailures - 1 {
			fail(t, s, t0)
		}
		r := attempt(t, s, "alice", "ch-1", mac(1), step0, p, t0)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Zero(t, r.RetryAfter)
		u := userState(t, s, "alice", t0)
		require.Zero(t, u.Failures)
		require.Zero(t, u.Level)
		require.False(t, u.LockedUntil.After(t0), "a match lifts the lock its own counting set")
	})

	t.Run("FailureWindow", func(t *testing.T) {
		s := newStore(t)
		// Failures older than the window stop counting.
		fail(t, s, t0)
		fail(t, s, t0.Add(time.Second))
		now := t0.Add(time.Second + p.Window + time.Second)
		r := fail(t, s, now)
		require.Equal(t, 1, r.Failures, "failures older than the window no longer count")
		require.Zero(t, r.RetryAfter)

		// The level stays: lock once, let the window pass, and the next
		// lock is at the next level.
		fail(t, s, now)
		r = fail(t, s, now)
		require.Equal(t, p.Base, r.RetryAfter)
		level := userState(t, s, "alice", now).Level
		now = now.Add(p.Base + p.Window + time.Second)
		for i := 1; i <= p.MaxFailures; i++ {
			r = fail(t, s, now)
			require.Equal(t, i, r.Failures)
			if i < p.MaxFailures {
				require.Zero(t, r.RetryAfter, "failure %d after the window", i)
			}
		}
		require.Equal(t, 2*p.Base, r.RetryAfter, "the level outlives the failure window")
		require.Greater(t, userState(t, s, "alice", now).Level, level)
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Many wrong answers at once, over several live challenges: no
		// more than MaxFailures are compared, the rest find the lock.
		s := newStore(t)
		var ids []string
		for i := range 4 {
			id := fmt.Sprintf("ch-%d", i)
			putChallenge(t, s, newChallenge("alice", id, 0, t0, tag(1, "dev-1", step0, 0)), t0)
			ids = append(ids, id)
		}
		const n = 300
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = s.Attempt(context.Background(), "alice", "", &authn.ChallengeAnswer{ID: ids[i%len(ids)], MAC: wrongMAC, ServerStep: step0}, p, t0)
			return err
		})
		byOutcome := map[string]int{}
		for i, err := range errs {
			require.NoError(t, err)
			byOutcome[outcomeName(results[i].Outcome)]++
		}
		require.Equal(t, map[string]int{"AttemptMismatch": p.MaxFailures, "AttemptLocked": n - p.MaxFailures}, byOutcome)
		require.True(t, userState(t, s, "alice", t0).LockedUntil.After(t0))
	})

	t.Run("ConcurrentMatch", func(t *testing.T) {
		// Many right answers to one challenge at once: one match.
		s := newStore(t)
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		const n = 100
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = s.Attempt(context.Background(), "alice", "", &authn.ChallengeAnswer{ID: "ch-1", MAC: mac(1), ServerStep: step0}, policy, t0)
			return err
		})
		matches := 0
		for i, err := range errs {
			require.NoError(t, err)
			switch results[i].Outcome {
			case authn.AttemptMatch:
				matches++
			case authn.AttemptNoChallenge:
			default:
				require.Fail(t, "unexpected outcome", outcomeName(results[i].Outcome))
			}
		}
		require.Equal(t, 1, matches, "matches of one challenge answered %d times at once", n)
		require.Equal(t, n-1, userState(t, s, "alice", t0).Failures, "every answer after the match is a counted failure")
	})

	t.Run("PhantomUser", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= p.MaxFailures; i++ {
			r := attempt(t, s, "nobody", fmt.Sprintf("ch-%d", i), wrongMAC, step0, p, t0)
			requireOutcome(t, authn.AttemptNoChallenge, r)
		}
		requireOutcome(t, authn.AttemptLocked, attempt(t, s, "nobody", "ch-x", wrongMAC, step0, p, t0), "users never seen lock like real ones")
		require.Zero(t, userState(t, s, "alice", t0).Failures, "locks are per user")
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-x", wrongMAC, step0, p, t0))
	})

	t.Run("RecordFailure", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= p.MaxFailures; i++ {
			now := t0.Add(time.Duration(i) * time.Second)
			u, err := s.RecordFailure(t.Context(), "alice", "", p, now)
			require.NoError(t, err)
			require.Equal(t, i, u.Failures)
			require.True(t, now.Equal(u.LastFailure), "LastFailure")
			require.Equal(t, u, userState(t, s, "alice", now), "RecordFailure returns the state as stored")
			if i < p.MaxFailures {
				require.False(t, u.LockedUntil.After(now), "failure %d does not lock", i)
			} else {
				require.True(t, now.Add(p.Base).Equal(u.LockedUntil), "the last failure locks for Base: LockedUntil %v", u.LockedUntil.Sub(now))
			}
		}
		r := attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, t0.Add(10*time.Second))
		requireOutcome(t, authn.AttemptLocked, r, "RecordFailure and Attempt count the same failures")

		// And Attempt's failures count for RecordFailure.
		s = newStore(t)
		for range p.MaxFailures - 1 {
			fail(t, s, t0)
		}
		u, err := s.RecordFailure(t.Context(), "alice", "", p, t0)
		require.NoError(t, err)
		require.True(t, u.LockedUntil.After(t0), "RecordFailure after MaxFailures-1 attempts locks")
	})
}

// ---------------------------------------------------------------------
// CommitStep.

func testCommitStep(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	activeDevice(t, s, "alice", "dev-1", t0)
	activeDevice(t, s, "alice", "dev-2", t0)
	pendingDevice(t, s, "alice", "dev-p", t0)
	e := userState(t, s, "alice", t0).Epoch
	commit := func(dev string, epoch, step uint64, drift int) error {
		return s.CommitStep(t.Context(), "alice", dev, epoch, step, drift, t0)
	}
	lastStep := func(dev string) (uint64, int) {
		d, err := getDevice(t.Context(), s, "alice", dev)
		require.NoError(t, err)
		return d.LastStep, d.Drift
	}

	require.NoError(t, commit("dev-1", e, step0, 1))
	st, dr := lastStep("dev-1")
	require.Equal(t, uint64(step0), st)
	require.Equal(t, 1, dr)

	require.NoError(t, commit("dev-1", e, step0, 0), "the same step again: two logins in one step")
	st, dr = lastStep("dev-1")
	require.Equal(t, uint64(step0), st)
	require.Equal(t, 0, dr, "the drift is updated")

	require.ErrorIs(t, commit("dev-1", e, step0-1, 5), authn.ErrStoreConflict, "an older step is a replay")
	st, dr = lastStep("dev-1")
	require.Equal(t, uint64(step0), st, "a conflict changes nothing")
	require.Equal(t, 0, dr)

	require.NoError(t, commit("dev-1", e, step0+3, -1))
	st, dr = lastStep("dev-1")
	require.Equal(t, uint64(step0+3), st)
	require.Equal(t, -1, dr)

	// Steps are per device.
	require.NoError(t, commit("dev-2", e, step0, 0))
	st, _ = lastStep("dev-2")
	require.Equal(t, uint64(step0), st)

	require.ErrorIs(t, commit("dev-1", e+1, step0+4, 0), authn.ErrStoreConflict, "an epoch that is not the user's")
	require.ErrorIs(t, commit("dev-p", e, step0, 0), authn.ErrStoreNotFound, "a pending device")
	require.ErrorIs(t, commit("dev-none", e, step0, 0), authn.ErrStoreNotFound, "an unknown device")
	require.ErrorIs(t, s.CommitStep(t.Context(), "bob", "dev-1", 0, step0+5, 0, t0), authn.ErrStoreNotFound, "another user's device")

	// A revocation moves the epoch: a match of before it does not commit.
	require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", t0))
	require.ErrorIs(t, commit("dev-1", e, step0+4, 0), authn.ErrStoreConflict, "the epoch moved")
	st, _ = lastStep("dev-1")
	require.Equal(t, uint64(step0+3), st)
	require.NoError(t, commit("dev-1", e+1, step0+4, 0))
	require.ErrorIs(t, commit("dev-2", e+1, step0+5, 0), authn.ErrStoreNotFound, "a revoked device")
}

// ---------------------------------------------------------------------
// Sweep.

func testSweep(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 100, Horizon: 4 * time.Minute}
	for _, id := range []string{"ch-1", "ch-2"} {
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", id, 0, t0, tag(1, "dev-1", step0, 0)), lim, t0))
	}
	later := t0.Add(3 * time.Minute)
	require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-3", 0, later, tag(3, "dev-1", step0, 0)), lim, later))
	require.NoError(t, s.PutActivation(t.Context(), waitingActivation("bob", "sid-b", t0), t0))
	sid := pendingDevice(t, s, "carol", "dev-c", t0)

	n, err := s.Sweep(t.Context(), t0.Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired")

	// ch-1 and ch-2 expired; their questions are still within the
	// horizon.
	n, err = s.Sweep(t.Context(), later)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 2, "two challenges expired")
	requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-1", mac(1), step0, policy, later), "a swept challenge")
	again := newChallenge("alice", "ch-4", 0, later)
	again.Question = "q-ch-1"
	require.ErrorIs(t, s.PutChallenge(t.Context(), again, lim, later), authn.ErrStoreConflict, "Sweep keeps questions within their horizon")
	requireActivationState(t, s, "sid-b", later, authn.ActivationWaiting)
	requireActivationState(t, s, sid, later, authn.ActivationCompleted)

	// Past the horizon the questions go.
	past := t0.Add(lim.Horizon + time.Second)
	n, err = s.Sweep(t.Context(), past)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 2, "two questions past their horizon")
	n, err = s.Sweep(t.Context(), past)
	require.NoError(t, err)
	require.Zero(t, n, "a second sweep finds nothing")
	requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-3", mac(3), step0, policy, past), "Sweep keeps live challenges")
	requireActivationState(t, s, sid, past, authn.ActivationCompleted)
	_, err = getDevice(t.Context(), s, "carol", "dev-c")
	require.NoError(t, err, "Sweep keeps devices")
}
