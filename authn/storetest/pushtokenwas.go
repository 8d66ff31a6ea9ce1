package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testPushTokenWas: a push token change conditioned on the token the
// device holds (DeviceChange.PushTokenWas) is a compare-and-set. A
// condition on token A, applied when the phone has set B meanwhile,
// leaves B and is ErrStoreConflict; one on the token held applies; an
// unknown device is ErrStoreNotFound; a condition without a token to set
// is ErrInvalidChange.
func testPushTokenWas(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	ctx := t.Context()
	activeDevice(t, s, "alice", "dev-1", t0)
	activeDevice(t, s, "alice", "dev-2", t0)
	activeDevice(t, s, "bob", "dev-b", t0)
	token := func(user, id string) string {
		t.Helper()
		d, err := getDevice(ctx, s, user, id)
		require.NoError(t, err)
		return d.PushToken
	}
	swap := func(user, id, was, to string) error {
		_, err := s.ChangeDevice(ctx, user, id, authn.DeviceChange{PushToken: &to, PushTokenWas: &was}, t0)
		return err
	}
	require.NoError(t, setToken(ctx, s, "alice", "dev-1", "token A"))
	require.NoError(t, setToken(ctx, s, "alice", "dev-2", "token A"))
	require.NoError(t, setToken(ctx, s, "bob", "dev-b", "token A"))
	require.NoError(t, setToken(ctx, s, "alice", "dev-1", "token B"), "the phone rotates its token")

	require.ErrorIs(t, swap("alice", "dev-1", "token A", ""), authn.ErrStoreConflict, "the device holds another token")
	require.Equal(t, "token B", token("alice", "dev-1"), "the token set meanwhile stays")
	require.ErrorIs(t, swap("alice", "dev-1", "", "token C"), authn.ErrStoreConflict, "the device holds a token")
	require.Equal(t, "token B", token("alice", "dev-1"))

	require.NoError(t, swap("alice", "dev-1", "token B", ""), "the token the device holds")
	require.Empty(t, token("alice", "dev-1"), "cleared")
	require.Equal(t, "token A", token("alice", "dev-2"), "another device")
	require.Equal(t, "token A", token("bob", "dev-b"), "another user's device")
	require.NoError(t, swap("alice", "dev-1", "", "token C"), "a device without a token")
	require.Equal(t, "token C", token("alice", "dev-1"))

	require.ErrorIs(t, swap("alice", "dev-none", "token A", ""), authn.ErrStoreNotFound, "an unknown device")
	require.ErrorIs(t, swap("alice", "dev-b", "token A", ""), authn.ErrStoreNotFound, "another user's device")
	require.Equal(t, "token A", token("bob", "dev-b"))

	was := "token C"
	_, err := s.ChangeDevice(ctx, "alice", "dev-1", authn.DeviceChange{PushTokenWas: &was}, t0)
	require.ErrorIs(t, err, authn.ErrInvalidChange, "a condition without a token to set")
	name := "new name"
	_, err = s.ChangeDevice(ctx, "alice", "dev-1", authn.DeviceChange{Name: &name, PushTokenWas: &was}, t0)
	require.ErrorIs(t, err, authn.ErrInvalidChange, "a condition on another change")
	require.Equal(t, "token C", token("alice", "dev-1"), "a refused change changes nothing")
	d, err := getDevice(ctx, s, "alice", "dev-1")
	require.NoError(t, err)
	require.Equal(t, "phone dev-1", d.Name)
}
