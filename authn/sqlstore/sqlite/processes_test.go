package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
	"github.com/keyline/keyline/enroll"
)

// Two processes on one SQLite file, each with its own Service and store
// handle: 100 concurrent copies of one right response from each give one
// login, and 250 concurrent wrong answers from each compare at most
// MaxFailures responses (counted by each child's Observer) before the
// lock. The children are this test binary again.

const processChildEnv = "KEYLINE_PROCESSES_CHILD" // "<path> <user> <challenge ID> <response>"

// checks counts the "check" events: responses compared.
type checks struct{ n atomic.Int64 }

func (c *checks) Observe(_ context.Context, e authn.Event) {
	if e.Name == "check" {
		c.n.Add(1)
	}
}

func processService(t testing.TB, s authn.Store, master []byte, obs authn.Observer, now func() time.Time) *authn.Service {
	kr, err := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	require.NoError(t, err)
	svc, err := authn.New(authn.Config{Hot: s, Records: s, Keys: kr, Issuer: "Example Bank", Clock: now,
		Logger: slog.New(slog.DiscardHandler), Observer: obs, MaxAttemptsPerChallenge: 10})
	require.NoError(t, err)
	return svc
}

// TestProcessesChild is the child's work: n concurrent FinishChallenge
// calls with one response; it prints how many succeeded, were refused as
// invalid or locked, and how many responses its Service compared.
func TestProcessesChild(t *testing.T) {
	spec := os.Getenv(processChildEnv)
	if spec == "" {
		t.Skip("run by TestSQLiteTwoProcesses")
	}
	f := strings.Fields(spec)
	require.Len(t, f, 5)
	path, user, id, resp := f[0], f[1], f[2], f[3]
	var n int
	_, err := fmt.Sscan(f[4], &n)
	require.NoError(t, err)
	master, err := hex.DecodeString(os.Getenv(sqltest.MasterEnv))
	require.NoError(t, err)
	s, err := Open(context.Background(), path)
	require.NoError(t, err)
	defer s.Close()
	obs := &checks{}
	svc := processService(t, s, master, obs, func() time.Time { return sqltest.DurabilityStart.Add(10 * time.Second) })
	// Ready, and wait for the parent's word, so that both children run
	// at once.
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		t.Fatalf("waiting for the start: %v", err)
	}
	var ok, invalid, locked, other atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			_, err := svc.FinishChallenge(context.Background(), user, id, resp)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, authn.ErrLocked):
				locked.Add(1)
			case errors.Is(err, authn.ErrInvalidCode), errors.Is(err, authn.ErrTooManyAttempts), errors.Is(err, authn.ErrExpired):
				invalid.Add(1)
			default:
				other.Add(1)
				t.Logf("unexpected: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	fmt.Printf("result ok=%d invalid=%d locked=%d other=%d checks=%d\n", ok.Load(), invalid.Load(), locked.Load(), other.Load(), obs.n.Load())
}

type childResult struct{ ok, invalid, locked, other, checks int }

// runChildren runs two children at once on the same challenge: both
// open the store and say they are ready, then both are told to start.
func runChildren(t *testing.T, path, user, id, resp string, n int, master []byte) [2]childResult {
	t.Helper()
	var res [2]childResult
	var cmds [2]*exec.Cmd
	var outs [2]*bufio.Reader
	var ins [2]io.WriteCloser
	for i := range cmds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProcessesChild$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), processChildEnv+"="+fmt.Sprintf("%s %s %s %s %d", path, user, id, resp, n),
			sqltest.MasterEnv+"="+hex.EncodeToString(master))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		in, err := cmd.StdinPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		cmds[i], outs[i], ins[i] = cmd, bufio.NewReader(out), in
	}
	for i := range cmds {
		for {
			line, err := outs[i].ReadString('\n')
			require.NoError(t, err, "child %d before it was ready", i)
			if line == "ready\n" {
				break
			}
		}
	}
	for i := range ins {
		_, err := io.WriteString(ins[i], "go\n")
		require.NoError(t, err)
	}
	for i := range cmds {
		rest, err := io.ReadAll(outs[i])
		require.NoError(t, err)
		require.NoError(t, cmds[i].Wait(), "child %d:\n%s", i, rest)
		found := false
		for line := range strings.Lines(string(rest)) {
			if r, ok := strings.CutPrefix(line, "result "); ok {
				c := &res[i]
				_, err := fmt.Sscanf(r, "ok=%d invalid=%d locked=%d other=%d checks=%d", &c.ok, &c.invalid, &c.locked, &c.other, &c.checks)
				require.NoError(t, err, "child %d said %q", i, r)
				found = true
			}
		}
		require.True(t, found, "child %d said no result:\n%s", i, rest)
	}
	return res
}

func TestSQLiteTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "authn.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	master := bytes.Repeat([]byte{9}, 32)
	now := sqltest.DurabilityStart
	svc := processService(t, s, master, nil, func() time.Time { return now })
	phone := func(user string) *enroll.Credential {
		offer, err := svc.StartActivation(ctx, user, nil)
		require.NoError(t, err)
		cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-" + user, Name: "phone"}, now)
		require.NoError(t, err)
		act, err := svc.CompleteActivation(ctx, req)
		require.NoError(t, err)
		require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
		_, err = svc.ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
		require.NoError(t, err)
		return cred
	}

	// One right response, 100 copies from each process: one login.
	alice := phone("alice")
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := alice.Respond(ch.Question, now.Add(10*time.Second))
	require.NoError(t, err)
	res := runChildren(t, path, "alice", ch.ID, resp, 100, master)
	t.Logf("right response: %+v", res)
	require.Equal(t, 1, res[0].ok+res[1].ok, "logins from 200 copies of one response in two processes: %+v", res)
	require.Zero(t, res[0].other+res[1].other, "%+v", res)
	require.Equal(t, 1, res[0].checks+res[1].checks, "responses compared")

	// Wrong answers, 250 from each process at once: at most MaxFailures
	// compared, the rest refused by the lock, and the user ends locked.
	phone("bob")
	chB, err := svc.BeginChallenge(ctx, "bob")
	require.NoError(t, err)
	res = runChildren(t, path, "bob", chB.ID, "00000000", 250, master)
	t.Logf("wrong answers: %+v", res)
	require.Zero(t, res[0].ok+res[1].ok, "%+v", res)
	require.Zero(t, res[0].other+res[1].other, "%+v", res)
	require.LessOrEqual(t, res[0].checks+res[1].checks, authn.DefaultMaxFailures, "responses compared in two processes: %+v", res)
	require.Equal(t, 500, res[0].invalid+res[1].invalid+res[0].locked+res[1].locked)
	ls, err := svc.Operator("test").LockState(ctx, "bob")
	require.NoError(t, err)
	require.True(t, ls.Locked, "bob ends locked")
}
