package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// events records every event's name and reason.
type events struct {
	mu  sync.Mutex
	all []authn.Event
}

func (e *events) Observe(_ context.Context, ev authn.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) count(name authn.EventName, reason authn.Reason) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Name == name && ev.Reason == reason {
			n++
		}
	}
	return n
}

// wrong is a well-formed response that is not p's answer to question.
func (p *phone) wrong(t *testing.T, question string) string {
	t.Helper()
	r := []byte(p.respond(t, question))
	r[len(r)-1] = '0' + (r[len(r)-1]-'0'+1)%10
	return string(r)
}

// guess is one wrong answer to a fresh challenge, from the client
// presenting opts.
func (c *cluster) guess(t *testing.T, user string, p *phone, opts ...authn.LoginOption) error {
	t.Helper()
	ch, err := c.svc[0].BeginChallenge(t.Context(), user, opts...)
	require.NoError(t, err)
	_, err = c.svc[1].FinishChallenge(t.Context(), user, ch.ID, p.wrong(t, ch.Question), opts...)
	require.Error(t, err)
	return err
}

func testServiceBuckets(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("AttackerTypingWrongCodesLocksUnknownClientsNotTheOwnersKnownBrowser", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		p, _ := c.enroll(t, "alice", nil)
		c.clock.Advance(30 * time.Second)
		first := c.login(t, "alice", p)
		require.NotEmpty(t, first.KnownClient, "a second-factor success gives the client a token")
		require.True(t, first.KnownClientExpires.After(c.clock.Now().Add(29*24*time.Hour)))

		// The attacker knows the user name and types wrong codes.
		var locked *authn.LockedError
		for range authn.DefaultMaxFailures {
			c.clock.Advance(time.Second)
			c.guess(t, "alice", p)
		}
		c.clock.Advance(time.Second)
		require.ErrorAs(t, c.guess(t, "alice", p), &locked, "the unknown clients are locked")

		// The owner's browser presents its token and logs in.
		c.clock.Advance(30 * time.Second)
		opt := authn.KnownClient(first.KnownClient)
		ch, err := c.svc[0].BeginChallenge(t.Context(), "alice", opt)
		require.NoError(t, err)
		res, err := c.svc[1].FinishChallenge(t.Context(), "alice", ch.ID, p.respond(t, ch.Question), opt)
		require.NoError(t, err, "the known browser keeps its own budget")
		require.NotEmpty(t, res.KnownClient)

		// The renewed token names the same client: one known bucket.
		b := buckets(t, c.store, "alice", c.clock.Now())
		require.Len(t, b, 2)
		require.True(t, c.clock.Now().Before(b[""].LockedUntil), "the attacker stays locked")

		// The help desk sees both buckets and clears them all.
		ls, err := c.svc[0].Operator("desk").LockState(t.Context(), "alice")
		require.NoError(t, err)
		require.True(t, ls.Locked)
		require.Len(t, ls.Clients, 1)
		require.False(t, ls.Clients[0].Locked)
		require.NoError(t, c.svc[0].Operator("desk").Unlock(t.Context(), "alice"))
		require.Len(t, buckets(t, c.store, "alice", c.clock.Now()), 1)
		c.clock.Advance(30 * time.Second)
		c.login(t, "alice", p)
	})

	t.Run("SlowGuessingAlertsThenLocks", func(t *testing.T) {
		ev := &events{}
		c := newCluster(t, newStore(t), func(cfg *authn.Config) { cfg.Observer = ev })
		p, _ := c.enroll(t, "alice", nil)
		// 4 wrong codes a day, a day and an hour apart: never 5 in a row
		// within the failure window.
		var lockedAt int
		for day := 1; day <= 6; day++ {
			for i := 1; i <= 4; i++ {
				c.clock.Advance(time.Minute)
				err := c.guess(t, "alice", p)
				n := 4*(day-1) + i
				var locked *authn.LockedError
				if errors.As(err, &locked) {
					lockedAt = n
					require.Equal(t, authn.DefaultLockoutMax, locked.RetryAfter)
					break
				}
				require.ErrorIs(t, err, authn.ErrInvalidCode, "failure %d", n)
				wantAlerts := 0
				if n >= authn.DefaultSlowAlert {
					wantAlerts = 1
				}
				require.Equal(t, wantAlerts, ev.count(authn.EventSlowGuessing, authn.ReasonSlowAlert), "after failure %d", n)
			}
			c.clock.Advance(25 * time.Hour)
		}
		t.Logf("4 wrong codes a day: alert at failure %d (day %d), lock at failure %d (day %d)",
			authn.DefaultSlowAlert, (authn.DefaultSlowAlert+3)/4, lockedAt, (lockedAt+3)/4)
		require.Equal(t, authn.DefaultSlowLock, lockedAt, "the lock threshold locks")
		require.Equal(t, 1, ev.count(authn.EventSlowGuessing, authn.ReasonSlowLock))
	})
}
