package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
)

// TestNoPendingKeyLeftInFiles completes, cancels and sweeps activations
// and then scans the database file, its -wal and its -shm, byte for byte,
// for the sealed pending keys: none may be left once the store has
// dropped them (issue 12: the key stayed in the WAL after completion).
func TestNoPendingKeyLeftInFiles(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)

	// Distinct random keys, long enough that a chance match is impossible.
	key := func() []byte {
		b := make([]byte, 80)
		rand.Read(b)
		return b
	}
	completed, cancelled, expired := key(), key(), key()

	put := func(sid, user string, pending []byte, ttl time.Duration) {
		t.Helper()
		require.NoError(t, s.PutActivation(ctx, authn.ActivationRecord{SessionID: sid, User: user,
			State: authn.ActivationWaiting, Pending: pending, ExpiresAt: sqltest.T0.Add(ttl), CreatedAt: sqltest.T0}, sqltest.T0))
	}
	put("sid-done", "alice", completed, 10*time.Minute)
	put("sid-cancel", "bob", cancelled, 10*time.Minute)
	put("sid-expire", "carol", expired, time.Minute)

	dev := authn.DeviceRecord{ID: "dev-1", User: "alice", Name: "phone", Platform: "ios", AccountName: "alice",
		Suite: "suite", InstallID: "install-1", Secret: []byte("sealed-root"), SessionID: "sid-done", CreatedAt: sqltest.T0}
	_, err := s.CompleteActivation(ctx, "sid-done", []byte("hash"), []byte("confirm"), dev, 5, sqltest.T0)
	require.NoError(t, err)
	require.NoError(t, s.CancelActivation(ctx, "bob", "sid-cancel", sqltest.T0))
	_, err = s.Sweep(ctx, sqltest.T0.Add(2*time.Minute))
	require.NoError(t, err)
	require.NoError(t, s.ScrubErr())

	// The store is still open: its files are what a copy of the
	// directory, or a backup taken now, would hold.
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for name, k := range map[string][]byte{"completed": completed, "cancelled": cancelled, "expired": expired} {
			// Half a key is already too much; look for any 32-byte run.
			require.False(t, bytes.Contains(b, k[:32]) || bytes.Contains(b, k[40:72]),
				"the %s activation's sealed pending key is still in %s", name, "authn.db"+suffix)
		}
	}

	// The completed activation still reads, without its key.
	a, err := s.GetActivation(ctx, "sid-done", sqltest.T0)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationCompleted, a.State)
	require.Nil(t, a.Pending)
}

// A reader that holds an old snapshot (another process reading the file)
// keeps the WAL from being truncated: the write still succeeds, ScrubErr
// says the key may still be in the WAL, and the next such write, a Sweep
// at the latest, scrubs it once the reader is gone.
func TestScrubHeldUpByAReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "authn.db")
	s, err := Open(ctx, path, WithBusyTimeout(50*time.Millisecond))
	require.NoError(t, err)
	defer s.Close()
	pending := make([]byte, 80)
	rand.Read(pending)
	require.NoError(t, s.PutActivation(ctx, authn.ActivationRecord{SessionID: "sid", User: "alice",
		State: authn.ActivationWaiting, Pending: pending, ExpiresAt: sqltest.T0.Add(10 * time.Minute), CreatedAt: sqltest.T0}, sqltest.T0))

	other, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer other.Close()
	tx, err := other.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRowContext(ctx, "SELECT count(*) FROM authn_activations").Scan(&n))

	dev := authn.DeviceRecord{ID: "dev-1", User: "alice", Name: "phone", Platform: "ios", AccountName: "alice",
		Suite: "suite", InstallID: "install-1", Secret: []byte("sealed-root"), SessionID: "sid", CreatedAt: sqltest.T0}
	_, err = s.CompleteActivation(ctx, "sid", []byte("hash"), []byte("confirm"), dev, 5, sqltest.T0)
	require.NoError(t, err, "the completion is committed whatever the checkpoint does")
	require.Error(t, s.ScrubErr(), "the reader held the WAL")

	require.NoError(t, tx.Rollback())
	_, err = s.Sweep(ctx, sqltest.T0)
	require.NoError(t, err)
	require.NoError(t, s.ScrubErr())
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.False(t, bytes.Contains(b, pending[:32]), "the sealed pending key is still in authn.db%s", suffix)
	}
}
