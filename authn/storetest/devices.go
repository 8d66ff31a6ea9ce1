package storetest

import (
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Devices.

func testDevices(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("DevicesAndDevice", func(t *testing.T) {
		s := newStore(t)
		require.Empty(t, deviceIDs(t, s, "alice"), "an unknown user has no devices")
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0.Add(time.Second))
		pendingDevice(t, s, "alice", "dev-3", t0.Add(2*time.Second))
		activeDevice(t, s, "bob", "dev-b", t0)
		require.Equal(t, []string{"dev-1", "dev-2", "dev-3"}, deviceIDs(t, s, "alice"), "oldest first, any state")
		require.Equal(t, []string{"dev-b"}, deviceIDs(t, s, "bob"))

		ds, err := s.Devices(t.Context(), "alice")
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, ds[0].State)
		require.Equal(t, authn.DevicePending, ds[2].State)

		d, err := getDevice(t.Context(), s, "alice", "dev-3")
		require.NoError(t, err)
		require.Equal(t, "alice", d.User)
		require.Equal(t, "phone dev-3", d.Name)
		require.Equal(t, "android", d.Platform)
		require.Equal(t, challenge.Default.String(), d.Suite)
		require.Equal(t, "sid-dev-3", d.SessionID)
		require.True(t, t0.Add(2*time.Second).Equal(d.CreatedAt), "CreatedAt %v", d.CreatedAt)
		_, err = getDevice(t.Context(), s, "bob", "dev-3")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = getDevice(t.Context(), s, "alice", "dev-none")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
	})

	t.Run("RenameDevice", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, renameDev(t.Context(), s, "alice", "dev-1", "work phone"))
		d, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, "work phone", d.Name)
		require.ErrorIs(t, renameDev(t.Context(), s, "bob", "dev-1", "mine"), authn.ErrStoreNotFound, "another user's device")
		require.ErrorIs(t, renameDev(t.Context(), s, "alice", "dev-none", "x"), authn.ErrStoreNotFound)
		d, err = getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, "work phone", d.Name)
	})

	t.Run("RevokeDevice", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		e0 := userState(t, s, "alice", t0).Epoch
		b0 := userState(t, s, "bob", t0).Epoch

		require.ErrorIs(t, revoke(t.Context(), s, "bob", "dev-1", t0), authn.ErrStoreNotFound, "another user's device")
		require.Equal(t, e0, userState(t, s, "alice", t0).Epoch)
		require.Equal(t, b0, userState(t, s, "bob", t0).Epoch)

		require.NoError(t, revoke(t.Context(), s, "alice", "dev-1", t0))
		require.Equal(t, e0+1, userState(t, s, "alice", t0).Epoch, "revoking bumps the epoch")
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"))
		_, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, revoke(t.Context(), s, "alice", "dev-1", t0), authn.ErrStoreNotFound)
		require.Equal(t, e0+1, userState(t, s, "alice", t0).Epoch)
		require.Equal(t, b0, userState(t, s, "bob", t0).Epoch, "another user's epoch stays")

		// A pending device can be revoked too.
		pendingDevice(t, s, "alice", "dev-3", t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-3", t0))
		require.Equal(t, e0+2, userState(t, s, "alice", t0).Epoch)
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"))
	})

	t.Run("DevicesPage", func(t *testing.T) {
		s := newStore(t)
		page := func(afterUser, afterID string, limit int) []string {
			t.Helper()
			ds, err := s.DevicesPage(t.Context(), afterUser, afterID, limit)
			require.NoError(t, err)
			out := []string{}
			for _, d := range ds {
				out = append(out, d.User+"/"+d.ID)
			}
			return out
		}
		require.Equal(t, []string{}, page("", "", 10), "no devices")
		activeDevice(t, s, "bob", "dev-b2", t0)
		activeDevice(t, s, "bob", "dev-b1", t0)
		activeDevice(t, s, "alice", "dev-a3", t0)
		pendingDevice(t, s, "alice", "dev-a1", t0)
		activeDevice(t, s, "carol", "dev-c1", t0)
		all := []string{"alice/dev-a1", "alice/dev-a3", "bob/dev-b1", "bob/dev-b2", "carol/dev-c1"}
		require.Equal(t, all, page("", "", 10), "every device, pending ones included, in (User, ID) order")

		var walked []string
		afterUser, afterID := "", ""
		for range 10 {
			ds, err := s.DevicesPage(t.Context(), afterUser, afterID, 2)
			require.NoError(t, err)
			require.LessOrEqual(t, len(ds), 2)
			if len(ds) == 0 {
				break
			}
			for _, d := range ds {
				walked = append(walked, d.User+"/"+d.ID)
			}
			afterUser, afterID = ds[len(ds)-1].User, ds[len(ds)-1].ID
		}
		require.Equal(t, all, walked, "pages of two")

		d, err := s.DevicesPage(t.Context(), "alice", "dev-a3", 1)
		require.NoError(t, err)
		require.Len(t, d, 1)
		require.Equal(t, []byte("sealed root of dev-b1"), d[0].Secret, "a page carries the sealed secrets")

		// The device a walk stopped after may be gone by the next page.
		require.NoError(t, revoke(t.Context(), s, "bob", "dev-b1", t0))
		require.Equal(t, []string{"bob/dev-b2", "carol/dev-c1"}, page("bob", "dev-b1", 10))
		require.Equal(t, []string{"carol/dev-c1"}, page("bob", "dev-b2", 10))
		require.Equal(t, []string{}, page("carol", "dev-c1", 10))
	})

	t.Run("UpdateSecret", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		old := []byte("sealed root of dev-1")
		require.NoError(t, swapSecret(t.Context(), s, "alice", "dev-1", old, []byte("resealed 1")))
		d, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("resealed 1"), d.Secret)

		require.ErrorIs(t, swapSecret(t.Context(), s, "alice", "dev-1", old, []byte("resealed 2")), authn.ErrStoreConflict, "stale old value")
		d, err = getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("resealed 1"), d.Secret, "a conflict changes nothing")
		require.ErrorIs(t, swapSecret(t.Context(), s, "alice", "dev-none", old, []byte("x")), authn.ErrStoreNotFound)
		require.ErrorIs(t, swapSecret(t.Context(), s, "bob", "dev-1", []byte("resealed 1"), []byte("x")), authn.ErrStoreNotFound, "another user's device")
	})

	t.Run("UnknownUser", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, authn.UserState{}, userState(t, s, "nobody", t0))
		activeDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, revoke(t.Context(), s, "alice", "dev-1", t0))
		require.Equal(t, authn.UserState{}, userState(t, s, "nobody", t0), "other users' changes do not show")
	})

	t.Run("InvalidChange", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		name, token := "new name", "token"
		for _, c := range []authn.DeviceChange{{}, {Name: &name, PushToken: &token}, {Revoke: true, Activate: true}} {
			_, err := s.ChangeDevice(t.Context(), "alice", "dev-1", c, t0)
			require.ErrorIs(t, err, authn.ErrInvalidChange, "%+v", c)
		}
		off := true
		for _, c := range []authn.UserChange{{}, {PushOff: &off, DeleteTOTP: true}} {
			require.ErrorIs(t, s.ChangeUser(t.Context(), "alice", c, t0), authn.ErrInvalidChange, "%+v", c)
		}
		d, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, "phone dev-1", d.Name, "a refused change changes nothing")
		require.Equal(t, authn.DeviceActive, d.State)
		require.False(t, userState(t, s, "alice", t0).PushOff)
	})
}
