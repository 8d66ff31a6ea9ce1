package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/testenv"
)

// postgresDSN and testSchema are the test server and a schema of the
// test's own (see package testenv).
var (
	postgresDSN = testenv.PostgresDSN
	testSchema  = testenv.PostgresSchema
)

// openPostgres opens a store in schema and closes it when t ends.
func openPostgres(t testing.TB, dsn, schema string) *sqlstore.Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, WithSchema(schema))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// TestPostgresConformance runs the Store conformance suite on
// PostgreSQL, each subtest in a fresh schema.
func TestPostgresConformance(t *testing.T) {
	dsn := postgresDSN(t)
	newStore := func(t testing.TB) authn.Store { return openPostgres(t, dsn, testSchema(t, dsn)) }
	storetest.Run(t, newStore)
	storetest.RunService(t, func(t testing.TB) storetest.Stores { return storetest.Both(newStore(t)) })
}

// TestPostgresOpeners opens one schema from several stores at once (as
// several processes would): the schema and the migration are made once,
// and the stores count every failure of one user.
func TestPostgresOpeners(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	ctx := context.Background()
	const n = 4
	stores := make([]*sqlstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, dsn, WithSchema(schema)) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		t.Cleanup(func() { stores[i].Close() })
	}
	v, err := stores[0].SchemaVersion(ctx)
	require.NoError(t, err)
	files, err := fs.Glob(migrations(), "*.sql")
	require.NoError(t, err)
	require.Equal(t, len(files), v, "every migration applied")
	require.GreaterOrEqual(t, v, 5)
	sqltest.FailFromEvery(t, ctx, stores) // every failure counted, from every store at once

	// A newer schema is refused.
	require.NoError(t, rawExec(t, dsn, schema, `INSERT INTO authn_schema_version (version, applied_at) VALUES (99, 0)`))
	_, err = Open(ctx, dsn, WithSchema(schema))
	require.ErrorContains(t, err, "newer")
}

// TestPostgresShared races two Services, each on a store with a pool of
// its own, on one schema.
func TestPostgresShared(t *testing.T) {
	dsn := postgresDSN(t)
	storetest.RunShared(t, func(t testing.TB) [2]storetest.Stores {
		schema := testSchema(t, dsn)
		return [2]storetest.Stores{storetest.Both(openPostgres(t, dsn, schema)), storetest.Both(openPostgres(t, dsn, schema))}
	})
}

// TestPostgresTwoPools runs logins through two Services, each on a store
// with a pool of its own (as two processes would), on one schema: one
// challenge is answered once, and concurrent wrong answers stop at the
// lock.
func TestPostgresTwoPools(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	stores := [2]*sqlstore.Store{openPostgres(t, dsn, schema), openPostgres(t, dsn, schema)}
	clk := authntest.NewClock(sqltest.T0.Add(5 * time.Second))
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	var svcs [2]*authn.Service
	for i := range svcs {
		svcs[i], err = authn.New(authn.Config{Hot: stores[i], Records: stores[i], Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
			Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 5, PerMinute: 100}})
		require.NoError(t, err)
	}
	ctx := context.Background()
	cred := sqltest.EnrollPhone(t, svcs[0], clk, "alice")

	// One right answer, sent n times through both pools: one login.
	ch, err := svcs[1].BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	clk.Advance(10 * time.Second)
	resp, err := cred.Respond(ch.Question, clk.Now())
	require.NoError(t, err)
	const n = 100
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = svcs[i%2].FinishChallenge(ctx, "alice", ch.ID, resp)
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, authn.ErrInvalidCode), errors.Is(err, authn.ErrLocked):
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	require.Equal(t, 1, ok, "successes of %d concurrent answers to one challenge through two pools", n)

	// Wrong answers through both pools: at most MaxFailures are counted
	// as such, the rest find the user locked.
	clk.Advance(time.Minute)
	ch, err = svcs[0].BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	start = make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = svcs[i%2].FinishChallenge(ctx, "alice", ch.ID, "000000")
		})
	}
	close(start)
	wg.Wait()
	invalid, lockedOut := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, authn.ErrInvalidCode):
			invalid++
		case errors.Is(err, authn.ErrLocked):
			lockedOut++
		default:
			t.Errorf("unexpected result: %v", err)
		}
	}
	require.LessOrEqual(t, invalid, authn.DefaultMaxFailures)
	require.Equal(t, n, invalid+lockedOut)
	u, err := stores[1].User(ctx, "alice", clk.Now())
	require.NoError(t, err)
	require.True(t, u.LockedUntil.After(clk.Now()), "the user ends locked")
}

// TestPostgresDevicesPageByteOrder: devices page in byte order, whatever
// the database's collation.
func TestPostgresDevicesPageByteOrder(t *testing.T) {
	dsn := postgresDSN(t)
	s := openPostgres(t, dsn, testSchema(t, dsn))
	ctx := context.Background()
	users := []string{"b", "B", "a", "é", "_", "Z"}
	for i, u := range users {
		sid := "sid-" + u
		require.NoError(t, s.PutActivation(ctx, authn.ActivationRecord{SessionID: sid, User: u, State: authn.ActivationWaiting,
			Pending: []byte("p"), ExpiresAt: sqltest.T0.Add(time.Hour), CreatedAt: sqltest.T0}, sqltest.T0))
		_, err := s.CompleteActivation(ctx, sid, []byte("h"), []byte("c"), authn.DeviceRecord{ID: "dev", User: u,
			SessionID: sid, CreatedAt: sqltest.T0.Add(time.Duration(i) * time.Second)}, 5, sqltest.T0)
		require.NoError(t, err)
	}
	var got []string
	afterUser, afterID := "", ""
	for {
		page, err := s.DevicesPage(ctx, afterUser, afterID, 2)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			got = append(got, d.User)
		}
		afterUser, afterID = page[len(page)-1].User, page[len(page)-1].ID
	}
	require.Equal(t, []string{"B", "Z", "_", "a", "b", "é"}, got)
}

// TestPostgresCancelledContext: a cancelled context fails the call with
// a store error, not an outcome, and leaves the store usable.
func TestPostgresCancelledContext(t *testing.T) {
	dsn := postgresDSN(t)
	s := openPostgres(t, dsn, testSchema(t, dsn))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.RecordFailure(ctx, "alice", "", sqltest.Lenient, sqltest.T0)
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)
	u, err := s.RecordFailure(context.Background(), "alice", "", sqltest.Lenient, sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, 1, u.Failures)
}

// tripCounter is a pgx tracer that counts what goes to the server: each
// query (a statement, BEGIN, COMMIT: one round trip each with a cached
// statement) and each statement pgx prepares (a round trip of its own,
// once per connection and statement). It does not see database/sql's
// pings of a connection idle for over a second.
type tripCounter struct{ queries, prepares atomic.Int64 }

func (tc *tripCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	tc.queries.Add(1)
	return ctx
}

func (tc *tripCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (tc *tripCounter) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	tc.prepares.Add(1)
	return ctx
}

func (tc *tripCounter) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// trips returns the round trips counted so far.
func (tc *tripCounter) trips() int64 { return tc.queries.Load() + tc.prepares.Load() }

var _ pgx.PrepareTracer = (*tripCounter)(nil)

// pgService opens a store (with a trip counter and opts) in a fresh
// schema and a Service on it, with an enrolled phone for alice.
func pgService(t testing.TB, opts ...Option) (*sqlstore.Store, *tripCounter, *authn.Service, *authntest.Clock, *enroll.Credential) {
	t.Helper()
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	tc := &tripCounter{}
	s, err := Open(context.Background(), dsn, append([]Option{WithSchema(schema), WithTracer(tc)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	clk := authntest.NewClock(sqltest.T0.Add(5 * time.Second))
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	svc, err := authn.New(authn.Config{Hot: s, Records: s, Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
		Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 20, PerMinute: 100}})
	require.NoError(t, err)
	return s, tc, svc, clk, sqltest.EnrollPhone(t, svc, clk, "alice")
}

// TestPostgresFinishChallengeRoundTrips: once the connection has its
// statements prepared, a FinishChallenge that succeeds is one round
// trip (AttemptCommit: authn_finish counts, compares, consumes and
// commits the step); an Attempt that fails, and a CommitStep refused,
// are one each. (A wrong answer through the Service also reads
// the user's devices, to look for a drifted phone: a third.)
func TestPostgresFinishChallengeRoundTrips(t *testing.T) {
	s, tc, svc, clk, cred := pgService(t, WithMaxConns(1))
	ctx := context.Background()
	for i := range 3 {
		clk.Advance(15 * time.Second)
		ch, err := svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		resp, err := cred.Respond(ch.Question, clk.Now())
		require.NoError(t, err)
		q0, p0 := tc.queries.Load(), tc.prepares.Load()
		_, err = svc.FinishChallenge(ctx, "alice", ch.ID, resp)
		require.NoError(t, err)
		if i > 0 { // the first prepares the statements
			require.Equal(t, int64(1), tc.queries.Load()-q0, "queries of a FinishChallenge")
			require.Equal(t, int64(0), tc.prepares.Load()-p0, "prepares of a warm FinishChallenge")
		}
	}
	clk.Advance(15 * time.Second)
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	for i := range 2 { // the first prepares authn_attempt's call (the Service calls authn_finish)
		n0 := tc.trips()
		res, err := s.Attempt(ctx, "alice", "", &authn.ChallengeAnswer{ID: ch.ID, MAC: [16]byte{1}, ServerStep: 1}, sqltest.Lenient, clk.Now())
		require.NoError(t, err)
		require.Equal(t, authn.AttemptMismatch, res.Outcome)
		if i > 0 {
			require.Equal(t, int64(1), tc.trips()-n0, "round trips of a wrong Attempt")
		}
	}
	devs, err := s.Devices(ctx, "alice")
	require.NoError(t, err)
	// (The first prepares authn_commit_step's call, which the Service no
	// longer makes on this store: queries only.)
	n0 := tc.queries.Load()
	require.ErrorIs(t, s.CommitStep(ctx, "alice", devs[0].ID, 0, 0, 0, clk.Now()), authn.ErrStoreConflict)
	require.ErrorIs(t, s.CommitStep(ctx, "alice", "nobody", 0, 0, 0, clk.Now()), authn.ErrStoreNotFound)
	require.Equal(t, int64(2), tc.queries.Load()-n0, "round trips of two refused CommitSteps")
}

// BenchmarkPostgresFinishChallenge measures FinishChallenge through a
// Service on PostgreSQL, as BenchmarkFinishChallenge does on SQLite:
// batches of 20 challenges begun with the timer stopped, then answered.
// It reports the round trips (counted by pgx's tracer, prepares
// included) and the p50 and p99 of one FinishChallenge's duration.
func BenchmarkPostgresFinishChallenge(b *testing.B) {
	s, tc, svc, clk, cred := pgService(b)
	n, durs := testenv.FinishBatches(b, testenv.Login{Service: svc, User: "alice", Phone: cred, Now: clk.Now, Advance: clk.Advance},
		tc.trips, func() int64 { return s.Stats().Statements })
	b.ReportMetric(float64(n[0])/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(n[1])/float64(b.N), "stmts/op")
	testenv.ReportLatency(b, durs)
}

// rawExec runs one statement in schema on a connection of its own.
func rawExec(t testing.TB, dsn, schema, q string, args ...any) error {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	_, err = db.ExecContext(context.Background(), q, args...)
	return err
}

// TestLockOverflow: the lock an Attempt sets is authn.LockPolicy.Fail's
// at any level (PostgreSQL runs authn_attempt, as migration 0002 defines
// it, with the table of LockPolicy.Lengths).
func TestLockOverflow(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	sqltest.CheckLockOverflow(t, openPostgres(t, dsn, schema), func(q string, args ...any) error {
		return rawExec(t, dsn, schema, q, args...)
	})
}

// TestDurabilityChild is the child process's entry; it does nothing in a
// normal run.
func TestDurabilityChild(t *testing.T) {
	schema := os.Getenv(sqltest.DurabilityEnv)
	if schema == "" {
		t.Skip("runs only as the child of a durability test")
	}
	s, err := Open(context.Background(), os.Getenv(testenv.PostgresEnv), WithSchema(schema))
	require.NoError(t, err)
	sqltest.DurabilityChild(t, s)
}

func TestDurability(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	sqltest.RunDurability(t, schema, func() *sqlstore.Store {
		s, err := Open(context.Background(), dsn, WithSchema(schema))
		require.NoError(t, err)
		return s
	})
}
