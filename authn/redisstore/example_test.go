package redisstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
)

// A Service for a fleet of instances: hot state in a Redis Cluster,
// durable records in PostgreSQL, paired in the Config. (It needs both servers, so it is
// compiled, not run, by go test.)
func Example() {
	ctx := context.Background()
	records, err := postgres.Open(ctx, "postgres://login@db.internal/login?sslmode=verify-full")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer records.Close()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: []string{"redis-1.internal:6379", "redis-2.internal:6379", "redis-3.internal:6379"},
	})
	defer rdb.Close()
	store, err := redisstore.Open(ctx, rdb) // refuses a server that may evict keys
	if err != nil {
		fmt.Println(err)
		return
	}
	master, err := os.ReadFile("/run/secrets/keyline-2026-11") // 32 bytes from your secret store
	if err != nil {
		fmt.Println(err)
		return
	}
	keys, err := authn.NewKeyring("2026-11", map[string][]byte{"2026-11": master})
	if err != nil {
		fmt.Println(err)
		return
	}
	svc, err := authn.New(authn.Config{Hot: store, Records: records, Keys: keys, Issuer: "Example Bank"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = svc // every instance builds the same; they share the stores
}
