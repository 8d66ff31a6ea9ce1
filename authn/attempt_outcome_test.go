package authn_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// TestAttemptOutcomeString: every outcome prints its own name, so that a
// failed assertion or a log line says "AttemptLocked", not "2".
func TestAttemptOutcomeString(t *testing.T) {
	for o, want := range map[authn.AttemptOutcome]string{
		authn.AttemptMismatch: "AttemptMismatch", authn.AttemptMatch: "AttemptMatch",
		authn.AttemptLocked: "AttemptLocked", authn.AttemptNoChallenge: "AttemptNoChallenge",
		authn.AttemptExpired: "AttemptExpired", authn.AttemptExhausted: "AttemptExhausted",
	} {
		require.Equal(t, want, o.String())
		require.Equal(t, want, fmt.Sprint(o))
	}
	require.Equal(t, "AttemptOutcome(42)", authn.AttemptOutcome(42).String())
}
