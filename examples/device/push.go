package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/vault"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// openAccounts opens the vault through the core and returns the
// accounts sel names (every account when it names none). Lock the phone
// when done.
func (a *app) openAccounts(sel selection) (*keylinecore.Phone, []vault.Entry, error) {
	p, err := a.openPhone()
	if err != nil {
		return nil, nil, err
	}
	all, err := phoneAccounts(p)
	if err != nil {
		p.Lock()
		return nil, nil, err
	}
	entries := filterEntries(all, sel)
	if len(entries) == 0 {
		p.Lock()
		if len(all) == 0 {
			return nil, nil, errors.New("the vault holds no account: activate one first")
		}
		return nil, nil, fmt.Errorf("the vault holds no account %s (see the users command)", describeSelection(sel))
	}
	return p, entries, nil
}

// watch asks the portal for push requests of every chosen account, every
// interval, and lets the user answer each. With once it returns after the
// first request answered (or refused), its error saying how that went;
// otherwise it runs until interrupted, reporting failed answers and going
// on. An account the portal does not accept (not yet paired, revoked) is
// reported and no longer asked for.
func (a *app) watch(sel selection, once bool, interval time.Duration) error {
	if interval < minInterval {
		return usagef("-interval must be at least %s", minInterval)
	}
	if _, err := a.deviceURL(); err != nil {
		return err
	}
	phone, accounts, err := a.openAccounts(sel)
	if err != nil {
		return err
	}
	defer phone.Lock()
	cancel, stop := a.cancel()
	defer stop()

	fmt.Fprintf(a.out, "Watching %d account(s) for push requests from %s; Ctrl-C stops.\n", len(accounts), a.portal)
	seen := map[string]bool{} // request IDs handled: each is shown once
	for {
		for i := 0; i < len(accounts); {
			w := accounts[i]
			prompts, err := phone.FetchPushes(w.DeviceID, cancel)
			switch {
			case err == nil:
			case a.ctx.Err() != nil:
				return a.stopped(once)
			case errors.Is(err, enroll.ErrDeviceAuth):
				a.con.say("%s at %s: %s; no longer watched.", w.AccountName, w.Issuer, a.describe(err))
				accounts = append(accounts[:i], accounts[i+1:]...)
				continue
			case errors.Is(err, deviceclient.ErrRateLimited):
				if err := a.sleep(retryAfter(err, interval)); err != nil {
					return a.stopped(once)
				}
				continue
			default:
				return during("asking for push requests", err)
			}
			for k := range prompts.Len() {
				p := prompts.At(k)
				if seen[p.RequestID] {
					continue
				}
				seen[p.RequestID] = true
				err := a.answerPrompt(phone, cancel, w, p)
				if once {
					return err
				}
				if err != nil {
					if a.ctx.Err() != nil {
						return a.stopped(once)
					}
					if errors.Is(err, errNoInput) {
						return err
					}
					a.con.say("%s", a.describe(err))
				}
			}
			i++
		}
		if len(accounts) == 0 {
			return errors.New("no account left to watch: the portal accepts none of the vault's devices")
		}
		if err := a.sleep(interval); err != nil {
			return a.stopped(once)
		}
	}
}

// stopped is watch's end by interruption: a normal end for a watch that
// runs until stopped, a failure for one waiting for its one request.
func (a *app) stopped(once bool) error {
	if once {
		return errors.New("interrupted before a push request came")
	}
	fmt.Fprintln(a.out, "Stopped.")
	return nil
}

// retryAfter is how long the portal asked to wait, or def.
func retryAfter(err error, def time.Duration) time.Duration {
	var de *deviceclient.Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		return de.RetryAfter
	}
	return def
}

// answerPrompt shows a push request — the account, what is to be
// approved, where from, the transaction if it carries one — and asks for
// the number the login page shows, or d to deny, then sends the answer
// (Phone.AnswerPush). The core shows no request whose transaction does
// not read: it leaves it out of FetchPushes, and the portal lets it
// expire.
func (a *app) answerPrompt(phone *keylinecore.Phone, cancel *keylinecore.Cancel, w vault.Entry, p *keylinecore.Prompt) error {
	a.showPrompt("Push request", accountLabel(w.AccountName, w.User), p)
	approve, number, err := a.askDecision()
	if err != nil {
		return err
	}
	if err := phone.AnswerPush(p, approve, number, cancel); err != nil {
		return during("answering the push request", err)
	}
	if approve {
		fmt.Fprintln(a.out, "Approved.")
	} else {
		fmt.Fprintln(a.out, "Denied. The portal suspends push for this account for a while and warns the user.")
	}
	return nil
}

// showPrompt shows a request (a push, or a login from a QR code) of the
// account label: what is to be approved, where from, the transaction if
// it carries one, and when it expires.
func (a *app) showPrompt(kind, label string, p *keylinecore.Prompt) {
	fmt.Fprintln(a.out)
	fmt.Fprintf(a.out, "%s for %s at %s\n", kind, label, p.Issuer)
	fmt.Fprintf(a.out, "  Action:  %s\n", p.Action)
	fmt.Fprintf(a.out, "  From:    %s\n", orUnknown(p.IP))
	fmt.Fprintf(a.out, "  Place:   %s\n", orUnknown(p.Place))
	fmt.Fprintf(a.out, "  Browser: %s\n", orUnknown(p.Browser))
	if p.TransactionLines != "" {
		fmt.Fprintln(a.out, "  Transaction (approving signs it):")
		for _, l := range strings.Split(p.TransactionLines, "\n") {
			fmt.Fprintf(a.out, "    %s\n", l)
		}
	}
	expires := time.Unix(p.ExpiresUnix, 0)
	fmt.Fprintf(a.out, "  Expires: %s (in %s)\n", expires.Local().Format("15:04:05"),
		max(0, expires.Sub(a.now())).Round(time.Second))
}

// maxTries bounds how often a question is asked again after an answer
// that is not one of the choices.
const maxTries = 3

// askDecision reads the number the user types (approve) or d (deny).
func (a *app) askDecision() (approve bool, number string, err error) {
	const question = "Type the 2-digit number the login page shows to approve, or d to deny: "
	for range maxTries {
		ans, err := a.con.ask(a.ctx, question)
		if err != nil {
			return false, "", err
		}
		switch strings.ToLower(ans) {
		case "d", "deny", "n", "no":
			return false, "", nil
		}
		if len(ans) == 2 && isDigits(ans) {
			return true, ans, nil
		}
		a.con.say("The number has 2 digits, as the login page shows it; d denies.")
	}
	return false, "", errors.New("no valid answer: the request was left unanswered")
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func orUnknown(s string) string {
	if s == "" {
		return "(not given)"
	}
	return s
}

// sign signs a transaction: without arguments, the oldest transaction
// push waiting for the chosen accounts; with a QR payload, the
// transaction it carries, printing the response to type into the page.
func (a *app) sign(args []string, sel selection) error {
	if len(args) > 0 {
		return a.signQR(strings.Join(args, ""), sel)
	}
	if _, err := a.deviceURL(); err != nil {
		return err
	}
	phone, accounts, err := a.openAccounts(sel)
	if err != nil {
		return err
	}
	defer phone.Lock()
	cancel, stop := a.cancel()
	defer stop()
	for _, w := range accounts {
		prompts, err := phone.FetchPushes(w.DeviceID, cancel)
		if err != nil {
			if len(accounts) > 1 && errors.Is(err, enroll.ErrDeviceAuth) {
				continue // another portal's account, or one not paired yet
			}
			return during("asking for push requests", err)
		}
		for k := range prompts.Len() {
			if p := prompts.At(k); p.TransactionLines != "" {
				return a.answerPrompt(phone, cancel, w, p)
			}
		}
	}
	return errors.New("no transaction is waiting for approval (for a QR code, give its payload)")
}

// signQR signs the transaction of a QR payload with the chosen account
// after the user saw it and agreed.
func (a *app) signQR(payload string, sel selection) error {
	payload = strings.TrimSpace(payload)
	tx, err := keylinecore.ParseTransactionQR(payload)
	if err != nil {
		return err
	}
	phone, err := a.openPhone()
	if err != nil {
		return err
	}
	defer phone.Lock()
	all, err := phoneAccounts(phone)
	if err != nil {
		return err
	}
	e, err := a.chooseEntry(all, sel)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Transaction for %s at %s:\n", accountLabel(e.AccountName, e.User), e.Issuer)
	for _, l := range strings.Split(tx.Lines, "\n") {
		fmt.Fprintf(a.out, "  %s\n", l)
	}
	ans, err := a.con.ask(a.ctx, "Sign this transaction? Type y to sign: ")
	if err != nil {
		return err
	}
	if yes := strings.ToLower(ans); yes != "y" && yes != "yes" {
		fmt.Fprintln(a.out, "Not signed.")
		return nil
	}
	r, err := phone.SignTransactionQR(e.DeviceID, payload)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Response: %s\n", group(r))
	fmt.Fprintln(a.out, "Type it into the page that showed the QR code.")
	return nil
}
