package deviceapi_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// TestMigrationDiscarded: the old phone reads the pairing tries left, the
// third wrong code discards the new device with its own answer, and the
// migration then reads "discarded" (not "completed"); the old device
// stays.
func TestMigrationDiscarded(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	oldCred := e.kit.Enroll("alice").Credential()
	offer, err := e.client.StartMigration(ctx, oldCred)
	require.NoError(t, err)
	p, err := e.client.MigrationProgress(ctx, oldCred, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, deviceclient.MigrationProgress{Status: "waiting"}, p)

	fetched, err := e.client.FetchOffer(ctx, offer.SessionID)
	require.NoError(t, err)
	act, err := e.client.Activate(ctx, fetched, phoneInfo)
	require.NoError(t, err)
	newCred := act.Credential
	wrong := "000000"
	if newCred.PairingCode() == wrong {
		wrong = "000001"
	}
	for left := 3; left > 1; left-- {
		p, err = e.client.MigrationProgress(ctx, oldCred, offer.SessionID)
		require.NoError(t, err)
		require.Equal(t, deviceclient.MigrationProgress{Status: "completed", TriesLeft: left}, p)
		_, err = e.client.ConfirmMigration(ctx, oldCred, offer.SessionID, wrong)
		require.ErrorIs(t, err, deviceclient.ErrWrongPairingCode)
		require.NotErrorIs(t, err, deviceclient.ErrPairingDiscarded)
	}
	_, err = e.client.ConfirmMigration(ctx, oldCred, offer.SessionID, wrong)
	require.ErrorIs(t, err, deviceclient.ErrPairingDiscarded, "the third wrong code")
	var ae *deviceclient.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "pairing_discarded", ae.Code)
	p, err = e.client.MigrationProgress(ctx, oldCred, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, deviceclient.MigrationProgress{Status: "discarded"}, p)
	_, err = e.client.ConfirmMigration(ctx, oldCred, offer.SessionID, newCred.PairingCode())
	require.ErrorIs(t, err, deviceclient.ErrPairingDiscarded, "the right code after the third wrong one")

	_, err = e.client.Pushes(ctx, oldCred)
	require.NoError(t, err, "the old device stays")
	devs, err := e.kit.Service.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
}
