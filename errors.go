package keyline

import "errors"

// The shared meanings. Their texts are neutral and safe to show: no
// package name, no internals.
var (
	// ErrInvalidInput reports an argument out of range or not well
	// formed: an empty user ID, a bad suite parameter, a negative TTL, a
	// push answer that does not parse. It is a caller's mistake, never a
	// user's; the wrapping error names the argument.
	ErrInvalidInput = errors.New("invalid input")

	// ErrExpired reports something past its lifetime: a login or
	// transaction challenge, an activation offer, a push request or
	// prompt. Begin again.
	ErrExpired = errors.New("expired")

	// ErrAlreadyUsed reports a single-use thing used before: an
	// activation completed, a push request answered or finished.
	ErrAlreadyUsed = errors.New("already used")

	// ErrNotFound reports a device, activation, push request or
	// challenge that does not exist, or no longer does.
	ErrNotFound = errors.New("not found")

	// ErrLocked reports a user locked out after too many failures; the
	// concrete error carries how long to wait (authn.LockedError on the
	// server, deviceclient.Error on the phone).
	ErrLocked = errors.New("locked after too many failures")

	// ErrInvalidCode reports a code (a challenge response, a TOTP code, a
	// recovery code, a transaction signature) that is not accepted. It
	// never says why.
	ErrInvalidCode = errors.New("invalid code")

	// ErrWrongNumber reports a push approval with another number than
	// the login page showed: the push request is over.
	ErrWrongNumber = errors.New("wrong number; the request is over")

	// ErrWrongPairingCode reports a pairing code that does not match.
	ErrWrongPairingCode = errors.New("wrong pairing code")

	// ErrPairingDiscarded reports a new device discarded after too many
	// wrong pairing codes: the activation is over; start again with a
	// new one.
	ErrPairingDiscarded = errors.New("too many wrong pairing codes; the new device was discarded, start again")

	// ErrTooManyDevices reports a user who has as many devices as the
	// server allows.
	ErrTooManyDevices = errors.New("too many devices")

	// ErrProofRequired reports a factor change without a valid step-up
	// proof.
	ErrProofRequired = errors.New("step-up proof required")

	// ErrRateLimited reports a caller over its request budget: retry
	// later.
	ErrRateLimited = errors.New("too many requests")

	// ErrAddressNotAllowed reports a call from a network address that
	// the server's allowlist does not admit for that user, or a call that
	// did not say where it came from while an allowlist applies.
	ErrAddressNotAllowed = errors.New("address not allowed")
)
