package enroll

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keyline/keyline"
)

// Sentinel errors. Each outcome has one value, matched with [errors.Is];
// package authn re-exports them as the same values. [ErrExpired],
// [ErrAlreadyUsed] and [ErrInvalidInput] are package keyline's shared
// values: this package's errors wrap them with what expired or was used
// ("enroll: activation expired", "enroll: push prompt expired").
var (
	// ErrExpired reports an offer, activation or push prompt past its
	// expiry. It is [keyline.ErrExpired].
	ErrExpired = keyline.ErrExpired

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
	// *[AlreadyUsedError], which matches it too. It is
	// [keyline.ErrAlreadyUsed].
	ErrAlreadyUsed = keyline.ErrAlreadyUsed

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
	// or user, a bad suite, a negative TTL, a push answer that does not
	// parse. It is [keyline.ErrInvalidInput]; this package's errors read
	// "enroll: invalid input: ...".
	ErrInvalidInput = keyline.ErrInvalidInput
)

// The shared values as this package's paths report them.
var (
	errActivationExpired = fmt.Errorf("enroll: activation %w", ErrExpired)
	errActivationUsed    = fmt.Errorf("enroll: activation %w", ErrAlreadyUsed)
	errPromptExpired     = fmt.Errorf("enroll: push prompt %w", ErrExpired)
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
	return errActivationUsed.Error() + " (retry of the completing request)"
}

// Unwrap returns [ErrAlreadyUsed].
func (e *AlreadyUsedError) Unwrap() error { return ErrAlreadyUsed }

// wrap returns sentinel with a reason. A shared value of package keyline,
// whose text has no prefix, is said to come from this package.
func wrap(sentinel error, format string, args ...any) error {
	if !strings.HasPrefix(sentinel.Error(), "enroll: ") {
		format = "enroll: %w: " + format
	} else {
		format = "%w: " + format
	}
	return fmt.Errorf(format, append([]any{sentinel}, args...)...)
}

var (
	// ErrCorrupt reports stored bytes (a pending activation, a vault) that
	// are altered, truncated or not ours.
	ErrCorrupt = errors.New("enroll: corrupt record")

	// ErrUnconfirmed reports a credential used before the server's
	// confirmation was checked.
	ErrUnconfirmed = errors.New("enroll: credential not confirmed by the server")
)
