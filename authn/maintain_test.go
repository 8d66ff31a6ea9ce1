package authn_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
)

// waitFor polls cond until it holds, failing t after 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Maintain sweeps what has expired, says so in the audit log, and
// returns when its context ends.
func TestMaintain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t)
	e.enrollPhone(t, "alice", nil)
	_, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	e.clock.Advance(time.Hour) // the challenge has expired

	done := make(chan error, 1)
	go func() { done <- e.svc.Maintain(ctx, 10*time.Millisecond) }()
	waitFor(t, "a sweep", func() bool { return e.obs.n(string(authn.EventSwept)) >= 2 })
	swept := 0
	e.obs.mu.Lock()
	for _, ev := range e.obs.all {
		if ev.Name == authn.EventSwept {
			swept += ev.Count
		}
	}
	e.obs.mu.Unlock()
	require.GreaterOrEqual(t, swept, 1, "the expired challenge was swept")

	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Maintain did not return when its context ended")
	}
	require.Zero(t, e.obs.n(string(authn.EventMaintenanceFailed)))
}

// Maintain refuses an interval that is not positive, at once.
func TestMaintainInterval(t *testing.T) {
	e := newEnv(t)
	err := e.svc.Maintain(context.Background(), 0)
	require.ErrorIs(t, err, authn.ErrInvalidInput)
}

// failingSweep is a store whose record half's Sweep fails a number of
// times before it works.
type failingSweep struct {
	*memstore.Store
	fails atomic.Int32 // failures left
	calls atomic.Int32
	at    chan time.Time // when each call came
}

func (f *failingSweep) Sweep(ctx context.Context, now time.Time) (int, error) {
	f.calls.Add(1)
	select {
	case f.at <- time.Now():
	default:
	}
	if f.fails.Add(-1) >= 0 {
		return 0, errors.New("database is down")
	}
	return f.Store.Sweep(ctx, now)
}

// A store error is audited (maintenance_failed), retried sooner than the
// interval and then backed off; maintenance goes on once the store is
// back.
func TestMaintainBacksOff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := &failingSweep{Store: memstore.New(), at: make(chan time.Time, 16)}
	st.fails.Store(4)
	e := newEnv(t, func(c *authn.Config) { c.Hot, c.Records = st, st })

	every := 400 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- e.svc.Maintain(ctx, every) }()
	var times []time.Time
	for range 6 {
		select {
		case at := <-st.at:
			times = append(times, at)
		case <-time.After(5 * time.Second):
			t.Fatal("no sweep")
		}
	}
	// The first sweep comes at once; after each failure the wait doubles
	// from every/16, up to every: 25ms, 50ms, 100ms, 200ms.
	gaps := make([]time.Duration, 0, 5)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i].Sub(times[i-1]))
	}
	for i, want := range []time.Duration{every / 16, every / 8, every / 4, every / 2} {
		require.GreaterOrEqual(t, gaps[i], want, "gap %d", i)
		require.Less(t, gaps[i], want+every/2, "gap %d", i)
	}
	// Then the store works again, and the next sweep is a full interval on.
	require.GreaterOrEqual(t, gaps[4], every)
	require.Equal(t, 4, e.obs.n(string(authn.EventMaintenanceFailed)))
	require.GreaterOrEqual(t, e.obs.n(string(authn.EventSwept)), 1)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
