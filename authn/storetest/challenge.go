package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Challenge issuance.

func testPutChallenge(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("Horizon", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 100, Horizon: 4 * time.Minute}
		c := newChallenge("alice", "ch-1", 0, t0)
		require.NoError(t, s.PutChallenge(t.Context(), c, lim, t0))

		reuse := func(id string, now time.Time) error {
			c2 := newChallenge("alice", id, 0, now)
			c2.Question = c.Question
			return s.PutChallenge(t.Context(), c2, lim, now)
		}
		require.ErrorIs(t, reuse("ch-2", t0.Add(time.Second)), authn.ErrStoreConflict, "the same question at once")
		require.ErrorIs(t, reuse("ch-3", t0.Add(3*time.Minute)), authn.ErrStoreConflict, "after the challenge expired, within the horizon")
		require.ErrorIs(t, reuse("ch-4", t0.Add(lim.Horizon-time.Second)), authn.ErrStoreConflict, "just within the horizon")

		// Another user may get the same question.
		c3 := newChallenge("bob", "ch-b", 0, t0)
		c3.Question = c.Question
		require.NoError(t, s.PutChallenge(t.Context(), c3, lim, t0))

		require.NoError(t, reuse("ch-5", t0.Add(lim.Horizon+time.Second)), "past the horizon")
		// And it is a new horizon from then.
		require.ErrorIs(t, reuse("ch-6", t0.Add(lim.Horizon+2*time.Second)), authn.ErrStoreConflict)
	})

	t.Run("RefusedQuestionIsNotRecorded", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 1, Horizon: 4 * time.Minute}
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-1", 0, t0), lim, t0))
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-2", 0, t0), lim, t0), authn.ErrStoreLimit)
		// ch-2's question was refused, so it may be issued once the
		// budget allows.
		now := t0.Add(time.Minute + time.Second)
		c := newChallenge("alice", "ch-3", 0, now)
		c.Question = "q-ch-2"
		require.NoError(t, s.PutChallenge(t.Context(), c, lim, now))
	})

	t.Run("PerMinute", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 3, Horizon: 4 * time.Minute}
		for i := range 3 {
			now := t0.Add(time.Duration(i) * 10 * time.Second)
			require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", fmt.Sprintf("ch-%d", i), 0, now), lim, now))
		}
		// t0+30s: three in the last minute.
		now := t0.Add(30 * time.Second)
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-x", 0, now), lim, now), authn.ErrStoreLimit)
		now = t0.Add(time.Minute - time.Second)
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-y", 0, now), lim, now), authn.ErrStoreLimit, "the first is still within the minute")
		// Another user has their own budget.
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("bob", "ch-b", 0, now), lim, now))
		// A minute after the first, one more is allowed, and only one.
		now = t0.Add(time.Minute + time.Second)
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-3", 0, now), lim, now), "a minute later")
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-4", 0, now), lim, now), authn.ErrStoreLimit)
	})

	t.Run("Outstanding", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 2, PerMinute: 100, Horizon: 4 * time.Minute}
		for i := range 3 {
			now := t0.Add(time.Duration(i) * time.Second)
			c := newChallenge("alice", fmt.Sprintf("ch-%d", i), 0, now, tag(byte(10+i), "dev-1", step0, 0))
			require.NoError(t, s.PutChallenge(t.Context(), c, lim, now))
		}
		// A challenge of bob's is not counted against alice.
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("bob", "ch-b", 0, t0, tag(20, "dev-b", step0, 0)), lim, t0))

		now := t0.Add(5 * time.Second)
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-0", mac(10), step0, policy, now), "the oldest is voided")
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-1", mac(11), step0, policy, now))
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-2", mac(12), step0, policy, now))
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "bob", "ch-b", mac(20), step0, policy, now))
	})

	t.Run("Epoch", func(t *testing.T) {
		s := newStore(t)
		if p, ok := s.(pair); ok && !p.same() {
			// A hot store alone takes the epoch from its caller (the
			// records' epoch, as the Service read it), so it cannot tell
			// an epoch ahead of the records': the records refuse the
			// match of such a challenge at CommitStep.
			activeDevice(t, s, "zed", "dev-z", t0)
			require.NoError(t, s.PutChallenge(t.Context(), newChallenge("zed", "ch-z", 1, t0), limits, t0))
			require.ErrorIs(t, s.CommitStep(t.Context(), "zed", "dev-z", 1, step0, 0, t0), authn.ErrStoreConflict, "an epoch ahead of the user's")
		} else {
			require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-1", 1, t0), limits, t0), authn.ErrStoreConflict, "an epoch ahead of the user's")
		}
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		e := userState(t, s, "alice", t0).Epoch
		putChallenge(t, s, newChallenge("alice", "ch-2", e, t0), t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", t0))
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-3", e, t0), limits, t0), authn.ErrStoreConflict, "the epoch before a revocation")
		putChallenge(t, s, newChallenge("alice", "ch-4", e+1, t0), t0)
	})
}

// ---------------------------------------------------------------------
// Attempt.

func testAttempt(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("MismatchThenMatch", func(t *testing.T) {
		s := newStore(t)
		tg := tag(1, "dev-1", step0, 0)
		c := newChallenge("alice", "ch-1", 0, t0, tg, tag(2, "dev-2", step0, 0))
		c.Names = map[string]string{"dev-1": "phone 1", "dev-2": "phone 2"}
		putChallenge(t, s, c, t0)

		r := attempt(t, s, "alice", "ch-1", wrongMAC, step0, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 1, r.Failures)
		require.Zero(t, r.RetryAfter)
		require.Equal(t, "ch-1", r.Challenge.ID, "a mismatch returns the challenge")
		require.Equal(t, "q-ch-1", r.Challenge.Question)
		u := userState(t, s, "alice", t0)
		require.Equal(t, 1, u.Failures, "a mismatch is counted")
		require.True(t, t0.Equal(u.LastFailure), "LastFailure %v", u.LastFailure)

		now := t0.Add(time.Second)
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, policy, now)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Equal(t, tg, r.Match)
		require.Equal(t, "ch-1", r.Challenge.ID)
		require.Equal(t, uint64(0), r.Challenge.Epoch)
		require.Equal(t, c.Names, r.Challenge.Names, "a match returns the devices' names as issued")
		require.Zero(t, r.Failures)
		require.Zero(t, r.RetryAfter)
		u = userState(t, s, "alice", now)
		require.Zero(t, u.Failures, "a match resets the failures")
		require.Zero(t, u.Level)

		// The challenge is consumed: the same MAC again finds nothing,
		// and is counted.
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, policy, now)
		requireOutcome(t, authn.AttemptNoChallenge, r, "a match consumes the challenge")
		require.Equal(t, 1, userState(t, s, "alice", now).Failures)
	})

	t.Run("MatchesAnyDevice", func(t *testing.T) {
		s := newStore(t)
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0), tag(2, "dev-2", step0+1, 1)), t0)
		r := attempt(t, s, "alice", "ch-1", mac(2), step0, policy, t0)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Equal(t, "dev-2", r.Match.Device)
		require.Equal(t, uint64(step0+1), r.Match.Step)
		require.Equal(t, 1, r.Match.Drift)
	})

	t.Run("NoChallenge", func(t *testing.T) {
		s := newStore(t)
		r := attempt(t, s, "mallory", "ch-none", wrongMAC, step0, policy, t0)
		requireOutcome(t, authn.AttemptNoChallenge, r, "an unknown challenge")
		require.Equal(t, 1, r.Failures)
		require.Equal(t, 1, userState(t, s, "mallory", t0).Failures, "an unknown challenge is counted")

		// Another user's challenge: not found, counted against the one
		// who tried, and the challenge is untouched (neither its
		// attempts nor its owner's failures move).
		p := policy
		p.MaxAttempts = 1
		putChallenge(t, s, newChallenge("alice", "ch-a", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for range 3 {
			r = attempt(t, s, "mallory", "ch-a", mac(1), step0, p, t0)
			requireOutcome(t, authn.AttemptNoChallenge, r, "another user's challenge, even with its right MAC")
		}
		require.Equal(t, 4, userState(t, s, "mallory", t0).Failures)
		require.Zero(t, userState(t, s, "alice", t0).Failures)
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-a", mac(1), step0, p, t0), "the owner still answers it")
	})

	t.Run("Expired", func(t *testing.T) {
		s := newStore(t)
		c := newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0))
		putChallenge(t, s, c, t0)
		putChallenge(t, s, newChallenge("alice", "ch-2", 0, t0, tag(2, "dev-1", step0+4, 0)), t0)
		r := attempt(t, s, "alice", "ch-2", mac(2), step0+4, policy, c.ExpiresAt.Add(-time.Second))
		requireOutcome(t, authn.AttemptMatch, r, "just before expiry")

		r = attempt(t, s, "alice", "ch-1", mac(1), step0+4, policy, c.ExpiresAt)
		requireOutcome(t, authn.AttemptExpired, r, "at ExpiresAt, even with the right MAC")
		require.Zero(t, userState(t, s, "alice", c.ExpiresAt).Failures, "an expired challenge is not counted")
	})

	t.Run("VoidedByRevocation", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		e := userState(t, s, "alice", t0).Epoch
		putChallenge(t, s, newChallenge("alice", "ch-1", e, t0, tag(1, "dev-1", step0, 0), tag(2, "dev-2", step0, 0)), t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", t0))
		r := attempt(t, s, "alice", "ch-1", mac(1), step0, policy, t0)
		requireOutcome(t, authn.AttemptExpired, r, "a challenge of an earlier epoch, answered by a device that stays")
		require.Zero(t, userState(t, s, "alice", t0).Failures, "a voided challenge is not counted")

		// Replacing a device voids them too.
		e = userState(t, s, "alice", t0).Epoch
		putChallenge(t, s, newChallenge("alice", "ch-2", e, t0, tag(3, "dev-1", step0, 0)), t0)
		a := waitingActivation("alice", "sid-3", t0)
		a.Replacing = "dev-1"
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		dev := deviceRecord("alice", "dev-3", "sid-3", t0)
		dev.Replacing = "dev-1"
		_, err := s.CompleteActivation(t.Context(), "sid-3", requestHash("dev-3"), serverConfirm("dev-3"), dev, 100, t0)
		require.NoError(t, err)
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-2", mac(3), step0, policy, t0), "completing a replacement does not void yet")
		putChallenge(t, s, newChallenge("alice", "ch-3", e, t0, tag(4, "dev-1", step0, 0)), t0)
		_, err = activate(t.Context(), s, "alice", "dev-3", t0)
		require.NoError(t, err)
		requireOutcome(t, authn.AttemptExpired, attempt(t, s, "alice", "ch-3", mac(4), step0, policy, t0), "pairing a replacement voids")
	})

	t.Run("Exhausted", func(t *testing.T) {
		s := newStore(t)
		p := policy
		p.MaxAttempts = 3
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for i := 1; i <= 3; i++ {
			r := attempt(t, s, "alice", "ch-1", wrongMAC, step0, p, t0)
			requireOutcome(t, authn.AttemptMismatch, r, "attempt %d of 3", i)
			require.Equal(t, i, r.Failures)
		}
		r := attempt(t, s, "alice", "ch-1", mac(1), step0, p, t0)
		requireOutcome(t, authn.AttemptExhausted, r, "the fourth attempt of three, even with the right MAC")
		require.Equal(t, 4, r.Failures, "an exhausting attempt is counted")
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, p, t0)
		requireOutcome(t, authn.AttemptNoChallenge, r, "an exhausted challenge is gone")
		require.Equal(t, 5, userState(t, s, "alice", t0).Failures)
	})

	t.Run("Window", func(t *testing.T) {
		s := newStore(t)
		// A device that runs two steps ahead: it is expected at
		// serverStep+2, and with window 1 a tag of step serverStep+1 to
		// serverStep+3 is admissible.
		const drift = 2
		var tags []authn.Tag
		for st := uint64(step0 - 2); st <= step0+6; st++ {
			tags = append(tags, tag(byte(st-step0+100), "dev-1", st, drift))
		}
		macAt := func(st uint64) [16]byte { return mac(byte(st - step0 + 100)) }
		n := 0
		try := func(tagStep, serverStep uint64) authn.AttemptResult {
			n++
			id := fmt.Sprintf("ch-%d", n)
			putChallenge(t, s, newChallenge("alice", id, 0, t0, tags...), t0)
			return attempt(t, s, "alice", id, macAt(tagStep), serverStep, policy, t0)
		}
		for _, c := range []struct {
			tagStep, serverStep uint64
			match               bool
		}{
			{step0 + 2, step0, true},  // expected
			{step0 + 1, step0, true},  // window behind
			{step0 + 3, step0, true},  // window ahead
			{step0 + 0, step0, false}, // two behind
			{step0 + 4, step0, false}, // two ahead
			{step0 - 2, step0, false},
			{step0 + 6, step0, false},
			{step0 + 6, step0 + 3, true}, // the server moved on
			{step0 + 6, step0 + 4, true},
			{step0 + 3, step0 + 3, false}, // left behind: expected step0+5
		} {
			r := try(c.tagStep, c.serverStep)
			want := authn.AttemptMismatch
			if c.match {
				want = authn.AttemptMatch
			}
			requireOutcome(t, want, r, "tag step %+d, server step %+d, drift %d, window 1", int(c.tagStep)-step0, int(c.serverStep)-step0, drift)
			if c.match {
				require.Equal(t, c.tagStep, r.Match.Step)
			}
		}

		// Window 0 (a resync challenge): the expected step only.
		c := newChallenge("alice", "ch-w0", 0, t0, tags...)
		c.Window = 0
		putChallenge(t, s, c, t0)
		requireOutcome(t, authn.AttemptMismatch, attempt(t, s, "alice", "ch-w0", macAt(step0+3), step0, policy, t0), "window 0, one ahead")
		requireOutcome(t, authn.AttemptMismatch, attempt(t, s, "alice", "ch-w0", macAt(step0+1), step0, policy, t0), "window 0, one behind")
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-w0", macAt(step0+2), step0, policy, t0), "window 0, expected")
	})
}
