package redisstore_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/testenv"
)

// BenchmarkLogins measures whole logins (BeginChallenge, the phone's
// response, FinishChallenge with it) per second, with 1, 16 and 64
// clients at once, each client a user of its own logging in again and
// again, on every store through one Service. Each op is one login: run
// it with a fixed count (e.g. -benchtime 1000x). Besides logins/s it
// reports the p50 of BeginChallenge and of FinishChallenge under that
// load, the round trips per login to PostgreSQL and Redis, and on SQLite
// the store's commits per login where the store counts them
// (sqlstore.Stats.Commits: each a transaction, and an fsync of the WAL).
// It uses only what every version of the stores has, so that it runs
// unchanged on an older commit, for figures side by side.
func BenchmarkLogins(b *testing.B) {
	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("memstore/clients=%d", clients), func(b *testing.B) {
			runLogins(b, storetest.Both(memstore.New()), &counters{}, nil, clients)
		})
		b.Run(fmt.Sprintf("sqlite/clients=%d", clients), func(b *testing.B) {
			s := openSQLite(b)
			runLogins(b, storetest.Both(s), &counters{}, s, clients)
		})
		b.Run(fmt.Sprintf("postgres/clients=%d", clients), func(b *testing.B) {
			dsn := testenv.PostgresDSN(b)
			c := &counters{pg: &pgTrips{}}
			s := openPostgres(b, dsn, testenv.PostgresSchema(b, dsn), postgres.WithTracer(c.pg))
			runLogins(b, storetest.Both(s), c, nil, clients)
		})
		b.Run(fmt.Sprintf("redis+postgres/clients=%d", clients), func(b *testing.B) {
			addr, dsn := testenv.RedisAddr(b), testenv.PostgresDSN(b)
			c := &counters{pg: &pgTrips{}, redis: &redisTrips{}}
			rc := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
			b.Cleanup(func() { _ = rc.Close() })
			rc.AddHook(c.redis)
			st := pairOf(b, rc, openPostgres(b, dsn, testenv.PostgresSchema(b, dsn), postgres.WithTracer(c.pg)), redisstore.WithPrefix(testPrefix(b, rc)))
			runLogins(b, st, c, nil, clients)
		})
	}
}

// commitsOf returns a SQLite store's commits so far, or -1 where the
// store does not count them.
func commitsOf(s *sqlstore.Store) int64 {
	if s == nil {
		return -1
	}
	f := reflect.ValueOf(s.Stats()).FieldByName("Commits")
	if !f.IsValid() {
		return -1
	}
	return f.Int()
}

func runLogins(b *testing.B, st storetest.Stores, cnt *counters, lite *sqlstore.Store, clients int) {
	clk := &clock{t: t0.Add(5 * time.Second)}
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(b, err)
	svc, err := authn.New(authn.Config{Hot: st.Hot, Records: st.Records, Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
		Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 20, PerMinute: 100}})
	require.NoError(b, err)
	ctx := context.Background()
	type enrolled struct {
		user string
		cred *enroll.Credential
	}
	// Each client logs its users in in turn: a user's logins stay within
	// the per-minute budget (100) of the clock, which stands still.
	perClient := (b.N/clients)/90 + 1
	creds := make([][]*enrolled, clients)
	for i := range creds {
		for j := range perClient {
			user := fmt.Sprintf("user-%d-%d", i, j)
			creds[i] = append(creds[i], &enrolled{user: user, cred: enrollPhone(b, svc, clk, user)})
		}
	}
	begins := make([][]time.Duration, clients)
	finishes := make([][]time.Duration, clients)
	pg0, rd0 := cnt.trips()
	c0 := commitsOf(lite)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range clients {
		wg.Go(func() {
			for i := g; i < b.N; i += clients {
				u := creds[g][(i/clients)%len(creds[g])]
				t := time.Now()
				ch, err := svc.BeginChallenge(ctx, u.user)
				if err != nil {
					b.Error(err)
					return
				}
				begins[g] = append(begins[g], time.Since(t))
				resp, err := u.cred.Respond(ch.Question, clk.Now())
				if err != nil {
					b.Error(err)
					return
				}
				t = time.Now()
				if _, err := svc.FinishChallenge(ctx, u.user, ch.ID, resp); err != nil {
					b.Error(err)
					return
				}
				finishes[g] = append(finishes[g], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	pg1, rd1 := cnt.trips()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	if cnt.pg != nil {
		b.ReportMetric(float64(pg1-pg0)/float64(b.N), "pg-roundtrips/login")
	}
	if cnt.redis != nil {
		b.ReportMetric(float64(rd1-rd0)/float64(b.N), "redis-roundtrips/login")
	}
	if c0 >= 0 {
		b.ReportMetric(float64(commitsOf(lite)-c0)/float64(b.N), "commits/login")
	}
	p50 := func(d [][]time.Duration) float64 {
		all := slices.Sorted(slices.Values(slices.Concat(d...)))
		if len(all) == 0 {
			return 0
		}
		return float64(all[len(all)/2].Nanoseconds())
	}
	b.ReportMetric(p50(begins), "begin-p50-ns")
	b.ReportMetric(p50(finishes), "finish-p50-ns")
}
