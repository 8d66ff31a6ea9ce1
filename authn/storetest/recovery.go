package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

func testRecoveryCodes(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("UseRecoveryCode", func(t *testing.T) {
		s := newStore(t)
		require.Zero(t, codesLeft(t, s, "alice"), "no codes yet")
		putCodes(t, s, "alice", t0, 1, 2, 3)
		require.Equal(t, 3, codesLeft(t, s, "alice"))
		require.Zero(t, codesLeft(t, s, "bob"), "codes are per user")

		r, _ := useCode(t, s, "alice", policy, t0, 9)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 1, r.Failures)
		require.Zero(t, r.RetryAfter)
		u := userState(t, s, "alice", t0)
		require.Equal(t, 1, u.Failures, "a mismatch is counted")
		require.True(t, t0.Equal(u.LastFailure), "LastFailure %v", u.LastFailure)
		r, _ = useCode(t, s, "alice", policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r, "no candidates (a code that does not parse)")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "no candidates is counted")
		require.Equal(t, 3, codesLeft(t, s, "alice"), "mismatches consume nothing")

		// Another user's code: a mismatch for the one who tried.
		r, _ = useCode(t, s, "bob", policy, t0, 2)
		requireOutcome(t, authn.AttemptMismatch, r, "another user's code")
		require.Equal(t, 3, codesLeft(t, s, "alice"))
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures)

		// One candidate of several (one MAC per key of the ring) matches:
		// that code, and only it, is consumed.
		r, left := useCode(t, s, "alice", policy, t0, 9, 2, 8)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Equal(t, 2, left, "codes left after the match")
		require.Equal(t, 2, codesLeft(t, s, "alice"))
		requireReset(t, s, "alice", t0, "a match resets the failures")

		r, _ = useCode(t, s, "alice", policy, t0, 2)
		requireOutcome(t, authn.AttemptMismatch, r, "a code works once")
		require.Equal(t, 1, userState(t, s, "alice", t0).Failures)
		for i, b := range []byte{3, 1} {
			r, left = useCode(t, s, "alice", policy, t0, b)
			requireOutcome(t, authn.AttemptMatch, r, "code %d", b)
			require.Equal(t, 1-i, left)
		}
		require.Zero(t, codesLeft(t, s, "alice"))
		for _, b := range []byte{1, 2, 3} {
			r, _ = useCode(t, s, "alice", policy, t0, b)
			requireOutcome(t, authn.AttemptMismatch, r, "code %d, used", b)
		}
	})

	t.Run("NewSetVoidsOld", func(t *testing.T) {
		s := newStore(t)
		putCodes(t, s, "alice", t0, 1, 2)
		putCodes(t, s, "bob", t0, 1, 2)
		putCodes(t, s, "alice", t0, 3, 4, 5)
		require.Equal(t, 3, codesLeft(t, s, "alice"))
		r, _ := useCode(t, s, "alice", policy, t0, 1)
		requireOutcome(t, authn.AttemptMismatch, r, "a code of the old set")
		r, left := useCode(t, s, "alice", policy, t0, 4)
		requireOutcome(t, authn.AttemptMatch, r, "a code of the new set")
		require.Equal(t, 2, left)
		require.Equal(t, 2, codesLeft(t, s, "bob"), "another user's set stays")

		require.NoError(t, storeCodes(t.Context(), s, "alice", nil, t0))
		require.Zero(t, codesLeft(t, s, "alice"), "an empty set")
		r, _ = useCode(t, s, "alice", policy, t0, 3)
		requireOutcome(t, authn.AttemptMismatch, r)
	})

	t.Run("RecordsAreCopied", func(t *testing.T) {
		s := newStore(t)
		macs := [][32]byte{codeMAC(1), codeMAC(2)}
		require.NoError(t, storeCodes(t.Context(), s, "alice", macs, t0))
		macs[0] = codeMAC(7)
		r, _ := useCode(t, s, "alice", policy, t0, 7)
		requireOutcome(t, authn.AttemptMismatch, r, "PutRecoveryCodes keeps its own copy")
		r, _ = useCode(t, s, "alice", policy, t0, 1)
		requireOutcome(t, authn.AttemptMatch, r)
	})

	t.Run("Lockout", func(t *testing.T) {
		s := newStore(t)
		p := strict
		putCodes(t, s, "alice", t0, 1, 2)
		for i := 1; i <= p.MaxFailures; i++ {
			r, _ := useCode(t, s, "alice", p, t0, 9)
			requireOutcome(t, authn.AttemptMismatch, r)
			require.Equal(t, i, r.Failures)
			if i < p.MaxFailures {
				require.Zero(t, r.RetryAfter, "failure %d does not lock", i)
			} else {
				require.Equal(t, p.Base, r.RetryAfter, "the failure that locks")
			}
		}
		u := userState(t, s, "alice", t0)
		require.True(t, t0.Add(p.Base).Equal(u.LockedUntil), "LockedUntil t0+%v", u.LockedUntil.Sub(t0))

		// While locked: nothing counted, nothing compared, nothing consumed.
		mid := t0.Add(30 * time.Second)
		for _, cands := range [][]byte{{1}, {9}, nil} {
			r, _ := useCode(t, s, "alice", p, mid, cands...)
			requireOutcome(t, authn.AttemptLocked, r, "candidates %v", cands)
			require.Equal(t, p.Base-30*time.Second, r.RetryAfter)
		}
		require.Equal(t, u, userState(t, s, "alice", mid), "a locked use changes nothing")
		require.Equal(t, 2, codesLeft(t, s, "alice"), "a locked use consumes nothing")

		// After the lock the right code still works, and resets.
		now := t0.Add(p.Base + time.Second)
		r, left := useCode(t, s, "alice", p, now, 1)
		requireOutcome(t, authn.AttemptMatch, r, "the code refused while locked")
		require.Equal(t, 1, left)
		requireReset(t, s, "alice", now, "a match resets the failures and the level")
	})

	t.Run("MatchOnTheLastFailure", func(t *testing.T) {
		s := newStore(t)
		p := strict
		putCodes(t, s, "alice", t0, 1)
		for range p.MaxFailures - 1 {
			useCode(t, s, "alice", p, t0, 9)
		}
		r, left := useCode(t, s, "alice", p, t0, 1)
		requireOutcome(t, authn.AttemptMatch, r, "counted before checked: the attempt that reaches the maximum is compared")
		require.Zero(t, left)
		requireReset(t, s, "alice", t0, "a match lifts the lock its own counting set")
	})

	t.Run("OneLockoutForEveryFactor", func(t *testing.T) {
		// A challenge's Attempt and the counted Attempt of a TOTP code
		// or a recovery code count the same failures and honour the same
		// lock.
		s := newStore(t)
		p := strict
		putCodes(t, s, "alice", t0, 1)
		activeTOTP(t, s, "alice", "totp-1", step0, t0)
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, t0))
		r, _ := useCode(t, s, "alice", p, t0, 9)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 2, r.Failures, "a recovery code after a challenge failure")
		_, r = attemptTOTP(t, s, "alice", false, p, t0)
		require.Equal(t, 3, r.Failures, "a TOTP code after both")
		require.Equal(t, p.Base, r.RetryAfter, "the third failure, of any factor, locks")

		mid := t0.Add(time.Second)
		requireOutcome(t, authn.AttemptLocked, attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, mid))
		r, _ = useCode(t, s, "alice", p, mid, 1)
		requireOutcome(t, authn.AttemptLocked, r)
		_, r = attemptTOTP(t, s, "alice", false, p, mid)
		requireOutcome(t, authn.AttemptLocked, r)
		require.Equal(t, 1, codesLeft(t, s, "alice"))
	})

	t.Run("Concurrent", func(t *testing.T) {
		// One code used many times at once: one match.
		s := newStore(t)
		putCodes(t, s, "alice", t0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
		const n = 100
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], _, err = tryCode(context.Background(), s, "alice", [][32]byte{codeMAC(5)}, policy, t0)
			return err
		})
		matches := 0
		for i, err := range errs {
			require.NoError(t, err)
			switch results[i].Outcome {
			case authn.AttemptMatch:
				matches++
			case authn.AttemptMismatch, authn.AttemptLocked:
			default:
				require.Fail(t, "unexpected outcome", outcomeName(results[i].Outcome))
			}
		}
		require.Equal(t, 1, matches, "matches of one code used %d times at once", n)
		require.Equal(t, 9, codesLeft(t, s, "alice"), "one code consumed")
		// Used: no match again. Mismatch, or Locked when the one match
		// came early and the 99 failures after it locked the user (the
		// order is the scheduler's).
		r, _ := useCode(t, s, "alice", policy, t0, 5)
		require.Contains(t, []authn.AttemptOutcome{authn.AttemptMismatch, authn.AttemptLocked}, r.Outcome,
			"a used code: %s", outcomeName(r.Outcome))
	})
}

func testOperator(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("ResetUser", func(t *testing.T) {
		s := newStore(t)
		p := strict
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", t0))
		e := userState(t, s, "alice", t0).Epoch
		require.NotZero(t, e, "a revocation moved the epoch")
		_, err := s.RecordFailure(t.Context(), "bob", "", p, t0)
		require.NoError(t, err)

		// Locked, and once the lock lifted, locked again: level 2, locked
		// at now.
		for range p.MaxFailures {
			_, err := s.RecordFailure(t.Context(), "alice", "", p, t0)
			require.NoError(t, err)
		}
		now := t0.Add(p.Base + time.Second)
		_, err = s.RecordFailure(t.Context(), "alice", "", p, now)
		require.NoError(t, err)
		u := userState(t, s, "alice", now)
		require.True(t, u.LockedUntil.After(now))
		require.Equal(t, 2, u.Level)
		putChallenge(t, s, newChallenge("alice", "ch-1", e, now, tag(1, "dev-1", step0, 0)), now)

		require.NoError(t, s.ResetUser(t.Context(), "alice", "", now))
		requireReset(t, s, "alice", now, "ResetUser clears the failures, the level and the lock")
		require.Equal(t, e, userState(t, s, "alice", now).Epoch, "ResetUser keeps the epoch")
		require.Equal(t, []string{"dev-1"}, deviceIDs(t, s, "alice"), "ResetUser keeps the devices")
		require.Equal(t, 1, userState(t, s, "bob", now).Failures, "another user's failures stay")

		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-1", mac(1), step0, p, now), "unlocked, and the challenge of the epoch kept")
		for i := 1; i <= p.MaxFailures; i++ {
			r := attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, now)
			if i == p.MaxFailures {
				require.Equal(t, p.Base, r.RetryAfter, "the first lock after a reset is Base")
			}
		}

		require.NoError(t, s.ResetUser(t.Context(), "nobody", "", now), "a user never seen")
		require.Equal(t, authn.UserState{}, userState(t, s, "nobody", now))
	})

	t.Run("DeleteUser", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 2, Horizon: 4 * time.Minute}
		for _, user := range []string{"alice", "bob"} {
			dev := func(n string) string { return "dev-" + user + "-" + n }
			activeDevice(t, s, user, dev("1"), t0)
			activeDevice(t, s, user, dev("2"), t0)
			require.NoError(t, revoke(t.Context(), s, user, dev("2"), t0))
			// (An offer voids the ones before it: the waiting one is
			// voided by the pending device's; both records remain.)
			require.NoError(t, s.PutActivation(t.Context(), waitingActivation(user, "sid-"+user+"-w", t0), t0))
			pendingDevice(t, s, user, dev("p"), t0)
			e := userState(t, s, user, t0).Epoch
			for i := byte(1); i <= 2; i++ {
				c := newChallenge(user, fmt.Sprintf("ch-%s-%d", user, i), e, t0, tag(i, dev("1"), step0, 0))
				require.NoError(t, s.PutChallenge(t.Context(), c, lim, t0))
			}
			activeTOTP(t, s, user, "totp-"+user, step0, t0)
			putCodes(t, s, user, t0, 1, 2)
			for range 2 {
				_, err := s.RecordFailure(t.Context(), user, "", policy, t0)
				require.NoError(t, err)
			}
		}
		bobBefore := userState(t, s, "bob", t0)

		now := t0.Add(time.Second)
		require.NoError(t, s.DeleteUser(t.Context(), "alice", now))

		// Alice: nothing left.
		u := userState(t, s, "alice", now)
		require.Zero(t, u.Failures, "lockout state erased")
		require.Zero(t, u.Level)
		require.True(t, u.LastFailure.IsZero(), "LastFailure %v", u.LastFailure)
		require.Equal(t, []string{}, deviceIDs(t, s, "alice"), "devices erased")
		for _, id := range []string{"dev-alice-1", "dev-alice-p"} {
			_, err := getDevice(t.Context(), s, "alice", id)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "device %s", id)
		}
		for _, sid := range []string{"sid-dev-alice-1", "sid-dev-alice-p", "sid-alice-w"} {
			_, err := s.GetActivation(t.Context(), sid, now)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "activation %s erased", sid)
		}
		_, err := s.CompleteActivation(t.Context(), "sid-alice-w", requestHash("x"), serverConfirm("x"), deviceRecord("alice", "dev-x", "sid-alice-w", now), 100, now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a waiting activation erased")
		_, err = s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "TOTP key erased")
		require.Zero(t, codesLeft(t, s, "alice"), "recovery codes erased")
		ds, err := s.DevicesPage(t.Context(), "", "", 100)
		require.NoError(t, err)
		for _, d := range ds {
			require.Equal(t, "bob", d.User, "DevicesPage after DeleteUser")
		}
		// Challenges, questions and the per-minute budget erased.
		e := userState(t, s, "alice", now).Epoch
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-alice-3", e, now), lim, now), "the per-minute budget erased")
		again := newChallenge("alice", "ch-alice-4", e, now)
		again.Question = "q-ch-alice-1"
		require.NoError(t, s.PutChallenge(t.Context(), again, lim, now), "the questions' horizon erased")
		for i, m := range [][16]byte{mac(1), mac(2)} {
			r := attempt(t, s, "alice", fmt.Sprintf("ch-alice-%d", i+1), m, step0, policy, now)
			requireOutcome(t, authn.AttemptNoChallenge, r, "challenge ch-alice-%d erased", i+1)
		}
		putTOTP(t, s, totpRecord("alice", "totp-new", now), now) // the active key is gone: no conflict

		// Bob: untouched.
		require.Equal(t, bobBefore, userState(t, s, "bob", now), "another user's state")
		require.Equal(t, []string{"dev-bob-1", "dev-bob-p"}, deviceIDs(t, s, "bob"))
		requireActivationState(t, s, "sid-dev-bob-1", now, authn.ActivationActive)
		requireActivationState(t, s, "sid-dev-bob-p", now, authn.ActivationCompleted)
		requireActivationState(t, s, "sid-bob-w", now, authn.ActivationCancelled)
		got := getTOTP(t, s, "bob")
		require.True(t, got.Active)
		require.Equal(t, uint64(step0), got.LastStep)
		require.Equal(t, 2, codesLeft(t, s, "bob"))
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("bob", "ch-bob-3", bobBefore.Epoch, now), lim, now), authn.ErrStoreLimit,
			"another user's per-minute budget")
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "bob", "ch-bob-1", mac(1), step0, policy, now), "another user's challenge")

		require.NoError(t, s.DeleteUser(t.Context(), "nobody", now), "a user never seen")
	})
}
