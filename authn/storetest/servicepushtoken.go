package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testServicePushToken: a push token the push service reported gone
// disappears from the store (RemovePushToken, on either instance), and
// only if the device still holds it; the user's other device keeps its
// own, and push reaches only that one.
func testServicePushToken(t *testing.T, newStore func(t *testing.T) authn.Store) {
	c, nt := newPushCluster(t, newStore(t))
	ctx := t.Context()
	pa, devA := c.enrollPush(t, "alice", nil)
	pb, devB := c.enrollPush(t, "alice", c.login(t, "alice", pa).Proof)
	tokenOf := func(id string) string {
		t.Helper()
		d, err := getDevice(ctx, c.store, "alice", id)
		require.NoError(t, err)
		return d.PushToken
	}
	gone := pa.cred.Device().PushToken

	removed, err := c.svc[0].RemovePushToken(ctx, "alice", devA.ID, gone+"-rotated")
	require.NoError(t, err)
	require.False(t, removed, "a token the device no longer holds is left alone")
	require.Equal(t, gone, tokenOf(devA.ID))

	removed, err = c.svc[1].RemovePushToken(ctx, "alice", devA.ID, gone)
	require.NoError(t, err)
	require.True(t, removed)
	require.Empty(t, tokenOf(devA.ID), "the gone token is out of the store")
	require.Equal(t, pb.cred.Device().PushToken, tokenOf(devB.ID), "the other device keeps its token")
	require.Equal(t, 1, c.obs.count(string(authn.EventPushTokenRemoved)))

	_, err = c.svc[0].BeginPush(ctx, "alice", loginContext)
	require.NoError(t, err)
	receive(t, nt, pb)
	select {
	case d := <-nt.C:
		t.Fatalf("a delivery to %s, whose token was removed", d.Device)
	default:
	}
}
