package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// TOTP and recovery codes through the Service: two instances on one
// store.

// importTOTP imports a fresh TOTP key (SHA1, 6 digits, 30 s) for user,
// active, and returns it.
func (c *cluster) importTOTP(t *testing.T, user string) []byte {
	t.Helper()
	key := make([]byte, 20)
	rand.Read(key)
	require.NoError(t, c.svc[0].ImportTOTP(t.Context(), user, key, challenge.TOTP{}, authn.ImportOptions{}))
	return key
}

func totpCode(t *testing.T, key []byte, at time.Time) string {
	t.Helper()
	code, err := challenge.TOTP{}.Code(key, at)
	require.NoError(t, err)
	return code
}

// wrongTOTP is a well-formed code that key gives at no step near now.
func wrongTOTP(t *testing.T, key []byte, now time.Time) string {
	t.Helper()
	right := map[string]bool{}
	for i := -3; i <= 3; i++ {
		right[totpCode(t, key, now.Add(time.Duration(i)*30*time.Second))] = true
	}
	for n := 0; ; n++ {
		if w := fmt.Sprintf("%06d", n); !right[w] {
			return w
		}
	}
}

func testServiceFactors(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("TOTPNoGuessPastTheLock", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		key := c.importTOTP(t, "alice")
		wrong := wrongTOTP(t, key, c.clock.Now())
		checks := c.obs.count("check")

		const n = 500
		errs := concurrently(n, func(i int) error {
			_, err := c.svc[i%2].VerifyTOTP(context.Background(), "alice", wrong)
			return err
		})
		c.requireStopped(t, "alice", errs, checks, "codes checked (the store must refuse before the check once locked)")
		_, err := c.svc[1].VerifyTOTP(t.Context(), "alice", totpCode(t, key, c.clock.Now()))
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "the right code while locked")
		require.Positive(t, le.RetryAfter)
		rec, err := c.store.TOTP(t.Context(), "alice")
		require.NoError(t, err)
		require.Zero(t, rec.LastStep, "the right code refused by the lock is not spent")
	})

	t.Run("RecoveryNoGuessPastTheLock", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		proof, err := c.svc[0].Operator("op-1").Proof(t.Context(), "alice", "conformance suite")
		require.NoError(t, err)
		codes, err := c.svc[1].NewRecoveryCodes(t.Context(), "alice", proof)
		require.NoError(t, err)
		wrong := "0000-0000-0000-0000"
		require.NotContains(t, codes, wrong)
		checks := c.obs.count("check")

		const n = 500
		errs := concurrently(n, func(i int) error {
			typed := wrong
			if i%5 == 0 {
				typed = "not a code" // no candidates: counted all the same
			}
			_, err := c.svc[i%2].VerifyRecoveryCode(context.Background(), "alice", typed)
			return err
		})
		c.requireStopped(t, "alice", errs, checks, "codes checked (the store must refuse before comparing once locked)")
		_, err = c.svc[0].VerifyRecoveryCode(t.Context(), "alice", codes[0])
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "a right code while locked")
		left, err := codesLeftOf(t.Context(), c.store, "alice")
		require.NoError(t, err)
		require.Equal(t, len(codes), left, "no code consumed")
	})

	t.Run("TOTPCodeUsedOnce", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		key := c.importTOTP(t, "alice")
		now := c.clock.Now()
		code := totpCode(t, key, now)
		succeeded := c.obs.count("login_succeeded")

		const n = 50
		results := make([]authn.Result, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = c.svc[i%2].VerifyTOTP(context.Background(), "alice", code)
			return err
		})
		var ty tally
		for i, err := range errs {
			ty.add(err)
			if err == nil {
				require.Equal(t, authn.MethodTOTP, results[i].Method)
				require.NotNil(t, results[i].Proof)
			}
		}
		require.Empty(t, ty.other, "only ErrInvalidCode (ErrReplay) or ErrLocked besides the success")
		require.Equal(t, 1, ty.ok, "successes of one TOTP code submitted %d times at once (invalid %d, locked %d)", n, ty.invalid, ty.locked)
		require.Equal(t, n-1, ty.invalid+ty.locked)
		require.Equal(t, succeeded+1, c.obs.count("login_succeeded"))

		step, err := challenge.TOTP{}.Step(now)
		require.NoError(t, err)
		rec, err := c.store.TOTP(t.Context(), "alice")
		require.NoError(t, err)
		require.Equal(t, step, rec.LastStep, "the code's step is the last accepted")
	})
}
