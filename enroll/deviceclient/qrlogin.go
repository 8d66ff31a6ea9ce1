package deviceclient

import (
	"context"
	"errors"

	"github.com/keyline/keyline/enroll"
)

// ErrOtherAccount reports a login QR code for an account other than the
// credential's (another issuer or user): a phone holding several
// accounts tries the next one; with none left, it says the code is not
// for this phone's accounts. Nothing was sent.
var ErrOtherAccount = errors.New("deviceclient: the login QR code is for another account")

// ScanLogin reads a login page's QR code (PROTOCOL.md §8, "Log in with a
// QR code") for cred's account, fetches the login request's prompt and
// opens it: show its context and issuer, ask for the number the login
// page shows (or gate on the PIN or biometric unlock the app uses), then
// answer with AnswerPush, as for a push. Text that is no login QR code
// is enroll.ErrInvalidQRLogin (a version other than 1: the app needs an
// update); one for another account is ErrOtherAccount, and neither sends
// anything. The rest are Push's outcomes: a request that is not this
// device's user's is ErrNotFound, one over enroll.ErrAlreadyUsed, one
// expired enroll.ErrExpired, a prompt that does not open
// enroll.Credential.OpenPrompt's error.
func (c *Client) ScanLogin(ctx context.Context, cred *enroll.Credential, text string) (enroll.PushPrompt, error) {
	q, err := enroll.ParseQRLogin(text)
	if err != nil {
		return enroll.PushPrompt{}, err
	}
	if q.Issuer != cred.Issuer() || q.User != cred.User() {
		return enroll.PushPrompt{}, ErrOtherAccount
	}
	return c.Push(ctx, cred, q.RequestID)
}
