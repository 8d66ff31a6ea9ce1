package deviceapi

import (
	"errors"
	"net/http"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

// Refusals of the HTTP layer itself; the others are authn's and enroll's.
var (
	errNoRoute       = errors.New("deviceapi: no such endpoint")
	errMethod        = errors.New("deviceapi: method not allowed")
	errTooLarge      = errors.New("deviceapi: request body too large")
	errMediaType     = errors.New("deviceapi: request body is not application/json")
	errBadRequest    = errors.New("deviceapi: bad request")
	errIPRateLimited = errors.New("deviceapi: too many requests from this address")
)

// A row of the error table: the status and code an error is answered
// with, and the fixed message that goes with them. Only the rows marked
// detail append the error's own text, which for those errors says what is
// malformed and never quotes a secret; every other answer is the row's
// text alone, so that it cannot carry anything it should not.
type row struct {
	status  int
	code    string
	message string
	detail  bool
	errs    []error
}

// table maps errors to answers: the first row with an error that matches
// (errors.Is) wins, so the order matters (a *LockedError may also match
// ErrInvalidCode; it is answered as locked). An error no row matches is
// 500 internal. The package documentation and PROTOCOL.md §10 show this
// table; a test holds the three together.
var table = []row{
	{http.StatusBadRequest, "unsupported_version", "this server speaks keyline protocol version 1; the app needs an update", false,
		[]error{errUnsupportedVersion}},
	{http.StatusUnauthorized, "bad_authorization", "the Authorization header is missing or not well formed", true,
		[]error{enroll.ErrInvalidAPIRequest}},
	{http.StatusUnauthorized, "unauthorized", "the device is not recognised", false,
		[]error{enroll.ErrDeviceAuth}},
	{http.StatusUnauthorized, "clock_skew", "the request time is more than 60 seconds from the server's clock", false,
		[]error{enroll.ErrAPIRequestTime}},
	{http.StatusUnauthorized, "replay", "the request was seen before; sign every request afresh", false,
		[]error{enroll.ErrAPIReplay}},
	{http.StatusForbidden, "address_not_allowed", "requests from this network address are not allowed for this user", false,
		[]error{authn.ErrAddressNotAllowed}},
	{http.StatusTooManyRequests, "rate_limited", "too many requests; retry later", false,
		[]error{authn.ErrRateLimited, errIPRateLimited}},
	{http.StatusLocked, "locked", "the user is locked out after too many failures; retry later", false,
		[]error{authn.ErrLocked}},
	{http.StatusBadRequest, "session_id_typo", "the session ID is mistyped", true,
		[]error{enroll.ErrSessionIDTypo}},
	{http.StatusNotFound, "unknown_session", "no such activation", false,
		[]error{enroll.ErrUnknownSession}},
	{http.StatusGone, "expired", "expired", false,
		[]error{enroll.ErrExpired}},
	{http.StatusConflict, "answered", "the push request was answered already by another answer; the request is over", false,
		[]error{enroll.ErrPushAnswered}},
	{http.StatusConflict, "already_used", "already used or answered", false,
		[]error{enroll.ErrAlreadyUsed}},
	{http.StatusConflict, "already_enrolled", "this phone already holds a device of this user", false,
		[]error{enroll.ErrAlreadyEnrolled}},
	{http.StatusConflict, "too_many_devices", "the user has too many devices", false,
		[]error{authn.ErrTooManyDevices}},
	{http.StatusUnprocessableEntity, "offer_mismatch", "the phone saw another offer than the server made", false,
		[]error{enroll.ErrOfferMismatch}},
	{http.StatusUnprocessableEntity, "bad_confirmation", "the activation confirmation does not verify", false,
		[]error{enroll.ErrBadConfirmation}},
	{http.StatusForbidden, "device_integrity", "the device is refused by the integrity policy", false,
		[]error{enroll.ErrDeviceIntegrity}},
	{http.StatusUnprocessableEntity, "wrong_number", "the number typed is not the one the login page showed; the request is over", false,
		[]error{authn.ErrWrongNumber}},
	{http.StatusUnprocessableEntity, "clock_off", "the answer's time is off the server's clock; correct the clock by server_time and answer again", false,
		[]error{enroll.ErrPushClock}},
	{http.StatusForbidden, "not_yours", "the push request did not notify this device", false,
		[]error{enroll.ErrPromptNotForDevice}},
	{http.StatusUnprocessableEntity, "invalid_push_answer", "the push answer does not verify for this device", false,
		[]error{authn.ErrInvalidPushAnswer}},
	{http.StatusUnprocessableEntity, "invalid_code", "the transaction response is refused; the request is over", false,
		[]error{authn.ErrInvalidCode, authn.ErrMalformed, authn.ErrTooManyAttempts}},
	{http.StatusGone, "pairing_discarded", "too many wrong pairing codes: the new device was discarded; start again", false,
		[]error{authn.ErrPairingDiscarded}},
	{http.StatusUnprocessableEntity, "pairing_code", "the pairing code does not match; the third wrong code discards the new device", false,
		[]error{authn.ErrWrongPairingCode}},
	{http.StatusForbidden, "forbidden", "a step-up proof is required", false,
		[]error{authn.ErrProofRequired}},
	{http.StatusNotFound, "not_found", "not found", true,
		[]error{authn.ErrNotFound, errNoRoute}},
	{http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed", false,
		[]error{errMethod}},
	{http.StatusRequestEntityTooLarge, "too_large", "the request body is too large", false,
		[]error{errTooLarge}},
	{http.StatusUnsupportedMediaType, "unsupported_media_type", "the request body must be application/json", false,
		[]error{errMediaType}},
	{http.StatusBadRequest, "bad_request", "the request is not well formed", true,
		[]error{errBadRequest, enroll.ErrInvalidInput, enroll.ErrInvalidRequest, enroll.ErrWrongSession}},
	{http.StatusServiceUnavailable, "unavailable", "the service is unavailable; retry later", false,
		[]error{authn.ErrStoreUnavailable}},
}

// internal is the answer to an error no row matches.
var internal = row{status: http.StatusInternalServerError, code: "internal", message: "internal error"}

// classify returns the row of err.
func classify(err error) row {
	for _, r := range table {
		for _, e := range r.errs {
			if errors.Is(err, e) {
				return r
			}
		}
	}
	return internal
}

// answerOf returns the body of an error's answer: the code from the
// table and a message for people (logs, a support screen), never for
// programs to parse.
func answerOf(r row, err error) devicewire.ErrorBody {
	msg := r.message
	if r.detail {
		msg += ": " + err.Error()
	}
	body := devicewire.ErrorBody{Error: r.code, Message: msg}
	var clock *enroll.PushClockError
	if errors.As(err, &clock) {
		// The server's time, for the phone to correct its clock offset.
		body.ServerTime = clock.ServerTime.Unix()
	}
	return body
}
