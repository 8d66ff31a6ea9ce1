package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// testServicePushRefund checks that a push request that ends unanswered
// gives its unit of the push budget back, once, through two instances:
// a portal that starts a push at every login and withdraws it when the
// user picks challenge/response keeps push for every login; a
// withdrawal, expiry reads on both instances and a sweep racing for one
// request give one unit back.
func testServicePushRefund(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("PortalWithdrawsAtEveryLogin", func(t *testing.T) {
		c, _ := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		for i := range 6 {
			req, err := c.svc[i%2].BeginPush(ctx, "alice", loginContext)
			require.NoError(t, err, "login %d still has push", i+1)
			require.NoError(t, c.svc[(i+1)%2].CancelPush(ctx, "alice", req.ID))
			c.login(t, "alice", p)
			c.clock.Advance(time.Minute)
		}
	})
	t.Run("RacingEnds", func(t *testing.T) {
		c, _ := newPushCluster(t, newStore(t))
		ctx := t.Context()
		c.enrollPush(t, "alice", nil)
		var ids []string
		for range 3 {
			req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
			require.NoError(t, err)
			ids = append(ids, req.ID)
		}
		c.clock.Advance(enroll.DefaultPushTTL)
		// Each request is withdrawn, read and swept at once, on both
		// instances: each gives back one unit, whoever notices first.
		for _, id := range ids {
			concurrently(8, func(i int) error {
				switch i % 4 {
				case 0:
					return c.svc[i%2].CancelPush(context.Background(), "alice", id)
				case 1:
					_, err := c.svc[i%2].PushStatus(context.Background(), "alice", id, 0)
					return err
				case 2:
					_, err := c.svc[i%2].FinishPush(context.Background(), "alice", id)
					return err
				}
				_, err := c.store.Sweep(context.Background(), c.clock.Now())
				return err
			})
		}
		for i := range 3 {
			_, err := c.svc[i%2].BeginPush(ctx, "alice", loginContext)
			require.NoError(t, err, "push %d after three unanswered ones", i+1)
		}
		_, err := c.svc[1].BeginPush(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrPushUnavailable, "three refunds, not more")
	})
}
