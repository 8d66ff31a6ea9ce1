package keylinecore

import (
	"context"
	"strings"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// ScanLogin reads the QR code a login page shows to log in without a
// notification (PROTOCOL.md §8, "Log in with a QR code"), given the
// scanned text, and returns the Prompt of the login it names, for the
// account of the code's issuer and user: show it as a push (the service,
// the account, what is approved, from which address, place and
// browser), ask for the number the page shows beside the code, and
// AnswerPush, which approves (behind the BiometricGate) or denies it as
// any push. The page moves on by itself once the server took the
// answer; nothing is typed into it.
//
// The code carries no server address: the account is the vault's one of
// that issuer and user, and the request is fetched from the server that
// account was activated with, at that server's time. Outcomes:
// CodeInvalidInput for text that is no login QR code (or was altered
// into another encoding), CodeUnsupported for a code of a version this
// core does not read (the app needs an update), CodeNoAccount when no
// account of this phone is the code's (deviceclient.ErrOtherAccount),
// none of which sends anything; then FetchPush's: CodeExpired for a
// code whose time ran out, CodeAlreadyUsed for one answered already
// (approved, denied or failed), CodeNotFound for a request the server
// does not have for this device, CodeDeviceRemoved, CodeUnreachable,
// and so on.
func (p *Phone) ScanLogin(scannedText string, cancel *Cancel) (*Prompt, error) {
	q, err := ParseLoginQR(scannedText)
	if err != nil {
		return nil, err
	}
	l, err := p.Accounts()
	if err != nil {
		return nil, err
	}
	var acc *Account
	for _, a := range l.items {
		// The vault holds one credential per issuer and user: at most
		// one account matches.
		if a.Issuer == q.Issuer && a.User == q.User {
			acc = a
			break
		}
	}
	if acc == nil {
		return nil, &coreError{code: CodeNoAccount, err: deviceclient.ErrOtherAccount,
			detail: "no account on this phone is the one the login QR code is for"}
	}
	var out *Prompt
	err = p.accountCall(acc.ID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		pp, err := c.ScanLogin(ctx, cred, scannedText)
		if err != nil {
			return err
		}
		out, err = promptOf(acc.ID, cred, pp)
		return err
	})
	return out, err
}

// LoginQR is what a login page's QR code names: the account whose login
// waits. It is public (the page shows it to anyone who looks).
type LoginQR struct {
	Issuer string // the service
	User   string // the user ID at the service
}

// ParseLoginQR reads a scanned login QR code strictly
// (enroll.ParseQRLogin), without the vault and without sending
// anything: for an app whose scanner tells the kinds of code apart
// (ParseOffer, ParseTransactionQR, this), or that says which account a
// code is for before asking to unlock. CodeInvalidInput for text that
// is no login QR code, CodeUnsupported for one of a version this core
// does not read (the app needs an update). Phone.ScanLogin reads the
// code the same way first.
func ParseLoginQR(scannedText string) (*LoginQR, error) {
	q, err := enroll.ParseQRLogin(scannedText)
	if err != nil {
		if qrLoginVersion(scannedText) {
			return nil, &coreError{code: CodeUnsupported, err: err,
				detail: "the login QR code is of a version this app does not read: the app needs an update"}
		}
		return nil, wrap(err)
	}
	return &LoginQR{Issuer: q.Issuer, User: q.User}, nil
}

// qrLoginVersionParam begins the text of a login QR code of any
// version: the version is its first parameter.
const qrLoginVersionParam = "keyline://login?v="

// qrLoginVersion reports whether text, refused by enroll.ParseQRLogin,
// is a login QR code of another version than 1: its version parameter
// is a decimal number other than 1. The rest of such a code may follow
// other rules, so nothing after the version is looked at.
func qrLoginVersion(text string) bool {
	rest, ok := strings.CutPrefix(text, qrLoginVersionParam)
	if !ok {
		return false
	}
	v, _, _ := strings.Cut(rest, "&")
	return v != "1" && len(v) > 0 && len(v) <= 9 && strings.Trim(v, "0123456789") == ""
}
