package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// Every outcome of a push answer that a phone must act on is its own
// error (issue 13): expired, clock off (with the server's time), not
// this device's, answered already; and the same answer twice gets the
// first one's outcome.
func TestPushAnswerOutcomes(t *testing.T) {
	ctx := context.Background()
	t.Run("Expired", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), true, req.Number, e.clock.Now())
		require.NoError(t, err)
		e.clock.Advance(enroll.DefaultPushTTL) // the answer was lost until now
		err = e.device(t, p).AnswerPush(ctx, a)
		require.ErrorIs(t, err, authn.ErrExpired)
		require.NotErrorIs(t, err, authn.ErrInvalidPushAnswer)
	})
	t.Run("ClockOff", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		pr := receive(t, n, p, e.clock.Now())
		slow := e.clock.Now().Add(-75 * time.Second) // the phone's clock
		a, err := p.cred.AnswerPush(pr, true, req.Number, slow)
		require.NoError(t, err)
		err = e.device(t, p).AnswerPush(ctx, a)
		require.ErrorIs(t, err, authn.ErrPushClock)
		require.NotErrorIs(t, err, authn.ErrInvalidPushAnswer)
		var ce *enroll.PushClockError
		require.ErrorAs(t, err, &ce)
		require.True(t, ce.ServerTime.Equal(e.clock.Now()), "the server's time, for the phone to correct by")
		// The request is still pending: answered with the clock corrected
		// by the offset the server's time shows, it is taken.
		offset := ce.ServerTime.Sub(slow)
		a, err = p.cred.AnswerPush(pr, true, req.Number, slow.Add(offset))
		require.NoError(t, err)
		require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
		_, err = e.svc.FinishPush(ctx, "alice", req.ID)
		require.NoError(t, err)
	})
	t.Run("NotYours", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		bob, _ := e.enrollPhone(t, "bob", nil)
		req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), true, req.Number, e.clock.Now())
		require.NoError(t, err)
		err = e.device(t, bob).AnswerPush(ctx, a)
		require.ErrorIs(t, err, authn.ErrPromptNotForDevice)
		require.NotErrorIs(t, err, authn.ErrInvalidPushAnswer)
		require.NoError(t, e.device(t, p).AnswerPush(ctx, a), "still pending for alice's phone")
	})
	t.Run("AnsweredByAnotherDevice", func(t *testing.T) {
		e, n := pushEnv(t)
		p1, _ := e.enrollPhone(t, "alice", nil)
		res := e.login(t, p1, "alice")
		p2, _ := e.enrollPhone(t, "alice", res.Proof)
		req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		prompts := map[string]enroll.PushPrompt{}
		for range 2 {
			d := <-n.C
			prompts[d.Device] = func() enroll.PushPrompt {
				for _, p := range []*phone{p1, p2} {
					if p.cred.DeviceID() == d.Device {
						pr, err := p.cred.OpenPrompt(d.Prompt, e.clock.Now())
						require.NoError(t, err)
						return pr
					}
				}
				t.Fatal("a delivery to no phone")
				return enroll.PushPrompt{}
			}()
		}
		a1, err := p1.cred.AnswerPush(prompts[p1.cred.DeviceID()], true, req.Number, e.clock.Now())
		require.NoError(t, err)
		a2, err := p2.cred.AnswerPush(prompts[p2.cred.DeviceID()], false, "", e.clock.Now())
		require.NoError(t, err)
		require.NoError(t, e.device(t, p1).AnswerPush(ctx, a1))
		err = e.device(t, p2).AnswerPush(ctx, a2)
		require.ErrorIs(t, err, authn.ErrPushAnswered)
		require.ErrorIs(t, err, authn.ErrAlreadyUsed)
		e.clock.Advance(time.Minute) // a lost answer retried later
		require.NoError(t, e.device(t, p1).AnswerPush(ctx, a1), "the same answer: its outcome")
		got, err := e.svc.FinishPush(ctx, "alice", req.ID)
		require.NoError(t, err)
		require.Equal(t, p1.cred.DeviceID(), got.DeviceID)
		require.NoError(t, e.device(t, p1).AnswerPush(ctx, a1), "and after the login too")
	})
	t.Run("RetryWrongNumber", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		wrong := "00"
		if req.Number == wrong {
			wrong = "01"
		}
		a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), true, wrong, e.clock.Now())
		require.NoError(t, err)
		for range 3 {
			require.ErrorIs(t, e.device(t, p).AnswerPush(ctx, a), authn.ErrWrongNumber)
		}
		f, err := e.svc.Factors(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, 1, f.RecentFail, "one failure, however often the answer comes")
	})
	t.Run("RetryDenial", func(t *testing.T) {
		e, n := pushEnv(t)
		p, _ := e.enrollPhone(t, "alice", nil)
		req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), false, "", e.clock.Now())
		require.NoError(t, err)
		require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
		require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
		_, err = e.svc.FinishPush(ctx, "alice", req.ID)
		require.ErrorIs(t, err, authn.ErrPushDenied)
	})
}
