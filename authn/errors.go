package authn

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Errors. One value per meaning: those shared with other layers are
// package keyline's values (authn.ErrExpired is keyline.ErrExpired, and
// enroll.ErrExpired too), and those of package enroll and package
// challenge are re-exported as the same values, so errors.Is works
// across the layers. The login path wraps a shared value with its own
// word: an expired challenge reads "challenge expired", a push request
// answered before "push request already used".
//
// The texts the package documentation calls safe to show (see "Errors"
// there) have no package prefix and quote nothing; the others start with
// "authn: ".
var (
	// ErrInvalidCode reports a response that is wrong, for another
	// user's challenge, or otherwise not accepted. It never says which.
	// It is [keyline.ErrInvalidCode]; its text is safe to show.
	ErrInvalidCode = keyline.ErrInvalidCode

	// ErrReplay reports a response for a time step before the device's
	// last accepted one. It wraps ErrInvalidCode: a caller must not learn
	// that the code was right.
	ErrReplay = fmt.Errorf("authn: %w (replay)", ErrInvalidCode)

	// ErrLocked reports a user locked out after too many failures. The
	// concrete error is a *LockedError with the time to wait. It is
	// [keyline.ErrLocked]; its text is safe to show.
	ErrLocked = keyline.ErrLocked

	// ErrTooManyAttempts reports a challenge answered wrongly too often;
	// it is void, and a new one must be begun. Its text is safe to show.
	ErrTooManyAttempts = errors.New("too many attempts for this challenge")

	// ErrResyncNeeded reports a response that matched only far from the
	// expected time step: the phone's clock has drifted. The concrete
	// error is a *ResyncError carrying the next challenge. Its text is
	// safe to show.
	ErrResyncNeeded = errors.New("clock drift; answer the next challenge to resynchronise")

	// ErrTooManyChallenges reports a user who asked for challenges faster
	// than the budget allows.
	ErrTooManyChallenges = errors.New("authn: too many challenges; wait a minute")

	// ErrProofRequired reports a factor change without a valid step-up
	// proof: none, stale, for another user, or forged. It is
	// [keyline.ErrProofRequired].
	ErrProofRequired = keyline.ErrProofRequired

	// ErrStoreUnavailable reports a store that failed; the operation may
	// be retried. The store's own error is wrapped.
	ErrStoreUnavailable = errors.New("authn: store unavailable")

	// ErrNotFound reports a device, activation or challenge that does not
	// exist (or no longer does). It is [keyline.ErrNotFound].
	ErrNotFound = keyline.ErrNotFound

	// ErrTooManyDevices reports a user at MaxDevicesPerUser. It is
	// [keyline.ErrTooManyDevices].
	ErrTooManyDevices = keyline.ErrTooManyDevices

	// ErrWrongPairingCode reports a pairing code that does not match. It
	// is [keyline.ErrWrongPairingCode].
	ErrWrongPairingCode = keyline.ErrWrongPairingCode

	// ErrPairingDiscarded reports that the new device was discarded
	// after too many wrong pairing codes (the third wrong one, or any
	// code typed after it): start a new activation. The error of the
	// third wrong code matches ErrWrongPairingCode too. It is
	// [keyline.ErrPairingDiscarded]; its text is safe to show.
	ErrPairingDiscarded = keyline.ErrPairingDiscarded

	// ErrInvalidConfig reports a Config field out of range; the message
	// names it.
	ErrInvalidConfig = errors.New("authn: invalid config")

	// ErrInvalidInput reports an argument out of range (an empty user
	// ID, say); the message names it. It is [keyline.ErrInvalidInput].
	ErrInvalidInput = keyline.ErrInvalidInput

	// ErrExpired reports a challenge, push request or activation past its
	// lifetime. It is [keyline.ErrExpired].
	ErrExpired = keyline.ErrExpired

	// ErrAlreadyUsed reports a push request answered or finished before,
	// or an activation completed before. It is [keyline.ErrAlreadyUsed].
	ErrAlreadyUsed = keyline.ErrAlreadyUsed

	// Shared with package enroll.
	ErrAlreadyEnrolled = enroll.ErrAlreadyEnrolled
	ErrUnknownSession  = enroll.ErrUnknownSession
	ErrSessionIDTypo   = enroll.ErrSessionIDTypo
	ErrDeviceIntegrity = enroll.ErrDeviceIntegrity

	// ErrMalformed is challenge.ErrMalformed: a response that is not
	// well formed. It counts as an attempt. Its text is safe to show.
	ErrMalformed = challenge.ErrMalformed
)

// The shared values as this package's paths report them.
var (
	errChallengeExpired  = fmt.Errorf("challenge %w", ErrExpired)
	errPushExpired       = fmt.Errorf("push request %w", ErrExpired)
	errPushUsed          = fmt.Errorf("push request %w", ErrAlreadyUsed)
	errPushNotFound      = fmt.Errorf("push request %w", ErrNotFound)
	errActivationExpired = fmt.Errorf("activation %w", ErrExpired)
	errActivationUsed    = fmt.Errorf("activation %w", ErrAlreadyUsed)
)

// LockedError is ErrLocked with the time until the lock lifts. When the
// failure that locked the user is the one being reported, it also
// matches that failure (ErrInvalidCode, say) under errors.Is.
type LockedError struct {
	RetryAfter time.Duration
	cause      error
}

// Error says how long to wait, rounded to the second.
func (e *LockedError) Error() string {
	return fmt.Sprintf("%v; retry after %v", ErrLocked, e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrLocked, and the failure that locked the user if this
// error reports it.
func (e *LockedError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrLocked, e.cause}
	}
	return []error{ErrLocked}
}

// ResyncError is ErrResyncNeeded with the challenge to answer next: it
// must match exactly at the drift just seen, and then logs the user in
// and stores the drift. When the failure that found the drift also locked
// the user, RetryAfter says when Next can be answered (it stays live
// until the challenge TTL after that).
type ResyncError struct {
	Next       Challenge
	RetryAfter time.Duration
}

// Error returns the message of ErrResyncNeeded.
func (e *ResyncError) Error() string { return ErrResyncNeeded.Error() }

// Unwrap returns ErrResyncNeeded.
func (e *ResyncError) Unwrap() error { return ErrResyncNeeded }

func storeErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
}
