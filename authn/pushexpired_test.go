package authn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// TestPushExpiredAudited: a push request that expires unanswered is
// audited once, as push_expired, by the first read that finds it so
// (the one that gives its budget unit back); a withdrawn one is not.
func TestPushExpiredAudited(t *testing.T) {
	ctx := context.Background()
	e, _ := pushEnv(t)
	e.enrollPhone(t, "alice", nil)

	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	e.clock.Advance(enroll.DefaultPushTTL)
	for range 2 {
		st, err := e.svc.PushStatus(ctx, "alice", req.ID, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushExpired, st)
	}
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrExpired)
	require.Equal(t, 1, e.obs.n(string(authn.EventPushExpired)))

	req, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	require.NoError(t, e.svc.CancelPush(ctx, "alice", req.ID))
	e.clock.Advance(enroll.DefaultPushTTL)
	_, err = e.svc.PushStatus(ctx, "alice", req.ID, 0)
	require.NoError(t, err)
	require.Equal(t, 1, e.obs.n(string(authn.EventPushExpired)), "a withdrawn request is not an expired one")
}
