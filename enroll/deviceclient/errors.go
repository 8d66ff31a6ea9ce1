package deviceclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/enroll"
)

// Sentinel errors, matched with errors.Is. An error answer of the server
// is an *Error, which matches the sentinel of its code (see Error.Unwrap):
// one of these, one of package keyline's shared values where both ends
// of the protocol report the meaning (ErrLocked, ErrNotFound, ...: the
// server's authn.ErrLocked is the same value), or one of package enroll's
// where the meaning is the protocol's (enroll.ErrDeviceAuth,
// enroll.ErrExpired, ...).
var (
	// ErrUnreachable reports that no answer of the device API came back:
	// the network failed, the context ended, or what answered was not
	// the device API (a proxy's error page, another server). The request
	// may or may not have been served.
	ErrUnreachable = errors.New("deviceclient: device API unreachable")

	// ErrRateLimited reports that the device or the phone's address made
	// too many requests; Error.RetryAfter says when to try again. It is
	// [keyline.ErrRateLimited].
	ErrRateLimited = keyline.ErrRateLimited

	// ErrLocked reports that the user is locked out after too many
	// failures; Error.RetryAfter says for how long. It is
	// [keyline.ErrLocked].
	ErrLocked = keyline.ErrLocked

	// ErrBadRequest reports a request the server found malformed: a bug
	// in the app, or an app and a server that disagree on the protocol.
	ErrBadRequest = errors.New("deviceclient: request refused as malformed")

	// ErrNotFound reports a push request or device that does not exist
	// (or no longer does), or an endpoint the server does not have. It
	// is [keyline.ErrNotFound].
	ErrNotFound = keyline.ErrNotFound

	// ErrWrongNumber reports an approval with another number than the
	// login page showed: the request is over. It is
	// [keyline.ErrWrongNumber].
	ErrWrongNumber = keyline.ErrWrongNumber

	// ErrWrongPairingCode reports a pairing code that does not match;
	// the third wrong one discards the new device (ErrPairingDiscarded).
	// It is [keyline.ErrWrongPairingCode].
	ErrWrongPairingCode = keyline.ErrWrongPairingCode

	// ErrPairingDiscarded reports a new device discarded after three
	// wrong pairing codes: the migration is over; start again. It is
	// [keyline.ErrPairingDiscarded].
	ErrPairingDiscarded = keyline.ErrPairingDiscarded

	// ErrInvalidCode reports a transaction signature the server refused:
	// the request is over. It is [keyline.ErrInvalidCode].
	ErrInvalidCode = keyline.ErrInvalidCode

	// ErrTooManyDevices reports a user who has as many devices as the
	// server allows. It is [keyline.ErrTooManyDevices].
	ErrTooManyDevices = keyline.ErrTooManyDevices

	// ErrProofRequired reports an action that needs a step-up proof. It
	// is [keyline.ErrProofRequired].
	ErrProofRequired = keyline.ErrProofRequired

	// ErrAddressNotAllowed reports a server whose allowlist does not
	// admit the phone's network address for the user. It is
	// [keyline.ErrAddressNotAllowed].
	ErrAddressNotAllowed = keyline.ErrAddressNotAllowed

	// ErrUnsupportedVersion reports a server that does not speak this
	// client's protocol version (PROTOCOL.md §10, "Versions"): the app
	// needs an update, or the server is older than the app.
	ErrUnsupportedVersion = errors.New("deviceclient: the server does not speak this protocol version")

	// ErrServer reports a server that failed (internal error, store
	// unavailable): try again later.
	ErrServer = errors.New("deviceclient: server error")

	// ErrBadAnswer reports a success answer that is not what the protocol
	// says: malformed, or not about what was asked. Nothing from it is
	// kept.
	ErrBadAnswer = errors.New("deviceclient: malformed answer from the server")
)

// codes maps the error table's codes (PROTOCOL.md §10) to sentinels.
var codes = map[string]error{
	"unsupported_version":    ErrUnsupportedVersion,
	"bad_authorization":      ErrBadRequest,
	"unauthorized":           enroll.ErrDeviceAuth,
	"clock_skew":             enroll.ErrAPIRequestTime,
	"replay":                 enroll.ErrAPIReplay,
	"address_not_allowed":    ErrAddressNotAllowed,
	"rate_limited":           ErrRateLimited,
	"locked":                 ErrLocked,
	"session_id_typo":        enroll.ErrSessionIDTypo,
	"unknown_session":        enroll.ErrUnknownSession,
	"expired":                enroll.ErrExpired,
	"answered":               enroll.ErrPushAnswered,
	"already_used":           enroll.ErrAlreadyUsed,
	"already_enrolled":       enroll.ErrAlreadyEnrolled,
	"too_many_devices":       ErrTooManyDevices,
	"offer_mismatch":         enroll.ErrOfferMismatch,
	"bad_confirmation":       enroll.ErrBadConfirmation,
	"device_integrity":       enroll.ErrDeviceIntegrity,
	"wrong_number":           ErrWrongNumber,
	"clock_off":              enroll.ErrPushClock,
	"not_yours":              enroll.ErrPromptNotForDevice,
	"invalid_push_answer":    enroll.ErrInvalidPushAnswer,
	"invalid_code":           ErrInvalidCode,
	"pairing_discarded":      ErrPairingDiscarded,
	"pairing_code":           ErrWrongPairingCode,
	"forbidden":              ErrProofRequired,
	"not_found":              ErrNotFound,
	"method_not_allowed":     ErrBadRequest,
	"too_large":              ErrBadRequest,
	"unsupported_media_type": ErrBadRequest,
	"bad_request":            ErrBadRequest,
	"unavailable":            ErrServer,
	"internal":               ErrServer,
}

// Error is an error answer of the device API: its HTTP status, its code
// from the error table, the server's message (for logs and support
// screens; it carries no secret), for rate_limited, locked and
// unavailable, how long to wait, and for clock_off, the server's time.
type Error struct {
	Status     int           // the HTTP status
	Code       string        // the table's code: "unauthorized", "rate_limited", ...
	Message    string        // the server's text, for people
	RetryAfter time.Duration // from Retry-After; 0 when there is none
	// ServerTime is the server's clock when it refused a push answer as
	// clock_off (server_time; whole seconds); the zero time otherwise.
	// Client.AnswerPush corrects its clock offset by it and answers
	// again, once: the request is still pending.
	ServerTime time.Time
}

// Error returns "deviceclient: <status> <code>: <message>".
func (e *Error) Error() string {
	return fmt.Sprintf("deviceclient: %d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the sentinel of the error's code; a code this client
// does not know is read by its status: 401 as enroll.ErrDeviceAuth, 429
// as ErrRateLimited, 5xx as ErrServer, any other as ErrBadRequest.
func (e *Error) Unwrap() error {
	if s, ok := codes[e.Code]; ok {
		return s
	}
	switch {
	case e.Status == http.StatusUnauthorized:
		return enroll.ErrDeviceAuth
	case e.Status == http.StatusTooManyRequests:
		return ErrRateLimited
	case e.Status >= 500:
		return ErrServer
	}
	return ErrBadRequest
}
