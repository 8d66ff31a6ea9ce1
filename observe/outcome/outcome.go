// Package outcome names how a keyline call ended, from its error: one
// of a fixed set of short strings ([Of]), for a span attribute (package
// observe/tracing) or a metric label (package observe/metrics). It reads
// an error's chain with errors.Is, never its text, so an outcome carries
// nothing of the error's message.
package outcome

import (
	"context"
	"errors"

	"github.com/keyline/keyline/authn"
)

// The outcomes of a call: a fixed set, so that a query or a label made of
// them has few values.
const (
	OK               = "ok"                // the call succeeded
	Locked           = "locked"            // ErrLocked: the user is locked out
	Replay           = "replay"            // ErrReplay: a code or request used before
	InvalidCode      = "invalid_code"      // ErrInvalidCode: a wrong response or code
	Malformed        = "malformed"         // ErrMalformed: a response not well formed
	Resync           = "resync"            // ErrResyncNeeded: the phone's clock drifted
	TooManyAttempts  = "too_many_attempts" // ErrTooManyAttempts, ErrTooManyChallenges, ErrRateLimited
	Expired          = "expired"           // ErrExpired
	NotFound         = "not_found"         // ErrNotFound, ErrUnknownSession
	AlreadyUsed      = "already_used"      // ErrAlreadyUsed, ErrPushAnswered
	ProofRequired    = "proof_required"    // ErrProofRequired
	PushUnavailable  = "push_unavailable"  // ErrPushUnavailable
	PushDenied       = "push_denied"       // ErrPushDenied
	PushPending      = "push_pending"      // ErrPushPending
	WrongNumber      = "wrong_number"      // ErrWrongNumber
	DeviceAuth       = "device_auth"       // ErrDeviceAuth, ErrAPIReplay, ErrAPIRequestTime: a device API request that did not authenticate
	Pairing          = "pairing"           // ErrWrongPairingCode, ErrPairingDiscarded
	Refused          = "refused"           // ErrTooManyDevices, ErrAlreadyEnrolled, ErrDeviceIntegrity, ErrAddressNotAllowed: a policy said no
	InvalidInput     = "invalid_input"     // ErrInvalidInput and the other errors of a request not well formed
	Cancelled        = "cancelled"         // the caller's context ended
	StoreUnavailable = "store_unavailable" // ErrStoreUnavailable: a store failed
	Error            = "error"             // anything else
)

// outcomes maps sentinels to outcomes, checked in order: a more
// specific error before the one it wraps (ErrReplay before
// ErrInvalidCode; ErrLocked first, since a LockedError also matches the
// failure that locked).
var outcomes = []struct {
	err error
	out string
}{
	{authn.ErrLocked, Locked},
	{authn.ErrStoreUnavailable, StoreUnavailable},
	{authn.ErrReplay, Replay},
	{authn.ErrAPIReplay, DeviceAuth},
	{authn.ErrDeviceAuth, DeviceAuth},
	{authn.ErrAPIRequestTime, DeviceAuth},
	{authn.ErrInvalidCode, InvalidCode},
	{authn.ErrMalformed, Malformed},
	{authn.ErrResyncNeeded, Resync},
	{authn.ErrTooManyAttempts, TooManyAttempts},
	{authn.ErrTooManyChallenges, TooManyAttempts},
	{authn.ErrRateLimited, TooManyAttempts},
	{authn.ErrExpired, Expired},
	{authn.ErrNotFound, NotFound},
	{authn.ErrUnknownSession, NotFound},
	{authn.ErrAlreadyUsed, AlreadyUsed},
	{authn.ErrPushAnswered, AlreadyUsed},
	{authn.ErrProofRequired, ProofRequired},
	{authn.ErrPushUnavailable, PushUnavailable},
	{authn.ErrPushDenied, PushDenied},
	{authn.ErrPushPending, PushPending},
	{authn.ErrWrongNumber, WrongNumber},
	{authn.ErrWrongPairingCode, Pairing},
	{authn.ErrPairingDiscarded, Pairing},
	{authn.ErrTooManyDevices, Refused},
	{authn.ErrAlreadyEnrolled, Refused},
	{authn.ErrDeviceIntegrity, Refused},
	{authn.ErrAddressNotAllowed, Refused},
	{authn.ErrInvalidInput, InvalidInput},
	{authn.ErrSessionIDTypo, InvalidInput},
	{authn.ErrInvalidAPIRequest, InvalidInput},
	{authn.ErrInvalidPushAnswer, InvalidInput},
	{authn.ErrPushClock, InvalidInput},
	{authn.ErrPromptNotForDevice, InvalidInput},
	{context.Canceled, Cancelled},
	{context.DeadlineExceeded, Cancelled},
}

// Of is the outcome of a call that returned err: OK for nil, else the
// first of the constants above whose errors err matches (errors.Is, in
// the order listed), else Error.
func Of(err error) string {
	if err == nil {
		return OK
	}
	for _, o := range outcomes {
		if errors.Is(err, o.err) {
			return o.out
		}
	}
	return Error
}
