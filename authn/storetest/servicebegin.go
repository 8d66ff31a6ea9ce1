package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// testServiceBegin: what a Service remembers of a user's devices between
// two BeginChallenges (see authn.IssueStore) never leaves a device out
// of a challenge, nor a revoked one in, nor an old name in a Result,
// when another instance changed them meanwhile.
func testServiceBegin(t *testing.T, newStore func(t *testing.T) authn.Store) {
	c := newCluster(t, newStore(t), nil)
	ctx := t.Context()
	p1, d1 := c.enroll(t, "alice", nil)
	r := c.login(t, "alice", p1) // instance 0 now knows alice's one device

	// A second phone, paired through instance 1: instance 0's next
	// challenge is answered by it.
	p2, d2 := c.enroll(t, "alice", r.Proof)
	r = c.login(t, "alice", p2)
	require.Equal(t, d2.ID, r.DeviceID, "a device paired on the other instance answers")

	// Renamed on instance 1: the Result says the new name.
	require.NoError(t, c.svc[1].RenameDevice(ctx, "alice", d1.ID, "renamed"))
	r = c.login(t, "alice", p1)
	require.Equal(t, "renamed", r.DeviceName)

	// Revoked on instance 1: the first phone answers no challenge of
	// instance 0's.
	require.NoError(t, c.svc[1].RevokeDevice(ctx, "alice", d1.ID, r.Proof))
	c.clock.Advance(authn.DefaultChallengeTTL)
	ch, err := c.svc[0].BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = c.svc[1].FinishChallenge(ctx, "alice", ch.ID, p1.respond(t, ch.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode, "a revoked device")
	r = c.login(t, "alice", p2)
	require.Equal(t, d2.ID, r.DeviceID)
}
