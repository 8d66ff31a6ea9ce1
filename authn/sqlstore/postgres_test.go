package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/storetest"
)

// postgresEnv names the environment variable that holds the DSN of a
// PostgreSQL server for the tests (for example
// postgres://keyline@127.0.0.1:5432/postgres?sslmode=disable). Each test
// works in a schema of its own, which it drops at the end.
const postgresEnv = "KEYLINE_TEST_POSTGRES"

// postgresDSN returns the test server's DSN, or skips the test when there
// is none (and fails it in CI, where the server must be there).
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: the PostgreSQL tests need a server in CI", postgresEnv)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL tests (set it to a server's DSN to run them)", postgresEnv)
	}
	return dsn
}

// testSchema makes a fresh schema name and drops that schema when t ends
// (after the stores of t have closed: cleanups run last-in first-out).
func testSchema(t testing.TB, dsn string) string {
	t.Helper()
	name := "keyline_test_" + strings.ToLower(rand.Text()[:16])
	t.Cleanup(func() {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Error(err)
			return
		}
		db := stdlib.OpenDB(*cfg)
		defer db.Close()
		_, err = db.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`)
		assert.NoError(t, err, "dropping the test schema %s", name)
	})
	return name
}

// openPostgres opens a store in schema and closes it when t ends.
func openPostgres(t testing.TB, dsn, schema string) *Store {
	t.Helper()
	s, err := OpenPostgres(context.Background(), dsn, WithSchema(schema))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, s.Close()) })
	return s
}

// TestPostgresConformance runs the Store conformance suite on
// PostgreSQL, each subtest in a fresh schema.
func TestPostgresConformance(t *testing.T) {
	dsn := postgresDSN(t)
	storetest.Run(t, func(t *testing.T) authn.Store {
		return openPostgres(t, dsn, testSchema(t, dsn))
	})
}

// TestPostgresOpeners opens one schema from several stores at once (as
// several processes would): the schema and the migration are made once,
// and the stores count every failure of one user.
func TestPostgresOpeners(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	ctx := context.Background()
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = OpenPostgres(ctx, dsn, WithSchema(schema)) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		t.Cleanup(func() { stores[i].Close() })
	}
	v, err := stores[0].SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, v)
	for i := range n {
		wg.Go(func() {
			for range 25 {
				_, err := stores[i].RecordFailure(ctx, "alice", lenient, t0)
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	u, err := stores[0].User(ctx, "alice", t0)
	require.NoError(t, err)
	require.Equal(t, 100, u.Failures)

	// A newer schema is refused.
	_, err = stores[0].w.ExecContext(ctx, `INSERT INTO authn_schema_version (version, applied_at) VALUES (99, 0)`)
	require.NoError(t, err)
	_, err = OpenPostgres(ctx, dsn, WithSchema(schema))
	require.ErrorContains(t, err, "newer")
}

// TestPostgresTwoPools runs logins through two Services, each on a store
// with a pool of its own (as two processes would), on one schema: one
// challenge is answered once, and concurrent wrong answers stop at the
// lock.
func TestPostgresTwoPools(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	stores := [2]*Store{openPostgres(t, dsn, schema), openPostgres(t, dsn, schema)}
	clk := &clock{t: t0.Add(5 * time.Second)}
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	var svcs [2]*authn.Service
	for i := range svcs {
		svcs[i], err = authn.New(authn.Config{Store: stores[i], Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
			Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 5, PerMinute: 100}})
		require.NoError(t, err)
	}
	ctx := context.Background()
	cred := enrollPhone(t, svcs[0], clk, "alice")

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
			Pending: []byte("p"), ExpiresAt: t0.Add(time.Hour), CreatedAt: t0}, t0))
		_, err := s.CompleteActivation(ctx, sid, []byte("h"), []byte("c"), authn.DeviceRecord{ID: "dev", User: u,
			SessionID: sid, CreatedAt: t0.Add(time.Duration(i) * time.Second)}, 5, t0)
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
	_, err := s.RecordFailure(ctx, "alice", lenient, t0)
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)
	u, err := s.RecordFailure(context.Background(), "alice", lenient, t0)
	require.NoError(t, err)
	require.Equal(t, 1, u.Failures)
}
