package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/sqlstore"
	"github.com/keyline/keyline/authn/sqlstore/sqlite"
)

// TestGroupCommitIsolatesSteps: write steps sharing a group commit's
// transaction keep their own outcomes: a step that fails or is refused
// is rolled back alone (a failing statement included), the others are
// committed, together, in one transaction.
func TestGroupCommitIsolatesSteps(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "authn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	take := func(key string) func(sqlstore.StepConn) error {
		return func(c sqlstore.StepConn) error {
			return c.Exec(`INSERT INTO authn_taken (take_key, expires_at) VALUES ($1, $2)`, key, int64(1)<<62)
		}
	}
	then := func(f func(sqlstore.StepConn) error, err error) func(sqlstore.StepConn) error {
		return func(c sqlstore.StepConn) error {
			if ferr := f(c); ferr != nil {
				return ferr
			}
			return err
		}
	}
	boom := errors.New("boom")
	before := s.Stats()
	got := sqlstore.RunGroup(s,
		take("a"),
		then(take("b"), boom), // a failure: rolled back alone
		then(take("c"), sqlstore.Refuse(authn.ErrStoreConflict)), // a refusal: rolled back alone
		then(take("d"), authn.ErrStoreLimit),                     // an outcome: kept
		take("a"),                                                // a failing statement (a taken key)
		take("e"),
	)
	require.NoError(t, got[0])
	require.ErrorIs(t, got[1], boom)
	require.ErrorIs(t, got[2], authn.ErrStoreConflict)
	require.ErrorIs(t, got[3], authn.ErrStoreLimit)
	require.Error(t, got[4])
	require.NoError(t, got[5])
	after := s.Stats()
	require.Equal(t, int64(1), after.Commits-before.Commits, "one transaction")
	require.Equal(t, int64(3), after.Writes-before.Writes, "three steps kept")
	now := time.Unix(0, 1<<61)
	for key, taken := range map[string]bool{"a": true, "b": false, "c": false, "d": true, "e": true} {
		err := s.TakeOnce(ctx, key, now.Add(time.Hour), now)
		if taken {
			require.ErrorIs(t, err, authn.ErrStoreConflict, "%s committed", key)
		} else {
			require.NoError(t, err, "%s rolled back", key)
		}
	}
}
