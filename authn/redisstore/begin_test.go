package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/sqlstore/postgres"
)

// TestBeginChallengeRoundTrips: on Redis with PostgreSQL, a
// BeginChallenge reads the user's epoch and devices in one statement
// (sqlstore's UserDevices) and stores the challenge with one script: one
// round trip to each.
func TestBeginChallengeRoundTrips(t *testing.T) {
	r := newRig(t, redisAddr(t), postgres.WithMaxConns(1))
	ctx := context.Background()
	for i := range 3 {
		r.clock.Advance(15 * time.Second)
		rd0, pg0 := r.trips()
		_, err := r.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		rd1, pg1 := r.trips()
		if i > 0 { // the first loads the script and prepares the statement
			require.Equal(t, int64(1), rd1-rd0, "Redis round trips of a BeginChallenge")
			require.Equal(t, int64(1), pg1-pg0, "PostgreSQL round trips of a BeginChallenge")
		}
	}
}
