package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/internal/testenv"
)

// openTemp opens a store on a fresh file in t's temporary directory and
// closes it at the end of the test.
func openTemp(t testing.TB) (*sqlstore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authn.db")
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, path
}

// TestSharedSQLite races two Services, each on its own handle (its own
// connections) on one SQLite file, as two processes on one host would.
func TestSharedSQLite(t *testing.T) {
	storetest.RunShared(t, func(t testing.TB) [2]storetest.Stores {
		a, path := openTemp(t)
		b, err := Open(context.Background(), path)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, b.Close()) })
		return [2]storetest.Stores{storetest.Both(a), storetest.Both(b)}
	})
}

// TestConformance runs the Store conformance suite on SQLite files.
func TestConformance(t *testing.T) {
	newStore := func(t testing.TB) authn.Store {
		s, _ := openTemp(t)
		return s
	}
	storetest.Run(t, newStore)
	storetest.RunService(t, func(t testing.TB) storetest.Stores { return storetest.Both(newStore(t)) })
}

// TestReopen writes every kind of record, closes the store, reopens the
// file and finds them all.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authn.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)

	act := authn.ActivationRecord{SessionID: "sid-1", User: "alice", State: authn.ActivationWaiting,
		Pending: []byte("pending"), ExpiresAt: sqltest.T0.Add(10 * time.Minute), CreatedAt: sqltest.T0}
	require.NoError(t, s.PutActivation(ctx, act, sqltest.T0))
	dev := authn.DeviceRecord{ID: "dev-1", User: "alice", Name: "phone", Platform: "ios", AccountName: "alice",
		Suite: "suite", InstallID: "install-1", Secret: []byte("sealed"), SessionID: "sid-1", PushToken: "tok", CreatedAt: sqltest.T0}
	_, err = s.CompleteActivation(ctx, "sid-1", []byte("hash"), []byte("confirm"), dev, 5, sqltest.T0)
	require.NoError(t, err)
	_, err = s.ChangeDevice(ctx, "alice", "dev-1", authn.DeviceChange{Activate: true}, sqltest.T0)
	require.NoError(t, err)
	require.NoError(t, s.CommitStep(ctx, "alice", "dev-1", 0, 1234, -1, sqltest.T0))
	ch := authn.ChallengeRecord{ID: "ch-1", User: "alice", Question: "q1", Tags: []authn.Tag{{MAC: [16]byte{1}, Device: "dev-1", Step: 1000, Drift: -1}},
		Window: 1, IssuedAt: sqltest.T0, ExpiresAt: sqltest.T0.Add(2 * time.Minute), Payload: []byte("payload"), Names: map[string]string{"dev-1": "phone"}}
	require.NoError(t, s.PutChallenge(ctx, ch, authn.ChallengeLimits{Outstanding: 5, PerMinute: 5, Horizon: 4 * time.Minute}, sqltest.T0))
	_, err = s.RecordFailure(ctx, "alice", "", sqltest.Lenient, sqltest.T0)
	require.NoError(t, err)
	require.NoError(t, s.ChangeUser(ctx, "alice", authn.UserChange{TOTP: &authn.TOTPRecord{ID: "totp-1", User: "alice", Secret: []byte("totp"), Hash: "SHA1", Digits: 6, Period: 30 * time.Second, CreatedAt: sqltest.T0}}, sqltest.T0))
	require.NoError(t, s.ChangeUser(ctx, "alice", authn.UserChange{RecoveryCodes: [][32]byte{{1}, {2}}}, sqltest.T0))
	push := authn.PushRecord{ID: "push-1", User: "alice", Number: "42", Nonce: []byte("nonce"), Context: [4]string{"a", "b", "c", "d"},
		Devices: []string{"dev-1"}, State: authn.PushPending, CreatedAt: sqltest.T0, ExpiresAt: sqltest.T0.Add(2 * time.Minute)}
	require.NoError(t, s.PutPush(ctx, push, sqltest.T0))
	off := true
	require.NoError(t, s.ChangeUser(ctx, "alice", authn.UserChange{PushOff: &off}, sqltest.T0))
	require.NoError(t, s.TakeOnce(ctx, "nonce:x", sqltest.T0.Add(time.Minute), sqltest.T0))
	_, err = s.Spend(ctx, "budget:x", 3, time.Hour, sqltest.T0)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, v)

	a, err := s.GetActivation(ctx, "sid-1", sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationActive, a.State)
	require.Equal(t, []byte("hash"), a.RequestHash)
	ds, err := s.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d := ds[0]
	require.Equal(t, "dev-1", d.ID)
	require.Equal(t, authn.DeviceActive, d.State)
	ud, err := s.UserDevices(ctx, "alice", sqltest.T0)
	require.NoError(t, err)
	require.NotZero(t, ud.Version, "the devices version, raised by the pairing, kept")
	require.Equal(t, uint64(1234), d.LastStep)
	require.Equal(t, -1, d.Drift)
	require.Equal(t, []byte("sealed"), d.Secret)
	require.Equal(t, "tok", d.PushToken)
	require.Equal(t, time.UTC, d.CreatedAt.Location())
	require.True(t, sqltest.T0.Equal(d.CreatedAt))
	u, err := s.User(ctx, "alice", sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, 1, u.Failures)
	require.True(t, u.PushOff)
	totp, err := s.TOTP(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "totp-1", totp.ID)
	require.Equal(t, 30*time.Second, totp.Period)
	_, n, err := s.TakeRecoveryCode(ctx, "alice", nil)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	p, err := s.Push(ctx, "push-1", sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, push.Devices, p.Devices)
	require.Equal(t, push.Context, p.Context)
	require.ErrorIs(t, s.TakeOnce(ctx, "nonce:x", sqltest.T0.Add(time.Minute), sqltest.T0), authn.ErrStoreConflict)
	left, err := s.Spend(ctx, "budget:x", 3, time.Hour, sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, 1, left)
	// The challenge survived with its tags, names and payload.
	r, err := s.Attempt(ctx, "alice", "", &authn.ChallengeAnswer{ID: "ch-1", MAC: [16]byte{1}, ServerStep: 1001}, sqltest.Lenient, sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, authn.AttemptMatch, r.Outcome)
	require.Equal(t, ch.Tags[0], r.Match)
	require.Equal(t, ch.Names, r.Challenge.Names)
	require.Equal(t, ch.Payload, r.Challenge.Payload)
}

// TestTwoOpeners opens one file from several stores at once (as several
// processes would): the migration is applied once, and the stores see
// each other's writes.
func TestTwoOpeners(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with ? and % and #", "authn.db")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	const n = 4
	stores := make([]*sqlstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, path) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		defer stores[i].Close()
	}
	_, err := os.Stat(path)
	require.NoError(t, err, "the file is at the path given, special characters and all")
	sqltest.FailFromEvery(t, ctx, stores) // every failure counted, from every store at once
}

// TestConcurrent runs many goroutines on many users at once on one
// store: logins are answered once each and the counters add up.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const users, perUser = 8, 10
	lim := authn.ChallengeLimits{Outstanding: 100, PerMinute: 1000, Horizon: time.Minute}
	var wg sync.WaitGroup
	for u := range users {
		user := fmt.Sprintf("user-%d", u)
		for i := range perUser {
			id := fmt.Sprintf("%s/ch-%d", user, i)
			c := authn.ChallengeRecord{ID: id, User: user, Question: id, Tags: []authn.Tag{{MAC: [16]byte{byte(i)}, Device: "d", Step: 10}},
				Window: 1, IssuedAt: sqltest.T0, ExpiresAt: sqltest.T0.Add(time.Minute)}
			require.NoError(t, s.PutChallenge(ctx, c, lim, sqltest.T0))
		}
		for i := range perUser {
			id := fmt.Sprintf("%s/ch-%d", user, i)
			// Two answers per challenge, at once: one match, one not found.
			for range 2 {
				wg.Go(func() {
					_, err := s.Attempt(ctx, user, "", &authn.ChallengeAnswer{ID: id, MAC: [16]byte{byte(i)}, ServerStep: 10}, sqltest.Lenient, sqltest.T0)
					assert.NoError(t, err)
				})
			}
			wg.Go(func() {
				_, err := s.Spend(ctx, "spend:"+user, 1000, time.Hour, sqltest.T0)
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()
	for u := range users {
		user := fmt.Sprintf("user-%d", u)
		st, err := s.User(ctx, user, sqltest.T0)
		require.NoError(t, err)
		// The failures of the losers, reset by later matches: at most the
		// losers that came after the last match.
		require.LessOrEqual(t, st.Failures, perUser)
		left, err := s.Spend(ctx, "spend:"+user, 1000, time.Hour, sqltest.T0)
		require.NoError(t, err)
		require.Equal(t, 1000-perUser-1, left, "every spend of %s counted", user)
		for i := range perUser {
			r, err := s.Attempt(ctx, user, "", &authn.ChallengeAnswer{ID: fmt.Sprintf("%s/ch-%d", user, i), MAC: [16]byte{byte(i)}, ServerStep: 10}, sqltest.Lenient, sqltest.T0)
			require.NoError(t, err)
			require.Equal(t, authn.AttemptNoChallenge, r.Outcome, "each challenge consumed")
		}
	}
}

// TestNewerSchema: a file migrated by a newer version of the package is
// refused, not written.
func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	_, path := openTemp(t)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO authn_schema_version (version, applied_at) VALUES (99, 0)`)
	require.NoError(t, err)
	_, err = Open(ctx, path)
	require.ErrorContains(t, err, "newer")
}

// TestCancelledContext: a cancelled context fails the call with a store
// error, not an outcome, and leaves the store usable.
func TestCancelledContext(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.RecordFailure(ctx, "alice", "", sqltest.Lenient, sqltest.T0)
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)
	u, err := s.RecordFailure(context.Background(), "alice", "", sqltest.Lenient, sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, 1, u.Failures)
}

// BenchmarkFinishChallenge measures FinishChallenge through a Service on
// SQLite, as authn's BenchmarkFinishChallenge does on memstore: batches of
// 20 challenges begun with the timer stopped, then answered.
func BenchmarkFinishChallenge(b *testing.B) {
	s, _ := openTemp(b)
	clk := authntest.NewClock(sqltest.T0.Add(5 * time.Second))
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(b, err)
	svc, err := authn.New(authn.Config{Hot: s, Records: s, Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
		Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 20, PerMinute: 100}})
	require.NoError(b, err)
	cred := sqltest.EnrollPhone(b, svc, clk, "alice")
	n, _ := testenv.FinishBatches(b, testenv.Login{Service: svc, User: "alice", Phone: cred, Now: clk.Now, Advance: clk.Advance},
		func() int64 { return s.Stats().Statements }, func() int64 { return s.Stats().RoundTrips })
	b.ReportMetric(float64(n[0])/float64(b.N), "stmts/op")
	b.ReportMetric(float64(n[1])/float64(b.N), "roundtrips/op")
}

// TestLockOverflow: the lock an Attempt sets is authn.LockPolicy.Fail's
// at any level (SQLite runs Fail in Go).
func TestLockOverflow(t *testing.T) {
	s, path := openTemp(t)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	sqltest.CheckLockOverflow(t, s, func(q string, args ...any) error {
		_, err := db.ExecContext(context.Background(), q, args...)
		return err
	})
}

// TestDurabilityChild is the child process's entry; it does nothing in a
// normal run.
func TestDurabilityChild(t *testing.T) {
	path := os.Getenv(sqltest.DurabilityEnv)
	if path == "" {
		t.Skip("runs only as the child of a durability test")
	}
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	sqltest.DurabilityChild(t, s)
}

func TestDurability(t *testing.T) {
	path := t.TempDir() + "/authn.db"
	sqltest.RunDurability(t, path, func() *sqlstore.Store {
		s, err := Open(context.Background(), path)
		require.NoError(t, err)
		return s
	})
}
