package authn_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

var loginCtx = enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

func pushEnv(t *testing.T) (*env, *authn.ChanNotifier) {
	n := authn.NewChanNotifier(16)
	e := newEnv(t, func(c *authn.Config) { c.Notifier = n })
	return e, n
}

// receive takes the next non-retraction delivery for the phone and opens
// its prompt.
func receive(t *testing.T, n *authn.ChanNotifier, p *phone, now time.Time) enroll.PushPrompt {
	for {
		select {
		case d := <-n.C:
			if d.Retract {
				continue
			}
			pr, err := p.cred.OpenPrompt(d.Prompt, now)
			require.NoError(t, err)
			return pr
		default:
			t.Fatal("no delivery")
		}
	}
}

func TestPushApproved(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, dev := e.enrollPhone(t, "alice", nil)
	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	require.Len(t, req.Number, 2)
	pr := receive(t, n, p, e.clock.Now())
	require.Equal(t, loginCtx, pr.Context, "the phone shows what the server saw")

	st, err := e.svc.PushStatus(ctx, "alice", req.ID, 0)
	require.NoError(t, err)
	require.Equal(t, authn.PushPending, st)
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrPushPending)

	a, err := p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a), "the same answer again: its outcome again")

	st, err = e.svc.PushStatus(ctx, "alice", req.ID, time.Minute)
	require.NoError(t, err)
	require.Equal(t, authn.PushApproved, st)

	// Two polls never both log in.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, err := e.svc.FinishPush(ctx, "alice", req.ID); err == nil {
				require.Equal(t, dev.ID, res.DeviceID)
				require.Equal(t, authn.MethodPush, res.Method)
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), wins.Load())
}

func TestPushWrongNumberAndDenial(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)

	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())
	wrong := "00"
	if req.Number == wrong {
		wrong = "01"
	}
	a, err := p.cred.AnswerPush(pr, true, wrong, e.clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, e.device(t, p).AnswerPush(ctx, a), authn.ErrWrongNumber)
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrWrongNumber)
	ls, err := e.svc.Operator("test").LockState(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 1, ls.Failures, "a wrong number counts as a failure")

	// An answer for another request, or with another context, is refused.
	req2, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pr2 := receive(t, n, p, e.clock.Now())
	forged := pr2
	forged.Context.Place = "Somewhere else"
	a2, err := p.cred.AnswerPush(forged, true, req2.Number, e.clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, e.device(t, p).AnswerPush(ctx, a2), authn.ErrInvalidPushAnswer)
	a1, err := p.cred.AnswerPush(pr, true, req2.Number, e.clock.Now())
	require.NoError(t, err)
	a1.RequestID = req2.ID
	require.ErrorIs(t, e.device(t, p).AnswerPush(ctx, a1), authn.ErrInvalidPushAnswer)

	// A denial suspends push but is not a lockout failure.
	d, err := p.cred.AnswerPush(pr2, false, "", e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, d))
	_, err = e.svc.FinishPush(ctx, "alice", req2.ID)
	require.ErrorIs(t, err, authn.ErrPushDenied)
	ls, err = e.svc.Operator("test").LockState(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 1, ls.Failures)
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)
	e.clock.Advance(time.Hour)
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
}

func TestPushLimitsAndLock(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	for range 3 {
		_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
		require.NoError(t, err)
	}
	_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable, "at most 3 in 15 minutes")
	for len(n.C) > 0 {
		<-n.C
	}

	// A locked user gets no push: the Notifier is never called.
	e.clock.Advance(15 * time.Minute)
	for range 5 {
		ch, err := e.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		_, _ = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
	}
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)
	require.Zero(t, len(n.C))
	_ = p

	// Push off takes a proof; a user without push devices gets none.
	require.ErrorIs(t, e.svc.SetPush(ctx, "alice", false, nil), authn.ErrProofRequired)
	_, err = e.svc.BeginPush(ctx, "nobody", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)
}

func TestPushCancelAndExpiry(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())
	require.NoError(t, e.svc.CancelPush(ctx, "alice", req.ID))
	a, err := p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, e.device(t, p).AnswerPush(ctx, a), authn.ErrExpired, "withdrawn: over unanswered")
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrExpired)

	req, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pending, err := e.device(t, p).PendingPushes(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	e.clock.Advance(enroll.DefaultPushTTL)
	st, err := e.svc.PushStatus(ctx, "alice", req.ID, 0)
	require.NoError(t, err)
	require.Equal(t, authn.PushExpired, st)
	pending, err = e.device(t, p).PendingPushes(ctx)
	require.NoError(t, err)
	require.Empty(t, pending)
}

func TestTransactionPush(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, dev := e.enrollPhone(t, "alice", nil)
	req, err := e.svc.BeginTransactionPush(ctx, "alice", withdrawal, enroll.PushContext{Action: "Withdrawal", IP: "203.0.113.7"})
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())
	shown, err := txn.Parse(pr.Transaction)
	require.NoError(t, err)
	require.Equal(t, withdrawal, shown, "the phone shows the transaction the server will execute")

	a, err := p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.NotEmpty(t, a.TxResponse)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	res, err := e.svc.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)
	require.Equal(t, dev.ID, res.DeviceID)
	require.NotNil(t, res.Transaction)
	require.Equal(t, withdrawal, *res.Transaction)

	// A phone that signed something else: the approval fails, and counts.
	req, err = e.svc.BeginTransactionPush(ctx, "alice", withdrawal, enroll.PushContext{Action: "Withdrawal"})
	require.NoError(t, err)
	pr = receive(t, n, p, e.clock.Now())
	altered := withdrawal
	altered.Amount++
	pr.Transaction, err = altered.Canonical()
	require.NoError(t, err)
	a, err = p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, e.device(t, p).AnswerPush(ctx, a), authn.ErrInvalidCode)
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.Error(t, err)
}

// An approval not finished in time, or whose device was revoked, does
// not log in.
func TestApprovedPushExpires(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, dev := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)

	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())
	a, err := p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	require.NoError(t, e.svc.RevokeDevice(ctx, "alice", dev.ID, res.Proof))
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrExpired)
}

// PushStatus reads once, or waits for an answer: until the request is no
// longer pending, wait passes, or ctx ends.
func TestPushStatusWaits(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	req, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())

	start := time.Now()
	st, err := e.svc.PushStatus(ctx, "alice", req.ID, 50*time.Millisecond)
	require.NoError(t, err, "a wait that ends with no answer is no error")
	require.Equal(t, authn.PushPending, st)
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	st, err = e.svc.PushStatus(cctx, "alice", req.ID, time.Minute)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, authn.PushPending, st, "the last state read")

	_, err = e.svc.PushStatus(ctx, "bob", req.ID, time.Minute)
	require.ErrorIs(t, err, authn.ErrNotFound, "another user's request")

	// The answer arrives while it waits.
	done := make(chan authn.PushState, 1)
	go func() {
		st, _ := e.svc.PushStatus(ctx, "alice", req.ID, time.Minute)
		done <- st
	}()
	a, err := p.cred.AnswerPush(pr, false, "", e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	require.Equal(t, authn.PushDenied, <-done)
}

// The states print their names.
func TestStatesPrintTheirNames(t *testing.T) {
	for _, st := range []authn.PushState{authn.PushPending, authn.PushApproved, authn.PushDenied, authn.PushFailed,
		authn.PushExpired, authn.PushCancelled, authn.PushUndelivered, authn.PushFinished} {
		require.Equal(t, string(st), st.String())
		require.Equal(t, string(st), fmt.Sprint(st))
	}
	for _, st := range []authn.ActivationState{authn.ActivationWaiting, authn.ActivationCompleted, authn.ActivationActive,
		authn.ActivationExpired, authn.ActivationCancelled} {
		require.Equal(t, string(st), st.String())
		require.Equal(t, string(st), fmt.Sprint(st))
	}
	require.Equal(t, "denied", authn.PushDenied.String())
	require.Equal(t, "completed", authn.ActivationCompleted.String())
}
