package enroll

import (
	"errors"
	"fmt"
)

// Sentinel errors. Each outcome has one value, matched with [errors.Is];
// package authn re-exports them as the same values.
var (
	// ErrExpired reports an offer or activation past its expiry.
	ErrExpired = errors.New("enroll: activation expired")

	// ErrBadConfirmation reports a phone's confirmation MAC that does not
	// verify: the phone does not hold the key agreed with this offer.
	ErrBadConfirmation = errors.New("enroll: activation confirmation does not verify")

	// ErrBadServerConfirmation reports a server confirmation that does not
	// verify on the phone: it is not talking to the server of the offer,
	// or the reply was altered. The phone must discard the credential.
	ErrBadServerConfirmation = errors.New("enroll: server confirmation does not verify")

	// ErrOfferMismatch reports that the phone answered a different offer
	// from the one the server made: some field was altered on the way.
	ErrOfferMismatch = errors.New("enroll: the phone saw a different offer")

	// ErrDeviceIntegrity reports a device refused by the integrity policy.
	ErrDeviceIntegrity = errors.New("enroll: device integrity refused")

	// ErrWrongSession reports a request for another activation session.
	ErrWrongSession = errors.New("enroll: request is for another session")

	// ErrAlreadyUsed reports an activation completed before. A
	// byte-identical retry of the request that won gets an
	// *[AlreadyUsedError], which matches it too.
	ErrAlreadyUsed = errors.New("enroll: activation already used")

	// ErrAlreadyEnrolled reports a device (or vault) that already holds a
	// credential for this issuer and user.
	ErrAlreadyEnrolled = errors.New("enroll: already enrolled")

	// ErrUnknownSession reports a session ID that names no activation.
	ErrUnknownSession = errors.New("enroll: unknown activation session")

	// ErrSessionIDTypo reports a typed session ID whose check character
	// does not match: a character was mistyped.
	ErrSessionIDTypo = errors.New("enroll: session ID mistyped")

	// ErrInvalidOffer reports an offer or offer URI that is not well formed.
	ErrInvalidOffer = errors.New("enroll: invalid offer")

	// ErrInvalidRequest reports an activation request that is not well
	// formed.
	ErrInvalidRequest = errors.New("enroll: invalid activation request")

	// ErrInvalidInput reports an argument out of range: an empty issuer
	// or user, a bad suite, a negative TTL.
	ErrInvalidInput = errors.New("enroll: invalid input")
)

// AlreadyUsedError is returned for a byte-identical retry of the request
// that completed an activation (a phone retrying after a lost reply): it
// carries the device and the server confirmation the winner got, so the
// phone can finish. It matches [ErrAlreadyUsed].
type AlreadyUsedError struct {
	Device        Device
	ServerConfirm []byte
}

// Error returns a message without key material.
func (e *AlreadyUsedError) Error() string {
	return ErrAlreadyUsed.Error() + " (retry of the completing request)"
}

// Unwrap returns [ErrAlreadyUsed].
func (e *AlreadyUsedError) Unwrap() error { return ErrAlreadyUsed }

func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

var (
	// ErrCorrupt reports stored bytes (a pending activation, a vault) that
	// are altered, truncated or not ours.
	ErrCorrupt = errors.New("enroll: corrupt record")

	// ErrUnconfirmed reports a credential used before the server's
	// confirmation was checked.
	ErrUnconfirmed = errors.New("enroll: credential not confirmed by the server")
)
