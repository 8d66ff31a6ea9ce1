// Package sqltest holds what the tests of the SQL engines (sqlstore/sqlite,
// sqlstore/postgres) share: a clock, an enrolled phone, the lock-overflow
// check, the durability test's two halves and the check of a store
// upgraded to the devices version.
package sqltest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/enroll"
	"github.com/stretchr/testify/require"
)

// T0 is the tests' start time.
var T0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// Lenient is a policy that locks late: for tests that count failures.
var Lenient = authn.LockPolicy{MaxFailures: 100, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour, MaxAttempts: 100}

// EnrollPhone activates and pairs a phone for user through svc.
func EnrollPhone(t testing.TB, svc *authn.Service, clk *authntest.Clock, user string) *enroll.Credential {
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

// CheckLockOverflow checks that, at any level, the lock an Attempt sets
// is the one authn.LockPolicy.Fail computes, also for Bases whose
// Base<<level wraps in int64. It sets the user's level directly in
// authn_users with exec (a level an attacker would reach by locking the
// user again and again),
// makes one failing Attempt (a challenge that does not exist: counted,
// and with MaxFailures 1 it locks), and compares the lock and the user's
// state with LockPolicy.Fail's.
func CheckLockOverflow(t *testing.T, s *sqlstore.Store, exec func(query string, args ...any) error) {
	ctx := context.Background()
	const user = "alice"
	_, err := s.RecordFailure(ctx, user, "", Lenient, T0) // the user's row
	require.NoError(t, err)
	policies := []authn.LockPolicy{
		// Level 31: (2^33+1)<<31 wraps to 2^31 ns (about 2 s).
		{MaxFailures: 1, Base: 1<<33 + 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		// Level 33: (2^31+1)<<33 wraps to 2^33 ns (about 9 s).
		{MaxFailures: 1, Base: 1<<31 + 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		// 1<<61 is under Max, 1<<62 is Max, 1<<63 wraps negative.
		{MaxFailures: 1, Base: 1, Max: 1 << 62, Window: time.Hour, MaxAttempts: 3},
		{MaxFailures: 1, Base: time.Minute, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
	}
	levels := []int{0, 1, 5, 6, 8, 9, 30, 31, 32, 33, 40, 41, 42, 61, 62, 63, 64, 70, 1000, 1 << 40, -1}
	for _, p := range policies {
		for _, level := range levels {
			name := fmt.Sprintf("Base %d, Max %d, level %d", p.Base, p.Max, level)
			err := exec(`UPDATE authn_locks SET failures = 0, level = $1, locked_until = 0, last_failure = 0,
				slow = 0, slow_since = 0 WHERE user_id = $2 AND client = ''`, int64(level), user)
			require.NoError(t, err, name)

			want := authn.UserState{Level: level}
			lock := p.Fail(&want, T0)
			require.Positive(t, lock, name)
			require.LessOrEqual(t, lock, p.Max, name)

			res, err := s.Attempt(ctx, user, "", &authn.ChallengeAnswer{ID: "no-such-challenge", MAC: [16]byte{1}, ServerStep: 1000}, p, T0)
			require.NoError(t, err, name)
			require.Equal(t, authn.AttemptNoChallenge, res.Outcome, name)
			require.Equal(t, lock, res.RetryAfter, name)
			require.Equal(t, want.Failures, res.Failures, name)

			u, err := s.User(ctx, user, T0)
			require.NoError(t, err, name)
			require.Equal(t, want.Level, u.Level, name)
			require.True(t, want.LockedUntil.Equal(u.LockedUntil), "%s: locked until %v, want %v", name, u.LockedUntil, want.LockedUntil)

			// Locked now: the next attempt changes nothing and reports
			// the whole lock.
			res, err = s.Attempt(ctx, user, "", &authn.ChallengeAnswer{ID: "no-such-challenge", MAC: [16]byte{1}, ServerStep: 1000}, p, T0)
			require.NoError(t, err, name)
			require.Equal(t, authn.AttemptLocked, res.Outcome, name)
			require.Equal(t, lock, res.RetryAfter, name)
		}
	}
}

// The child processes' environment: the store's argument (a path, a
// schema) and the master key.
const (
	DurabilityEnv = "KEYLINE_DURABILITY_CHILD"
	MasterEnv     = "KEYLINE_DURABILITY_MASTER"
)

// DurabilityStart is the child processes' clock.
var DurabilityStart = time.Date(2026, 11, 27, 9, 0, 5, 0, time.UTC)

// DurabilityService is a Service on s with the master key, as the child
// processes make it.
func DurabilityService(t testing.TB, s authn.Store, master []byte, now func() time.Time) *authn.Service {
	kr, err := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	require.NoError(t, err)
	svc, err := authn.New(authn.Config{Hot: s, Records: s, Keys: kr, Issuer: "Example Bank", Clock: now,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return svc
}

// DurabilityChild is the child's work on s, the store it opened from
// the argument RunDurability gave it; it ends by blocking until killed.
func DurabilityChild(t *testing.T, s *sqlstore.Store) {
	master, err := hex.DecodeString(os.Getenv(MasterEnv))
	require.NoError(t, err)
	ctx := context.Background()
	now := DurabilityStart
	svc := DurabilityService(t, s, master, func() time.Time { return now })

	offer, err := svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-1", Name: "Ada's phone"}, now)
	require.NoError(t, err)
	act, err := svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	_, err = svc.ConfirmActivation(ctx, "alice", offer.SessionID, cred.PairingCode())
	require.NoError(t, err)

	// A login from a phone one step fast: the drift is stored.
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := cred.Respond(ch.Question, now.Add(30*time.Second))
	require.NoError(t, err)
	res, err := svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)

	// Five failures: locked, at level 1.
	for range 5 {
		ch, err := svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		_, _ = svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
	}
	fmt.Printf("ready %s %d %d\n", act.Device.ID, res.Step, res.Drift)
	os.Stdout.Sync()
	select {} // until killed
}

// RunDurability starts this test binary again as a child (its
// TestDurabilityChild, which reads arg from DurabilityEnv and opens the
// store it names), which enrolls a phone, logs in and is locked, each
// step committed; it kills the child with SIGKILL, reopens the store and
// finds every device, step, drift and lock level.
func RunDurability(t *testing.T, arg string, reopen func() *sqlstore.Store) {
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i + 1)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), DurabilityEnv+"="+arg, MasterEnv+"="+hex.EncodeToString(master))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil && err != io.EOF {
		t.Fatal(err)
	}
	var devID string
	var step uint64
	var drift int
	_, err = fmt.Sscanf(line, "ready %s %d %d", &devID, &step, &drift)
	require.NoError(t, err, "the child said %q", line)
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no chance to close or flush
	_ = cmd.Wait()

	s := reopen()
	defer s.Close()
	ctx := context.Background()
	devs, err := s.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	d := devs[0]
	require.Equal(t, devID, d.ID)
	require.Equal(t, authn.DeviceActive, d.State)
	require.Equal(t, step, d.LastStep)
	require.Equal(t, drift, d.Drift)
	require.Equal(t, 1, drift)
	u, err := s.User(ctx, "alice", DurabilityStart)
	require.NoError(t, err)
	require.Equal(t, 1, u.Level, "the lock level survives")
	require.True(t, DurabilityStart.Before(u.LockedUntil), "and the lock")

	// The store works on: the lock ends, the phone logs in.
	svc := DurabilityService(t, s, master, func() time.Time { return DurabilityStart.Add(2 * time.Minute) })
	_, err = svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
}

// FailFromEvery records 25 failures for one user from every store at
// once, and checks that the first store then reads every one of them
// counted: stores on one database serialise a user's writes.
func FailFromEvery(t testing.TB, ctx context.Context, stores []*sqlstore.Store) {
	t.Helper()
	var wg sync.WaitGroup
	for _, s := range stores {
		wg.Go(func() {
			for range 25 {
				if _, err := s.RecordFailure(ctx, "alice", "", Lenient, T0); err != nil {
					t.Errorf("RecordFailure: %v", err)
				}
			}
		})
	}
	wg.Wait()
	u, err := stores[0].User(ctx, "alice", T0)
	require.NoError(t, err)
	require.Equal(t, 25*len(stores), u.Failures)
}

// DevicesVersionUpgraded checks a store just migrated past the devices
// version from a schema where alice had the active device dev-1 and bob
// nothing: alice starts at version 1, bob at 0, and a rename of dev-1
// raises alice's.
func DevicesVersionUpgraded(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	read := func(user string) uint64 {
		d, err := s.UserDevices(ctx, user, T0)
		require.NoError(t, err)
		return d.Version
	}
	require.Equal(t, uint64(1), read("alice"), "a user with devices before the migration")
	require.Equal(t, uint64(0), read("bob"), "a user without")
	name := "renamed"
	_, err := s.ChangeDevice(ctx, "alice", "dev-1", authn.DeviceChange{Name: &name}, T0)
	require.NoError(t, err)
	require.Greater(t, read("alice"), uint64(1))
}
