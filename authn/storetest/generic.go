package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

// testGeneric checks TakeOnce and Spend, the generic single-use and budget
// operations of the hot store (device API nonces, push answers, push
// budgets), alone and under concurrency.
func testGeneric(t *testing.T, newStore func(t *testing.T) authn.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	t.Run("TakeOnce", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.TakeOnce(ctx, "nonce:a", t0.Add(time.Minute), t0))
		require.ErrorIs(t, s.TakeOnce(ctx, "nonce:a", t0.Add(time.Minute), t0.Add(59*time.Second)), authn.ErrStoreConflict)
		require.NoError(t, s.TakeOnce(ctx, "nonce:b", t0.Add(time.Minute), t0), "another key is independent")
		require.NoError(t, s.TakeOnce(ctx, "nonce:a", t0.Add(2*time.Minute), t0.Add(time.Minute)), "free again once expired")

		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.TakeOnce(ctx, "nonce:race", t0.Add(time.Minute), t0) == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load())
	})

	t.Run("Spend", func(t *testing.T) {
		s := newStore(t)
		for want := 2; want >= 0; want-- {
			left, err := s.Spend(ctx, "push:alice", 3, 15*time.Minute, t0)
			require.NoError(t, err)
			require.Equal(t, want, left)
		}
		_, err := s.Spend(ctx, "push:alice", 3, 15*time.Minute, t0.Add(14*time.Minute))
		require.ErrorIs(t, err, authn.ErrStoreLimit)
		_, err = s.Spend(ctx, "push:bob", 3, 15*time.Minute, t0)
		require.NoError(t, err, "another key is independent")
		left, err := s.Spend(ctx, "push:alice", 3, 15*time.Minute, t0.Add(15*time.Minute))
		require.NoError(t, err, "a new window")
		require.Equal(t, 2, left)

		var spent atomic.Int32
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Spend(ctx, "push:race", 10, time.Minute, t0); err == nil {
					spent.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(10), spent.Load())

		n, err := s.Sweep(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Positive(t, n)
		left, err = s.Spend(ctx, "push:race", 10, time.Minute, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 9, left)
	})
}
