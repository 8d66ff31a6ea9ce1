package authntest_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/authn/sqlstore/sqlite"
)

// kitOnStore checks that a kit made with WithStore(s) drives s: the
// phone it enrolls is recorded there, active, and logs in once per
// challenge.
func kitOnStore(t *testing.T, s authn.Store) *authntest.Kit {
	t.Helper()
	ctx := context.Background()
	k := authntest.New(t, authntest.WithStore(s))
	require.Equal(t, s, k.Store)

	p := k.Enroll("alice")
	rec, err := s.Device(ctx, "alice", p.DeviceID())
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, rec.State)
	require.Equal(t, "phone 1", rec.Name)

	res := k.Login("alice", p)
	require.Equal(t, p.DeviceID(), res.DeviceID)
	ch, err := k.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp := p.Respond(ch.Question)
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.ErrorIs(t, err, authn.ErrInvalidCode, "replayed")

	// A second phone takes a step-up login with the first, on s too.
	p2 := k.Enroll("alice")
	rec, err = s.Device(ctx, "alice", p2.DeviceID())
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, rec.State)
	return k
}

func TestWithStoreMemstore(t *testing.T) {
	s := memstore.New()
	a := kitOnStore(t, s)

	// Another kit on the same store sees what the first recorded: the
	// store is the one given, not a copy.
	b := authntest.New(t, authntest.WithStore(s))
	devs, err := b.Service.Devices(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, devs, 2)
	mine, err := a.Service.Devices(context.Background(), "alice")
	require.NoError(t, err)
	require.ElementsMatch(t, mine, devs)
}

func TestWithStoreSQLite(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kit.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	kitOnStore(t, s)
}

func TestWithStoreNilKeepsTheDefault(t *testing.T) {
	k := authntest.New(t, authntest.WithStore(nil))
	require.IsType(t, (*memstore.Store)(nil), k.Store)
	require.NotNil(t, k.Store)
	k.Login("alice", k.Enroll("alice"))
}

func TestWithStart(t *testing.T) {
	ctx := context.Background()
	// The last minute of a leap day, 15 seconds into a 30-second step.
	at := time.Date(2028, time.February, 29, 23, 59, 45, 0, time.UTC)
	k := authntest.New(t, authntest.WithStart(at))
	require.Equal(t, at, k.Clock.Now())

	p := k.Enroll("alice")
	devs, err := k.Service.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.True(t, devs[0].CreatedAt.Equal(at), "created at %v", devs[0].CreatedAt)
	res := k.Login("alice", p)
	require.Equal(t, at, res.At)

	// The Service's clock is the kit's: a phone whose clock reads the
	// default start instead is years away and refused.
	p.SetSkew(authntest.Start().Sub(at))
	ch, err := k.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, p.Respond(ch.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	// Moving the clock moves it from the given start, into March.
	p.SetSkew(0)
	k.Clock.Advance(time.Minute)
	require.Equal(t, time.Date(2028, time.March, 1, 0, 0, 45, 0, time.UTC), k.Clock.Now())
	require.Equal(t, k.Clock.Now(), k.Login("alice", p).At)

	// Options do not leak between kits: another kit starts at Start.
	require.Equal(t, authntest.Start(), authntest.New(t).Clock.Now())
}
