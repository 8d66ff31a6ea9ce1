package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testRefund checks HotStore.Refund: one unit given back to the budget
// it was spent from, once per mark, only within the window that spent
// it, never more than was spent; and once under concurrency (a
// withdrawal, an expiry read and a sweep racing for one push's refund).
func testRefund(t *testing.T, newStore func(t *testing.T) authn.Store) {
	ctx := context.Background()
	const window = 15 * time.Minute
	spend := func(t *testing.T, s authn.Store, key string, at time.Time) error {
		t.Helper()
		_, err := s.Spend(ctx, key, 3, window, at)
		return err
	}
	refund := func(t *testing.T, s authn.Store, key, mark string, spentAt, now time.Time) bool {
		t.Helper()
		ok, err := s.Refund(ctx, key, mark, window, spentAt, now)
		require.NoError(t, err)
		return ok
	}

	t.Run("OncePerMark", func(t *testing.T) {
		s := newStore(t)
		for i := range 3 {
			require.NoError(t, spend(t, s, "push:alice", t0.Add(time.Duration(i)*time.Second)))
		}
		require.ErrorIs(t, spend(t, s, "push:alice", t0.Add(3*time.Second)), authn.ErrStoreLimit)
		require.True(t, refund(t, s, "push:alice", "req-1", t0, t0.Add(time.Minute)))
		require.False(t, refund(t, s, "push:alice", "req-1", t0, t0.Add(time.Minute)), "a mark refunds once")
		require.NoError(t, spend(t, s, "push:alice", t0.Add(time.Minute)), "the unit is back")
		require.ErrorIs(t, spend(t, s, "push:alice", t0.Add(time.Minute)), authn.ErrStoreLimit, "one unit only")
		require.True(t, refund(t, s, "push:alice", "req-2", t0.Add(time.Second), t0.Add(2*time.Minute)))
		require.False(t, refund(t, s, "push:bob", "req-3", t0, t0.Add(2*time.Minute)), "another budget was never spent")
		require.NoError(t, spend(t, s, "push:bob", t0))
	})

	t.Run("OnlyItsWindow", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, spend(t, s, "push:alice", t0))
		require.False(t, refund(t, s, "push:alice", "before", t0.Add(-time.Second), t0.Add(time.Second)),
			"spent before this window began: not this window's unit")
		require.False(t, refund(t, s, "push:alice", "late", t0, t0.Add(window)), "the window is over")
		require.NoError(t, spend(t, s, "push:alice", t0.Add(window+time.Second)), "a new window")
		require.False(t, refund(t, s, "push:alice", "old", t0, t0.Add(window+2*time.Second)),
			"a unit of the last window is not given to this one")
		require.True(t, refund(t, s, "push:alice", "new", t0.Add(window+time.Second), t0.Add(window+2*time.Second)))
	})

	t.Run("NeverMoreThanSpent", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, spend(t, s, "push:alice", t0))
		require.True(t, refund(t, s, "push:alice", "a", t0, t0.Add(time.Second)))
		require.False(t, refund(t, s, "push:alice", "b", t0, t0.Add(time.Second)), "nothing is spent")
		for range 3 {
			require.NoError(t, spend(t, s, "push:alice", t0.Add(2*time.Second)))
		}
		require.ErrorIs(t, spend(t, s, "push:alice", t0.Add(2*time.Second)), authn.ErrStoreLimit, "the limit stands")
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		for range 3 {
			require.NoError(t, spend(t, s, "push:race", t0))
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.Refund(ctx, "push:race", "req-race", window, t0, t0.Add(time.Minute))
				if err == nil && ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load(), "one refund of 32 racing for one mark")
		require.NoError(t, spend(t, s, "push:race", t0.Add(time.Minute)))
		require.ErrorIs(t, spend(t, s, "push:race", t0.Add(time.Minute)), authn.ErrStoreLimit)
	})
}
