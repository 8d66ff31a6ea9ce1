package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// errNewerLoginQR reports a login QR code of a version this program
// does not read (keylinecore.CodeUnsupported from ParseLoginQR).
var errNewerLoginQR = errors.New("a login QR code of a newer version")

// loginQR answers the login a login page's QR code shows ("Log in with
// QR code", PROTOCOL.md §8): text is the code's text (keyline://login?…),
// or "-" for the first line of standard input. The code names the
// account; the core fetches the login request from the portal, and this
// shows it as watch shows a push, then approves it with the number
// (typed at the prompt, or -number) or denies it (d at the prompt, or
// -deny). The text is read before the PIN is asked for, so that a code
// that is no login QR code is refused without it.
func (a *app) loginQR(args []string, number string, deny bool) error {
	if len(args) != 1 {
		return usagef("give the text of the login page's QR code (keyline://login?...), or - to read it from standard input")
	}
	if deny && number != "" {
		return usagef("-deny and -number exclude each other")
	}
	if number != "" && (len(number) != 2 || !isDigits(number)) {
		return usagef("-number is the 2 digits the login page shows")
	}
	if _, err := a.deviceURL(); err != nil {
		return err
	}
	text := args[0]
	if text == "-" {
		var err error
		if text, err = a.con.ask(a.ctx, "Text of the login page's QR code: "); err != nil {
			return err
		}
	}
	// A decoder's output may end in a line ending; the text has no space.
	text = strings.TrimSpace(text)
	if _, err := keylinecore.ParseLoginQR(text); err != nil {
		if keylinecore.ErrorCode(err) == keylinecore.CodeUnsupported {
			return fmt.Errorf("%w: %w", errNewerLoginQR, err)
		}
		return err
	}

	phone, err := a.openPhone()
	if err != nil {
		return err
	}
	defer phone.Lock()
	cancel, stop := a.cancel()
	defer stop()
	p, err := phone.ScanLogin(text, cancel)
	if errors.Is(err, deviceclient.ErrOtherAccount) {
		return err // nothing was fetched
	}
	if err != nil {
		return during("fetching the login request", err)
	}
	label := p.AccountName
	if acc, err := phone.Account(p.AccountID); err == nil {
		label = accountLabel(acc.AccountName, acc.User)
	}
	a.showPrompt("Login request", label, p)

	approve, typed := !deny, number
	if !deny && number == "" {
		if approve, typed, err = a.askDecision(); err != nil {
			return err
		}
	}
	if err := phone.AnswerPush(p, approve, typed, cancel); err != nil {
		return during("answering the login request", err)
	}
	if approve {
		fmt.Fprintln(a.out, "Approved. The login page moves on by itself.")
	} else {
		fmt.Fprintln(a.out, "Denied. The login page ends that sign-in and asks whether it was you.")
	}
	return nil
}
