package authn_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// rotatingRecords is a store that sets the device's push token to
// rotated just before the first change that clears a push token: the
// phone sets its new token in the middle of RemovePushToken.
type rotatingRecords struct {
	authn.Store
	rotated string
	done    atomic.Bool
}

func (r *rotatingRecords) ChangeDevice(ctx context.Context, user, deviceID string, c authn.DeviceChange, now time.Time) (authn.DeviceRecord, error) {
	if c.PushToken != nil && *c.PushToken == "" && r.done.CompareAndSwap(false, true) {
		if _, err := r.Store.ChangeDevice(ctx, user, deviceID, authn.DeviceChange{PushToken: &r.rotated}, now); err != nil {
			return authn.DeviceRecord{}, err
		}
	}
	return r.Store.ChangeDevice(ctx, user, deviceID, c, now)
}

// TestRemovePushTokenRotatedMeanwhile: a token the phone sets while
// RemovePushToken removes the old one stays (the removal is one
// compare-and-set in the store), nothing is audited, and pushes reach
// the new token.
func TestRemovePushTokenRotatedMeanwhile(t *testing.T) {
	ctx := context.Background()
	rec := &rotatingRecords{rotated: "token set meanwhile"}
	n := authn.NewChanNotifier(16)
	e := newEnv(t, func(c *authn.Config) {
		c.Notifier = n
		rec.Store = c.Records.(authn.Store)
		c.Hot, c.Records = rec, rec
	})
	_, dev := e.enrollPhone(t, "alice", nil)
	recs, err := e.store.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, recs, 1)
	old := recs[0].PushToken
	require.NotEmpty(t, old)

	removed, err := e.svc.RemovePushToken(ctx, "alice", dev.ID, old)
	require.NoError(t, err)
	require.True(t, rec.done.Load(), "the token was rotated during the removal")
	require.False(t, removed, "the device holds another token by the time of the write")
	recs, err = e.store.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "token set meanwhile", recs[0].PushToken, "the token set meanwhile stays")
	require.Zero(t, e.obs.n(string(authn.EventPushTokenRemoved)), "nothing removed, nothing audited")

	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	d := <-n.C
	require.Equal(t, "token set meanwhile", d.PushToken, "pushes reach the new token")
}
