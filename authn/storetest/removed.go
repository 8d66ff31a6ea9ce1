package storetest

import (
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Removed devices: what a record store keeps of a device it revoked or
// replaced (DeviceChange.RemovedUntil, RecordStore.RemovedDevice).

func testRemoved(t *testing.T, newStore func(t *testing.T) authn.Store) {
	ttl := 30 * 24 * time.Hour

	t.Run("Revoked", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		want, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)

		_, err = s.RemovedDevice(t.Context(), "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a device never removed")
		at := t0.Add(time.Minute)
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-1", authn.DeviceChange{Revoke: true, RemovedUntil: at.Add(ttl)}, at)
		require.NoError(t, err)
		r, err := s.RemovedDevice(t.Context(), "alice", "dev-1", at)
		require.NoError(t, err)
		require.Equal(t, want.Secret, r.Device.Secret, "the sealed secret as it was")
		require.Equal(t, "dev-1", r.Device.ID)
		require.Equal(t, "alice", r.Device.User)
		require.Equal(t, want.Name, r.Device.Name)
		require.Equal(t, want.AccountName, r.Device.AccountName)
		require.True(t, at.Equal(r.RemovedAt), "RemovedAt %v", r.RemovedAt)
		require.True(t, at.Add(ttl).Equal(r.Until), "Until %v", r.Until)

		_, err = s.RemovedDevice(t.Context(), "bob", "dev-1", at)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's")
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-2", at)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a device still active")
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-1", at.Add(ttl))
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "at its end")
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-1", at.Add(ttl-time.Second))
		require.NoError(t, err, "just before its end")
	})

	t.Run("RevokedWithoutUntil", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-1", t0))
		_, err := s.RemovedDevice(t.Context(), "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the zero RemovedUntil keeps nothing")
	})

	t.Run("Replaced", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-old", t0)
		old, err := getDevice(t.Context(), s, "alice", "dev-old")
		require.NoError(t, err)
		a := waitingActivation("alice", "sid-new", t0)
		a.Replacing = "dev-old"
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		dev := deviceRecord("alice", "dev-new", "sid-new", t0)
		dev.Replacing = "dev-old"
		_, err = s.CompleteActivation(t.Context(), "sid-new", requestHash("dev-new"), serverConfirm("dev-new"), dev, 100, t0)
		require.NoError(t, err)
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-new", authn.DeviceChange{Activate: true, RemovedUntil: t0.Add(ttl)}, t0)
		require.NoError(t, err)
		r, err := s.RemovedDevice(t.Context(), "alice", "dev-old", t0)
		require.NoError(t, err, "the replaced device is kept")
		require.Equal(t, old.Secret, r.Device.Secret)
		require.True(t, t0.Equal(r.RemovedAt))
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-new", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the new device is not removed")
	})

	t.Run("NotKeptByOtherChanges", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		_, err := s.ChangeDevice(t.Context(), "alice", "dev-1", authn.DeviceChange{Revoke: true, RemovedUntil: t0.Add(ttl)}, t0)
		require.NoError(t, err)
		// Pairing a device that replaces nothing keeps nothing more.
		pendingDevice(t, s, "alice", "dev-2", t0)
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-2", authn.DeviceChange{Activate: true, RemovedUntil: t0.Add(ttl)}, t0)
		require.NoError(t, err)
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-2", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-1", t0)
		require.NoError(t, err)
	})

	t.Run("DeleteUserErases", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		for _, u := range []struct{ user, id string }{{"alice", "dev-1"}, {"bob", "dev-b"}} {
			_, err := s.ChangeDevice(t.Context(), u.user, u.id, authn.DeviceChange{Revoke: true, RemovedUntil: t0.Add(ttl)}, t0)
			require.NoError(t, err)
		}
		require.NoError(t, s.DeleteUser(t.Context(), "alice", t0))
		_, err := s.RemovedDevice(t.Context(), "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "erasure takes the removed devices too")
		_, err = s.RemovedDevice(t.Context(), "bob", "dev-b", t0)
		require.NoError(t, err, "another user's stays")
	})

	t.Run("SweepAfterEnd", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		_, err := s.ChangeDevice(t.Context(), "alice", "dev-1", authn.DeviceChange{Revoke: true, RemovedUntil: t0.Add(time.Hour)}, t0)
		require.NoError(t, err)
		_, err = s.ChangeDevice(t.Context(), "alice", "dev-2", authn.DeviceChange{Revoke: true, RemovedUntil: t0.Add(ttl)}, t0)
		require.NoError(t, err)
		late := t0.Add(2 * time.Hour)
		n0, err := s.Sweep(t.Context(), t0)
		require.NoError(t, err)
		n, err := s.Sweep(t.Context(), late)
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, 1, "the ended one is counted (%d before)", n0)
		// Read before its end: swept rows are gone, not hidden.
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "swept")
		_, err = s.RemovedDevice(t.Context(), "alice", "dev-2", late)
		require.NoError(t, err, "one not ended stays")
	})
}
