package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Push through the Service: two instances on one store.

var loginContext = enroll.PushContext{Action: pushContext[0], IP: pushContext[1], Place: pushContext[2], Browser: pushContext[3]}

// newPushCluster is newCluster with one ChanNotifier for both instances.
func newPushCluster(t *testing.T, store authn.Store) (*cluster, *authn.ChanNotifier) {
	t.Helper()
	nt := authn.NewChanNotifier(16)
	return newCluster(t, store, func(cfg *authn.Config) { cfg.Notifier = nt }), nt
}

// enrollPush is enroll for a phone with a push token.
func (c *cluster) enrollPush(t *testing.T, user string, proof *authn.Proof) (*phone, authn.Device) {
	t.Helper()
	return c.enrollPhone(t, user, proof, "push-token-"+rand.Text())
}

// receive takes the next prompt (not a retraction) from nt: it must be
// for p, with its push token. It opens the prompt.
func receive(t *testing.T, nt *authn.ChanNotifier, p *phone) enroll.PushPrompt {
	t.Helper()
	for {
		select {
		case d := <-nt.C:
			if d.Retract {
				continue
			}
			require.Equal(t, p.cred.DeviceID(), d.Device)
			require.Equal(t, p.cred.Device().PushToken, d.PushToken)
			pr, err := p.cred.OpenPrompt(d.Prompt, p.clock.Now())
			require.NoError(t, err)
			return pr
		default:
			t.Fatal("no delivery")
		}
	}
}

// device is the phone's device as instance i's device API sees it: a
// request the phone signed now, authenticated there.
func (c *cluster) device(t *testing.T, i int, p *phone) *authn.AuthenticatedDevice {
	t.Helper()
	h, err := p.cred.SignAPIRequest("POST", "/v1/push/answer", "", nil, c.clock.Now())
	require.NoError(t, err)
	r, mac, err := enroll.ParseAPIAuthorization(h)
	require.NoError(t, err)
	r.Method, r.Path, r.BodyHash = "POST", "/v1/push/answer", sha256.Sum256(nil)
	d, err := c.svc[i].AuthenticateDevice(t.Context(), r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	return d
}

func testServicePush(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("ApprovedAcrossInstances", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, dev := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		pr := receive(t, nt, p)
		require.Equal(t, req.ID, pr.RequestID)
		require.Equal(t, loginContext, pr.Context)
		pending, err := c.device(t, 1, p).PendingPushes(ctx)
		require.NoError(t, err)
		require.Len(t, pending, 1, "the device API on the other instance")
		_, err = c.svc[1].FinishPush(ctx, "alice", req.ID)
		require.ErrorIs(t, err, authn.ErrPushPending)

		c.clock.Advance(5 * time.Second)
		a, err := p.cred.AnswerPush(pr, true, req.Number, c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a))
		require.NoError(t, c.device(t, 0, p).AnswerPush(ctx, a), "the same answer on the other instance: its outcome again")
		st, err := c.svc[0].PushStatus(ctx, "alice", req.ID, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushApproved, st, "the approval seen on the other instance")

		won := c.requireOneFinish(t, 20, "FinishPush", dev, func(ctx context.Context, svc *authn.Service) (authn.Result, error) {
			return svc.FinishPush(ctx, "alice", req.ID)
		})
		require.Equal(t, dev.Name, won.DeviceName)
		st, err = c.svc[1].PushStatus(ctx, "alice", req.ID, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushFinished, st)
	})

	t.Run("DenialSuspendsAcrossInstances", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, nt, p), false, "", c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a))
		_, err = c.svc[0].FinishPush(ctx, "alice", req.ID)
		require.ErrorIs(t, err, authn.ErrPushDenied)
		_, err = c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrPushUnavailable, "push suspended by a denial on the other instance")
		require.Zero(t, len(nt.C), "a suspended user is not notified")
	})

	t.Run("LockedUserNotNotified", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		for i := range authn.DefaultMaxFailures {
			ch, err := c.svc[i%2].BeginChallenge(ctx, "alice")
			require.NoError(t, err)
			_, err = c.svc[(i+1)%2].FinishChallenge(ctx, "alice", ch.ID, wrongResponse(t, p, ch.Question))
			require.Error(t, err)
		}
		u, err := c.store.User(ctx, "alice", c.clock.Now())
		require.NoError(t, err)
		require.True(t, u.LockedUntil.After(c.clock.Now()), "the user is locked")
		for _, svc := range c.svc {
			_, err := svc.BeginPush(ctx, "alice", loginContext)
			require.ErrorIs(t, err, authn.ErrPushUnavailable, "a locked user")
		}
		require.Zero(t, len(nt.C), "a locked user is not notified")
	})

	t.Run("BudgetAcrossInstances", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		for i := range 3 {
			_, err := c.svc[i%2].BeginPush(ctx, "alice", loginContext)
			require.NoError(t, err, "push %d", i+1)
			receive(t, nt, p)
			c.clock.Advance(time.Minute)
		}
		for _, svc := range c.svc {
			_, err := svc.BeginPush(ctx, "alice", loginContext)
			require.ErrorIs(t, err, authn.ErrPushUnavailable, "a 4th push within 15 minutes")
		}
		require.Zero(t, len(nt.C), "a refused push notifies no one")
		c.clock.Advance(12 * time.Minute) // 15 minutes after the first
		_, err := c.svc[1].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err, "a new window")
		receive(t, nt, p)
	})
}

// setPushMode sets both halves of a user's push mode.
func setPushMode(t *testing.T, s authn.Store, user string, off bool, until, now time.Time) error {
	t.Helper()
	if err := pushOff(t.Context(), s, user, off, now); err != nil {
		return err
	}
	return suspend(t.Context(), s, user, until, now)
}

// requireOneFinish runs finish n times at once, alternating between the
// cluster's two instances, and requires exactly one success, made by dev
// as a push (the others ErrAlreadyUsed), and one login_succeeded more.
// It returns the winning result for the caller's own checks.
func (c *cluster) requireOneFinish(t *testing.T, n int, what string, dev authn.Device,
	finish func(ctx context.Context, svc *authn.Service) (authn.Result, error)) authn.Result {
	t.Helper()
	succeeded := c.obs.count("login_succeeded")
	results := make([]authn.Result, n)
	errs := concurrently(n, func(i int) error {
		var err error
		results[i], err = finish(context.Background(), c.svc[i%2])
		return err
	})
	var won authn.Result
	wins := 0
	for i, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, authn.ErrAlreadyUsed, "finish %d", i)
			continue
		}
		wins++
		won = results[i]
		require.Equal(t, dev.ID, results[i].DeviceID)
		require.Equal(t, authn.MethodPush, results[i].Method)
		require.NotNil(t, results[i].Proof)
	}
	require.Equal(t, 1, wins, "successes of %d concurrent %s of one approval", n, what)
	require.Equal(t, succeeded+1, c.obs.count("login_succeeded"))
	return won
}
