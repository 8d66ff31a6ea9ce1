package sqlstore_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
	"github.com/keyline/keyline/authn/sqlstore/sqlite"
	"github.com/keyline/keyline/internal/testenv"
)

// TestPostgresAttemptMatchesSQLite (here, where both engines may be
// linked: a test of neither engine's package) runs one random sequence of
// challenges and Attempts on SQLite (Attempt in Go) and on PostgreSQL
// (Attempt in PL/pgSQL) and requires the same results and user states
// throughout: lock levels up to and past the Base<<level guard, window
// resets, tags at the edges of the window, exhaustion, expiry.
func TestPostgresAttemptMatchesSQLite(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	pg, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(testenv.PostgresSchema(t, dsn)))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, pg.Close()) })
	lite, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, lite.Close()) })
	stores := []*sqlstore.Store{lite, pg}
	ctx := context.Background()
	rng := mrand.New(mrand.NewPCG(1, 1))     // fixed: the sequence (and what it covers) is the same each run
	clients := mrand.New(mrand.NewPCG(2, 2)) // alice's client, drawn apart so that the sequence above stays the same
	policies := []authn.LockPolicy{
		{MaxFailures: 1, Base: 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3}, // Base<<level up to level 41, then Max
		{MaxFailures: 3, Base: time.Minute, Max: time.Hour, Window: 10 * time.Minute, MaxAttempts: 5},
		{MaxFailures: 2, Base: 1<<40 + 1, Max: time.Hour, Window: time.Second, MaxAttempts: 2}, // Base<<24 would wrap to 2^24: Max
		{MaxFailures: 1, Base: 0, Max: time.Millisecond, Window: 0, MaxAttempts: 1},
	}
	for i := range policies { // the long horizon and the cap on known clients
		policies[i].Horizon, policies[i].SlowLock, policies[i].MaxClients = 30*time.Minute, 6, 2
	}
	users := []string{"alice", "bob"}
	now := sqltest.T0
	ids := map[string][]string{}
	seen := map[authn.AttemptOutcome]int{}
	maxLevel := 0
	capped, slowLocks := 0, 0
	for i := range 2000 {
		now = now.Add(time.Duration(rng.Int64N(int64(20 * time.Second))))
		user := users[rng.IntN(2)]
		if rng.IntN(4) == 0 || len(ids[user]) == 0 {
			var tags []authn.Tag
			for j := range rng.IntN(4) {
				tags = append(tags, authn.Tag{MAC: [16]byte{byte(rng.IntN(2))}, Device: fmt.Sprintf("dev-%d", j),
					Step: uint64(1000 + rng.IntN(7) - 3), Drift: rng.IntN(5) - 2})
			}
			ch := authn.ChallengeRecord{ID: fmt.Sprintf("ch-%d", i), User: user, Question: fmt.Sprintf("q%d", i), Tags: tags,
				Window: rng.IntN(3), IssuedAt: now, ExpiresAt: now.Add(time.Duration(rng.Int64N(int64(10 * time.Minute)))),
				Payload: []byte{byte(i)}, Names: map[string]string{"dev-0": "phone"}, Resync: "", ResyncDrift: i % 3}
			lim := authn.ChallengeLimits{Outstanding: 5, PerMinute: 1000, Horizon: time.Second}
			for _, s := range stores {
				require.NoError(t, s.PutChallenge(ctx, ch, lim, now))
			}
			ids[user] = append(ids[user], ch.ID)
			continue
		}
		id := ids[user][rng.IntN(len(ids[user]))]
		if other := ids[users[1-slices.Index(users, user)]]; rng.IntN(10) == 0 && len(other) > 0 {
			id = other[0] // another user's
		}
		mac := [16]byte{byte(rng.IntN(2))}
		if user == "bob" {
			mac[0] = 99 // bob never matches: his lock level climbs
		}
		step := uint64(1000 + rng.IntN(5) - 2)
		p := policies[rng.IntN(len(policies))]
		client := ""
		if user == "alice" {
			client = []string{"", "c1", "c2", "c3"}[clients.IntN(4)]
		}
		var res [2]authn.AttemptResult
		var us [2]authn.UserState
		var bs [2][]authn.ClientLockout
		for k, s := range stores {
			var err error
			res[k], err = s.Attempt(ctx, user, client, &authn.ChallengeAnswer{ID: id, MAC: mac, ServerStep: step}, p, now)
			require.NoError(t, err)
			us[k], err = s.User(ctx, user, now)
			require.NoError(t, err)
			bs[k], err = s.Lockout(ctx, user, now)
			require.NoError(t, err)
		}
		require.Equal(t, res[0], res[1], "Attempt %d (%s from %q on %s)", i, user, client, id)
		require.Equal(t, us[0], us[1], "user after attempt %d", i)
		require.Equal(t, bs[0], bs[1], "buckets after attempt %d", i)
		if client != "" && res[0].Client == "" {
			capped++
		}
		if p.SlowLock > 0 && res[0].Slow >= p.SlowLock && res[0].RetryAfter == p.Max {
			slowLocks++
		}
		seen[res[0].Outcome]++
		if res[0].Outcome == authn.AttemptLocked && rng.IntN(2) == 0 {
			now = now.Add(res[0].RetryAfter)
		}
		maxLevel = max(maxLevel, us[0].Level)
	}
	t.Logf("outcomes %v, highest level %d, known clients past the cap %d, slow locks %d", seen, maxLevel, capped, slowLocks)
	require.Positive(t, capped, "a known client past the cap was tried")
	require.Positive(t, slowLocks, "the long-horizon lock was reached")
	require.Len(t, seen, 6, "every outcome was tried")
	require.Greater(t, maxLevel, 32, "the Base<<level guard was reached")
}
