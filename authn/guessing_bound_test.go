package authn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// guessDay runs one day of a greedy attacker who types a wrong code
// whenever the bucket of the client opts describe is not locked, and
// returns how many were counted (compared). The owner logs in once a day
// from the known browser presenting token, which must succeed; it returns
// the owner's renewed token.
func guessDay(t *testing.T, e *env, p *phone, token authn.KnownClientToken, opts ...authn.LoginOption) (int, authn.KnownClientToken) {
	t.Helper()
	ctx := context.Background()
	end := e.clock.Now().Add(24 * time.Hour)
	guesses := 0
	owner := e.clock.Now().Add(12 * time.Hour)
	for e.clock.Now().Before(end) {
		if token != "" && !e.clock.Now().Before(owner) {
			r, err := e.loginWith(t, "alice", p, authn.KnownClient(token))
			require.NoError(t, err, "the owner's known browser logs in")
			token, owner = r.KnownClient, end
			continue
		}
		ch, err := e.svc.BeginChallenge(ctx, "alice", opts...)
		require.NoError(t, err)
		_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000", opts...)
		var locked *authn.LockedError
		if errors.As(err, &locked) && !errors.Is(err, authn.ErrInvalidCode) {
			e.clock.Advance(locked.RetryAfter) // refused unchecked: wait out the lock
			continue
		}
		require.ErrorIs(t, err, authn.ErrInvalidCode)
		guesses++ // counted and compared (a wrong code, or the one that locked)
		e.clock.Advance(time.Second)
	}
	return guesses, token
}

// The guessing bound of the package documentation, measured under the
// default policy: what a greedy attacker gets a day against a user who
// keeps logging in from a known browser, from unknown clients alone and
// with one stolen known-client token.
func TestGuessingBoundFigures(t *testing.T) {
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	r, err := e.loginWith(t, "alice", p)
	require.NoError(t, err)
	token := r.KnownClient
	var days []int
	for range 8 {
		n, tok := guessDay(t, e, p, token)
		token = tok
		days = append(days, n)
	}
	t.Logf("unknown clients only: guesses per day %v (the owner's known browser logged in every day)", days)
	require.LessOrEqual(t, days[0], 40)
	for _, n := range days[1:] {
		require.LessOrEqual(t, n, 25)
	}

	// A thief holding the owner's token gets that bucket's budget too,
	// and locks the owner's browser with it: measured alone.
	e2 := newEnv(t)
	p2, _ := e2.enrollPhone(t, "alice", nil)
	r2, err := e2.loginWith(t, "alice", p2)
	require.NoError(t, err)
	var stolen []int
	for range 3 {
		n, _ := guessDay(t, e2, p2, "", authn.KnownClient(r2.KnownClient))
		stolen = append(stolen, n)
	}
	t.Logf("with one stolen token, in its bucket alone: guesses per day %v", stolen)
	for _, n := range stolen[1:] {
		require.LessOrEqual(t, n, 25)
	}
}
