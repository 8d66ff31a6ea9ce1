package authn_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// fanOut is a MultiNotifier that records each batch and fails the
// devices named in fail.
type fanOut struct {
	mu      sync.Mutex
	batches [][]authn.Delivery
	single  int
	fail    map[string]bool
}

func (f *fanOut) Notify(context.Context, authn.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.single++
	return nil
}

func (f *fanOut) NotifyAll(_ context.Context, ds []authn.Delivery) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, ds)
	errs := make([]error, len(ds))
	for i, d := range ds {
		if f.fail[d.Device] {
			errs[i] = context.DeadlineExceeded
		}
	}
	return errs
}

// TestMultiNotifierOneBatch: a MultiNotifier gets every device of a
// request in one call (with the request's expiry and each device's
// platform and token), its per-device errors are audited per device, and
// the request stands while one device was reached.
func TestMultiNotifierOneBatch(t *testing.T) {
	ctx := context.Background()
	f := &fanOut{fail: map[string]bool{}}
	e := newEnv(t, func(c *authn.Config) { c.Notifier = f })
	e.withDevices(t, "alice", 2)
	recs, err := e.store.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	d1, d2 := recs[0], recs[1]
	f.fail[d2.ID] = true
	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	require.Len(t, f.batches, 1)
	require.Zero(t, f.single, "a MultiNotifier is not called device by device")
	b := f.batches[0]
	require.Len(t, b, 2)
	tokens := map[string]string{}
	for _, r := range recs {
		tokens[r.ID] = r.PushToken
	}
	seen := map[string]bool{}
	for _, d := range b {
		seen[d.Device] = true
		require.Equal(t, req.ID, d.RequestID)
		require.Equal(t, req.ExpiresAt, d.ExpiresAt, "the delivery carries the request's expiry")
		require.Equal(t, "android", d.Platform)
		require.Equal(t, tokens[d.Device], d.PushToken)
		require.NotEmpty(t, d.Prompt)
	}
	require.True(t, seen[d1.ID] && seen[d2.ID])
	require.Equal(t, 1, e.obs.n(string(authn.EventPushUndelivered)), "the failed device is audited, the other is not")
	require.Equal(t, 1, e.obs.n(string(authn.EventPushSent)))

	// Every device failing: no request.
	f.fail[d1.ID] = true
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)
}

// TestRemovePushToken: a token the push service reports as gone is
// removed from its device and audited; a token the device no longer
// holds (it rotated meanwhile) is left alone, as is an unknown device.
func TestRemovePushToken(t *testing.T) {
	ctx := context.Background()
	e, _ := pushEnv(t)
	_, dev := e.enrollPhone(t, "alice", nil)
	token := func() string {
		recs, err := e.store.Devices(ctx, "alice")
		require.NoError(t, err)
		require.Len(t, recs, 1)
		return recs[0].PushToken
	}
	old := token()
	require.NotEmpty(t, old)

	removed, err := e.svc.RemovePushToken(ctx, "alice", dev.ID, "not-"+old)
	require.NoError(t, err)
	require.False(t, removed, "a token the device does not hold is not removed")
	require.Equal(t, old, token())
	require.Zero(t, e.obs.n(string(authn.EventPushTokenRemoved)))

	_, err = e.svc.RemovePushToken(ctx, "alice", "0123456789abcdef0123456789abcdef", old)
	require.ErrorIs(t, err, authn.ErrNotFound)
	_, err = e.svc.RemovePushToken(ctx, "alice", dev.ID, "")
	require.ErrorIs(t, err, authn.ErrInvalidInput)
	_, err = e.svc.RemovePushToken(ctx, "", dev.ID, old)
	require.ErrorIs(t, err, authn.ErrInvalidInput)

	removed, err = e.svc.RemovePushToken(ctx, "alice", dev.ID, old)
	require.NoError(t, err)
	require.True(t, removed)
	require.Empty(t, token(), "the device gets no pushes until the phone sets a new token")
	require.Equal(t, 1, e.obs.n(string(authn.EventPushTokenRemoved)))
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)
}
