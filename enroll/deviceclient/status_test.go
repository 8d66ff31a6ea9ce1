package deviceclient

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// Status reads the two answers the status call has, refuses any other,
// and reads a 401 as enroll.ErrDeviceAuth.
func TestStatus(t *testing.T) {
	ctx := context.Background()
	cred, _, _ := enrolled(t)
	var next *http.Response
	c, f := newFake(func(r recorded) *http.Response {
		require.Equal(t, "GET", r.method)
		require.Equal(t, "/device/v1/device/status", r.path)
		require.Empty(t, r.body)
		return next
	})

	next = jsonAnswer(200, map[string]any{"status": "active"})
	st, err := c.Status(ctx, cred)
	require.NoError(t, err)
	require.Equal(t, DeviceStatus{}, st)

	next = jsonAnswer(200, map[string]any{"status": "removed", "removed_at": 1795770000})
	st, err = c.Status(ctx, cred)
	require.NoError(t, err)
	require.True(t, st.Removed)
	require.Equal(t, time.Unix(1795770000, 0).UTC(), st.RemovedAt)

	for _, bad := range []map[string]any{
		{"status": "removed"},
		{"status": "removed", "removed_at": -1},
		{"status": "active", "removed_at": 1795770000},
		{"status": "revoked", "removed_at": 1795770000},
		{"status": ""},
	} {
		next = jsonAnswer(200, bad)
		_, err = c.Status(ctx, cred)
		require.ErrorIs(t, err, ErrBadAnswer, "%v", bad)
	}

	next = jsonAnswer(401, map[string]string{"error": "unauthorized", "message": "unauthorized"})
	_, err = c.Status(ctx, cred)
	require.ErrorIs(t, err, enroll.ErrDeviceAuth)
	require.Equal(t, 8, f.count())
}
