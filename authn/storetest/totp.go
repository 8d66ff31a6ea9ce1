package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// TOTP keys, recovery codes and operator functions: the Store methods.

// strict is a lockout policy that locks after three failures, for the
// subtests that reach the lock.
var strict = authn.LockPolicy{MaxFailures: 3, Base: time.Minute, Max: 5 * time.Minute, Window: 24 * time.Hour, MaxAttempts: 100}

func totpRecord(user, id string, now time.Time) authn.TOTPRecord {
	return authn.TOTPRecord{ID: id, User: user, Secret: []byte("sealed totp of " + id), Hash: "SHA1", Digits: 6,
		Period: 30 * time.Second, CreatedAt: now}
}

func putTOTP(t *testing.T, s authn.Store, r authn.TOTPRecord, now time.Time) {
	t.Helper()
	require.NoError(t, storeTOTP(t.Context(), s, r, now), "PutTOTP %s of %s", r.ID, r.User)
}

// activeTOTP puts a TOTP key of user and activates it at step.
func activeTOTP(t *testing.T, s authn.Store, user, id string, step uint64, now time.Time) {
	t.Helper()
	putTOTP(t, s, totpRecord(user, id, now), now)
	require.NoError(t, s.CommitTOTP(t.Context(), user, id, step, now), "CommitTOTP %s of %s", id, user)
}

func getTOTP(t *testing.T, s authn.Store, user string) authn.TOTPRecord {
	t.Helper()
	r, err := s.TOTP(t.Context(), user)
	require.NoError(t, err, "TOTP of %s", user)
	return r
}

// tryTOTP is one TOTP code's store steps as the Service takes them: the
// counted attempt (Attempt with no answer), then, unless the user is
// locked, the key, which must be active (or inactive, with wantInactive)
// or the result is ErrStoreNotFound, after the count, with the
// AttemptResult still filled in.
func tryTOTP(ctx context.Context, s authn.Store, user string, wantInactive bool, p authn.LockPolicy, now time.Time) (authn.TOTPRecord, authn.AttemptResult, error) {
	res, err := s.Attempt(ctx, user, "", nil, p, now)
	if err != nil || res.Outcome == authn.AttemptLocked {
		return authn.TOTPRecord{}, res, err
	}
	rec, err := s.TOTP(ctx, user)
	if err == nil && rec.Active == wantInactive {
		err = authn.ErrStoreNotFound
	}
	if err != nil {
		return authn.TOTPRecord{}, res, err
	}
	return rec, res, nil
}

// attemptTOTP is a tryTOTP that finds a key (or the lock).
func attemptTOTP(t *testing.T, s authn.Store, user string, wantInactive bool, p authn.LockPolicy, now time.Time) (authn.TOTPRecord, authn.AttemptResult) {
	t.Helper()
	rec, r, err := tryTOTP(t.Context(), s, user, wantInactive, p, now)
	require.NoError(t, err, "TOTP attempt of %s (wantInactive %v)", user, wantInactive)
	return rec, r
}

// tryCode is one recovery code's store steps as the Service takes them:
// the counted attempt (Attempt with no answer), then, unless the user is
// locked, the take of a matching code, and on a match the reset. It
// returns the result (AttemptMatch for a code taken) and the codes left.
func tryCode(ctx context.Context, s authn.Store, user string, candidates [][32]byte, p authn.LockPolicy, now time.Time) (authn.AttemptResult, int, error) {
	res, err := s.Attempt(ctx, user, "", nil, p, now)
	if err != nil {
		return authn.AttemptResult{}, 0, err
	}
	if res.Outcome == authn.AttemptLocked {
		left, err := codesLeftOf(ctx, s, user)
		return res, left, err
	}
	taken, left, err := s.TakeRecoveryCode(ctx, user, candidates)
	if err != nil || !taken {
		return res, left, err
	}
	if err := s.ResetUser(ctx, user, "", now); err != nil {
		return authn.AttemptResult{}, 0, err
	}
	return authn.AttemptResult{Outcome: authn.AttemptMatch}, left, nil
}

// codeMAC is the MAC of a recovery code, as the store sees it.
func codeMAC(b byte) (m [32]byte) {
	for i := range m {
		m[i] = b
	}
	return m
}

func putCodes(t *testing.T, s authn.Store, user string, now time.Time, bs ...byte) {
	t.Helper()
	macs := make([][32]byte, 0, len(bs))
	for _, b := range bs {
		macs = append(macs, codeMAC(b))
	}
	require.NoError(t, storeCodes(t.Context(), s, user, macs, now))
}

// useCode is one tryCode with the candidate MACs bs.
func useCode(t *testing.T, s authn.Store, user string, p authn.LockPolicy, now time.Time, bs ...byte) (authn.AttemptResult, int) {
	t.Helper()
	var cands [][32]byte
	for _, b := range bs {
		cands = append(cands, codeMAC(b))
	}
	r, left, err := tryCode(t.Context(), s, user, cands, p, now)
	require.NoError(t, err, "recovery code of %s", user)
	return r, left
}

func codesLeft(t *testing.T, s authn.Store, user string) int {
	t.Helper()
	n, err := codesLeftOf(t.Context(), s, user)
	require.NoError(t, err)
	return n
}

// requireReset checks that the user's failures and level are reset and
// that no lock is in force at now.
func requireReset(t *testing.T, s authn.Store, user string, now time.Time, msgAndArgs ...any) {
	t.Helper()
	u := userState(t, s, user, now)
	require.Zero(t, u.Failures, msgAndArgs...)
	require.Zero(t, u.Level, msgAndArgs...)
	require.False(t, u.LockedUntil.After(now), msgAndArgs...)
}

func testTOTP(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("PutTOTP", func(t *testing.T) {
		s := newStore(t)
		_, err := s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "no key yet")

		r1 := totpRecord("alice", "totp-1", t0)
		r1.Active = true // ignored: PutTOTP stores an inactive key
		putTOTP(t, s, r1, t0)
		got := getTOTP(t, s, "alice")
		require.Equal(t, "totp-1", got.ID)
		require.Equal(t, "alice", got.User)
		require.False(t, got.Active, "PutTOTP stores the key inactive")
		require.Zero(t, got.LastStep)

		// An inactive key is replaced, every field with it.
		now := t0.Add(time.Second)
		r2 := authn.TOTPRecord{ID: "totp-2", User: "alice", Secret: []byte("sealed totp of totp-2"), Hash: "SHA512", Digits: 8,
			Period: time.Minute, ShortKey: true, CreatedAt: now}
		putTOTP(t, s, r2, now)
		got = getTOTP(t, s, "alice")
		require.Equal(t, "totp-2", got.ID, "a new key replaces an inactive one")
		require.Equal(t, r2.Secret, got.Secret)
		require.Equal(t, "SHA512", got.Hash)
		require.Equal(t, 8, got.Digits)
		require.Equal(t, time.Minute, got.Period)
		require.True(t, got.ShortKey)
		require.False(t, got.Active)
		require.True(t, now.Equal(got.CreatedAt), "CreatedAt %v, want %v", got.CreatedAt, now)

		// Over an active key: refused, and the key stays.
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-2", step0, now))
		require.ErrorIs(t, storeTOTP(t.Context(), s, totpRecord("alice", "totp-3", now), now), authn.ErrStoreConflict, "a new key over an active one")
		got = getTOTP(t, s, "alice")
		require.Equal(t, "totp-2", got.ID, "a refused PutTOTP changes nothing")
		require.True(t, got.Active)
		require.Equal(t, uint64(step0), got.LastStep)

		// Keys are per user.
		putTOTP(t, s, totpRecord("bob", "totp-b", now), now)
		require.Equal(t, "totp-b", getTOTP(t, s, "bob").ID)
		require.Equal(t, "totp-2", getTOTP(t, s, "alice").ID)
	})

	t.Run("RecordsAreCopied", func(t *testing.T) {
		s := newStore(t)
		r := totpRecord("alice", "totp-1", t0)
		putTOTP(t, s, r, t0)
		r.Secret[0] ^= 0xff
		want := []byte("sealed totp of totp-1")
		got := getTOTP(t, s, "alice")
		require.Equal(t, want, got.Secret, "PutTOTP keeps its own copy")
		got.Secret[0] ^= 0xff
		require.Equal(t, want, getTOTP(t, s, "alice").Secret, "TOTP returns a copy")
		rec, _ := attemptTOTP(t, s, "alice", true, policy, t0)
		require.Equal(t, want, rec.Secret)
		rec.Secret[0] ^= 0xff
		require.Equal(t, want, getTOTP(t, s, "alice").Secret, "TOTP returns a copy")
	})

	t.Run("TOTPAttempt", func(t *testing.T) {
		s := newStore(t)
		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)

		rec, r := attemptTOTP(t, s, "alice", true, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r, "the attempt is counted, and the key is there for the caller to check")
		require.Equal(t, 1, r.Failures)
		require.Zero(t, r.RetryAfter)
		require.Equal(t, "totp-1", rec.ID)
		require.Equal(t, "alice", rec.User)
		require.Equal(t, []byte("sealed totp of totp-1"), rec.Secret)
		require.False(t, rec.Active)
		u := userState(t, s, "alice", t0)
		require.Equal(t, 1, u.Failures, "counted before it is checked")
		require.True(t, t0.Equal(u.LastFailure), "LastFailure %v", u.LastFailure)

		// An active key is not found by an activation, nor an inactive one
		// by a verification; both are counted.
		_, _, err := tryTOTP(t.Context(), s, "alice", false, policy, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "verifying with an inactive key")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "a key not found is counted")

		// A success: the commit, then the reset.
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0, t0))
		require.NoError(t, s.ResetUser(t.Context(), "alice", "", t0))
		rec, r = attemptTOTP(t, s, "alice", false, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 1, r.Failures)
		require.True(t, rec.Active)
		require.Equal(t, uint64(step0), rec.LastStep, "the key carries its last step")
		_, _, err = tryTOTP(t.Context(), s, "alice", true, policy, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "activating when the key is active")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "a key not found is counted")

		// No key at all: not found, counted all the same.
		for _, want := range []bool{false, true} {
			_, _, err = tryTOTP(t.Context(), s, "mallory", want, policy, t0)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "a user without a key (wantInactive %v)", want)
		}
		require.Equal(t, 2, userState(t, s, "mallory", t0).Failures, "a user without a key is counted")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "failures are per user")
	})

	t.Run("TOTPAttemptLockout", func(t *testing.T) {
		s := newStore(t)
		p := strict
		activeTOTP(t, s, "alice", "totp-1", step0, t0)
		now := t0
		for i := 1; i < p.MaxFailures; i++ {
			_, r := attemptTOTP(t, s, "alice", false, p, now)
			requireOutcome(t, authn.AttemptMismatch, r)
			require.Equal(t, i, r.Failures)
			require.Zero(t, r.RetryAfter, "failure %d does not lock", i)
		}
		// The attempt that locks still returns the key: counted before
		// checked, the right code may yet be on it.
		rec, r := attemptTOTP(t, s, "alice", false, p, now)
		requireOutcome(t, authn.AttemptMismatch, r, "the attempt that locks")
		require.Equal(t, "totp-1", rec.ID)
		require.Equal(t, p.Base, r.RetryAfter, "the first lock is Base")
		u := userState(t, s, "alice", now)
		require.True(t, now.Add(p.Base).Equal(u.LockedUntil), "LockedUntil now+%v, want now+%v", u.LockedUntil.Sub(now), p.Base)

		// While locked: nothing counted, whichever key is asked for.
		mid := now.Add(30 * time.Second)
		for _, want := range []bool{false, true} {
			_, r, err := tryTOTP(t.Context(), s, "alice", want, p, mid)
			require.NoError(t, err, "locked (wantInactive %v)", want)
			requireOutcome(t, authn.AttemptLocked, r, "locked (wantInactive %v)", want)
			require.Equal(t, p.Base-30*time.Second, r.RetryAfter)
		}
		_, r = attemptTOTP(t, s, "alice", false, p, now.Add(p.Base-time.Second))
		requireOutcome(t, authn.AttemptLocked, r, "a second before the lock ends")
		require.Equal(t, time.Second, r.RetryAfter)
		require.Equal(t, u, userState(t, s, "alice", mid), "a locked attempt changes nothing")

		// After the lock, the next failure locks again, at the next level.
		now = now.Add(p.Base + time.Second)
		_, r = attemptTOTP(t, s, "alice", false, p, now)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 2*p.Base, r.RetryAfter, "Base·2^level, as Attempt")
		require.Greater(t, userState(t, s, "alice", now).Level, u.Level)
	})

	t.Run("TOTPAttemptConcurrent", func(t *testing.T) {
		// Many codes at once, half of them for a key that is not there:
		// exactly MaxFailures are counted, the rest find the lock.
		s := newStore(t)
		p := strict
		activeTOTP(t, s, "alice", "totp-1", step0, t0)
		const n = 300
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			_, results[i], err = tryTOTP(context.Background(), s, "alice", i%2 == 1, p, t0)
			return err
		})
		counted := 0
		for i, err := range errs {
			if results[i].Outcome == authn.AttemptLocked {
				require.NoError(t, err, "locked attempt %d", i)
				continue
			}
			counted++
			if i%2 == 1 {
				require.ErrorIs(t, err, authn.ErrStoreNotFound, "attempt %d for an inactive key", i)
			} else {
				require.NoError(t, err, "attempt %d", i)
				requireOutcome(t, authn.AttemptMismatch, results[i], "attempt %d", i)
			}
		}
		require.Equal(t, p.MaxFailures, counted, "attempts not refused by the lock, of %d at once", n)
		require.True(t, userState(t, s, "alice", t0).LockedUntil.After(t0))
	})

	t.Run("CommitTOTP", func(t *testing.T) {
		s := newStore(t)
		p := strict
		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)
		// A lock, then a failure after it: failures, level and a last
		// failure for the commit to reset.
		for range p.MaxFailures {
			attemptTOTP(t, s, "alice", true, p, t0)
		}
		now := t0.Add(p.Base + time.Second)
		attemptTOTP(t, s, "alice", true, p, now)
		u := userState(t, s, "alice", now)
		require.Positive(t, u.Failures)
		require.Positive(t, u.Level)

		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0, now))
		got := getTOTP(t, s, "alice")
		require.True(t, got.Active, "a commit activates the key")
		require.Equal(t, uint64(step0), got.LastStep)
		require.Equal(t, u, userState(t, s, "alice", now), "a commit leaves the user's failures to the caller")
		require.NoError(t, s.ResetUser(t.Context(), "alice", "", now))
		requireReset(t, s, "alice", now, "the success's reset clears the failures and the level")

		// A step at or before the last: a replay.
		attemptTOTP(t, s, "alice", false, p, now)
		for _, st := range []uint64{step0, step0 - 1, 0} {
			require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", st, now), authn.ErrStoreConflict, "step %d after step %d", st, step0)
		}
		require.Equal(t, uint64(step0), getTOTP(t, s, "alice").LastStep, "a conflict changes nothing")
		require.Equal(t, 1, userState(t, s, "alice", now).Failures, "a replay does not reset the failures")

		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0+1, now))
		require.Equal(t, uint64(step0+1), getTOTP(t, s, "alice").LastStep)
		require.NoError(t, s.ResetUser(t.Context(), "alice", "", now))
		require.Zero(t, userState(t, s, "alice", now).Failures)

		// The record must still be the user's.
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-none", step0+5, now), authn.ErrStoreNotFound, "another record ID")
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "bob", "totp-1", step0+5, now), authn.ErrStoreNotFound, "another user's record")
		require.Equal(t, uint64(step0+1), getTOTP(t, s, "alice").LastStep)
		_, err := s.TOTP(t.Context(), "bob")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		// A key removed (and another put in its place) is gone for good.
		require.NoError(t, dropTOTP(t.Context(), s, "alice"))
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0+5, now), authn.ErrStoreNotFound, "a removed key")
		putTOTP(t, s, totpRecord("alice", "totp-2", now), now)
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0+5, now), authn.ErrStoreNotFound, "a removed key, replaced")
		// An inactive key replaced by another.
		putTOTP(t, s, totpRecord("alice", "totp-3", now), now)
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-2", step0+5, now), authn.ErrStoreNotFound, "an inactive key replaced")
		require.False(t, getTOTP(t, s, "alice").Active)
	})

	t.Run("CommitTOTPActivation", func(t *testing.T) {
		// Activating takes any step: the new key has no last step, and an
		// import may commit step 0 (the old system's last step unknown).
		s := newStore(t)
		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", 0, t0), "activating at step 0")
		got := getTOTP(t, s, "alice")
		require.True(t, got.Active)
		require.Zero(t, got.LastStep)
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", 0, t0), authn.ErrStoreConflict, "step 0 again, once active")
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", 1, t0))

		// A new key after a removal does not inherit the old one's step.
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0, t0))
		require.NoError(t, dropTOTP(t.Context(), s, "alice"))
		putTOTP(t, s, totpRecord("alice", "totp-2", t0), t0)
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-2", 5, t0), "a new key at a step before the old key's last")
		got = getTOTP(t, s, "alice")
		require.Equal(t, "totp-2", got.ID)
		require.True(t, got.Active)
		require.Equal(t, uint64(5), got.LastStep)
	})

	t.Run("CommitTOTPConcurrent", func(t *testing.T) {
		// The same step committed at once, on an active key (alice) and on
		// a key being activated (bob): one commit each.
		s := newStore(t)
		activeTOTP(t, s, "alice", "totp-a", step0, t0)
		putTOTP(t, s, totpRecord("bob", "totp-b", t0), t0)
		const n = 100
		errs := concurrently(2*n, func(i int) error {
			if i%2 == 0 {
				return s.CommitTOTP(context.Background(), "alice", "totp-a", step0+1, t0)
			}
			return s.CommitTOTP(context.Background(), "bob", "totp-b", step0, t0)
		})
		wins := map[string]int{}
		for i, err := range errs {
			user := []string{"alice", "bob"}[i%2]
			if err == nil {
				wins[user]++
				continue
			}
			require.ErrorIs(t, err, authn.ErrStoreConflict, "commit %d of %s", i, user)
		}
		require.Equal(t, map[string]int{"alice": 1, "bob": 1}, wins, "commits of one step, %d at once per user", n)
		require.Equal(t, uint64(step0+1), getTOTP(t, s, "alice").LastStep)
		got := getTOTP(t, s, "bob")
		require.True(t, got.Active)
		require.Equal(t, uint64(step0), got.LastStep)
	})

	t.Run("DeleteTOTP", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, dropTOTP(t.Context(), s, "alice"), authn.ErrStoreNotFound, "no key")

		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)
		putTOTP(t, s, totpRecord("bob", "totp-b", t0), t0)
		require.NoError(t, dropTOTP(t.Context(), s, "alice"), "an inactive key")
		_, err := s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, dropTOTP(t.Context(), s, "alice"), authn.ErrStoreNotFound, "removed already")
		require.Equal(t, "totp-b", getTOTP(t, s, "bob").ID, "another user's key stays")

		activeTOTP(t, s, "alice", "totp-2", step0, t0)
		require.NoError(t, dropTOTP(t.Context(), s, "alice"), "an active key")
		_, err = s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		_, _, err = tryTOTP(t.Context(), s, "alice", false, policy, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a removed key answers nothing")
		require.Equal(t, 1, userState(t, s, "alice", t0).Failures)
		putTOTP(t, s, totpRecord("alice", "totp-3", t0), t0) // no conflict once removed
	})
}
