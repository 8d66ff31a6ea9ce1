package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
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
