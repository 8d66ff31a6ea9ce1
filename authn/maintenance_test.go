package authn_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

func TestRotateKeys(t *testing.T) {
	ctx := context.Background()
	old := make([]byte, 32)
	rand.Read(old)
	kr1, err := authn.NewKeyring("k1", map[string][]byte{"k1": old})
	require.NoError(t, err)
	e := newEnv(t, func(c *authn.Config) { c.Keys = kr1 })
	p, _ := e.enrollPhone(t, "alice", nil)
	e.enrollPhone(t, "bob", nil)

	// A new primary; the old key still opens.
	fresh := make([]byte, 32)
	rand.Read(fresh)
	kr2, err := authn.NewKeyring("k2", map[string][]byte{"k1": old, "k2": fresh})
	require.NoError(t, err)
	svc2, err := authn.New(authn.Config{Hot: e.store, Records: e.store, Keys: kr2, Issuer: "Example Bank", Clock: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	rep, err := svc2.RotateKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Resealed)
	require.Empty(t, rep.Retired)
	rep, err = svc2.RotateKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, rep.Resealed)
	require.Equal(t, 2, rep.Current)

	// Without the old key, logins still work.
	kr3, err := authn.NewKeyring("k2", map[string][]byte{"k2": fresh})
	require.NoError(t, err)
	svc3, err := authn.New(authn.Config{Hot: e.store, Records: e.store, Keys: kr3, Issuer: "Example Bank", Clock: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ch, err := svc3.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = svc3.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	f, err := svc3.Factors(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, f.Devices, 1)
	require.False(t, f.Locked)
}
