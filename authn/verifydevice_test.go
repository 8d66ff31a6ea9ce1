package authn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// TestVerifyDeviceHook: Config.VerifyDevice receives the activation's
// attestation challenge (PROTOCOL.md, "Attestation binding"), recomputed
// from the offer and the request's install ID; its refusal is
// ErrDeviceIntegrity to the caller and, in the audit event, reason
// attestation with the hook's own error text in Event.Note.
func TestVerifyDeviceHook(t *testing.T) {
	ctx := context.Background()
	var got []byte
	var gotUser string
	errBad := errors.New("attest: test refusal of the boot state")
	refuse := false
	k := newDeviceKit(t, func(c *authn.Config) {
		c.VerifyDevice = func(_ context.Context, user string, dev enroll.DeviceInfo, challenge []byte) error {
			got, gotUser = append([]byte(nil), challenge...), user
			if refuse {
				return errBad
			}
			return nil
		}
	})
	activate := func(user string) (enroll.Offer, enroll.DeviceInfo, error) {
		offer, err := k.Service.StartActivation(ctx, user, nil)
		require.NoError(t, err)
		scanned, err := enroll.ParseOffer(offer.URI())
		require.NoError(t, err)
		info := enroll.DeviceInfo{InstallID: "install-" + user, Platform: "android", Integrity: enroll.Intact, Attestation: []byte("chain")}
		_, req, err := enroll.Activate(scanned, info, k.Clock.Now())
		require.NoError(t, err)
		_, err = k.Service.CompleteActivation(ctx, req)
		return scanned, info, err
	}

	offer, info, err := activate("alice")
	require.NoError(t, err)
	require.Equal(t, "alice", gotUser)
	require.Equal(t, offer.AttestationChallenge(info.InstallID), got)

	refuse = true
	_, _, err = activate("bob")
	require.ErrorIs(t, err, authn.ErrDeviceIntegrity)
	require.ErrorIs(t, err, errBad)
	var note string
	k.events.mu.Lock()
	for _, e := range k.events.all {
		if e.Name == authn.EventActivationFailed && e.User == "bob" {
			require.Equal(t, authn.ReasonAttestation, e.Reason)
			note = e.Note
		}
	}
	k.events.mu.Unlock()
	require.Equal(t, errBad.Error(), note)
	require.True(t, strings.Contains(k.log.String(), "note=\"attest: test refusal of the boot state\""), k.log.String())
}
