package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// TestPostgresBeginChallengeRoundTrips: once the Service has read the
// user's devices, a BeginChallenge is one round trip (authn_issue checks
// them and stores the challenge), whatever the number of devices; a
// device that changed meanwhile costs one more (authn_issue answers with
// the devices as they stand, and the challenge is made again).
func TestPostgresBeginChallengeRoundTrips(t *testing.T) {
	s, tc, svc, clk, cred := pgService(t, WithMaxConns(1))
	ctx := context.Background()
	login := func() {
		t.Helper()
		ch, err := svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		resp, err := cred.Respond(ch.Question, clk.Now())
		require.NoError(t, err)
		_, err = svc.FinishChallenge(ctx, "alice", ch.ID, resp)
		require.NoError(t, err)
	}
	for range 2 { // the first reads the devices and prepares the statements
		clk.Advance(15 * time.Second)
		login()
	}
	for range 3 {
		clk.Advance(15 * time.Second)
		n0 := tc.trips()
		_, err := svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, int64(1), tc.trips()-n0, "round trips of a BeginChallenge")
	}

	// A device renamed: the Service's devices are stale; the store says
	// so in the same round trip, and the challenge is made again.
	devs, err := s.Devices(ctx, "alice")
	require.NoError(t, err)
	name := "renamed"
	_, err = s.ChangeDevice(ctx, "alice", devs[0].ID, authn.DeviceChange{Name: &name}, clk.Now())
	require.NoError(t, err)
	clk.Advance(15 * time.Second)
	n0 := tc.trips()
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, int64(2), tc.trips()-n0, "round trips of a BeginChallenge after a change")
	resp, err := cred.Respond(ch.Question, clk.Now())
	require.NoError(t, err)
	r, err := svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	require.Equal(t, "renamed", r.DeviceName, "the challenge made from the devices as they stand")
	n0 = tc.trips()
	_, err = svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, int64(1), tc.trips()-n0, "round trips of the next BeginChallenge")
}
