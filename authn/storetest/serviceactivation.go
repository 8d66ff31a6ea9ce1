package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// ---------------------------------------------------------------------
// Activations and pairing through the Service: every factor that logs a
// user in makes factor changes need a proof; activations end; pairing
// compares at most 3 codes, whatever the concurrency.

// completeOffer completes offer on instance i with a fresh phone (the
// user's, or whoever glimpsed the QR code) and returns its credential.
func (c *cluster) completeOffer(t *testing.T, i int, offer enroll.Offer) *enroll.Credential {
	t.Helper()
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: "install-" + rand.Text(), Name: "phone", Platform: "ios",
		Integrity: enroll.Intact}, c.clock.Now())
	require.NoError(t, err)
	act, err := c.svc[i].CompleteActivation(t.Context(), req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	return cred
}

// wrongPairingCode is a well-formed pairing code other than cred's.
func wrongPairingCode(cred *enroll.Credential) string {
	b := []byte(cred.PairingCode())
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}

func testServiceActivation(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("SnatchedOffers", func(t *testing.T) {
		// Someone who glimpses each QR code completes every offer first,
		// as often as the device limit: the user can still activate.
		c := newCluster(t, newStore(t), nil)
		for i := range authn.DefaultMaxDevices {
			offer, err := c.svc[i%2].StartActivation(t.Context(), "alice", nil)
			require.NoError(t, err)
			c.completeOffer(t, (i+1)%2, offer)
		}
		f, err := c.svc[0].Factors(t.Context(), "alice")
		require.NoError(t, err)
		require.Len(t, f.Pending, 1, "each newer offer discarded the pending device before it")
		_, dev := c.enroll(t, "alice", nil)
		require.Equal(t, authn.DeviceActive, dev.State)
	})

	t.Run("PairedDaysLater", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		offer, err := c.svc[0].StartActivation(t.Context(), "alice", nil)
		require.NoError(t, err)
		c.clock.Advance(9 * time.Minute)
		cred := c.completeOffer(t, 1, offer)
		st, err := c.svc[1].ActivationStatus(t.Context(), "alice", offer.SessionID)
		require.NoError(t, err)
		require.Equal(t, authn.ActivationCompleted, st.State)
		require.Equal(t, 3, st.TriesLeft)
		require.True(t, c.clock.Now().Add(c.cfgTTL()).Equal(st.ExpiresAt), "pairing deadline %v", st.ExpiresAt)

		c.clock.Advance(48 * time.Hour)
		_, err = c.svc[0].ConfirmActivation(t.Context(), "alice", offer.SessionID, cred.PairingCode())
		require.ErrorIs(t, err, authn.ErrExpired, "the right code, days later")
		st, err = c.svc[1].ActivationStatus(t.Context(), "alice", offer.SessionID)
		require.NoError(t, err)
		require.Equal(t, authn.ActivationExpired, st.State)
		require.Zero(t, st.TriesLeft)
		ds, err := c.svc[0].Devices(t.Context(), "alice")
		require.NoError(t, err)
		require.Empty(t, ds, "the pending device is gone")
	})

	t.Run("NewerOfferVoidsCompleted", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		first, err := c.svc[0].StartActivation(t.Context(), "alice", nil)
		require.NoError(t, err)
		cred := c.completeOffer(t, 1, first)
		_, err = c.svc[1].StartActivation(t.Context(), "alice", nil)
		require.NoError(t, err)
		st, err := c.svc[0].ActivationStatus(t.Context(), "alice", first.SessionID)
		require.NoError(t, err)
		require.Equal(t, authn.ActivationCancelled, st.State)
		_, err = c.svc[0].ConfirmActivation(t.Context(), "alice", first.SessionID, cred.PairingCode())
		require.Error(t, err, "the voided activation pairs no more")
		require.NotErrorIs(t, err, authn.ErrStoreUnavailable)
		ds, err := c.svc[1].Devices(t.Context(), "alice")
		require.NoError(t, err)
		require.Empty(t, ds, "its pending device is gone")
	})

	t.Run("ThirdWrongCodeDiscards", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		offer, err := c.svc[0].StartActivation(t.Context(), "alice", nil)
		require.NoError(t, err)
		cred := c.completeOffer(t, 1, offer)
		wrong := wrongPairingCode(cred)
		checks := c.obs.count("pairing_check")
		for left := 2; left >= 1; left-- {
			_, err = c.svc[left%2].ConfirmActivation(t.Context(), "alice", offer.SessionID, wrong)
			require.ErrorIs(t, err, authn.ErrWrongPairingCode)
			require.NotErrorIs(t, err, authn.ErrPairingDiscarded)
			st, err := c.svc[0].ActivationStatus(t.Context(), "alice", offer.SessionID)
			require.NoError(t, err)
			require.Equal(t, authn.ActivationCompleted, st.State)
			require.Equal(t, left, st.TriesLeft)
		}
		_, err = c.svc[0].ConfirmActivation(t.Context(), "alice", offer.SessionID, wrong)
		require.ErrorIs(t, err, authn.ErrPairingDiscarded, "the third wrong code discards the device")
		require.ErrorIs(t, err, authn.ErrWrongPairingCode, "and it was a wrong code")
		require.Equal(t, 1, c.obs.count("activation_discarded"))
		st, err := c.svc[1].ActivationStatus(t.Context(), "alice", offer.SessionID)
		require.NoError(t, err)
		require.Equal(t, authn.ActivationDiscarded, st.State)
		require.Zero(t, st.TriesLeft)

		_, err = c.svc[1].ConfirmActivation(t.Context(), "alice", offer.SessionID, cred.PairingCode())
		require.ErrorIs(t, err, authn.ErrPairingDiscarded, "the right code, after the third wrong one")
		require.NotErrorIs(t, err, authn.ErrWrongPairingCode)
		require.Equal(t, checks+3, c.obs.count("pairing_check"), "three codes compared")
		ds, err := c.svc[1].Devices(t.Context(), "alice")
		require.NoError(t, err)
		require.Empty(t, ds)
	})

	t.Run("ConcurrentGuesses", func(t *testing.T) {
		for _, withRight := range []bool{false, true} {
			c := newCluster(t, newStore(t), nil)
			offer, err := c.svc[0].StartActivation(t.Context(), "alice", nil)
			require.NoError(t, err)
			cred := c.completeOffer(t, 1, offer)
			wrong := wrongPairingCode(cred)
			checks := c.obs.count("pairing_check")
			const n = 24
			errs := concurrently(n, func(i int) error {
				code := wrong
				if withRight && i%3 == 0 {
					code = cred.PairingCode()
				}
				_, err := c.svc[i%2].ConfirmActivation(context.Background(), "alice", offer.SessionID, code)
				return err
			})
			ok, discarded := 0, 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, authn.ErrPairingDiscarded):
					discarded++
				case errors.Is(err, authn.ErrWrongPairingCode), errors.Is(err, authn.ErrAlreadyUsed):
				default:
					t.Errorf("guess %d: %v (want success, wrong code, already paired or discarded)", i, err)
				}
			}
			require.LessOrEqual(t, c.obs.count("pairing_check")-checks, 3, "codes compared")
			require.LessOrEqual(t, ok, 1)
			if !withRight {
				require.Positive(t, discarded, "the third wrong code discards the device")
			}
			st, err := c.svc[0].ActivationStatus(t.Context(), "alice", offer.SessionID)
			require.NoError(t, err)
			if ok == 1 {
				require.Equal(t, authn.ActivationActive, st.State)
			} else {
				require.Equal(t, authn.ActivationDiscarded, st.State)
			}
		}
	})
}

// cfgTTL is the Services' activation lifetime.
func (c *cluster) cfgTTL() time.Duration {
	if c.cfg.ActivationTTL > 0 {
		return c.cfg.ActivationTTL
	}
	return enroll.DefaultActivationTTL
}
