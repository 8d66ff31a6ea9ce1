package authn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// badContexts are push contexts no prompt may carry.
var badContexts = []enroll.PushContext{
	{},
	{Action: "Login", Browser: strings.Repeat("b", 129)},
	{Action: "Login", IP: "203.0.113.7:443"},
	{Action: "Log\nin"},
	{Action: "Login", Place: "\xff"},
}

func TestBeginPushInvalidContextSpendsNothing(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	e.enrollPhone(t, "alice", nil)
	for range 2 {
		for _, pc := range badContexts {
			_, err := e.svc.BeginPush(ctx, "alice", pc)
			require.ErrorIs(t, err, authn.ErrPushUnavailable, "%+v: a handler falls back", pc)
			require.ErrorIs(t, err, authn.ErrInvalidInput, "%+v", pc)
			_, err = e.svc.BeginTransactionPush(ctx, "alice", withdrawal, pc)
			require.ErrorIs(t, err, authn.ErrPushUnavailable, "%+v", pc)
			require.ErrorIs(t, err, authn.ErrInvalidInput, "%+v", pc)
		}
	}
	_, err := e.svc.BeginPush(ctx, "", loginCtx)
	require.ErrorIs(t, err, authn.ErrInvalidInput, "an invalid user")
	require.Zero(t, len(n.C), "nothing was sent")
	for i := range 3 {
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err, "push %d: the budget is whole", i+1)
	}
}

// failNotifier fails every delivery.
type failNotifier struct{}

func (failNotifier) Notify(context.Context, authn.Delivery) error {
	return errors.New("push service down")
}

func TestPushUnavailableClass(t *testing.T) {
	ctx := context.Background()
	fallsBack := func(t *testing.T, err error) {
		t.Helper()
		require.ErrorIs(t, err, authn.ErrPushUnavailable)
	}
	t.Run("BudgetSpent", func(t *testing.T) {
		e, _ := pushEnv(t)
		e.enrollPhone(t, "alice", nil)
		for range 3 {
			_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.NoError(t, err)
		}
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
	t.Run("NoDeviceWithPush", func(t *testing.T) {
		e, _ := pushEnv(t)
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
	t.Run("Off", func(t *testing.T) {
		e, _ := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		res := e.login(t, p, "alice")
		require.NoError(t, e.svc.SetPush(ctx, "alice", false, res.Proof))
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
	t.Run("Suspended", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), false, "", e.clock.Now())
		require.NoError(t, err)
		require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
		_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
	t.Run("NoNotifier", func(t *testing.T) {
		e := newEnv(t)
		e.enrollPhone(t, "alice", nil)
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
	t.Run("Undelivered", func(t *testing.T) {
		e := newEnv(t, func(c *authn.Config) { c.Notifier = failNotifier{} })
		e.enrollPhone(t, "alice", nil)
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
	t.Run("ContextUnusable", func(t *testing.T) {
		e, _ := pushEnv(t)
		e.enrollPhone(t, "alice", nil)
		_, err := e.svc.BeginPush(ctx, "alice", badContexts[1])
		fallsBack(t, err)
	})
	t.Run("Locked", func(t *testing.T) {
		e, _ := pushEnv(t)
		e.enrollPhone(t, "alice", nil)
		for range 5 {
			ch, err := e.svc.BeginChallenge(ctx, "alice")
			require.NoError(t, err)
			_, _ = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
		}
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		fallsBack(t, err)
	})
}

// A portal that starts a push at every login, as IB Key does, and
// withdraws it when the user picks challenge/response, leaves the user
// push on every later login: a withdrawn, undelivered or unanswered
// expired push gives its unit of the budget back.
func TestPushBudgetRefunds(t *testing.T) {
	ctx := context.Background()
	t.Run("Cancelled", func(t *testing.T) {
		e, _ := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		for i := range 8 {
			req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.NoError(t, err, "login %d", i+1)
			require.NoError(t, e.svc.CancelPush(ctx, "alice", req.ID))
			require.ErrorIs(t, e.svc.CancelPush(ctx, "alice", req.ID), authn.ErrAlreadyUsed, "cancelled once, refunded once")
			e.login(t, p, "alice")
			e.clock.Advance(time.Minute)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		e, _ := pushEnv(t)
		e.enrollPhone(t, "alice", nil)
		for i := range 6 {
			req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.NoError(t, err, "login %d", i+1)
			e.clock.Advance(enroll.DefaultPushTTL)
			for range 3 { // every read sees it expired; one refund
				st, err := e.svc.PushStatus(ctx, "alice", req.ID, 0)
				require.NoError(t, err)
				require.Equal(t, authn.PushExpired, st)
			}
		}
		for range 3 {
			_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.NoError(t, err)
		}
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.ErrorIs(t, err, authn.ErrPushUnavailable, "a refund is taken once")
	})
	t.Run("Undelivered", func(t *testing.T) {
		fail := true
		n := authn.NewChanNotifier(16)
		e := newEnv(t, func(c *authn.Config) {
			c.Notifier = notifierFunc(func(ctx context.Context, d authn.Delivery) error {
				if fail {
					return errors.New("push service down")
				}
				return n.Notify(ctx, d)
			})
		})
		e.enrollPhone(t, "alice", nil)
		for range 5 {
			_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.ErrorIs(t, err, authn.ErrPushUnavailable)
		}
		fail = false
		for range 3 {
			_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.NoError(t, err, "the failed deliveries spent nothing")
		}
	})
	t.Run("AnsweredIsSpent", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		for range 3 {
			req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
			require.NoError(t, err)
			a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), true, req.Number, e.clock.Now())
			require.NoError(t, err)
			require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
			e.clock.Advance(enroll.DefaultPushTTL) // approved, never finished
			_, err = e.svc.PushStatus(ctx, "alice", req.ID, 0)
			require.NoError(t, err)
		}
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.ErrorIs(t, err, authn.ErrPushUnavailable, "an answered push is no refund")
	})
}

// notifierFunc is a Notifier from a function.
type notifierFunc func(context.Context, authn.Delivery) error

func (f notifierFunc) Notify(ctx context.Context, d authn.Delivery) error { return f(ctx, d) }

// login logs user in by challenge/response with p: the factor a user
// picks instead of push.
func (e *env) login(t *testing.T, p *phone, user string) authn.Result {
	t.Helper()
	ch, err := e.svc.BeginChallenge(context.Background(), user)
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(context.Background(), user, ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	return res
}
