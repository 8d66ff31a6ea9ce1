package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testServiceMaintain: Service.Sweep removes what has expired from both
// halves of the store, and Service.Maintain sweeps on its interval,
// audits it and stops with its context.
func testServiceMaintain(t *testing.T, newStore func(t *testing.T) authn.Store) {
	ctx := context.Background()
	c := newCluster(t, newStore(t), nil)
	svc := c.svc[0]
	c.enroll(t, "alice", nil)
	_, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = svc.StartActivation(ctx, "bob", nil)
	require.NoError(t, err)

	n, err := svc.Sweep(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired yet")

	c.clock.Advance(48 * time.Hour) // the challenge and the offer expire
	n, err = svc.Sweep(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 1, "the expired challenge is swept")

	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.svc[1].Maintain(mctx, 10*time.Millisecond) }()
	deadline := time.Now().Add(10 * time.Second)
	for c.obs.count(string(authn.EventSwept)) < 2 {
		require.True(t, time.Now().Before(deadline), "Maintain swept nothing")
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Maintain did not stop with its context")
	}
	require.Zero(t, c.obs.count(string(authn.EventMaintenanceFailed)))
}
