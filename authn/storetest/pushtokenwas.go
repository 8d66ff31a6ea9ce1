package storetest

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testPushTokenWas: a push token change conditioned on the token the
// device holds (DeviceChange.PushTokenWas) is a compare-and-set. A
// condition on token A, applied when the phone has set B meanwhile,
// leaves B and is ErrStoreConflict; one on the token held applies; an
// unknown device is ErrStoreNotFound; a condition without a token to set
// is ErrInvalidChange. Raced against a plain set of B, a clear
// conditioned on A leaves B whichever runs first.
func testPushTokenWas(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("Race", func(t *testing.T) { testPushTokenWasRace(t, newStore(t)) })
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

// testPushTokenWasRace: the phone sets token B while a clear conditioned
// on A runs, 50 times: B stays every time (the clear either comes first
// or finds B and changes nothing).
func testPushTokenWasRace(t *testing.T, s authn.Store) {
	ctx := t.Context()
	activeDevice(t, s, "alice", "dev-1", t0)
	none := ""
	for i := range 50 {
		a, b := "token A"+strconv.Itoa(i), "token B"+strconv.Itoa(i)
		require.NoError(t, setToken(ctx, s, "alice", "dev-1", a))
		var wg sync.WaitGroup
		var setErr, clearErr error
		wg.Go(func() { setErr = setToken(ctx, s, "alice", "dev-1", b) })
		wg.Go(func() {
			_, clearErr = s.ChangeDevice(ctx, "alice", "dev-1", authn.DeviceChange{PushToken: &none, PushTokenWas: &a}, t0)
		})
		wg.Wait()
		require.NoError(t, setErr)
		if clearErr != nil {
			require.ErrorIs(t, clearErr, authn.ErrStoreConflict)
		}
		d, err := getDevice(ctx, s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, b, d.PushToken, "round %d: the token set meanwhile stays", i)
	}
}
