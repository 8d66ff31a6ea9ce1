package storetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// ---------------------------------------------------------------------
// Log in with a QR code through the Service: begun on one instance,
// fetched, answered and finished across both, no Notifier.

// scan is what a phone does with a login page's QR code: it parses the
// text, checks that it names the phone's account, fetches the request's
// prompt through instance i's device API and opens it.
func (c *cluster) scan(t *testing.T, i int, p *phone, text string) enroll.PushPrompt {
	t.Helper()
	q, err := enroll.ParseQRLogin(text)
	require.NoError(t, err)
	require.Equal(t, p.cred.Issuer(), q.Issuer)
	require.Equal(t, p.cred.User(), q.User)
	wire, err := c.device(t, i, p).PushPrompt(t.Context(), q.RequestID)
	require.NoError(t, err)
	pr, err := p.cred.OpenPrompt(wire, p.clock.Now())
	require.NoError(t, err)
	return pr
}

// lockUser runs wrong challenge answers until user is locked.
func (c *cluster) lockUser(t *testing.T, user string, p *phone) {
	t.Helper()
	ctx := t.Context()
	for i := range authn.DefaultMaxFailures {
		ch, err := c.svc[i%2].BeginChallenge(ctx, user)
		require.NoError(t, err)
		_, err = c.svc[(i+1)%2].FinishChallenge(ctx, user, ch.ID, wrongResponse(t, p, ch.Question))
		require.Error(t, err)
	}
}

func testServiceQRLogin(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("NotAmongPendingPrompts", func(t *testing.T) {
		// A QR login is fetched by the ID its code carries, never listed:
		// listed, a sign-in someone began with the password would put a
		// prompt before a user who turned push off or whose push is
		// suspended, without any code scanned.
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p, _ := c.enroll(t, "alice", nil)
		q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		for i := range 2 {
			listed, err := c.device(t, i, p).PendingPushes(ctx)
			require.NoError(t, err)
			require.Empty(t, listed, "instance %d lists the QR login", i)
		}
		require.Equal(t, q.RequestID, c.scan(t, 1, p, q.Text).RequestID, "still fetched by its ID")
	})
	t.Run("ApprovedAcrossInstances", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p, dev := c.enroll(t, "alice", nil) // no push token, no Notifier: the camera delivers
		q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		require.Equal(t, 1, c.obs.count("qr_login_shown"))
		require.Len(t, q.Number, 2)
		require.Equal(t, c.clock.Now().Add(enroll.DefaultPushTTL).Truncate(time.Second), q.ExpiresAt)
		pr := c.scan(t, 1, p, q.Text)
		require.Equal(t, q.RequestID, pr.RequestID)
		require.Equal(t, loginContext, pr.Context, "the phone shows what the server saw of the browser")
		require.Equal(t, "Example Bank", pr.Issuer)
		st, err := c.svc[1].QRLoginStatus(ctx, "alice", q.Handle, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushPending, st)
		_, err = c.svc[1].FinishQRLogin(ctx, "alice", q.Handle)
		require.ErrorIs(t, err, authn.ErrPushPending)

		a, err := p.cred.AnswerPush(pr, true, q.Number, c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 0, p).AnswerPush(ctx, a))
		st, err = c.svc[1].QRLoginStatus(ctx, "alice", q.Handle, time.Second)
		require.NoError(t, err)
		require.Equal(t, authn.PushApproved, st)

		// The ID the QR code shows finishes nothing: only the handle does.
		_, err = c.svc[0].FinishPush(ctx, "alice", q.RequestID)
		require.ErrorIs(t, err, authn.ErrNotFound, "FinishPush with the code's request ID")
		_, err = c.svc[0].PushStatus(ctx, "alice", q.RequestID, 0)
		require.ErrorIs(t, err, authn.ErrNotFound, "PushStatus with the code's request ID")
		require.ErrorIs(t, c.svc[0].CancelPush(ctx, "alice", q.RequestID), authn.ErrNotFound)
		for _, h := range []string{q.RequestID, "", q.Handle[:42], q.Handle + "A", base64.RawURLEncoding.EncodeToString(make([]byte, 32))} {
			_, err = c.svc[0].FinishQRLogin(ctx, "alice", h)
			require.ErrorIs(t, err, authn.ErrNotFound, "handle %q", h)
		}
		_, err = c.svc[0].FinishQRLogin(ctx, "bob", q.Handle)
		require.ErrorIs(t, err, authn.ErrNotFound, "another user's login")
		require.Positive(t, c.obs.count("qr_login_refused"))

		c.requireOneFinish(t, 10, "FinishQRLogin", dev, func(ctx context.Context, svc *authn.Service) (authn.Result, error) {
			return svc.FinishQRLogin(ctx, "alice", q.Handle)
		})
	})

	t.Run("AnotherSessionFinishesOnlyItsOwn", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p, _ := c.enroll(t, "alice", nil)
		victim, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		other, err := c.svc[1].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		require.NotEqual(t, victim.RequestID, other.RequestID)
		pr := c.scan(t, 0, p, victim.Text)
		a, err := p.cred.AnswerPush(pr, true, victim.Number, c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a))
		_, err = c.svc[0].FinishQRLogin(ctx, "alice", other.Handle)
		require.ErrorIs(t, err, authn.ErrPushPending, "the other session's own request, not the approved one")
		_, err = c.svc[1].FinishQRLogin(ctx, "alice", victim.Handle)
		require.NoError(t, err, "the session that showed the approved code")
	})

	t.Run("SingleUse", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p1, _ := c.enroll(t, "alice", nil)
		p2, _ := c.enroll(t, "alice", c.login(t, "alice", p1).Proof)
		q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		pr1, pr2 := c.scan(t, 0, p1, q.Text), c.scan(t, 1, p2, q.Text)
		a1, err := p1.cred.AnswerPush(pr1, true, q.Number, c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p1).AnswerPush(ctx, a1))
		require.NoError(t, c.device(t, 0, p1).AnswerPush(ctx, a1), "the same answer again: its outcome again")
		a2, err := p2.cred.AnswerPush(pr2, true, q.Number, c.clock.Now())
		require.NoError(t, err)
		require.ErrorIs(t, c.device(t, 0, p2).AnswerPush(ctx, a2), authn.ErrPushAnswered, "a second answer")
		_, err = c.device(t, 1, p2).PushPrompt(ctx, q.RequestID)
		require.ErrorIs(t, err, authn.ErrAlreadyUsed, "the prompt of an answered request")
		res, err := c.svc[1].FinishQRLogin(ctx, "alice", q.Handle)
		require.NoError(t, err)
		require.Equal(t, p1.cred.DeviceID(), res.DeviceID, "the first answer's device")
		_, err = c.svc[0].FinishQRLogin(ctx, "alice", q.Handle)
		require.ErrorIs(t, err, authn.ErrAlreadyUsed, "a second finish")
	})

	t.Run("AnotherUsersDevice", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		alice, _ := c.enroll(t, "alice", nil)
		bob, _ := c.enroll(t, "bob", nil)
		q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		code, err := enroll.ParseQRLogin(q.Text)
		require.NoError(t, err)
		_, err = c.device(t, 1, bob).PushPrompt(ctx, code.RequestID)
		require.ErrorIs(t, err, authn.ErrNotFound, "bob's phone cannot fetch alice's prompt")
		// Bob answers with a prompt he could not have: alice's, forged
		// onto his own keys.
		pr := c.scan(t, 0, alice, q.Text)
		a, err := alice.cred.AnswerPush(pr, true, q.Number, c.clock.Now())
		require.NoError(t, err)
		require.ErrorIs(t, c.device(t, 1, bob).AnswerPush(ctx, a), authn.ErrPromptNotForDevice)
		st, err := c.svc[0].QRLoginStatus(ctx, "alice", q.Handle, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushPending, st, "still pending")
	})

	t.Run("WrongNumberAndDenial", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p, _ := c.enroll(t, "alice", nil)
		q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		wrong := "00"
		if q.Number == wrong {
			wrong = "01"
		}
		a, err := p.cred.AnswerPush(c.scan(t, 1, p, q.Text), true, wrong, c.clock.Now())
		require.NoError(t, err)
		require.ErrorIs(t, c.device(t, 1, p).AnswerPush(ctx, a), authn.ErrWrongNumber)
		_, err = c.svc[0].FinishQRLogin(ctx, "alice", q.Handle)
		require.ErrorIs(t, err, authn.ErrWrongNumber)
		locks, err := c.store.Lockout(ctx, "alice", c.clock.Now())
		require.NoError(t, err)
		require.Equal(t, 1, locks[0].State.Failures, "a wrong number counts a failure (the shared bucket)")
		require.Equal(t, 1, c.obs.count("push_failed"))

		q, err = c.svc[1].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		a, err = p.cred.AnswerPush(c.scan(t, 0, p, q.Text), false, "", c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 0, p).AnswerPush(ctx, a))
		_, err = c.svc[1].FinishQRLogin(ctx, "alice", q.Handle)
		require.ErrorIs(t, err, authn.ErrPushDenied)
	})

	t.Run("Expiry", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p, _ := c.enroll(t, "alice", nil)
		var qs []authn.QRLogin
		for range 3 {
			q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
			require.NoError(t, err)
			qs = append(qs, q)
		}
		pr := c.scan(t, 1, p, qs[0].Text)
		c.clock.Advance(enroll.DefaultPushTTL)
		_, err := c.device(t, 0, p).PushPrompt(ctx, qs[0].RequestID)
		require.ErrorIs(t, err, authn.ErrExpired)
		a, err := p.cred.AnswerPush(pr, true, qs[0].Number, c.clock.Now().Add(-time.Second))
		require.NoError(t, err)
		require.ErrorIs(t, c.device(t, 1, p).AnswerPush(ctx, a), authn.ErrExpired)
		st, err := c.svc[1].QRLoginStatus(ctx, "alice", qs[0].Handle, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushExpired, st)
		_, err = c.svc[0].FinishQRLogin(ctx, "alice", qs[0].Handle)
		require.ErrorIs(t, err, authn.ErrExpired)
		// The three expired unanswered: their units came back once read
		// (and a withdrawal of an expired one is refused, refunding once).
		_, err = c.svc[0].QRLoginStatus(ctx, "alice", qs[1].Handle, 0)
		require.NoError(t, err)
		require.Error(t, c.svc[1].CancelQRLogin(ctx, "alice", qs[2].Handle))
		for i := range 3 {
			_, err := c.svc[i%2].BeginQRLogin(ctx, "alice", loginContext)
			require.NoError(t, err, "QR login %d after three expired", i+1)
		}
	})

	t.Run("BudgetSpentAndRefunded", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		_, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		receive(t, nt, p)
		q1, err := c.svc[1].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		_, err = c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		_, err = c.svc[1].BeginQRLogin(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrQRLoginUnavailable, "a 4th within 15 minutes, pushes and QR logins together")
		_, err = c.svc[1].BeginPush(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrPushUnavailable, "the budget is shared")
		require.NoError(t, c.svc[0].CancelQRLogin(ctx, "alice", q1.Handle))
		require.ErrorIs(t, c.svc[1].CancelQRLogin(ctx, "alice", q1.Handle), authn.ErrAlreadyUsed, "withdrawn once")
		_, err = c.svc[1].QRLoginStatus(ctx, "alice", q1.Handle, 0)
		require.NoError(t, err)
		_, err = c.svc[1].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err, "the withdrawn login's unit came back")
		_, err = c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrQRLoginUnavailable, "one unit back, not more")
	})

	t.Run("LockedUser", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		p, _ := c.enroll(t, "alice", nil)
		q, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(c.scan(t, 1, p, q.Text), true, q.Number, c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a))
		c.lockUser(t, "alice", p)
		var le *authn.LockedError
		for _, svc := range c.svc {
			_, err := svc.BeginQRLogin(ctx, "alice", loginContext)
			require.True(t, errors.As(err, &le), "BeginQRLogin of a locked user: %v", err)
			_, err = svc.FinishQRLogin(ctx, "alice", q.Handle)
			require.True(t, errors.As(err, &le), "FinishQRLogin of a locked user: %v", err)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		_, err := c.svc[0].BeginQRLogin(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrQRLoginUnavailable, "no device")
		c.enroll(t, "alice", nil)
		_, err = c.svc[0].BeginQRLogin(ctx, "alice", enroll.PushContext{Action: "Login\u202e"})
		require.ErrorIs(t, err, authn.ErrInvalidInput, "a context no phone may show")
		_, err = c.svc[0].BeginQRLogin(ctx, "", loginContext)
		require.ErrorIs(t, err, authn.ErrInvalidInput)
		raw := make([]byte, 32)
		rand.Read(raw)
		require.ErrorIs(t, c.svc[0].CancelQRLogin(ctx, "alice", base64.RawURLEncoding.EncodeToString(raw)), authn.ErrNotFound)
	})
}
