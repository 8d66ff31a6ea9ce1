package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

// testServicePushAnswer checks, through two instances, that the very
// same push answer sent again gets the first one's outcome (the answer's
// mark is recorded with the state it moved the request to), also when
// the copies race; that another answer is ErrPushAnswered; and that a
// retried wrong number counts one failure.
func testServicePushAnswer(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("RetryGetsTheFirstOutcome", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, dev := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		pr := receive(t, nt, p)
		a, err := p.cred.AnswerPush(pr, true, req.Number, c.clock.Now())
		require.NoError(t, err)
		devs := [2]*authn.AuthenticatedDevice{c.device(t, 0, p), c.device(t, 1, p)}
		errs := concurrently(8, func(i int) error { return devs[i%2].AnswerPush(context.Background(), a) })
		for i, err := range errs {
			require.NoError(t, err, "copy %d of one answer", i)
		}
		c.clock.Advance(time.Minute)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a), "retried a minute later")
		deny, err := p.cred.AnswerPush(pr, false, "", c.clock.Now())
		require.NoError(t, err)
		require.ErrorIs(t, c.device(t, 0, p).AnswerPush(ctx, deny), authn.ErrPushAnswered)
		res, err := c.svc[1].FinishPush(ctx, "alice", req.ID)
		require.NoError(t, err)
		require.Equal(t, dev.ID, res.DeviceID)
	})
	t.Run("RacingCopiesOfATransactionApproval", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		tx := txn.Transaction{Kind: txn.KindWithdrawal, Amount: 250000, Currency: "EUR", From: "DE89370400440532013000", To: "GB82WEST12345698765432", Beneficiary: "Ada Lovelace"}
		req, err := c.svc[0].BeginTransactionPush(ctx, "alice", tx, enroll.PushContext{Action: "Withdrawal"})
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, nt, p), true, req.Number, c.clock.Now())
		require.NoError(t, err)
		devs := [2]*authn.AuthenticatedDevice{c.device(t, 0, p), c.device(t, 1, p)}
		errs := concurrently(8, func(i int) error { return devs[i%2].AnswerPush(context.Background(), a) })
		for i, err := range errs {
			require.NoError(t, err, "copy %d of one signed approval", i)
		}
		res, err := c.svc[1].FinishPush(ctx, "alice", req.ID)
		require.NoError(t, err, "the signature was checked once")
		require.NotNil(t, res.Transaction)
		f, err := c.svc[0].Factors(ctx, "alice")
		require.NoError(t, err)
		require.Zero(t, f.RecentFail, "no copy counted a failure")
	})
	t.Run("RetryWrongNumber", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		wrong := "00"
		if req.Number == wrong {
			wrong = "01"
		}
		a, err := p.cred.AnswerPush(receive(t, nt, p), true, wrong, c.clock.Now())
		require.NoError(t, err)
		for i := range 4 {
			require.ErrorIs(t, c.device(t, i%2, p).AnswerPush(ctx, a), authn.ErrWrongNumber, "answer %d", i)
		}
		f, err := c.svc[1].Factors(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, 1, f.RecentFail, "one failure, however often the answer comes")
	})
	t.Run("ExpiredAndClockOff", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		pr := receive(t, nt, p)
		a, err := p.cred.AnswerPush(pr, true, req.Number, c.clock.Now().Add(-2*time.Minute+time.Second))
		require.NoError(t, err)
		err = c.device(t, 1, p).AnswerPush(ctx, a)
		var ce *enroll.PushClockError
		require.ErrorAs(t, err, &ce)
		require.True(t, ce.ServerTime.Equal(c.clock.Now()))
		c.clock.Advance(enroll.DefaultPushTTL)
		require.ErrorIs(t, c.device(t, 0, p).AnswerPush(ctx, a), authn.ErrExpired)
	})
}
