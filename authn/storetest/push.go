package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Push requests: the Store methods.

// pushContext is what the server saw, shown by the phone.
var pushContext = [4]string{"Login", "203.0.113.7", "Zürich, CH", "Firefox on macOS"}

// newPush is a pending push request of user made at now, live two
// minutes, that notified devices.
func newPush(user, id string, epoch uint64, now time.Time, devices ...string) authn.PushRecord {
	return authn.PushRecord{ID: id, User: user, Number: "42", Nonce: []byte("nonce of " + id), Context: pushContext,
		Devices: devices, State: authn.PushPending, Epoch: epoch, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
}

func putPush(t *testing.T, s authn.Store, p authn.PushRecord, now time.Time) {
	t.Helper()
	require.NoError(t, s.PutPush(t.Context(), p, now), "PutPush %s", p.ID)
}

func getPush(t *testing.T, s authn.Store, id string, now time.Time) authn.PushRecord {
	t.Helper()
	p, err := s.Push(t.Context(), id, now)
	require.NoError(t, err, "Push %s", id)
	return p
}

func requirePushState(t *testing.T, s authn.Store, id string, now time.Time, want authn.PushState, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want, getPush(t, s, id, now).State, msgAndArgs...)
}

// requirePush checks that got is want, comparing times as instants.
func requirePush(t *testing.T, want, got authn.PushRecord, msgAndArgs ...any) {
	t.Helper()
	require.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt %v, want %v", got.CreatedAt, want.CreatedAt)
	require.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "ExpiresAt %v, want %v", got.ExpiresAt, want.ExpiresAt)
	got.CreatedAt, got.ExpiresAt = want.CreatedAt, want.ExpiresAt
	require.Equal(t, want, got, msgAndArgs...)
}

func pendingPushIDs(t *testing.T, s authn.Store, user, deviceID string, now time.Time) []string {
	t.Helper()
	ps, err := pendingOf(t.Context(), s, user, deviceID, now)
	require.NoError(t, err)
	ids := []string{}
	for _, p := range ps {
		require.Equal(t, user, p.User)
		require.Equal(t, authn.PushPending, p.State)
		require.Contains(t, p.Devices, deviceID)
		ids = append(ids, p.ID)
	}
	return ids
}

func testPush(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("PutPush", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Push(t.Context(), "push-none", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		p := newPush("alice", "push-1", 0, t0, "dev-1", "dev-2")
		want := newPush("alice", "push-1", 0, t0, "dev-1", "dev-2")
		putPush(t, s, p, t0)
		// Copied in: the caller's slices are its own.
		p.Nonce[0], p.Devices[0] = 'X', "dev-X"
		got := getPush(t, s, "push-1", t0)
		requirePush(t, want, got, "Push returns the record as put")
		// Copied out.
		got.Nonce[0], got.Devices[0] = 'Y', "dev-Y"
		requirePush(t, want, getPush(t, s, "push-1", t0), "Push returns a copy")
		ps, err := pendingOf(t.Context(), s, "alice", "dev-1", t0)
		require.NoError(t, err)
		require.Len(t, ps, 1)
		requirePush(t, want, ps[0], "PendingPushes returns the record as put")
		ps[0].Nonce[0], ps[0].Devices[1] = 'Z', "dev-Z"
		requirePush(t, want, getPush(t, s, "push-1", t0), "PendingPushes returns a copy")

		// A second request with the ID: conflict, the first kept.
		require.ErrorIs(t, s.PutPush(t.Context(), newPush("alice", "push-1", 0, t0, "dev-3"), t0), authn.ErrStoreConflict)
		require.ErrorIs(t, s.PutPush(t.Context(), newPush("bob", "push-1", 0, t0, "dev-b"), t0), authn.ErrStoreConflict, "another user's request with the ID")
		requirePush(t, want, getPush(t, s, "push-1", t0), "a refused PutPush changes nothing")
		require.ErrorIs(t, s.PutPush(t.Context(), want, t0), authn.ErrStoreConflict, "the same request again")
	})

	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		p := newPush("alice", "push-1", 0, t0, "dev-1")
		putPush(t, s, p, t0)
		putPush(t, s, newPush("alice", "push-2", 0, t0, "dev-1"), t0)
		putPush(t, s, newPush("alice", "push-3", 0, t0, "dev-1"), t0)
		_, err := movePush(t.Context(), s, "alice", "push-3", authn.PushPending, authn.PushDenied, "dev-1", t0)
		require.NoError(t, err)

		requirePushState(t, s, "push-1", p.ExpiresAt.Add(-time.Second), authn.PushPending, "live before ExpiresAt")
		requirePushState(t, s, "push-1", p.ExpiresAt, authn.PushExpired, "expired at ExpiresAt")
		requirePushState(t, s, "push-1", p.ExpiresAt.Add(time.Minute), authn.PushExpired)
		// Expired, it cannot move.
		rec, err := movePush(t.Context(), s, "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", p.ExpiresAt)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "an expired request approved")
		require.Equal(t, "push-1", rec.ID, "a conflict returns the record")
		require.Equal(t, authn.PushExpired, rec.State)
		require.Empty(t, rec.Answered)
		// Not read since it expired: SetPushState itself sees the expiry.
		rec, err = movePush(t.Context(), s, "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", p.ExpiresAt)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "an expired request approved")
		require.Equal(t, authn.PushExpired, rec.State)
		requirePushState(t, s, "push-2", p.ExpiresAt, authn.PushExpired)
		// Only a pending request expires: an answered one keeps its state.
		requirePushState(t, s, "push-3", p.ExpiresAt.Add(time.Minute), authn.PushDenied, "a denied request past ExpiresAt")
	})

	t.Run("Epoch", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		e := userState(t, s, "alice", t0).Epoch
		putPush(t, s, newPush("alice", "push-1", e, t0, "dev-1", "dev-2"), t0)
		putPush(t, s, newPush("alice", "push-2", e, t0, "dev-1", "dev-2"), t0)
		putPush(t, s, newPush("bob", "push-b", userState(t, s, "bob", t0).Epoch, t0, "dev-b"), t0)
		now := t0.Add(time.Second)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", now))
		e2 := userState(t, s, "alice", now).Epoch
		require.NotEqual(t, e, e2)

		requirePushState(t, s, "push-1", now, authn.PushExpired, "a request made before a revocation")
		rec, err := movePush(t.Context(), s, "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a request made before a revocation approved")
		require.Equal(t, authn.PushExpired, rec.State)
		// Not read since: SetPushState itself compares the epoch.
		rec, err = movePush(t.Context(), s, "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a request made before a revocation approved")
		require.Equal(t, authn.PushExpired, rec.State)
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now), "requests made before a revocation")

		// Made before the revocation but stored after it (BeginPush read
		// the epoch, then the revocation landed): expired all the same.
		putPush(t, s, newPush("alice", "push-3", e, now, "dev-1"), now)
		requirePushState(t, s, "push-3", now, authn.PushExpired, "a request of the old epoch stored after the revocation")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now))

		// The new epoch's requests are live; another user's are untouched.
		putPush(t, s, newPush("alice", "push-4", e2, now, "dev-1"), now)
		require.Equal(t, []string{"push-4"}, pendingPushIDs(t, s, "alice", "dev-1", now))
		_, err = movePush(t.Context(), s, "alice", "push-4", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.NoError(t, err)
		requirePushState(t, s, "push-b", now, authn.PushPending, "another user's request")
	})

	t.Run("SetPushState", func(t *testing.T) {
		s := newStore(t)
		putPush(t, s, newPush("alice", "push-1", 0, t0, "dev-1", "dev-2"), t0)
		now := t0.Add(10 * time.Second)

		_, err := movePush(t.Context(), s, "alice", "push-none", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an unknown request")
		_, err = movePush(t.Context(), s, "bob", "push-1", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's request")
		rec, err := movePush(t.Context(), s, "alice", "push-1", authn.PushApproved, authn.PushFinished, "", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "finishing a pending request")
		require.Equal(t, "push-1", rec.ID, "a conflict returns the record")
		require.Equal(t, authn.PushPending, rec.State)
		got := getPush(t, s, "push-1", now)
		require.Equal(t, authn.PushPending, got.State, "refused moves change nothing")
		require.Empty(t, got.Answered)

		// The right from-state moves, and records the device.
		rec, err = movePush(t.Context(), s, "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-2", now)
		require.NoError(t, err)
		require.Equal(t, authn.PushApproved, rec.State)
		require.Equal(t, "dev-2", rec.Answered)
		require.Equal(t, "alice", rec.User)
		require.Equal(t, "42", rec.Number)
		got = getPush(t, s, "push-1", now)
		require.Equal(t, authn.PushApproved, got.State)
		require.Equal(t, "dev-2", got.Answered)
		rec.Devices[0] = "dev-X"
		require.Equal(t, []string{"dev-1", "dev-2"}, getPush(t, s, "push-1", now).Devices, "SetPushState returns a copy")

		// A second answer: conflict, the first answer's record.
		rec, err = movePush(t.Context(), s, "alice", "push-1", authn.PushPending, authn.PushDenied, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a second answer")
		require.Equal(t, authn.PushApproved, rec.State)
		require.Equal(t, "dev-2", rec.Answered)

		// Finishing names no device: the answering one stays recorded
		// (FinishPush reports it).
		rec, err = movePush(t.Context(), s, "alice", "push-1", authn.PushApproved, authn.PushFinished, "", now)
		require.NoError(t, err)
		require.Equal(t, authn.PushFinished, rec.State)
		require.Equal(t, "dev-2", rec.Answered, "a move without a device keeps the answering one")
		rec, err = movePush(t.Context(), s, "alice", "push-1", authn.PushApproved, authn.PushFinished, "", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "finished twice")
		require.Equal(t, authn.PushFinished, rec.State)
		// A finished request does not expire.
		requirePushState(t, s, "push-1", now.Add(time.Hour), authn.PushFinished)

		// A cancellation is take-once too.
		putPush(t, s, newPush("alice", "push-2", 0, now, "dev-1"), now)
		_, err = movePush(t.Context(), s, "alice", "push-2", authn.PushPending, authn.PushCancelled, "", now)
		require.NoError(t, err)
		rec, err = movePush(t.Context(), s, "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a cancelled request approved")
		require.Equal(t, authn.PushCancelled, rec.State)
		require.Empty(t, rec.Answered)
	})

	t.Run("SetPushStateConcurrent", func(t *testing.T) {
		s := newStore(t)
		putPush(t, s, newPush("alice", "push-1", 0, t0, "dev-1"), t0)
		_, err := movePush(t.Context(), s, "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", t0)
		require.NoError(t, err)
		const n = 100
		recs := make([]authn.PushRecord, n)
		errs := concurrently(n, func(i int) error {
			var err error
			recs[i], err = movePush(context.Background(), s, "alice", "push-1", authn.PushApproved, authn.PushFinished, "", t0)
			return err
		})
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, authn.ErrStoreConflict, "finish %d", i)
			}
			require.Equal(t, authn.PushFinished, recs[i].State, "finish %d", i)
			require.Equal(t, "dev-1", recs[i].Answered, "finish %d", i)
		}
		require.Equal(t, 1, wins, "successes of %d concurrent finishes of one request", n)

		// Concurrent answers, approvals and denials: one wins.
		putPush(t, s, newPush("alice", "push-2", 0, t0, "dev-1", "dev-2"), t0)
		to := []authn.PushState{authn.PushApproved, authn.PushDenied}
		dev := []string{"dev-1", "dev-2"}
		errs = concurrently(n, func(i int) error {
			_, err := movePush(context.Background(), s, "alice", "push-2", authn.PushPending, to[i%2], dev[i/2%2], t0)
			return err
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two answers won: %d and %d", winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, authn.ErrStoreConflict, "answer %d", i)
		}
		require.NotEqual(t, -1, winner, "no answer won")
		got := getPush(t, s, "push-2", t0)
		require.Equal(t, to[winner%2], got.State, "the winner's state")
		require.Equal(t, dev[winner/2%2], got.Answered, "the winner's device")
	})

	t.Run("PendingPushes", func(t *testing.T) {
		s := newStore(t)
		// IDs that do not sort in the order the requests were made.
		putPush(t, s, newPush("alice", "push-c", 0, t0, "dev-1", "dev-2"), t0)
		putPush(t, s, newPush("alice", "push-a", 0, t0.Add(time.Second), "dev-2"), t0.Add(time.Second))
		short := newPush("alice", "push-b", 0, t0.Add(2*time.Second), "dev-1")
		short.ExpiresAt = t0.Add(10 * time.Second)
		putPush(t, s, short, t0.Add(2*time.Second))
		putPush(t, s, newPush("alice", "push-e", 0, t0.Add(3*time.Second), "dev-1"), t0.Add(3*time.Second))
		putPush(t, s, newPush("alice", "push-d", 0, t0.Add(4*time.Second), "dev-1", "dev-2"), t0.Add(4*time.Second))
		_, err := movePush(t.Context(), s, "alice", "push-e", authn.PushPending, authn.PushDenied, "dev-1", t0.Add(4*time.Second))
		require.NoError(t, err)
		// Bob's request names alice's device ID: it is still bob's.
		putPush(t, s, newPush("bob", "push-bob", 0, t0.Add(5*time.Second), "dev-1"), t0.Add(5*time.Second))

		now := t0.Add(5 * time.Second)
		require.Equal(t, []string{"push-c", "push-b", "push-d"}, pendingPushIDs(t, s, "alice", "dev-1", now), "live, pending, of the device, oldest first")
		require.Equal(t, []string{"push-c", "push-a", "push-d"}, pendingPushIDs(t, s, "alice", "dev-2", now))
		require.Equal(t, []string{"push-bob"}, pendingPushIDs(t, s, "bob", "dev-1", now), "another user's")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-none", now), "a device never notified")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "carol", "dev-1", now), "a user without requests")

		// push-b expires; push-c is answered.
		now = short.ExpiresAt
		_, err = movePush(t.Context(), s, "alice", "push-c", authn.PushPending, authn.PushApproved, "dev-2", now)
		require.NoError(t, err)
		require.Equal(t, []string{"push-d"}, pendingPushIDs(t, s, "alice", "dev-1", now))
		require.Equal(t, []string{"push-a", "push-d"}, pendingPushIDs(t, s, "alice", "dev-2", now))
		// All expire.
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-2", t0.Add(time.Hour)))
	})

	t.Run("PushMode", func(t *testing.T) {
		s := newStore(t)
		u := userState(t, s, "alice", t0)
		require.False(t, u.PushOff, "a user never seen")
		require.True(t, u.PushSuspended.IsZero(), "PushSuspended %v", u.PushSuspended)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", t0))
		_, err := s.RecordFailure(t.Context(), "alice", "", policy, t0)
		require.NoError(t, err)
		before := userState(t, s, "alice", t0)

		mode := func(off bool, until time.Time) authn.UserState {
			t.Helper()
			require.NoError(t, setPushMode(t, s, "alice", off, until, t0))
			u := userState(t, s, "alice", t0)
			require.Equal(t, off, u.PushOff)
			require.True(t, u.PushSuspended.Equal(until), "PushSuspended %v, want %v", u.PushSuspended, until)
			require.Equal(t, before.Epoch, u.Epoch, "setting the push mode keeps the epoch")
			require.Equal(t, before.Failures, u.Failures, "setting the push mode keeps the failures")
			require.Equal(t, before.Level, u.Level)
			require.True(t, before.LockedUntil.Equal(u.LockedUntil))
			return u
		}
		mode(true, time.Time{})
		mode(false, t0.Add(time.Hour))
		mode(true, t0.Add(2*time.Hour))
		mode(false, time.Time{})
		u = mode(true, t0.Add(time.Hour))

		// Other user state changes keep the push mode.
		_, err = s.RecordFailure(t.Context(), "alice", "", policy, t0)
		require.NoError(t, err)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-1", t0))
		after := userState(t, s, "alice", t0)
		require.True(t, after.PushOff, "a failure and a revocation keep push off")
		require.True(t, after.PushSuspended.Equal(u.PushSuspended), "a failure and a revocation keep the suspension")
		u = userState(t, s, "bob", t0)
		require.False(t, u.PushOff, "another user")
		require.True(t, u.PushSuspended.IsZero(), "another user")

		require.NoError(t, setPushMode(t, s, "bob", true, time.Time{}, t0), "a user never seen")
		require.True(t, userState(t, s, "bob", t0).PushOff)
	})

	t.Run("PushToken", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-1", t0), t0))
		d := deviceRecord("alice", "dev-1", "sid-1", t0)
		d.PushToken = "token at activation"
		_, err := s.CompleteActivation(t.Context(), "sid-1", requestHash("dev-1"), serverConfirm("dev-1"), d, 100, t0)
		require.NoError(t, err)
		_, err = activate(t.Context(), s, "alice", "dev-1", t0)
		require.NoError(t, err)
		activeDevice(t, s, "alice", "dev-2", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		token := func(user, id string) string {
			t.Helper()
			d, err := getDevice(t.Context(), s, user, id)
			require.NoError(t, err)
			ds, err := s.Devices(t.Context(), user)
			require.NoError(t, err)
			for _, x := range ds {
				if x.ID == id {
					require.Equal(t, d.PushToken, x.PushToken, "Devices and Device agree")
				}
			}
			return d.PushToken
		}
		require.Equal(t, "token at activation", token("alice", "dev-1"), "the token stored with the device")
		require.Empty(t, token("alice", "dev-2"))

		require.NoError(t, setToken(t.Context(), s, "alice", "dev-2", "token 2"))
		require.Equal(t, "token 2", token("alice", "dev-2"))
		require.Equal(t, "token at activation", token("alice", "dev-1"), "another device's token")
		long := strings.Repeat("t", 4096) // the longest the Service accepts
		require.NoError(t, setToken(t.Context(), s, "alice", "dev-1", long))
		require.Equal(t, long, token("alice", "dev-1"))
		require.NoError(t, setToken(t.Context(), s, "alice", "dev-1", ""))
		require.Empty(t, token("alice", "dev-1"), "a token cleared")

		require.ErrorIs(t, setToken(t.Context(), s, "alice", "dev-none", "x"), authn.ErrStoreNotFound, "an unknown device")
		require.ErrorIs(t, setToken(t.Context(), s, "alice", "dev-b", "x"), authn.ErrStoreNotFound, "another user's device")
		require.Empty(t, token("bob", "dev-b"))
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-2", t0))
		require.ErrorIs(t, setToken(t.Context(), s, "alice", "dev-2", "x"), authn.ErrStoreNotFound, "a revoked device")
	})

	t.Run("DeleteUser", func(t *testing.T) {
		s := newStore(t)
		for _, user := range []string{"alice", "bob"} {
			putPush(t, s, newPush(user, "push-"+user+"-1", 0, t0, "dev-1"), t0)
			putPush(t, s, newPush(user, "push-"+user+"-2", 0, t0, "dev-1"), t0)
			_, err := movePush(t.Context(), s, user, "push-"+user+"-2", authn.PushPending, authn.PushApproved, "dev-1", t0)
			require.NoError(t, err)
			require.NoError(t, setPushMode(t, s, user, true, t0.Add(time.Hour), t0))
		}
		now := t0.Add(time.Second)
		require.NoError(t, s.DeleteUser(t.Context(), "alice", now))
		for _, id := range []string{"push-alice-1", "push-alice-2"} {
			_, err := s.Push(t.Context(), id, now)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "request %s erased", id)
		}
		_, err := movePush(t.Context(), s, "alice", "push-alice-2", authn.PushApproved, authn.PushFinished, "", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an erased approval finished")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now))
		u := userState(t, s, "alice", now)
		require.False(t, u.PushOff, "push mode erased")
		require.True(t, u.PushSuspended.IsZero(), "suspension erased")

		require.Equal(t, []string{"push-bob-1"}, pendingPushIDs(t, s, "bob", "dev-1", now), "another user's requests")
		requirePushState(t, s, "push-bob-2", now, authn.PushApproved)
		require.True(t, userState(t, s, "bob", now).PushOff, "another user's push mode")
	})

	t.Run("Sweep", func(t *testing.T) {
		s := newStore(t)
		putPush(t, s, newPush("alice", "push-1", 0, t0, "dev-1"), t0)
		putPush(t, s, newPush("alice", "push-2", 0, t0, "dev-1"), t0)
		_, err := movePush(t.Context(), s, "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", t0)
		require.NoError(t, err)
		n, err := s.Sweep(t.Context(), t0.Add(time.Minute))
		require.NoError(t, err)
		require.Zero(t, n, "nothing has expired")
		requirePushState(t, s, "push-1", t0.Add(time.Minute), authn.PushPending, "Sweep keeps live requests")
		requirePushState(t, s, "push-2", t0.Add(time.Minute), authn.PushApproved, "Sweep keeps live requests")

		// Long after, the requests go, and a live one stays.
		late := t0.Add(7 * 24 * time.Hour)
		putPush(t, s, newPush("alice", "push-3", 0, late, "dev-1"), late)
		n, err = s.Sweep(t.Context(), late)
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, 2, "two old requests")
		for _, id := range []string{"push-1", "push-2"} {
			_, err := s.Push(t.Context(), id, late)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "request %s swept", id)
		}
		requirePushState(t, s, "push-3", late, authn.PushPending, "Sweep keeps live requests")
	})
}
