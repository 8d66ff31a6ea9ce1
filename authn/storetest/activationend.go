package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// ---------------------------------------------------------------------
// Activations end: a completed activation must be paired by its deadline
// (the completion time plus the offer's lifetime), and a newer offer
// voids it; either way its pending device goes. The pairing tries: at
// most max counted, then the device is discarded.

// completedAt puts a waiting activation of user made at t0 (lifetime 10
// minutes) and completes it at done with device id; it returns the
// session ID.
func completedAt(t *testing.T, s authn.Store, user, id string, done time.Time) string {
	t.Helper()
	sid := "sid-" + id
	require.NoError(t, s.PutActivation(t.Context(), waitingActivation(user, sid, t0), t0))
	_, err := s.CompleteActivation(t.Context(), sid, requestHash(id), serverConfirm(id), deviceRecord(user, id, sid, done), 100, done)
	require.NoError(t, err)
	return sid
}

func testActivationEnds(t *testing.T, newStore func(t *testing.T) authn.Store) {
	const lifetime = 10 * time.Minute // waitingActivation's

	t.Run("PairingDeadline", func(t *testing.T) {
		s := newStore(t)
		done := t0.Add(4 * time.Minute)
		sid := completedAt(t, s, "alice", "dev-1", done)
		deadline := done.Add(lifetime)
		a := getActivation(t, s, sid, done)
		require.True(t, deadline.Equal(a.ExpiresAt), "the deadline is the completion plus the offer's lifetime: %v, want %v", a.ExpiresAt, deadline)

		// Past the offer's own expiry, but before the deadline: still
		// completed, and the device can be tried and paired.
		before := deadline.Add(-time.Second)
		requireActivationState(t, s, sid, before, authn.ActivationCompleted)
		n, err := pairingTry(t.Context(), s, "alice", "dev-1", 3, before)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		// At the deadline: expired on the read, and the device is gone.
		requireActivationState(t, s, sid, deadline, authn.ActivationExpired)
		_, err = getDevice(t.Context(), s, "alice", "dev-1")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the read deletes the pending device of a lapsed activation")
		_, err = activate(t.Context(), s, "alice", "dev-1", deadline)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", sid, deadline), authn.ErrStoreNotFound)
	})

	t.Run("PairingPastTheDeadline", func(t *testing.T) {
		// Without a read first: the pairing steps themselves refuse a
		// lapsed activation's device, and delete it.
		s := newStore(t)
		done := t0.Add(time.Minute)
		completedAt(t, s, "alice", "dev-1", done)
		late := done.Add(48 * time.Hour)
		_, err := activate(t.Context(), s, "alice", "dev-1", late)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a device paired days later")
		require.Equal(t, []string{}, deviceIDs(t, s, "alice"))

		sid := completedAt(t, s, "bob", "dev-2", done)
		_, err = pairingTry(t.Context(), s, "bob", "dev-2", 3, late)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a pairing try days later")
		require.Equal(t, []string{}, deviceIDs(t, s, "bob"))
		requireActivationState(t, s, sid, late, authn.ActivationExpired)
	})

	t.Run("SweepEndsCompleted", func(t *testing.T) {
		s := newStore(t)
		done := t0.Add(time.Minute)
		activeDevice(t, s, "alice", "dev-2", done)
		sid := completedAt(t, s, "alice", "dev-1", done)
		sidBob := completedAt(t, s, "bob", "dev-3", t0.Add(9*time.Minute))

		n, err := s.Sweep(t.Context(), done.Add(lifetime))
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, 1, "the pending device deleted counts as removed")
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"), "Sweep deletes the pending device of a lapsed activation, and only that")
		require.Equal(t, []string{"dev-3"}, deviceIDs(t, s, "bob"), "a completed activation within its deadline stays")
		requireActivationState(t, s, sidBob, done.Add(lifetime), authn.ActivationCompleted)
		a, err := s.GetActivation(t.Context(), sid, done.Add(lifetime))
		if err == nil {
			require.Equal(t, authn.ActivationExpired, a.State)
		} else {
			require.ErrorIs(t, err, authn.ErrStoreNotFound)
		}
	})

	t.Run("NewerOfferVoidsCompleted", func(t *testing.T) {
		s := newStore(t)
		sid := completedAt(t, s, "alice", "dev-1", t0)
		sidActive := activeDevice(t, s, "alice", "dev-2", t0)
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"), "putting dev-2's activation voided dev-1's")
		requireActivationState(t, s, sid, t0, authn.ActivationCancelled)
		sidBob := completedAt(t, s, "bob", "dev-3", t0)

		now := t0.Add(time.Second)
		sid = completedAt(t, s, "alice", "dev-4", now)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-new", now), now))
		requireActivationState(t, s, sid, now, authn.ActivationCancelled)
		requireActivationState(t, s, sidActive, now, authn.ActivationActive)
		requireActivationState(t, s, sidBob, now, authn.ActivationCompleted)
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"), "the newer offer deletes the pending device, not the active one")
		require.Equal(t, []string{"dev-3"}, deviceIDs(t, s, "bob"), "another user's completed activation stays")
		_, err := activate(t.Context(), s, "alice", "dev-4", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
	})

	t.Run("PendingDevicesDoNotCount", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		// dev-2 pending; then its activation is voided by sid-3's offer,
		// whose completion a limit of 2 active devices allows.
		completedAt(t, s, "alice", "dev-2", t0)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-3", t0), t0))
		_, err := s.CompleteActivation(t.Context(), "sid-3", requestHash("dev-3"), serverConfirm("dev-3"), deviceRecord("alice", "dev-3", "sid-3", t0), 2, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"dev-1", "dev-3"}, deviceIDs(t, s, "alice"))
	})

	t.Run("PairingTriesAtMostMax", func(t *testing.T) {
		s := newStore(t)
		sid := pendingDevice(t, s, "alice", "dev-1", t0)
		for want := 1; want <= 3; want++ {
			n, err := pairingTry(t.Context(), s, "alice", "dev-1", 3, t0)
			require.NoError(t, err, "try %d", want)
			require.Equal(t, want, n)
		}
		// A fourth try (the third one's caller lost before it discarded):
		// nothing counted, the device discarded.
		_, err := pairingTry(t.Context(), s, "alice", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreLimit)
		_, err = getDevice(t.Context(), s, "alice", "dev-1")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		requireActivationState(t, s, sid, t0, authn.ActivationDiscarded)
	})

	t.Run("Discard", func(t *testing.T) {
		s := newStore(t)
		sid := pendingDevice(t, s, "alice", "dev-1", t0)
		_, err := s.ChangeDevice(t.Context(), "bob", "dev-1", authn.DeviceChange{Discard: true}, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-1", authn.DeviceChange{Discard: true}, t0)
		require.NoError(t, err)
		requireActivationState(t, s, sid, t0, authn.ActivationDiscarded)
		require.Equal(t, []string{}, deviceIDs(t, s, "alice"))
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-1", authn.DeviceChange{Discard: true}, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "discarded already")
		_, err = activate(t.Context(), s, "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		activeDevice(t, s, "alice", "dev-2", t0)
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-2", authn.DeviceChange{Discard: true}, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an active device is not discarded")
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"))
	})
}
