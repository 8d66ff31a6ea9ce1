package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
	"github.com/keyline/keyline/enroll"
)

// sqliteService is a Service on a fresh SQLite store, with a phone
// enrolled for alice.
func sqliteService(t testing.TB, s *sqlstore.Store) (*authn.Service, *authntest.Clock, *enroll.Credential) {
	t.Helper()
	clk := authntest.NewClock(sqltest.T0.Add(5 * time.Second))
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	svc, err := authn.New(authn.Config{Hot: s, Records: s, Keys: keys, Issuer: "Example Bank", Clock: clk.Now,
		Logger: slog.New(slog.DiscardHandler), ChallengeBudget: authn.Budget{Outstanding: 20, PerMinute: 100}})
	require.NoError(t, err)
	return svc, clk, sqltest.EnrollPhone(t, svc, clk, "alice")
}

// TestOneWritePerLoginStep: a BeginChallenge is one write transaction
// (the challenge's issue) and a FinishChallenge that succeeds is one
// (the counted attempt and the step's commit together), and so is one
// that fails.
func TestOneWritePerLoginStep(t *testing.T) {
	s, _ := openTemp(t)
	svc, clk, cred := sqliteService(t, s)
	ctx := context.Background()
	for range 3 {
		clk.Advance(15 * time.Second)
		w0 := s.Stats().Writes
		ch, err := svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		require.Equal(t, int64(1), s.Stats().Writes-w0, "writes of a BeginChallenge")
		resp, err := cred.Respond(ch.Question, clk.Now())
		require.NoError(t, err)
		w0 = s.Stats().Writes
		_, err = svc.FinishChallenge(ctx, "alice", ch.ID, resp)
		require.NoError(t, err)
		require.Equal(t, int64(1), s.Stats().Writes-w0, "writes of a FinishChallenge")
	}
	ch, err := svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	w0 := s.Stats().Writes
	_, err = svc.FinishChallenge(ctx, "alice", ch.ID, "0000 0000")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	require.Equal(t, int64(1), s.Stats().Writes-w0, "writes of a wrong FinishChallenge")
	d, err := s.Devices(ctx, "alice")
	require.NoError(t, err)
	require.NotZero(t, d[0].LastStep, "the step committed")
}

// TestGroupCommitUnderConcurrency: logins of 16 users at once, each
// user's one after the other, all succeed, and their write steps share
// transactions: fewer commits (fsyncs) than write steps, and than
// logins.
func TestGroupCommitUnderConcurrency(t *testing.T) {
	s, _ := openTemp(t)
	svc, clk, _ := sqliteService(t, s)
	ctx := context.Background()
	const users, logins = 16, 8
	creds := make([]*enroll.Credential, users)
	for i := range creds {
		creds[i] = sqltest.EnrollPhone(t, svc, clk, fmt.Sprintf("user-%d", i))
	}
	before := s.Stats()
	var wg sync.WaitGroup
	errs := make(chan error, users*logins)
	for i := range users {
		wg.Go(func() {
			user := fmt.Sprintf("user-%d", i)
			for range logins {
				ch, err := svc.BeginChallenge(ctx, user)
				if err != nil {
					errs <- err
					return
				}
				resp, err := creds[i].Respond(ch.Question, clk.Now())
				if err != nil {
					errs <- err
					return
				}
				if _, err := svc.FinishChallenge(ctx, user, ch.ID, resp); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	after := s.Stats()
	writes, commits := after.Writes-before.Writes, after.Commits-before.Commits
	t.Logf("%d logins: %d write steps, %d commits", users*logins, writes, commits)
	require.Equal(t, int64(2*users*logins), writes, "one write per Begin, one per Finish")
	require.Less(t, commits, int64(users*logins), "fewer commits than logins")
}
