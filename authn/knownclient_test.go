package authn_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// loginWith is a whole challenge/response login of p's user from the
// client opts describe.
func (e *env) loginWith(t *testing.T, user string, p *phone, opts ...authn.LoginOption) (authn.Result, error) {
	t.Helper()
	e.clock.Advance(30 * time.Second) // a fresh time step
	ch, err := e.svc.BeginChallenge(context.Background(), user, opts...)
	require.NoError(t, err)
	return e.svc.FinishChallenge(context.Background(), user, ch.ID, p.respond(t, ch.Question), opts...)
}

// lockUnknown locks user's shared bucket with wrong answers from an
// unknown client.
func (e *env) lockUnknown(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	for {
		ch, err := e.svc.BeginChallenge(ctx, user)
		require.NoError(t, err)
		_, err = e.svc.FinishChallenge(ctx, user, ch.ID, "00000000")
		var locked *authn.LockedError
		if errors.As(err, &locked) {
			return
		}
		require.ErrorIs(t, err, authn.ErrInvalidCode)
	}
}

var cookieSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// A known-client token verifies for its user only, until it expires or
// the user's epoch moves; any other token is no token: the call counts
// in the shared bucket, which the attacker locked, and is audited.
func TestKnownClientToken(t *testing.T) {
	// Locks that outlast the test's calls (30 s each).
	e := newEnv(t, func(c *authn.Config) { c.LockoutBase, c.LockoutMax = 24*time.Hour, 24*time.Hour })
	alice, _ := e.enrollPhone(t, "alice", nil)
	bob, _ := e.enrollPhone(t, "bob", nil)
	ra, err := e.loginWith(t, "alice", alice)
	require.NoError(t, err)
	rb, err := e.loginWith(t, "bob", bob)
	require.NoError(t, err)
	require.Regexp(t, cookieSafe, string(ra.KnownClient), "URL- and cookie-safe")
	require.Equal(t, e.clock.Now().Add(authn.DefaultKnownClientTTL).Truncate(time.Second), rb.KnownClientExpires)
	require.NotEqual(t, ra.KnownClient, rb.KnownClient)

	e.lockUnknown(t, "alice")
	e.lockUnknown(t, "bob")
	var locked *authn.LockedError
	refused := func(name string, user string, p *phone, token authn.KnownClientToken, reason authn.Reason) {
		t.Helper()
		before := e.obs.n(string(authn.EventKnownClientRefused))
		_, err := e.loginWith(t, user, p, authn.KnownClient(token))
		require.ErrorAs(t, err, &locked, "%s: treated as an unknown client", name)
		require.Equal(t, before+1, e.obs.n(string(authn.EventKnownClientRefused)), "%s: audited", name)
		require.Equal(t, reason, lastReason(e, authn.EventKnownClientRefused), name)
	}

	// Every altered character.
	for i := range ra.KnownClient {
		b := []byte(ra.KnownClient)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		refused("altered", "alice", alice, authn.KnownClientToken(b), authn.ReasonInvalid)
	}
	refused("truncated", "alice", alice, ra.KnownClient[:len(ra.KnownClient)-1], authn.ReasonInvalid)
	refused("not base64", "alice", alice, ra.KnownClient+"=", authn.ReasonInvalid)
	refused("another user's", "alice", alice, rb.KnownClient, authn.ReasonInvalid)
	refused("replayed into another user's bucket", "bob", bob, ra.KnownClient, authn.ReasonInvalid)

	// The right token: the known client's own bucket, renewed.
	r, err := e.loginWith(t, "alice", alice, authn.KnownClient(ra.KnownClient))
	require.NoError(t, err)
	require.NotEqual(t, ra.KnownClient, r.KnownClient, "a fresh token, with a later expiry")

	// Expired: a token past KnownClientTTL.
	e.clock.Advance(authn.DefaultKnownClientTTL)
	e.lockUnknown(t, "alice")
	refused("expired", "alice", alice, r.KnownClient, authn.ReasonExpired)

	// A revocation raises the epoch: every token issued before is void.
	_, err = e.loginWith(t, "alice", alice, authn.KnownClient(""))
	require.ErrorAs(t, err, &locked, "an empty token is no token")
	require.NoError(t, e.svc.Operator("desk").Unlock(context.Background(), "alice"))
	res, err := e.loginWith(t, "alice", alice)
	require.NoError(t, err)
	_, dev2 := e.enrollPhone(t, "alice", res.Proof)
	before, err := e.loginWith(t, "alice", alice)
	require.NoError(t, err)
	require.NoError(t, e.svc.RevokeDevice(context.Background(), "alice", dev2.ID, res.Proof))
	e.lockUnknown(t, "alice")
	refused("older epoch", "alice", alice, before.KnownClient, authn.ReasonRevoked)
}

// lastReason is the reason of the last event named name.
func lastReason(e *env, name authn.EventName) authn.Reason {
	e.obs.mu.Lock()
	defer e.obs.mu.Unlock()
	for i := len(e.obs.all) - 1; i >= 0; i-- {
		if e.obs.all[i].Name == name {
			return e.obs.all[i].Reason
		}
	}
	return ""
}

// Every factor's success gives a token; a transaction's does not.
func TestKnownClientTokenEveryFactor(t *testing.T) {
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	r, err := e.loginWith(t, "alice", p)
	require.NoError(t, err)
	codes, err := e.svc.NewRecoveryCodes(context.Background(), "alice", r.Proof)
	require.NoError(t, err)
	rc, err := e.svc.VerifyRecoveryCode(context.Background(), "alice", codes[0], authn.KnownClient(r.KnownClient))
	require.NoError(t, err)
	require.NotEmpty(t, rc.KnownClient)
	// The same client: the renewed token still verifies.
	e.lockUnknown(t, "alice")
	_, err = e.loginWith(t, "alice", p, authn.KnownClient(rc.KnownClient))
	require.NoError(t, err)
}
