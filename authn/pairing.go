package authn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/enroll"
)

// ActivationProgress is where an activation stands, as
// [Service.ActivationStatus] and [AuthenticatedDevice.MigrationStatus]
// report it to the page (or the old phone) that waits on it.
type ActivationProgress struct {
	// State is where the activation is: ActivationWaiting until a phone
	// completes it, then ActivationCompleted until it is paired
	// (ActivationActive); or it ended: ActivationExpired (not completed,
	// or not paired, in time), ActivationCancelled (cancelled, or voided
	// by a newer offer for the user) or ActivationDiscarded (the third
	// wrong pairing code discarded the device: start again).
	State ActivationState
	// TriesLeft is how many pairing codes may still be typed: 3 when a
	// phone has just completed the activation, one fewer after each wrong
	// code; 0 in every state but ActivationCompleted.
	TriesLeft int
	// ExpiresAt is when the activation ends unless it moves on: the
	// offer's expiry while waiting, the pairing deadline once completed
	// (Config.ActivationTTL after the completion); the zero time once it
	// has ended or was paired.
	ExpiresAt time.Time
}

// progress reads an activation's progress, the pairing tries of its
// device included.
func (s *Service) progress(ctx context.Context, a ActivationRecord) (ActivationProgress, error) {
	p := ActivationProgress{State: a.State}
	switch a.State {
	case ActivationWaiting:
		p.ExpiresAt = a.ExpiresAt
	case ActivationCompleted:
		p.ExpiresAt = a.ExpiresAt
		d, err := s.device(ctx, a.User, a.DeviceID)
		switch {
		case errors.Is(err, ErrStoreNotFound):
			// Gone between the two reads: the next read says why.
			return ActivationProgress{State: a.State, ExpiresAt: a.ExpiresAt}, nil
		case err != nil:
			return ActivationProgress{}, storeErr(err)
		}
		p.TriesLeft = max(maxPairingTries-d.PairTries, 0)
	}
	return p, nil
}

// The pairing refusals as ConfirmActivation reports them.
var (
	errPairingDiscarded = fmt.Errorf("activation: %w", ErrPairingDiscarded)
	// errLastPairingCode is the third wrong code's answer: a wrong code,
	// and the device discarded.
	errLastPairingCode = fmt.Errorf("%w: %w", ErrWrongPairingCode, ErrPairingDiscarded)
)

// pairingRefusal is what a pairing code typed for an activation in
// state st gets without being compared: nil for a completed activation
// (pairing is due), else the error its state stands for.
func pairingRefusal(st ActivationState) error {
	switch st {
	case ActivationCompleted:
		return nil
	case ActivationWaiting:
		return fmt.Errorf("%w: no phone has completed this activation yet", ErrNotFound)
	case ActivationExpired:
		return errActivationExpired
	case ActivationActive:
		return errActivationUsed
	case ActivationDiscarded:
		return errPairingDiscarded
	}
	return fmt.Errorf("%w: cancelled", enroll.ErrUnknownSession)
}

// pairingOver answers a pairing try whose device went between two steps
// (a concurrent try discarded or paired it, or the activation ended): the
// activation's state, read again, says why.
func (s *Service) pairingOver(ctx context.Context, sessionID string) error {
	a, err := s.records.GetActivation(ctx, sessionID, s.now())
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return enroll.ErrUnknownSession
	case err != nil:
		return storeErr(err)
	}
	if err := pairingRefusal(a.State); err != nil {
		return err
	}
	// Still completed, its device gone: nothing left to pair.
	return errPairingDiscarded
}
