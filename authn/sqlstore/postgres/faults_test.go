package postgres

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/testnet"
)

// A cut connection makes every call fail with ErrStoreUnavailable (and
// its cause), accepts nothing, and once the connection returns the same
// Service works again.
func TestPostgresConnectionCut(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	px := testnet.NewProxy(t, u.Host)
	u.Host = px.Addr()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	s := openPostgres(t, u.String(), schema)

	now := sqltest.DurabilityStart
	master := make([]byte, 32)
	master[0] = 7
	svc := sqltest.DurabilityService(t, s, master, func() time.Time { return now })
	ctx := context.Background()
	offer, err := svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-1"}, now)
	require.NoError(t, err)
	act, err := svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	_, err = svc.ConfirmActivation(ctx, "alice", offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp, err := cred.Respond(ch.Question, now)
	require.NoError(t, err)

	px.SetCut(true)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = svc.FinishChallenge(cctx, "alice", ch.ID, resp)
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	require.NotErrorIs(t, err, authn.ErrInvalidCode)
	require.Greater(t, len(err.Error()), len(authn.ErrStoreUnavailable.Error()), "the cause is in the message")
	_, err = svc.BeginChallenge(cctx, "alice")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)
	_, err = svc.Devices(cctx, "alice")
	require.ErrorIs(t, err, authn.ErrStoreUnavailable)

	// Back: nothing was accepted while cut, so the same answer logs in now.
	px.SetCut(false)
	var res authn.Result
	require.Eventually(t, func() bool {
		res, err = svc.FinishChallenge(ctx, "alice", ch.ID, resp)
		return !errors.Is(err, authn.ErrStoreUnavailable)
	}, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, err)
	require.Equal(t, act.Device.ID, res.DeviceID)
}
