package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testBudgetLeft checks BudgetLeft, the read of a Spend budget that
// spends nothing: the units left and the end of the window (its first
// spend plus its length), a refund seen at once, and the whole budget
// back, with no end, once the window is over.
func testBudgetLeft(t *testing.T, newStore func(t *testing.T) authn.Store) {
	ctx := context.Background()
	const window = 15 * time.Minute
	s := newStore(t)
	left, ends, err := s.BudgetLeft(ctx, "push:alice", 3, t0)
	require.NoError(t, err)
	require.Equal(t, 3, left, "nothing spent")
	require.True(t, ends.IsZero(), "no window running")

	for i := range 3 {
		_, err := s.Spend(ctx, "push:alice", 3, window, t0.Add(time.Duration(i)*time.Minute))
		require.NoError(t, err)
	}
	for range 2 { // a read spends nothing, a second read sees the same
		left, ends, err = s.BudgetLeft(ctx, "push:alice", 3, t0.Add(3*time.Minute))
		require.NoError(t, err)
		require.Equal(t, 0, left)
		require.True(t, ends.Equal(t0.Add(window)), "frees at the oldest spend plus the window: %v", ends)
	}
	left, _, err = s.BudgetLeft(ctx, "push:bob", 3, t0.Add(3*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 3, left, "another key is independent")

	done, err := s.Refund(ctx, "push:alice", "req-1", window, t0.Add(time.Minute), t0.Add(4*time.Minute))
	require.NoError(t, err)
	require.True(t, done)
	left, ends, err = s.BudgetLeft(ctx, "push:alice", 3, t0.Add(4*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, left, "a refund is seen at once")
	require.True(t, ends.Equal(t0.Add(window)), "a refund does not move the window: %v", ends)

	left, ends, err = s.BudgetLeft(ctx, "push:alice", 3, t0.Add(window-time.Microsecond))
	require.NoError(t, err)
	require.Equal(t, 1, left, "the window runs until its end")
	require.True(t, ends.Equal(t0.Add(window)))
	left, ends, err = s.BudgetLeft(ctx, "push:alice", 3, t0.Add(window))
	require.NoError(t, err)
	require.Equal(t, 3, left, "the whole budget once the window is over")
	require.True(t, ends.IsZero())

	left, err = s.Spend(ctx, "push:alice", 3, window, t0.Add(window))
	require.NoError(t, err)
	require.Equal(t, 2, left, "the reads took nothing")
	_, ends, err = s.BudgetLeft(ctx, "push:alice", 3, t0.Add(window))
	require.NoError(t, err)
	require.True(t, ends.Equal(t0.Add(2*window)), "a new window from its first spend: %v", ends)
}

// testServicePushBudget checks PushBudget through two instances: the
// budget shared by the requests of both, read without spending, the
// time push works again when it is spent, a withdrawn request's unit
// back at once, and the whole budget back with the window.
func testServicePushBudget(t *testing.T, newStore func(t *testing.T) authn.Store) {
	c, _ := newPushCluster(t, newStore(t))
	ctx := t.Context()
	c.enrollPush(t, "alice", nil)
	b, err := c.svc[0].PushBudget(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, authn.PushBudgetState{Left: 3}, b)

	first := c.clock.Now()
	var ids []string
	for i := range 3 {
		req, err := c.svc[i%2].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		ids = append(ids, req.ID)
		c.clock.Advance(time.Minute)
	}
	for i := range 2 {
		b, err = c.svc[i].PushBudget(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, 0, b.Left)
		require.True(t, b.FreesAt.Equal(first.Add(15*time.Minute)), "push works again 15 minutes after the first: %v", b.FreesAt)
	}
	_, err = c.svc[0].BeginPush(ctx, "alice", loginContext)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)

	require.NoError(t, c.svc[1].CancelPush(ctx, "alice", ids[2]))
	b, err = c.svc[0].PushBudget(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 1, b.Left, "a withdrawn request gives its unit back")

	c.clock.Advance(first.Add(15 * time.Minute).Sub(c.clock.Now()))
	b, err = c.svc[1].PushBudget(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, authn.PushBudgetState{Left: 3}, b, "the whole budget with the window")

	_, err = c.svc[0].PushBudget(ctx, "")
	require.ErrorIs(t, err, authn.ErrInvalidInput, "a user ID every entry point refuses")
}
