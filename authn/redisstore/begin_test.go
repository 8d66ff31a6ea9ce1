package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
)

// beginTrips begins a challenge for alice on svc, a step later, and
// returns the Redis and PostgreSQL round trips it cost.
func (r *rig) beginTrips(t *testing.T, svc *authn.Service) (redis, pg int64) {
	t.Helper()
	r.clock.Advance(30 * time.Second)
	rd0, pg0 := r.trips()
	_, err := svc.BeginChallenge(context.Background(), "alice")
	require.NoError(t, err)
	rd1, pg1 := r.trips()
	return rd1 - rd0, pg1 - pg0
}

// proof logs alice in with her first phone on svc, for a step-up proof.
func (r *rig) proof(t *testing.T, svc *authn.Service) *authn.Proof {
	t.Helper()
	r.clock.Advance(30 * time.Second)
	ch, err := svc.BeginChallenge(context.Background(), "alice")
	require.NoError(t, err)
	resp, err := r.cred.Respond(ch.Question, r.clock.Now())
	require.NoError(t, err)
	res, err := svc.FinishChallenge(context.Background(), "alice", ch.ID, resp)
	require.NoError(t, err)
	return res.Proof
}

// TestBeginChallengeRoundTrips: on Redis with PostgreSQL, a
// BeginChallenge for a user whose devices the Service holds is one
// script (IssueMirrored: the devices version checked against the
// mirror, and the challenge stored) and no statement; a Service that
// does not hold them (a new instance) reads them in one statement
// first, and so does one whose mirror's life ran out.
func TestBeginChallengeRoundTrips(t *testing.T) {
	r := newRig(t, redisAddr(t), postgres.WithMaxConns(1))
	r.beginTrips(t, r.svc) // loads the script
	for range 3 {
		rd, pg := r.beginTrips(t, r.svc)
		require.Equal(t, int64(1), rd, "Redis round trips of a BeginChallenge")
		require.Equal(t, int64(0), pg, "PostgreSQL round trips of a BeginChallenge")
	}

	other := r.service(t, r.store)
	rd, pg := r.beginTrips(t, other)
	require.Equal(t, int64(1), rd, "Redis round trips of a new instance's first BeginChallenge")
	require.Equal(t, int64(1), pg, "PostgreSQL round trips of a new instance's first BeginChallenge")
	rd, pg = r.beginTrips(t, other)
	require.Equal(t, int64(1), rd, "Redis round trips of its second")
	require.Equal(t, int64(0), pg, "PostgreSQL round trips of its second")

	r.clock.Advance(redisstore.DefaultDevicesMirror)
	rd, pg = r.beginTrips(t, r.svc)
	require.Equal(t, int64(2), rd, "the mirror's life over: a stale issue, then a fresh one")
	require.Equal(t, int64(1), pg, "the mirror's life over: one read of the records")
	rd, pg = r.beginTrips(t, other)
	require.Equal(t, int64(1), rd, "the mirror live again, for every instance")
	require.Equal(t, int64(0), pg)
}

// TestBeginAfterChangeElsewhere: two Services share the stores; after a
// device change made through one (a new phone paired, a rename), the
// other's next BeginChallenge is made from the devices as they stand,
// although it held the old ones: the new phone answers the very next
// challenge, and the new name comes back with the login.
func TestBeginAfterChangeElsewhere(t *testing.T) {
	r := newRig(t, redisAddr(t))
	ctx := context.Background()
	other := r.service(t, r.store)
	r.beginTrips(t, r.svc) // r.svc holds alice's one phone

	cred2 := enrollPhoneAs(t, other, r.clock, "alice", "install-alice-2", r.proof(t, other))
	r.clock.Advance(30 * time.Second)
	ch, err := r.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := cred2.Respond(ch.Question, r.clock.Now())
	require.NoError(t, err)
	res, err := r.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err, "the phone paired on the other instance answers the next challenge")
	require.Equal(t, cred2.DeviceID(), res.DeviceID)

	require.NoError(t, other.RenameDevice(ctx, "alice", cred2.DeviceID(), "work phone"))
	r.clock.Advance(30 * time.Second)
	ch, err = r.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err = cred2.Respond(ch.Question, r.clock.Now())
	require.NoError(t, err)
	res, err = r.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	require.Equal(t, "work phone", res.DeviceName, "renamed on the other instance")
}

// TestDriftMovesTheMirror: a login whose phone's clock moved commits a
// new drift, and raises the mirror with it; another instance's next
// challenge is made at the new drift (it reads the records once).
func TestDriftMovesTheMirror(t *testing.T) {
	r := newRig(t, redisAddr(t), postgres.WithMaxConns(1))
	ctx := context.Background()
	other := r.service(t, r.store)
	r.beginTrips(t, other)
	r.beginTrips(t, other) // other holds alice's phone at drift 0, the script loaded

	r.clock.Advance(30 * time.Second)
	ch, err := r.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := r.cred.Respond(ch.Question, r.clock.Now().Add(30*time.Second)) // the phone a step ahead
	require.NoError(t, err)
	res, err := r.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	require.Equal(t, 1, res.Drift)

	rd, pg := r.beginTrips(t, other)
	require.Equal(t, int64(2), rd, "the mirror raised: a stale issue, then a fresh one")
	require.Equal(t, int64(1), pg, "one read of the records")
	devs, err := other.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 1, devs[0].Drift)
}

// lostRaises is the Redis store of an instance whose raises after a
// change never reach Redis (unreachable right after the change).
type lostRaises struct{ *redisstore.Store }

var errLost = errors.New("redis unreachable (test)")

func (lostRaises) RaiseEpoch(context.Context, string, uint64, time.Time) error   { return errLost }
func (lostRaises) RaiseDevices(context.Context, string, uint64, time.Time) error { return errLost }

// TestLostRaiseAfterRevocation: a phone revoked on an instance whose
// raises are lost (neither the epoch mirror nor the devices mirror
// hears of it) still cannot log in through an instance that holds the
// devices as they were: the challenge it is offered is of the old epoch,
// and the records' CommitStep refuses it. That refusal raises the
// mirrors again, so the next challenge is made from the devices as
// they stand, and the phone left logs in.
func TestLostRaiseAfterRevocation(t *testing.T) {
	r := newRig(t, redisAddr(t))
	ctx := context.Background()
	cred2 := enrollPhoneAs(t, r.svc, r.clock, "alice", "install-alice-2", r.proof(t, r.svc)) // r.svc holds both phones
	lossy := r.service(t, lostRaises{r.store})

	login := func(svc *authn.Service, answer func(q string) (string, error)) (authn.Result, error) {
		t.Helper()
		r.clock.Advance(30 * time.Second)
		ch, err := svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		resp, err := answer(ch.Question)
		require.NoError(t, err)
		return svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	}
	phone1 := func(q string) (string, error) { return r.cred.Respond(q, r.clock.Now()) }
	phone2 := func(q string) (string, error) { return cred2.Respond(q, r.clock.Now()) }

	res, err := login(lossy, phone1)
	require.NoError(t, err)
	err = lossy.RevokeDevice(ctx, "alice", cred2.DeviceID(), res.Proof)
	require.ErrorIs(t, err, errLost, "the raise was lost; the revocation stands")
	devs, err := r.svc.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)

	_, err = login(r.svc, phone2)
	require.Error(t, err, "the revoked phone answered a challenge of the old devices")
	require.True(t, errors.Is(err, authn.ErrInvalidCode) || errors.Is(err, authn.ErrReplay), "%v", err)

	_, err = login(r.svc, phone2)
	require.ErrorIs(t, err, authn.ErrInvalidCode, "the mirrors raised again: the revoked phone is not offered")
	res, err = login(r.svc, phone1)
	require.NoError(t, err, "the phone left logs in")
	require.Equal(t, r.cred.DeviceID(), res.DeviceID)
}
