package authn_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// meetNotifier is a plain Notifier whose calls each wait until n calls
// are under way at once (or their context ends): called one device
// after the other, its first call could only time out.
type meetNotifier struct {
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (m *meetNotifier) Notify(ctx context.Context, d authn.Delivery) error {
	if d.Retract {
		return nil
	}
	m.mu.Lock()
	m.arrived++
	if m.arrived == m.n {
		close(m.all)
	}
	m.mu.Unlock()
	select {
	case <-m.all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestPlainNotifierConcurrent: a plain Notifier is called for all the
// devices of a request at once, under one deadline, so that one slow
// push service does not hold up, or time out, the others: a request to
// three phones whose pushes can only succeed together is delivered to
// all three.
func TestPlainNotifierConcurrent(t *testing.T) {
	ctx := context.Background()
	m := &meetNotifier{n: 3, all: make(chan struct{})}
	e := newEnv(t, func(c *authn.Config) { c.Notifier = m; c.NotifyTimeout = 20 * time.Second })
	e.withDevices(t, "alice", 3)
	_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	require.Zero(t, e.obs.n(string(authn.EventPushUndelivered)), "every device was reached")
	require.Equal(t, 1, e.obs.n(string(authn.EventPushSent)))
}
