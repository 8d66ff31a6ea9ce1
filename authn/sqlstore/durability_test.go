package sqlstore

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/testenv"
)

// The durability tests run a child process (this test binary again) that
// enrolls a phone, logs in, and fails enough to be locked, each step
// committed, then says so and waits; the parent kills it with SIGKILL,
// reopens the store, and finds every device, step, drift and lock level.

const (
	childEnv  = "KEYLINE_DURABILITY_CHILD" // "sqlite:<path>" or "postgres:<schema>"
	masterEnv = "KEYLINE_DURABILITY_MASTER"
)

var durabilityStart = time.Date(2026, 11, 27, 9, 0, 5, 0, time.UTC)

func durabilityService(t testing.TB, s authn.Store, master []byte, now func() time.Time) *authn.Service {
	kr, err := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	require.NoError(t, err)
	svc, err := authn.New(authn.Config{Store: s, Keys: kr, Issuer: "Example Bank", Clock: now,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return svc
}

// durabilityChild is the child's work; it ends by blocking until killed.
func durabilityChild(t *testing.T, spec string) {
	master, err := hex.DecodeString(os.Getenv(masterEnv))
	require.NoError(t, err)
	ctx := context.Background()
	var s *Store
	kind, arg, _ := strings.Cut(spec, ":")
	if kind == "sqlite" {
		s, err = OpenSQLite(ctx, arg)
	} else {
		s, err = OpenPostgres(ctx, os.Getenv(testenv.PostgresEnv), WithSchema(arg))
	}
	require.NoError(t, err)
	now := durabilityStart
	svc := durabilityService(t, s, master, func() time.Time { return now })

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

func runDurability(t *testing.T, spec string, reopen func() *Store) {
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(i + 1)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDurabilityChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+spec, masterEnv+"="+hex.EncodeToString(master))
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
	u, err := s.User(ctx, "alice", durabilityStart)
	require.NoError(t, err)
	require.Equal(t, 1, u.Level, "the lock level survives")
	require.True(t, durabilityStart.Before(u.LockedUntil), "and the lock")

	// The store works on: the lock ends, the phone logs in.
	svc := durabilityService(t, s, master, func() time.Time { return durabilityStart.Add(2 * time.Minute) })
	_, err = svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
}

// TestDurabilityChild is the child process's entry; it does nothing in a
// normal run.
func TestDurabilityChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("runs only as the child of a durability test")
	}
	durabilityChild(t, spec)
}

func TestDurabilitySQLite(t *testing.T) {
	path := t.TempDir() + "/authn.db"
	runDurability(t, "sqlite:"+path, func() *Store {
		s, err := OpenSQLite(context.Background(), path)
		require.NoError(t, err)
		return s
	})
}

func TestDurabilityPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	runDurability(t, "postgres:"+schema, func() *Store {
		s, err := OpenPostgres(context.Background(), dsn, WithSchema(schema))
		require.NoError(t, err)
		return s
	})
}
