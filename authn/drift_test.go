package authn_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/authn/sqlstore/sqlite"
	"github.com/keyline/keyline/challenge"
)

// kitStores are the engines the Service-level tests of this package run
// on where the store only keeps what the Service decides: memstore and
// SQLite (storetest runs every engine when a store's own rule is tested).
func kitStores(t *testing.T) map[string]func(t *testing.T) authn.Store {
	return map[string]func(t *testing.T) authn.Store{
		"memstore": func(*testing.T) authn.Store { return memstore.New() },
		"sqlite": func(t *testing.T) authn.Store {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "authn.db"))
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// A phone whose clock runs one step further ahead at every login must
// never leave a drift larger than Config.ResyncWindow in the store,
// whatever path accepted it: the window around the stored drift, a
// resynchronisation, or a confirmation of one. (Issue 12 saw 40 steps
// after 40 such logins.)
func TestDriftBoundedByResyncWindow(t *testing.T) {
	for name, open := range kitStores(t) {
		t.Run(name, func(t *testing.T) {
			for _, resync := range []int{0, 4} {
				s := open(t)
				k := authntest.New(t, authntest.WithStores(s, s), authntest.WithConfig(func(c *authn.Config) {
					c.ResyncWindow = resync
				}))
				limit := resync
				if limit == 0 {
					limit = authn.DefaultResyncWindow
				}
				phone := k.Enroll("alice")
				ctx := context.Background()
				step := challenge.Default.TimeStep()
				accepted := 0
				for i := 1; i <= 50; i++ {
					k.Clock.Advance(2 * time.Hour) // past any lock and budget
					phone.SetSkew(time.Duration(i) * step)
					ch, err := k.Service.BeginChallenge(ctx, "alice")
					require.NoError(t, err)
					res, err := k.Service.FinishChallenge(ctx, "alice", ch.ID, phone.Respond(ch.Question))
					var rs *authn.ResyncError
					if errors.As(err, &rs) {
						res, err = k.Service.FinishChallenge(ctx, "alice", rs.Next.ID, phone.Respond(rs.Next.Question))
					}
					if err == nil {
						accepted++
						require.LessOrEqual(t, abs(res.Drift), limit, "login %d: Result.Drift", i)
					}
					devs, derr := k.Service.Devices(ctx, "alice")
					require.NoError(t, derr)
					require.Len(t, devs, 1)
					require.LessOrEqual(t, abs(devs[0].Drift), limit, "login %d: stored drift (skew %d steps)", i, i)
				}
				// The bound is not reached by refusing everything: the
				// phone logged in while its skew was within reach.
				require.GreaterOrEqual(t, accepted, limit)
			}
		})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
