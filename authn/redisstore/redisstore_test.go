package redisstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/sqlite"
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/internal/testenv"
)

// redisAddr is the test server (see package testenv).
var redisAddr = testenv.RedisAddr

// newClient returns a client of the test server, closed when t ends.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix is a key prefix of its own for t; its keys are deleted when
// t ends.
func testPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	p := "keyline-test-" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx := context.Background()
		it := c.Scan(ctx, 0, p+":*", 1000).Iterator()
		for it.Next(ctx) {
			_ = c.Del(ctx, it.Val()).Err()
		}
	})
	return p
}

// openSQLite opens a durable store in a temporary directory.
func openSQLite(t testing.TB) *sqlstore.Store {
	t.Helper()
	d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keyline.db"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, d.Close()) })
	return d
}

func open(t testing.TB, c redis.UniversalClient, opts ...redisstore.Option) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), c, opts...)
	require.NoError(t, err)
	return s
}

// pairOf is a Store on Redis paired with records.
func pairOf(t testing.TB, c redis.UniversalClient, records authn.RecordStore, opts ...redisstore.Option) storetest.Stores {
	t.Helper()
	return storetest.Stores{Hot: open(t, c, opts...), Records: records}
}

// TestConformance runs the conformance suite on Redis: the hot store's
// tests on Redis alone, and the pair's and the Service's on Redis with
// SQLite for the durable records.
func TestConformance(t *testing.T) {
	c := newClient(t, redisAddr(t))
	storetest.RunHot(t, func(t testing.TB) authn.HotStore { return open(t, c, redisstore.WithPrefix(testPrefix(t, c))) })
	newStores := func(t testing.TB) storetest.Stores {
		return pairOf(t, c, openSQLite(t), redisstore.WithPrefix(testPrefix(t, c)))
	}
	storetest.RunPair(t, newStores)
	storetest.RunService(t, newStores)
}

// TestConformancePostgres runs the pair's and the Service's conformance
// tests on Redis with PostgreSQL for the durable records, each subtest in
// a fresh schema.
func TestConformancePostgres(t *testing.T) {
	c := newClient(t, redisAddr(t))
	dsn := testenv.PostgresDSN(t)
	newStores := func(t testing.TB) storetest.Stores {
		return pairOf(t, c, openPostgres(t, dsn, testenv.PostgresSchema(t, dsn)), redisstore.WithPrefix(testPrefix(t, c)))
	}
	storetest.RunPair(t, newStores)
	storetest.RunService(t, newStores)
}

// TestCluster runs the conformance suite through a Redis Cluster of three
// primaries: every script's keys must share a slot (the server refuses
// CROSSSLOT otherwise), and Sweep must find keys on every primary.
func TestCluster(t *testing.T) {
	c := newPrivateCluster(t, 3)
	n := 0
	prefix := func() string { n++; return fmt.Sprintf("cluster-%d", n) }
	storetest.RunHot(t, func(t testing.TB) authn.HotStore { return open(t, c, redisstore.WithPrefix(prefix())) })
	newStores := func(t testing.TB) storetest.Stores {
		return pairOf(t, c, openSQLite(t), redisstore.WithPrefix(prefix()))
	}
	storetest.RunPair(t, newStores)
	storetest.RunService(t, newStores)
	// The suite's keys landed on more than one primary.
	var masters atomic.Int32 // ForEachMaster calls its function concurrently
	require.NoError(t, c.ForEachMaster(context.Background(), func(ctx context.Context, m *redis.Client) error {
		if k, err := m.DBSize(ctx).Result(); err == nil && k > 0 {
			masters.Add(1)
		}
		return nil
	}))
	require.Greater(t, masters.Load(), int32(1), "keys on more than one primary")
}
