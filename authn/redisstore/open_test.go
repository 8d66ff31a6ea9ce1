package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
)

// Open refuses a server that may evict keys, and one whose policy it
// cannot read unless the caller vouches for it.
func TestOpenChecksTheServer(t *testing.T) {
	ctx := context.Background()
	t.Run("EvictionPolicy", func(t *testing.T) {
		srv := newPrivateServer(t, "--maxmemory-policy", "allkeys-lru")
		c := newClient(t, srv.addr())
		_, err := redisstore.Open(ctx, c)
		require.ErrorIs(t, err, redisstore.ErrEvictionPolicy)
		require.ErrorContains(t, err, `"allkeys-lru"`)
		require.ErrorContains(t, err, "noeviction")
		_, err = redisstore.Open(ctx, c, redisstore.AssumeNoEviction())
		require.ErrorIs(t, err, redisstore.ErrEvictionPolicy, "vouching does not override a policy Open can read")

		require.NoError(t, c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
		_, err = redisstore.Open(ctx, c)
		require.NoError(t, err)
	})

	t.Run("ConfigDisabled", func(t *testing.T) {
		srv := newPrivateServer(t, "--rename-command", "CONFIG", "")
		c := newClient(t, srv.addr())
		_, err := redisstore.Open(ctx, c)
		require.ErrorIs(t, err, redisstore.ErrUnverifiedPolicy)
		require.ErrorContains(t, err, "AssumeNoEviction")
		s, err := redisstore.Open(ctx, c, redisstore.AssumeNoEviction())
		require.NoError(t, err)
		_, err = s.Spend(ctx, "k", 1, 60e9, t0)
		require.NoError(t, err, "the store works on a server without CONFIG")
	})

	t.Run("Unreachable", func(t *testing.T) {
		srv := newPrivateServer(t)
		addr := srv.addr()
		srv.stop()
		c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		defer c.Close()
		_, err := redisstore.Open(ctx, c)
		require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	})

	t.Run("Arguments", func(t *testing.T) {
		c := newClient(t, redisAddr(t))
		_, err := redisstore.Open(ctx, nil)
		require.ErrorContains(t, err, "nil Redis client")
		for _, p := range []string{"", "a{b", "b}"} {
			_, err = redisstore.Open(ctx, c, redisstore.WithPrefix(p))
			require.ErrorContains(t, err, "prefix", "prefix %q", p)
		}
	})
}
