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

// kitOnStore checks that a kit made with WithStores(s, s) drives s: the
// phone it enrolls is recorded there, active, and logs in once per
// challenge.
func kitOnStore(t *testing.T, s authn.Store) *authntest.Kit {
	t.Helper()
	ctx := context.Background()
	k := authntest.New(t, authntest.WithStores(s, s))
	require.Equal(t, authn.HotStore(s), k.Hot)
	require.Equal(t, authn.RecordStore(s), k.Records)

	p := k.Enroll("alice")
	rec, err := storeDevice(ctx, s, "alice", p.DeviceID())
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
	rec, err = storeDevice(ctx, s, "alice", p2.DeviceID())
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, rec.State)
	return k
}

func TestWithStoresMemstore(t *testing.T) {
	s := memstore.New()
	a := kitOnStore(t, s)

	// Another kit on the same store sees what the first recorded: the
	// store is the one given, not a copy.
	b := authntest.New(t, authntest.WithStores(s, s))
	devs, err := b.Service.Devices(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, devs, 2)
	mine, err := a.Service.Devices(context.Background(), "alice")
	require.NoError(t, err)
	require.ElementsMatch(t, mine, devs)
}

func TestWithStoresSQLite(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kit.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	kitOnStore(t, s)
}

func TestWithStoresNilKeepsTheDefault(t *testing.T) {
	for _, opt := range []authntest.Option{authntest.WithStores(nil, nil), authntest.WithStores(memstore.New(), nil)} {
		k := authntest.New(t, opt)
		require.IsType(t, (*memstore.Store)(nil), k.Hot)
		require.IsType(t, (*memstore.Store)(nil), k.Records)
		require.Equal(t, authn.RecordStore(k.Hot.(*memstore.Store)), k.Records, "one memstore as both")
		k.Login("alice", k.Enroll("alice"))
	}
}

// storeDevice is the user's device of that ID in the records.
func storeDevice(ctx context.Context, s authn.RecordStore, user, id string) (authn.DeviceRecord, error) {
	ds, err := s.Devices(ctx, user)
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d, nil
		}
	}
	return authn.DeviceRecord{}, authn.ErrStoreNotFound
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
