package keylinecore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/txn"
	"github.com/keyline/keyline/enroll/vault"
)

// Error codes: every error a Phone returns has one, which ErrorCode
// reads (from Java or Swift, where errors.Is is not available; the
// error's text is "keylinecore: <code>: <detail>", and the detail is for
// logs, never a PIN, key, code or session ID). An app branches on the
// code and shows its own words.
const (
	CodeNoVault           = "no_vault"            // no vault yet: CreateVault
	CodeVaultExists       = "vault_exists"        // CreateVault over an existing vault
	CodeVaultLocked       = "vault_locked"        // the call needs Unlock first
	CodeWrongPIN          = "wrong_pin"           // the PIN does not open the vault; count these and lock the app after a few
	CodeWeakPIN           = "weak_pin"            // the new PIN breaks the PIN policy (CheckPIN)
	CodePINRequired       = "pin_required"        // the change needs the vault opened with the PIN, not biometrics
	CodeKeyStore          = "key_store"           // the KeyStore failed, or is not the vault's (reinstall, new biometrics)
	CodeCorrupt           = "corrupt"             // a stored record or backup is damaged
	CodeWrongPassphrase   = "wrong_passphrase"    // the backup passphrase is mistyped or wrong
	CodePresence          = "presence"            // the BiometricGate refused: nothing was done
	CodeNoAccount         = "no_account"          // no account with this ID, or none a scanned login QR code is for
	CodeAlreadyEnrolled   = "already_enrolled"    // this install holds an account of that issuer and user already
	CodeInvalidInput      = "invalid_input"       // a QR code, session ID, number or argument that is not valid
	CodeSessionIDTypo     = "session_id_typo"     // the typed session ID has a typo
	CodeOfferMismatch     = "offer_mismatch"      // the offer does not match the session ID or was altered
	CodeExpired           = "expired"             // the activation, prompt or pairing is over
	CodeAlreadyUsed       = "already_used"        // the activation or push request was used by another answer
	CodeUnknownSession    = "unknown_session"     // no such activation or migration
	CodeUnauthorized      = "unauthorized"        // the server does not accept the device (pending, or removed long ago)
	CodeDeviceRemoved     = "device_removed"      // the server removed the device: RemoveAccount and tell the user
	CodeClock             = "clock"               // the phone's clock is more than a day off the server's: set it
	CodeWrongNumber       = "wrong_number"        // the typed number was not the login page's: the request is over
	CodeInvalidCode       = "invalid_code"        // the server refused the transaction signature: the request is over
	CodeWrongPairingCode  = "wrong_pairing_code"  // the pairing code typed is wrong; the third discards the new phone
	CodePairingDiscarded  = "pairing_discarded"   // three wrong pairing codes: start the migration again
	CodeRateLimited       = "rate_limited"        // too many requests: RetryAfterSeconds
	CodeLocked            = "locked"              // the user is locked out at the server: RetryAfterSeconds
	CodeTooManyDevices    = "too_many_devices"    // the user has as many devices as the server allows
	CodeDeviceIntegrity   = "device_integrity"    // the server's device policy refused this phone
	CodeAddressNotAllowed = "address_not_allowed" // the server does not admit this network for the user
	CodeNotFound          = "not_found"           // no such push request (for this account)
	CodeUnsupported       = "unsupported_version" // the app and the server speak different protocol versions
	CodeUnreachable       = "unreachable"         // no answer from the server's device API: retry later
	CodeServer            = "server"              // the server failed: retry later
	CodeCancelled         = "cancelled"           // the Cancel was cancelled, or the call timed out
	CodeInternal          = "internal"            // anything else: a bug, or an answer the core cannot read
)

// coreError is every error a Phone returns: a code from the list above,
// a detail for logs and, for Go callers, the library error it stands
// for (errors.Is works on it).
type coreError struct {
	code       string
	detail     string
	retryAfter time.Duration
	err        error
}

func (e *coreError) Error() string {
	return "keylinecore: " + e.code + ": " + e.detail
}

func (e *coreError) Unwrap() error { return e.err }

// newError makes an error of the core's own, with no library error
// beneath.
func newError(code, detail string) error {
	return &coreError{code: code, detail: detail}
}

// ErrorCode returns the code of an error a Phone returned ("" for nil,
// CodeInternal for an error that is not the core's).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *coreError
	if errors.As(err, &e) {
		return e.code
	}
	return CodeInternal
}

// RetryAfterSeconds returns how long the server asked to wait before
// trying again (CodeRateLimited, CodeLocked, CodeServer), in seconds; 0
// when it did not say.
func RetryAfterSeconds(err error) int64 {
	var e *coreError
	if errors.As(err, &e) {
		return int64(e.retryAfter / time.Second)
	}
	return 0
}

// codeTable maps the library's sentinels to codes, most specific first.
var codeTable = []struct {
	err  error
	code string
}{
	{context.Canceled, CodeCancelled},
	{context.DeadlineExceeded, CodeCancelled},
	{deviceclient.ErrClockOffset, CodeClock},
	{enroll.ErrAPIRequestTime, CodeClock},
	{enroll.ErrPushClock, CodeClock},
	{vault.ErrWrongPIN, CodeWrongPIN},
	{vault.ErrWeakPIN, CodeWeakPIN},
	{vault.ErrPINRequired, CodePINRequired},
	{vault.ErrWrongPassphrase, CodeWrongPassphrase},
	{vault.ErrKeyWrapper, CodeKeyStore},
	{vault.ErrNoCredential, CodeNoAccount},
	{vault.ErrZeroed, CodeVaultLocked},
	{deviceclient.ErrUnreachable, CodeUnreachable},
	{enroll.ErrSessionIDTypo, CodeSessionIDTypo},
	{enroll.ErrOfferMismatch, CodeOfferMismatch},
	{enroll.ErrPushAnswered, CodeAlreadyUsed},
	{enroll.ErrAlreadyUsed, CodeAlreadyUsed},
	{enroll.ErrAlreadyEnrolled, CodeAlreadyEnrolled},
	{enroll.ErrExpired, CodeExpired},
	{enroll.ErrUnknownSession, CodeUnknownSession},
	{enroll.ErrDeviceAuth, CodeUnauthorized},
	{deviceclient.ErrWrongNumber, CodeWrongNumber},
	{deviceclient.ErrInvalidCode, CodeInvalidCode},
	{deviceclient.ErrWrongPairingCode, CodeWrongPairingCode},
	{deviceclient.ErrPairingDiscarded, CodePairingDiscarded},
	{deviceclient.ErrRateLimited, CodeRateLimited},
	{deviceclient.ErrLocked, CodeLocked},
	{deviceclient.ErrTooManyDevices, CodeTooManyDevices},
	{enroll.ErrDeviceIntegrity, CodeDeviceIntegrity},
	{deviceclient.ErrAddressNotAllowed, CodeAddressNotAllowed},
	{deviceclient.ErrNotFound, CodeNotFound},
	{enroll.ErrPromptNotForDevice, CodeNotFound},
	{deviceclient.ErrUnsupportedVersion, CodeUnsupported},
	{deviceclient.ErrServer, CodeServer},
	{enroll.ErrInvalidOffer, CodeInvalidInput},
	{enroll.ErrInvalidQRLogin, CodeInvalidInput},
	{deviceclient.ErrOtherAccount, CodeNoAccount},
	{enroll.ErrBadPrompt, CodeInvalidInput},
	{txn.ErrInvalid, CodeInvalidInput},
	{enroll.ErrInvalidInput, CodeInvalidInput},
	{enroll.ErrCorrupt, CodeCorrupt},
}

// wrap turns a library error into the core's, with the code of the
// first sentinel it matches and its text as the detail (the library's
// texts carry no secret).
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *coreError
	if errors.As(err, &e) {
		return err
	}
	out := &coreError{code: CodeInternal, detail: err.Error(), err: err}
	for _, c := range codeTable {
		if errors.Is(err, c.err) {
			out.code = c.code
			break
		}
	}
	var ae *deviceclient.Error
	if errors.As(err, &ae) {
		out.retryAfter = ae.RetryAfter
	}
	return out
}

// wrapf is wrap with a detail of the core's before the library's.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	prefix := fmt.Sprintf(format, args...)
	var e *coreError
	if errors.As(err, &e) {
		return &coreError{code: e.code, detail: prefix + ": " + e.detail, retryAfter: e.retryAfter, err: e.err}
	}
	return wrap(fmt.Errorf("%s: %w", prefix, err))
}
