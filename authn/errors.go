package authn

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Errors. One value per meaning: those shared with package enroll and
// package challenge are the same values, so errors.Is works across the
// layers.
var (
	// ErrInvalidCode reports a response that is wrong, for another
	// user's challenge, or otherwise not accepted. It never says which.
	ErrInvalidCode = errors.New("authn: invalid code")

	// ErrReplay reports a response for a time step before the device's
	// last accepted one. It wraps ErrInvalidCode: a caller must not learn
	// that the code was right.
	ErrReplay = fmt.Errorf("%w (replay)", ErrInvalidCode)

	// ErrLocked reports a user locked out after too many failures. The
	// concrete error is a *LockedError with the time to wait.
	ErrLocked = errors.New("authn: too many failures; locked")

	// ErrTooManyAttempts reports a challenge answered wrongly too often;
	// it is void, and a new one must be begun.
	ErrTooManyAttempts = errors.New("authn: too many attempts for this challenge")

	// ErrResyncNeeded reports a response that matched only far from the
	// expected time step: the phone's clock has drifted. The concrete
	// error is a *ResyncError carrying the next challenge.
	ErrResyncNeeded = errors.New("authn: clock drift; answer the next challenge to resynchronise")

	// ErrTooManyChallenges reports a user who asked for challenges faster
	// than the budget allows.
	ErrTooManyChallenges = errors.New("authn: too many challenges; wait a minute")

	// ErrProofRequired reports a factor change without a valid step-up
	// proof: none, stale, for another user, or forged.
	ErrProofRequired = errors.New("authn: step-up proof required")

	// ErrStoreUnavailable reports a store that failed; the operation may
	// be retried. The store's own error is wrapped.
	ErrStoreUnavailable = errors.New("authn: store unavailable")

	// ErrNotFound reports a device, activation or challenge that does not
	// exist (or no longer does).
	ErrNotFound = errors.New("authn: not found")

	// ErrTooManyDevices reports a user at MaxDevicesPerUser.
	ErrTooManyDevices = errors.New("authn: too many devices")

	// ErrWrongPairingCode reports a pairing code that does not match.
	ErrWrongPairingCode = errors.New("authn: wrong pairing code")

	// ErrInvalidConfig reports a Config field out of range; the message
	// names it.
	ErrInvalidConfig = errors.New("authn: invalid config")

	// Shared with package enroll.
	ErrInvalidInput    = enroll.ErrInvalidInput
	ErrExpired         = enroll.ErrExpired
	ErrAlreadyUsed     = enroll.ErrAlreadyUsed
	ErrAlreadyEnrolled = enroll.ErrAlreadyEnrolled
	ErrUnknownSession  = enroll.ErrUnknownSession
	ErrSessionIDTypo   = enroll.ErrSessionIDTypo
	ErrDeviceIntegrity = enroll.ErrDeviceIntegrity

	// ErrMalformed is challenge.ErrMalformed: a response that is not
	// well formed. It counts as an attempt.
	ErrMalformed = challenge.ErrMalformed
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
