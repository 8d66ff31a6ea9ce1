package redisstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/internal/testenv"
)

// BenchmarkThroughput measures verifications (FinishChallenge with the
// right response) per second with 64 goroutines, on every store: through
// one Service, and through two Services on separate connections sharing
// PostgreSQL or Redis+PostgreSQL. It lives here because this package's
// tests can reach every store.
//
// Each op is one FinishChallenge; the challenges are begun before the
// timer starts (20 per user, the budget's maximum, so ⌈N/20⌉ users are
// enrolled first): run it with a fixed count, e.g. -benchtime 6400x.
// Besides ns/op (wall time divided by N, so 1e9/ns/op is the throughput)
// it reports verifies/s, the round trips per op to Redis and PostgreSQL
// (memstore and SQLite have none), and the p50 and p99 of one
// FinishChallenge under that load.
func BenchmarkThroughput(b *testing.B) {
	b.Run("memstore", func(b *testing.B) {
		runThroughput(b, func(b *testing.B) ([2]storetest.Stores, *counters) {
			s := memstore.New()
			return [2]storetest.Stores{storetest.Both(s), storetest.Both(s)}, &counters{}
		}, 1)
	})
	b.Run("sqlite", func(b *testing.B) {
		runThroughput(b, func(b *testing.B) ([2]storetest.Stores, *counters) {
			s := openSQLite(b)
			return [2]storetest.Stores{storetest.Both(s), storetest.Both(s)}, &counters{}
		}, 1)
	})
	for _, services := range []int{1, 2} {
		b.Run(fmt.Sprintf("postgres/services=%d", services), func(b *testing.B) {
			runThroughput(b, func(b *testing.B) ([2]storetest.Stores, *counters) {
				dsn := testenv.PostgresDSN(b)
				schema := testenv.PostgresSchema(b, dsn)
				c := &counters{pg: &pgTrips{}}
				var st [2]storetest.Stores
				for i := range st {
					st[i] = storetest.Both(openPostgres(b, dsn, schema, postgres.WithTracer(c.pg)))
				}
				return st, c
			}, services)
		})
		b.Run(fmt.Sprintf("redis+postgres/services=%d", services), func(b *testing.B) {
			runThroughput(b, func(b *testing.B) ([2]storetest.Stores, *counters) {
				addr, dsn := testenv.RedisAddr(b), testenv.PostgresDSN(b)
				schema := testenv.PostgresSchema(b, dsn)
				c := &counters{pg: &pgTrips{}, redis: &redisTrips{}}
				var st [2]storetest.Stores
				var prefix string
				for i := range st {
					rc := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
					b.Cleanup(func() { _ = rc.Close() })
					rc.AddHook(c.redis)
					if i == 0 {
						prefix = testPrefix(b, rc)
					}
					st[i] = pairOf(b, rc, openPostgres(b, dsn, schema, postgres.WithTracer(c.pg)), redisstore.WithPrefix(prefix))
				}
				return st, c
			}, services)
		})
	}
}

type counters struct {
	pg    *pgTrips
	redis *redisTrips
}

func (c *counters) trips() (pg, rd int64) {
	if c.pg != nil {
		pg = c.pg.n.Load()
	}
	if c.redis != nil {
		rd = c.redis.n.Load()
	}
	return pg, rd
}

func runThroughput(b *testing.B, open func(*testing.B) ([2]storetest.Stores, *counters), services int) {
	const goroutines, perUser = 64, 20
	stores, cnt := open(b)
	clk := &clock{t: t0.Add(5 * time.Second)}
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(b, err)
	var svcs [2]*authn.Service
	for i := range svcs {
		svcs[i], err = authn.New(authn.Config{Hot: stores[i%services].Hot, Records: stores[i%services].Records, Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
			Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: perUser, PerMinute: 100}})
		require.NoError(b, err)
	}
	ctx := context.Background()

	// Untimed: enroll ⌈N/20⌉ users and begin N challenges.
	type pending struct {
		svc            *authn.Service
		user, id, resp string
	}
	work := make([]pending, 0, b.N)
	for u := 0; len(work) < b.N; u++ {
		user := fmt.Sprintf("user-%d", u)
		svc := svcs[u%services]
		cred := enrollPhone(b, svc, clk, user)
		for range min(perUser, b.N-len(work)) {
			ch, err := svc.BeginChallenge(ctx, user)
			require.NoError(b, err)
			resp, err := cred.Respond(ch.Question, clk.Now())
			require.NoError(b, err)
			work = append(work, pending{svc: svcs[len(work)%services], user: user, id: ch.ID, resp: resp})
		}
	}
	clk.Advance(10 * time.Second)

	durs := make([][]time.Duration, goroutines)
	pg0, rd0 := cnt.trips()
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < len(work); i += goroutines {
				w := work[i]
				t := time.Now()
				if _, err := w.svc.FinishChallenge(ctx, w.user, w.id, w.resp); err != nil {
					b.Error(err)
					return
				}
				durs[g] = append(durs[g], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	pg1, rd1 := cnt.trips()
	all := slices.Sorted(slices.Values(slices.Concat(durs...)))
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "verifies/s")
	if cnt.pg != nil {
		b.ReportMetric(float64(pg1-pg0)/float64(b.N), "pg-roundtrips/op")
	}
	if cnt.redis != nil {
		b.ReportMetric(float64(rd1-rd0)/float64(b.N), "redis-roundtrips/op")
	}
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Nanoseconds()), "p99-ns")
	}
}

// BenchmarkFinishChallenge is one FinishChallenge at a time through a
// Service on Redis+PostgreSQL (no concurrency): the latency of one
// verification on loopback, its p50 and p99, and its round trips.
func BenchmarkFinishChallenge(b *testing.B) {
	r := newRig(b, redisAddr(b))
	n, durs := testenv.FinishBatches(b, testenv.Login{Service: r.svc, User: "alice", Phone: r.cred, Now: r.clock.Now, Advance: r.clock.Advance},
		r.redis.n.Load, r.pg.n.Load)
	b.ReportMetric(float64(n[0]+n[1])/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(n[0])/float64(b.N), "redis-roundtrips/op")
	b.ReportMetric(float64(n[1])/float64(b.N), "pg-roundtrips/op")
	testenv.ReportLatency(b, durs)
}
