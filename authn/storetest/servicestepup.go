package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
)

// ---------------------------------------------------------------------
// Step-up through the Service: every factor that logs the user in (an
// active phone, an active TOTP key, unused recovery codes) makes factor
// changes need a fresh proof.

// operatorProof is a fresh step-up proof of user, from an operator.
func (c *cluster) operatorProof(t *testing.T, user string) *authn.Proof {
	t.Helper()
	p, err := c.svc[0].Operator("op-1").Proof(t.Context(), user, "conformance suite")
	require.NoError(t, err)
	return p
}

func testServiceStepUp(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("RecoveryCodesNeedAProof", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		_, dev := c.enroll(t, "alice", nil)
		_, err := c.svc[1].NewRecoveryCodes(t.Context(), "alice", c.operatorProof(t, "alice"))
		require.NoError(t, err)
		require.NoError(t, c.svc[0].RevokeDevice(t.Context(), "alice", dev.ID, c.operatorProof(t, "alice")))

		// No phone, no TOTP key, but unused recovery codes: a factor.
		f, err := c.svc[0].Factors(t.Context(), "alice")
		require.NoError(t, err)
		require.Empty(t, f.Devices)
		require.True(t, f.HasFactor(), "recovery codes log the user in")
		_, err = c.svc[0].StartActivation(t.Context(), "alice", nil)
		require.ErrorIs(t, err, authn.ErrProofRequired, "an activation without a proof, by whoever has the password")
		_, err = c.svc[1].StartTOTP(t.Context(), "alice", nil, authn.TOTPOptions{AccountName: "alice"})
		require.ErrorIs(t, err, authn.ErrProofRequired, "a TOTP key without a proof")
		key := make([]byte, 20)
		err = c.svc[0].ImportTOTP(t.Context(), "alice", key, challenge.TOTP{}, authn.ImportOptions{})
		require.ErrorIs(t, err, authn.ErrProofRequired, "an imported TOTP key without a proof")
		_, err = c.svc[1].StartActivation(t.Context(), "alice", c.operatorProof(t, "alice"))
		require.NoError(t, err, "with a proof")
		require.NoError(t, c.svc[0].ImportTOTP(t.Context(), "alice", key, challenge.TOTP{},
			authn.ImportOptions{Proof: c.operatorProof(t, "alice")}), "an import with a proof")

		// A user with nothing enrolled starts on trust.
		f, err = c.svc[0].Factors(t.Context(), "bob")
		require.NoError(t, err)
		require.False(t, f.HasFactor())
		_, err = c.svc[0].StartActivation(t.Context(), "bob", nil)
		require.NoError(t, err)
	})

}
