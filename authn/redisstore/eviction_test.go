package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
)

// A server whose maxmemory-policy changes away from noeviction after
// Open is noticed within the check interval: every call then fails with
// ErrEvictionPolicy (and authn.ErrStoreUnavailable, so the Service fails
// closed) instead of counting failures in keys Redis may drop. Once the
// policy is noeviction again, the store goes on. The test runs its own
// redis-server: it changes the server's configuration.
func TestEvictionPolicyChangedAfterOpen(t *testing.T) {
	ctx := context.Background()
	srv := newPrivateServer(t, "--maxmemory-policy", "noeviction")
	c := newClient(t, srv.addr())
	every := 50 * time.Millisecond
	s, err := redisstore.Open(ctx, c, redisstore.WithPolicyCheck(every))
	require.NoError(t, err)
	_, err = s.Spend(ctx, "k", 10, time.Minute, t0)
	require.NoError(t, err)

	require.NoError(t, c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err())
	time.Sleep(2 * every)
	// Every kind of call: a script, a read, a take-once mark.
	_, err = s.Spend(ctx, "k", 10, time.Minute, t0)
	require.ErrorIs(t, err, redisstore.ErrEvictionPolicy)
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	require.ErrorContains(t, err, `"allkeys-lru"`)
	_, err = s.Lockout(ctx, "alice", t0)
	require.ErrorIs(t, err, redisstore.ErrEvictionPolicy)
	err = s.TakeOnce(ctx, "n", t0.Add(time.Minute), t0)
	require.ErrorIs(t, err, redisstore.ErrEvictionPolicy)
	err = s.ClearLockout(ctx, "alice", t0)
	require.ErrorIs(t, err, redisstore.ErrEvictionPolicy)

	require.NoError(t, c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
	time.Sleep(2 * every)
	_, err = s.Spend(ctx, "k", 10, time.Minute, t0)
	require.NoError(t, err)
}
