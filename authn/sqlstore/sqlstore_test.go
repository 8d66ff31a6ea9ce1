package sqlstore

import (
	"context"
	"crypto/rand"
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
	"github.com/keyline/keyline/authn/storetest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/testenv"
)

// openTemp opens a store on a fresh file in t's temporary directory and
// closes it at the end of the test.
func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "authn.db")
	s, err := OpenSQLite(context.Background(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, path
}

// TestSharedSQLite races two Services, each on its own handle (its own
// connections) on one SQLite file, as two processes on one host would.
func TestSharedSQLite(t *testing.T) {
	storetest.RunShared(t, func(t *testing.T) [2]authn.Store {
		a, path := openTemp(t)
		b, err := OpenSQLite(context.Background(), path)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, b.Close()) })
		return [2]authn.Store{a, b}
	})
}

// TestConformance runs the Store conformance suite on SQLite files.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) authn.Store {
		s, _ := openTemp(t)
		return s
	})
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

var lenient = authn.LockPolicy{MaxFailures: 100, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour, MaxAttempts: 100}

// TestReopen writes every kind of record, closes the store, reopens the
// file and finds them all.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authn.db")
	s, err := OpenSQLite(ctx, path)
	require.NoError(t, err)

	act := authn.ActivationRecord{SessionID: "sid-1", User: "alice", State: authn.ActivationWaiting,
		Pending: []byte("pending"), ExpiresAt: t0.Add(10 * time.Minute), CreatedAt: t0}
	require.NoError(t, s.PutActivation(ctx, act, t0))
	dev := authn.DeviceRecord{ID: "dev-1", User: "alice", Name: "phone", Platform: "ios", AccountName: "alice",
		Suite: "suite", InstallID: "install-1", Secret: []byte("sealed"), SessionID: "sid-1", PushToken: "tok", CreatedAt: t0}
	_, err = s.CompleteActivation(ctx, "sid-1", []byte("hash"), []byte("confirm"), dev, 5, t0)
	require.NoError(t, err)
	_, err = s.ActivateDevice(ctx, "alice", "dev-1", t0)
	require.NoError(t, err)
	require.NoError(t, s.CommitStep(ctx, "alice", "dev-1", 0, 1234, -1, t0))
	ch := authn.ChallengeRecord{ID: "ch-1", User: "alice", Question: "q1", Tags: []authn.Tag{{MAC: [16]byte{1}, Device: "dev-1", Step: 1000, Drift: -1}},
		Window: 1, IssuedAt: t0, ExpiresAt: t0.Add(2 * time.Minute), Payload: []byte("payload"), Names: map[string]string{"dev-1": "phone"}}
	require.NoError(t, s.PutChallenge(ctx, ch, authn.ChallengeLimits{Outstanding: 5, PerMinute: 5, Horizon: 4 * time.Minute}, t0))
	_, err = s.RecordFailure(ctx, "alice", lenient, t0)
	require.NoError(t, err)
	require.NoError(t, s.PutTOTP(ctx, authn.TOTPRecord{ID: "totp-1", User: "alice", Secret: []byte("totp"), Hash: "SHA1", Digits: 6, Period: 30 * time.Second, CreatedAt: t0}, t0))
	require.NoError(t, s.PutRecoveryCodes(ctx, "alice", [][32]byte{{1}, {2}}, t0))
	push := authn.PushRecord{ID: "push-1", User: "alice", Number: "42", Nonce: []byte("nonce"), Context: [4]string{"a", "b", "c", "d"},
		Devices: []string{"dev-1"}, State: authn.PushPending, CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Minute)}
	require.NoError(t, s.PutPush(ctx, push, t0))
	require.NoError(t, s.SetPushOff(ctx, "alice", true, t0))
	require.NoError(t, s.TakeOnce(ctx, "nonce:x", t0.Add(time.Minute), t0))
	_, err = s.Spend(ctx, "budget:x", 3, time.Hour, t0)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = OpenSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, v)

	a, err := s.GetActivation(ctx, "sid-1", t0)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationActive, a.State)
	require.Equal(t, []byte("hash"), a.RequestHash)
	d, err := s.Device(ctx, "alice", "dev-1")
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, d.State)
	require.Equal(t, uint64(1234), d.LastStep)
	require.Equal(t, -1, d.Drift)
	require.Equal(t, []byte("sealed"), d.Secret)
	require.Equal(t, "tok", d.PushToken)
	require.Equal(t, time.UTC, d.CreatedAt.Location())
	require.True(t, t0.Equal(d.CreatedAt))
	u, err := s.User(ctx, "alice", t0)
	require.NoError(t, err)
	require.Equal(t, 1, u.Failures)
	require.True(t, u.PushOff)
	totp, err := s.TOTP(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, "totp-1", totp.ID)
	require.Equal(t, 30*time.Second, totp.Period)
	n, err := s.RecoveryCodesLeft(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	p, err := s.Push(ctx, "push-1", t0)
	require.NoError(t, err)
	require.Equal(t, push.Devices, p.Devices)
	require.Equal(t, push.Context, p.Context)
	require.ErrorIs(t, s.TakeOnce(ctx, "nonce:x", t0.Add(time.Minute), t0), authn.ErrStoreConflict)
	left, err := s.Spend(ctx, "budget:x", 3, time.Hour, t0)
	require.NoError(t, err)
	require.Equal(t, 1, left)
	// The challenge survived with its tags, names and payload.
	r, err := s.Attempt(ctx, "alice", "ch-1", [16]byte{1}, 1001, lenient, t0)
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
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = OpenSQLite(ctx, path) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		defer stores[i].Close()
	}
	_, err := os.Stat(path)
	require.NoError(t, err, "the file is at the path given, special characters and all")
	// Writes from every store at once, one user: every failure counted.
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
				Window: 1, IssuedAt: t0, ExpiresAt: t0.Add(time.Minute)}
			require.NoError(t, s.PutChallenge(ctx, c, lim, t0))
		}
		for i := range perUser {
			id := fmt.Sprintf("%s/ch-%d", user, i)
			// Two answers per challenge, at once: one match, one not found.
			for range 2 {
				wg.Go(func() {
					_, err := s.Attempt(ctx, user, id, [16]byte{byte(i)}, 10, lenient, t0)
					assert.NoError(t, err)
				})
			}
			wg.Go(func() {
				_, err := s.Spend(ctx, "spend:"+user, 1000, time.Hour, t0)
				assert.NoError(t, err)
			})
		}
	}
	wg.Wait()
	for u := range users {
		user := fmt.Sprintf("user-%d", u)
		st, err := s.User(ctx, user, t0)
		require.NoError(t, err)
		// The failures of the losers, reset by later matches: at most the
		// losers that came after the last match.
		require.LessOrEqual(t, st.Failures, perUser)
		left, err := s.Spend(ctx, "spend:"+user, 1000, time.Hour, t0)
		require.NoError(t, err)
		require.Equal(t, 1000-perUser-1, left, "every spend of %s counted", user)
		for i := range perUser {
			r, err := s.Attempt(ctx, user, fmt.Sprintf("%s/ch-%d", user, i), [16]byte{byte(i)}, 10, lenient, t0)
			require.NoError(t, err)
			require.Equal(t, authn.AttemptNoChallenge, r.Outcome, "each challenge consumed")
		}
	}
}

// TestNewerSchema: a file migrated by a newer version of the package is
// refused, not written.
func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	_, err := s.w.ExecContext(ctx, `INSERT INTO authn_schema_version (version, applied_at) VALUES (99, 0)`)
	require.NoError(t, err)
	_, err = OpenSQLite(ctx, path)
	require.ErrorContains(t, err, "newer")
}

// TestCancelledContext: a cancelled context fails the call with a store
// error, not an outcome, and leaves the store usable.
func TestCancelledContext(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.RecordFailure(ctx, "alice", lenient, t0)
	require.Error(t, err)
	require.ErrorIs(t, err, context.Canceled)
	u, err := s.RecordFailure(context.Background(), "alice", lenient, t0)
	require.NoError(t, err)
	require.Equal(t, 1, u.Failures)
}

// BenchmarkFinishChallenge measures FinishChallenge through a Service on
// SQLite, as authn's BenchmarkFinishChallenge does on memstore: batches of
// 20 challenges begun with the timer stopped, then answered.
func BenchmarkFinishChallenge(b *testing.B) {
	s, _ := openTemp(b)
	clk := &clock{t: t0.Add(5 * time.Second)}
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(b, err)
	svc, err := authn.New(authn.Config{Store: s, Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
		Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 20, PerMinute: 100}})
	require.NoError(b, err)
	cred := enrollPhone(b, svc, clk, "alice")
	n, _ := testenv.FinishBatches(b, testenv.Login{Service: svc, User: "alice", Phone: cred, Now: clk.Now, Advance: clk.Advance},
		s.stmts.Load, s.trips.Load)
	b.ReportMetric(float64(n[0])/float64(b.N), "stmts/op")
	b.ReportMetric(float64(n[1])/float64(b.N), "roundtrips/op")
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func enrollPhone(t testing.TB, svc *authn.Service, clk *clock, user string) *enroll.Credential {
	t.Helper()
	ctx := context.Background()
	offer, err := svc.StartActivation(ctx, user, nil)
	require.NoError(t, err)
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: "install-" + rand.Text(), Name: "phone",
		Platform: "android", Integrity: enroll.Intact}, clk.Now())
	require.NoError(t, err)
	act, err := svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	_, err = svc.ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	return cred
}
