package deviceapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll"
)

// The status call: an active device reads active, a revoked one learns
// it was removed (and only with its own key), through the handler and
// the Go client.
func TestDeviceStatus(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	alice := e.kit.Enroll("alice")
	bob := e.kit.Enroll("bob")

	a := e.signed(t, alice.Credential(), "GET", deviceapi.PathDeviceStatus, "", nil)
	require.Equal(t, http.StatusOK, a.status)
	require.JSONEq(t, `{"status":"active"}`, string(a.body))
	st, err := e.client.Status(ctx, alice.Credential())
	require.NoError(t, err)
	require.False(t, st.Removed)

	e.kit.Clock.Advance(time.Second)
	removedAt := e.kit.Clock.Now()
	proof := e.kit.Login("alice", alice).Proof
	require.NoError(t, e.kit.Service.RevokeDevice(ctx, "alice", alice.DeviceID(), proof))
	e.kit.Clock.Advance(time.Minute)

	// Every other call: unauthorized, as before.
	_, err = e.client.Pushes(ctx, alice.Credential())
	require.ErrorIs(t, err, enroll.ErrDeviceAuth)
	// The status call: removed, with when.
	auth, err := alice.Credential().SignAPIRequest("GET", deviceapi.PathDeviceStatus, "", nil, e.kit.Clock.Now())
	require.NoError(t, err)
	a = e.raw(t, "GET", deviceapi.PathDeviceStatus, "", nil, map[string]string{"Authorization": auth})
	require.Equal(t, http.StatusOK, a.status)
	var body struct {
		Status    string `json:"status"`
		RemovedAt int64  `json:"removed_at"`
	}
	require.NoError(t, json.Unmarshal(a.body, &body))
	require.Equal(t, "removed", body.Status)
	require.Equal(t, removedAt.Unix(), body.RemovedAt)
	st, err = e.client.Status(ctx, alice.Credential())
	require.NoError(t, err)
	require.True(t, st.Removed)
	require.True(t, st.RemovedAt.Equal(removedAt.Truncate(time.Second)), "RemovedAt %v", st.RemovedAt)

	// The same request again: a replay.
	a = e.raw(t, "GET", deviceapi.PathDeviceStatus, "", nil, map[string]string{"Authorization": auth})
	require.Equal(t, http.StatusUnauthorized, a.status)
	require.Equal(t, "replay", code(t, a))

	// An outsider naming the removed device, with another key (bob's
	// MAC), and one naming a device nobody has: the same 401 answer,
	// byte for byte.
	r, _, err := enroll.ParseAPIAuthorization(auth)
	require.NoError(t, err)
	bobAuth, err := bob.Credential().SignAPIRequest("GET", deviceapi.PathDeviceStatus, "", nil, e.kit.Clock.Now())
	require.NoError(t, err)
	_, bobMAC, err := enroll.ParseAPIAuthorization(bobAuth)
	require.NoError(t, err)
	r.Nonce = bytes.Repeat([]byte{2}, enroll.APINonceSize)
	outsider, err := r.Authorization(bobMAC)
	require.NoError(t, err)
	r.DeviceID = "0123456789abcdef0123456789abcdef"
	r.Nonce = bytes.Repeat([]byte{3}, enroll.APINonceSize)
	unknown, err := r.Authorization(bobMAC)
	require.NoError(t, err)
	first := e.raw(t, "GET", deviceapi.PathDeviceStatus, "", nil, map[string]string{"Authorization": outsider})
	second := e.raw(t, "GET", deviceapi.PathDeviceStatus, "", nil, map[string]string{"Authorization": unknown})
	require.Equal(t, http.StatusUnauthorized, first.status)
	require.Equal(t, "unauthorized", code(t, first))
	require.Equal(t, first.status, second.status)
	require.Equal(t, string(first.body), string(second.body))
	h1, h2 := first.header.Clone(), second.header.Clone()
	h1.Del("Date")
	h2.Del("Date")
	require.Equal(t, h1, h2)
}
