package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/stretchr/testify/require"
)

// statusPath is the status call's path (PROTOCOL.md §10).
const statusPath = "/v1/device/status"

// statusRequest is a status call the credential signed at the cluster's
// now, as a device API server reads it.
func (c *cluster) statusRequest(t *testing.T, cred *enroll.Credential) (enroll.APIRequest, []byte) {
	t.Helper()
	h, err := cred.SignAPIRequest("GET", statusPath, "", nil, c.clock.Now())
	require.NoError(t, err)
	r, mac, err := enroll.ParseAPIAuthorization(h)
	require.NoError(t, err)
	r.Method, r.Path, r.BodyHash = "GET", statusPath, sha256.Sum256(nil)
	return r, mac
}

// testServiceRemoved: a removed device's phone learns it was removed,
// through a status call only it can make; nobody else learns anything.
func testServiceRemoved(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("RevokedLearnsRemoved", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "alice", nil)
		proof := c.login(t, "alice", pa).Proof
		pb, _ := c.enroll(t, "alice", proof)

		r, mac := c.statusRequest(t, pa.cred)
		st, err := c.svc[0].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		require.Equal(t, authn.StatusActive, st.State)
		require.Equal(t, devA.ID, st.Device.ID)
		require.True(t, st.RemovedAt.IsZero())

		c.clock.Advance(time.Second)
		removedAt := c.clock.Now()
		require.NoError(t, c.svc[1].RevokeDevice(ctx, "alice", devA.ID, proof))
		c.clock.Advance(time.Minute)

		r, mac = c.statusRequest(t, pa.cred)
		st, err = c.svc[1].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		require.Equal(t, authn.StatusRemoved, st.State)
		require.Equal(t, devA.ID, st.Device.ID)
		require.Equal(t, "alice", st.Device.User)
		require.True(t, removedAt.Equal(st.RemovedAt), "RemovedAt %v, want %v", st.RemovedAt, removedAt)
		require.Equal(t, 1, c.obs.count(string(authn.EventRemovedDeviceTold)))

		// The same request again, on either instance: a replay.
		for i := range c.svc {
			_, err = c.svc[i].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
			require.ErrorIs(t, err, authn.ErrAPIReplay)
		}
		// Every other call of the removed device stays refused.
		h, err := pa.cred.SignAPIRequest("GET", "/v1/pushes", "", nil, c.clock.Now())
		require.NoError(t, err)
		ar, amac, err := enroll.ParseAPIAuthorization(h)
		require.NoError(t, err)
		ar.Method, ar.Path, ar.BodyHash = "GET", "/v1/pushes", sha256.Sum256(nil)
		_, err = c.svc[0].AuthenticateDevice(ctx, ar, amac, authn.DeviceLimit{})
		require.Equal(t, authn.ErrDeviceAuth, err)

		// An outsider with the removed device's ID but another key (the
		// other device's): the answer an unknown device gets.
		r, _ = c.statusRequest(t, pa.cred)
		_, wrong := c.statusRequest(t, pb.cred)
		_, err = c.svc[0].DeviceStatus(ctx, r, wrong, authn.DeviceLimit{})
		require.Equal(t, authn.ErrDeviceAuth, err, "the very value of an unknown device")
		r, mac = c.statusRequest(t, pa.cred)
		r.DeviceID = "0123456789abcdef0123456789abcdef"
		_, err = c.svc[0].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.Equal(t, authn.ErrDeviceAuth, err)

		// The other device is still active.
		r, mac = c.statusRequest(t, pb.cred)
		st, err = c.svc[0].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		require.Equal(t, authn.StatusActive, st.State)
	})

	t.Run("ReplacedLearnsRemoved", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		old, _ := c.enroll(t, "bob", nil)
		h, err := old.cred.SignAPIRequest("POST", "/v1/migration", "", []byte("{}"), c.clock.Now())
		require.NoError(t, err)
		ar, amac, err := enroll.ParseAPIAuthorization(h)
		require.NoError(t, err)
		ar.Method, ar.Path, ar.BodyHash = "POST", "/v1/migration", sha256.Sum256([]byte("{}"))
		d, err := c.svc[0].AuthenticateDevice(ctx, ar, amac, authn.DeviceLimit{})
		require.NoError(t, err)
		offer, err := d.StartMigration(ctx)
		require.NoError(t, err)
		cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "new-phone", Name: "new", Integrity: enroll.Intact}, c.clock.Now())
		require.NoError(t, err)
		act, err := c.svc[1].CompleteActivation(ctx, req)
		require.NoError(t, err)
		require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
		_, err = d.ConfirmMigration(ctx, offer.SessionID, cred.PairingCode())
		require.NoError(t, err)

		r, mac := c.statusRequest(t, old.cred)
		st, err := c.svc[1].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		require.Equal(t, authn.StatusRemoved, st.State, "the replaced device is removed")
		r, mac = c.statusRequest(t, cred)
		st, err = c.svc[1].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		require.Equal(t, authn.StatusActive, st.State, "the new one is active")
	})

	t.Run("EndedOrErased", func(t *testing.T) {
		c := newCluster(t, newStore(t), func(cfg *authn.Config) { cfg.RemovedTTL = time.Hour })
		ctx := t.Context()
		pa, devA := c.enroll(t, "carol", nil)
		proof := c.login(t, "carol", pa).Proof
		require.NoError(t, c.svc[0].RevokeDevice(ctx, "carol", devA.ID, proof))
		c.clock.Advance(time.Hour - time.Second)
		r, mac := c.statusRequest(t, pa.cred)
		st, err := c.svc[0].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.NoError(t, err)
		require.Equal(t, authn.StatusRemoved, st.State, "within RemovedTTL")
		c.clock.Advance(time.Second)
		r, mac = c.statusRequest(t, pa.cred)
		_, err = c.svc[0].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.Equal(t, authn.ErrDeviceAuth, err, "at RemovedTTL's end, as unknown")

		// Erasing the user erases what was kept of its removed devices.
		pd, devD := c.enroll(t, "dave", nil)
		proof = c.login(t, "dave", pd).Proof
		require.NoError(t, c.svc[0].RevokeDevice(ctx, "dave", devD.ID, proof))
		require.NoError(t, c.svc[1].Operator("ops").DeleteUser(ctx, "dave"))
		r, mac = c.statusRequest(t, pd.cred)
		_, err = c.svc[0].DeviceStatus(ctx, r, mac, authn.DeviceLimit{})
		require.Equal(t, authn.ErrDeviceAuth, err, "erasure wins")
	})
}
