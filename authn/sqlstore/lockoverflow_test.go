package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// TestLockOverflowSQLite and TestLockOverflowPostgres: at any level, the
// lock an Attempt sets is the one authn.LockPolicy.Fail computes, also
// for Bases whose Base<<level wraps in int64 (SQLite runs Fail in Go;
// PostgreSQL runs authn_attempt, as migration 0004 made it, with the
// table of LockPolicy.Lengths).
func TestLockOverflowSQLite(t *testing.T) {
	s, _ := openTemp(t)
	checkLockOverflow(t, s)
}

func TestLockOverflowPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	checkLockOverflow(t, openPostgres(t, dsn, testSchema(t, dsn)))
}

// checkLockOverflow sets the user's level directly in authn_users (a
// level an attacker would reach by locking the user again and again),
// makes one failing Attempt (a challenge that does not exist: counted,
// and with MaxFailures 1 it locks), and compares the lock and the user's
// state with LockPolicy.Fail's.
func checkLockOverflow(t *testing.T, s *Store) {
	ctx := context.Background()
	const user = "alice"
	_, err := s.RecordFailure(ctx, user, lenient, t0) // the user's row
	require.NoError(t, err)
	policies := []authn.LockPolicy{
		// Level 31: (2^33+1)<<31 wraps to 2^31 ns (about 2 s).
		{MaxFailures: 1, Base: 1<<33 + 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		// Level 33: (2^31+1)<<33 wraps to 2^33 ns (about 9 s).
		{MaxFailures: 1, Base: 1<<31 + 1, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
		// 1<<61 is under Max, 1<<62 is Max, 1<<63 wraps negative.
		{MaxFailures: 1, Base: 1, Max: 1 << 62, Window: time.Hour, MaxAttempts: 3},
		{MaxFailures: 1, Base: time.Minute, Max: time.Hour, Window: time.Hour, MaxAttempts: 3},
	}
	levels := []int{0, 1, 5, 6, 8, 9, 30, 31, 32, 33, 40, 41, 42, 61, 62, 63, 64, 70, 1000, 1 << 40, -1}
	for _, p := range policies {
		for _, level := range levels {
			name := fmt.Sprintf("Base %d, Max %d, level %d", p.Base, p.Max, level)
			_, err := s.w.ExecContext(ctx, `UPDATE authn_users SET failures = 0, level = $1, locked_until = 0, last_failure = 0
				WHERE user_id = $2`, int64(level), user)
			require.NoError(t, err, name)

			want := authn.UserState{Level: level}
			lock := p.Fail(&want, t0)
			require.Positive(t, lock, name)
			require.LessOrEqual(t, lock, p.Max, name)

			res, err := s.Attempt(ctx, user, "no-such-challenge", [16]byte{1}, 1000, p, t0)
			require.NoError(t, err, name)
			require.Equal(t, authn.AttemptNoChallenge, res.Outcome, name)
			require.Equal(t, lock, res.RetryAfter, name)
			require.Equal(t, want.Failures, res.Failures, name)

			u, err := s.User(ctx, user, t0)
			require.NoError(t, err, name)
			require.Equal(t, want.Level, u.Level, name)
			require.True(t, want.LockedUntil.Equal(u.LockedUntil), "%s: locked until %v, want %v", name, u.LockedUntil, want.LockedUntil)

			// Locked now: the next attempt changes nothing and reports
			// the whole lock.
			res, err = s.Attempt(ctx, user, "no-such-challenge", [16]byte{1}, 1000, p, t0)
			require.NoError(t, err, name)
			require.Equal(t, authn.AttemptLocked, res.Outcome, name)
			require.Equal(t, lock, res.RetryAfter, name)
		}
	}
}
