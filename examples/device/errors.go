package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/txn"
	"github.com/keyline/keyline/enroll/vault"
)

// stepError names the step a command failed at ("fetching the offer"),
// for the line describe writes.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// during names the step err happened at; nil stays nil.
func during(step string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{step, err}
}

// errNoVault reports a command that needs a vault run before there is one.
var errNoVault = errors.New("no vault")

// errNotAQuestion reports a question the credential's suite does not take
// (challenge.ErrInvalidInput from Respond).
var errNotAQuestion = errors.New("not a challenge this account answers")

// describe turns an error into the one line the user reads: what happened
// and what to do, from the error's sentinel. The library's errors carry
// no secret, code, MAC or session ID, and the messages written here quote
// only account names and file paths, so neither a PIN, a passphrase nor
// a session ID reaches the terminal or a log through an error.
func (a *app) describe(err error) string {
	msg := a.explain(err)
	var se *stepError
	if errors.As(err, &se) {
		msg = se.step + ": " + a.explain(se.err)
	}
	// One line, whatever an underlying message holds.
	return strings.Join(strings.Fields(msg), " ")
}

func (a *app) explain(err error) string {
	var pe *vault.PINError
	var de *deviceclient.Error
	var te *txn.Error
	retry := ""
	if errors.As(err, &de) && de.RetryAfter > 0 {
		retry = fmt.Sprintf(" (try again in %s)", de.RetryAfter.Round(time.Second))
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, errNoVault):
		return fmt.Sprintf("no vault at %s: activate an account first (or give -vault)", a.vault)
	case errors.Is(err, errNoInput):
		return "standard input ended before the answer to a question"

	// The vault.
	case errors.Is(err, vault.ErrWrongPIN):
		return "wrong PIN"
	case errors.As(err, &pe):
		return "PIN refused: the PIN " + pe.Reason.String() + " (4 to 6 characters; no runs, repeats, common PINs or the user's name)"
	case errors.Is(err, vault.ErrWrongPassphrase):
		return "wrong backup passphrase (it is the one export showed, in five groups of five characters)"
	case errors.Is(err, vault.ErrParams):
		return "the vault file's Argon2id parameters are out of bounds: the file is damaged or was replaced"
	case errors.Is(err, vault.ErrKeyWrapper):
		return "the vault file is bound to a platform key this program does not have"
	case errors.Is(err, vault.ErrCorrupt):
		return "the file is damaged or is not a keyline vault or backup"
	case errors.Is(err, vault.ErrNoCredential):
		return "the vault holds no such account (see the users command)"

	// Activation.
	case errors.Is(err, enroll.ErrSessionIDTypo):
		return "the session ID is mistyped (a character is wrong, missing or extra): compare it with the portal's page"
	case errors.Is(err, enroll.ErrUnknownSession):
		return "the portal knows no activation with this session ID: it was cancelled or replaced by a newer one; start again at the portal"
	case errors.Is(err, enroll.ErrOfferMismatch):
		return "the offer does not match its session ID: the server key was substituted or the offer altered on the way; nothing was activated"
	case errors.Is(err, enroll.ErrBadServerConfirmation):
		return "the portal's confirmation does not verify: this is not the server of the offer, or its answer was altered; nothing was kept"
	case errors.Is(err, enroll.ErrInvalidOffer):
		return "not a keyline activation offer: give the keyline://activate URI of the QR code, or the session ID"
	case errors.Is(err, enroll.ErrPushAnswered):
		return "this request was answered already (on another device, or by another answer): nothing more to do"
	case errors.Is(err, enroll.ErrPushClock):
		return "this computer's clock is off the portal's: set the clock and answer again; the request is still waiting"
	case errors.Is(err, enroll.ErrAlreadyUsed):
		return "already used: the activation or request was completed before; start a new one at the portal"
	case errors.Is(err, enroll.ErrAlreadyEnrolled):
		return "already enrolled: this vault already holds a device of this user (see users; a removed account's device must also be revoked at the portal)"
	case errors.Is(err, enroll.ErrExpired):
		return "expired: start again at the portal"
	case errors.Is(err, enroll.ErrDeviceIntegrity):
		return "the portal's device policy refused this device"
	case errors.Is(err, deviceclient.ErrTooManyDevices):
		return "the user has as many devices as the portal allows: revoke one at the portal first"

	// The device API.
	case errors.Is(err, deviceclient.ErrUnreachable):
		return fmt.Sprintf("cannot reach the portal's device API at %s%s: is the portal running, and is -portal right?",
			strings.TrimRight(a.portal, "/"), deviceMount)
	case errors.Is(err, enroll.ErrDeviceAuth):
		return "the portal does not accept this device: it is not paired yet, was revoked (the status command tells), or belongs to another portal (-portal)"
	case errors.Is(err, deviceclient.ErrClockOffset):
		return "this computer's clock is more than a day off the portal's: set the clock"
	case errors.Is(err, enroll.ErrAPIRequestTime):
		return "this computer's clock is off the portal's and the request could not be corrected: set the clock"
	case errors.Is(err, enroll.ErrAPIReplay):
		return "the portal saw this request before: try again"
	case errors.Is(err, deviceclient.ErrRateLimited):
		return "too many requests to the portal" + retry
	case errors.Is(err, deviceclient.ErrLocked):
		return "the account is locked after too many failures" + retry
	case errors.Is(err, deviceclient.ErrWrongNumber):
		return "wrong number: it is not the one the login page shows; that request is over, start the login again"
	case errors.Is(err, deviceclient.ErrPairingDiscarded):
		return "too many wrong pairing codes: the new phone was discarded; start again"
	case errors.Is(err, deviceclient.ErrWrongPairingCode):
		return "wrong pairing code"
	case errors.Is(err, deviceclient.ErrInvalidCode):
		return "the portal refused the transaction's signature; the request is over"
	case errors.Is(err, deviceclient.ErrProofRequired):
		return "the portal asks for a fresh second-factor confirmation first"
	case errors.Is(err, deviceclient.ErrNotFound):
		return "the portal has no such request, or no device API at " + strings.TrimRight(a.portal, "/") + deviceMount
	case errors.Is(err, deviceclient.ErrServer):
		return "the portal failed" + retry + ": try again later"
	case errors.Is(err, deviceclient.ErrBadAnswer):
		return "the portal's answer is not what the protocol says; nothing from it was used"
	case errors.Is(err, deviceclient.ErrBadRequest):
		return "the portal refused the request as malformed: this program and the portal may speak different versions"

	// Push, log in with a QR code, and transactions.
	case errors.Is(err, errNewerLoginQR):
		return "the login QR code is of a newer version than this program reads: update it"
	case errors.Is(err, enroll.ErrInvalidQRLogin):
		return "not a keyline login QR code: give the keyline://login?... text of the QR code on the login page, whole"
	case errors.Is(err, deviceclient.ErrOtherAccount):
		return "the QR code is not for an account of this vault (see the users command): it is another phone's, or another vault's (-vault)"
	case errors.Is(err, enroll.ErrBadPrompt), errors.Is(err, enroll.ErrPromptNotForDevice):
		return "the push request does not verify for this device: it was not shown"
	case errors.As(err, &te):
		if te.Class == txn.ClassVersion {
			return "the transaction is of a newer version than this program reads"
		}
		if te.Field != "" {
			return fmt.Sprintf("not a valid transaction QR payload: %s: %s", te.Field, te.Reason)
		}
		return "not a valid transaction QR payload: " + te.Reason
	case errors.Is(err, errNotAQuestion):
		return "that is not a challenge this account answers: type the digits the login page shows"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file: " + pathOf(err)
	case errors.Is(err, fs.ErrPermission):
		return "permission denied: " + pathOf(err)
	}
	return err.Error()
}

// pathOf returns the path of a file system error.
func pathOf(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	return err.Error()
}
