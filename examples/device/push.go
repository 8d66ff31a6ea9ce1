package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/txn"
	"github.com/keyline/keyline/enroll/vault"
)

// watched is an account whose pushes watch asks for.
type watched struct {
	entry vault.Entry
	cred  *enroll.Credential
}

// openAccounts opens the vault and returns copies of the credentials of the
// accounts sel names (every account when it names none). Zero them, and
// the vault, when done.
func (a *app) openAccounts(sel selection) (*vault.Vault, []watched, error) {
	v, _, err := a.openVault()
	if err != nil {
		return nil, nil, err
	}
	entries := filterEntries(v.List(), sel)
	if len(entries) == 0 {
		v.Zero()
		if v.Len() == 0 {
			return nil, nil, errors.New("the vault holds no account: activate one first")
		}
		return nil, nil, fmt.Errorf("the vault holds no account %s (see the users command)", describeSelection(sel))
	}
	var out []watched
	for _, e := range entries {
		c, err := credential(v, e)
		if err != nil {
			zeroAll(out)
			v.Zero()
			return nil, nil, err
		}
		out = append(out, watched{e, c})
	}
	return v, out, nil
}

func zeroAll(ws []watched) {
	for _, w := range ws {
		w.cred.Zero()
	}
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
	client, err := a.deviceClient()
	if err != nil {
		return err
	}
	v, accounts, err := a.openAccounts(sel)
	if err != nil {
		return err
	}
	defer v.Zero()
	defer zeroAll(accounts)

	fmt.Fprintf(a.out, "Watching %d account(s) for push requests from %s; Ctrl-C stops.\n", len(accounts), a.portal)
	seen := map[string]bool{} // request IDs handled: each is shown once
	for {
		for i := 0; i < len(accounts); {
			w := accounts[i]
			prompts, err := client.Pushes(a.ctx, w.cred)
			switch {
			case err == nil:
			case a.ctx.Err() != nil:
				return a.stopped(once)
			case errors.Is(err, enroll.ErrDeviceAuth):
				a.con.say("%s at %s: %s; no longer watched.", w.entry.AccountName, w.entry.Issuer, a.describe(err))
				accounts = append(accounts[:i], accounts[i+1:]...)
				w.cred.Zero()
				continue
			case errors.Is(err, deviceclient.ErrRateLimited):
				if err := a.sleep(retryAfter(err, interval)); err != nil {
					return a.stopped(once)
				}
				continue
			default:
				return during("asking for push requests", err)
			}
			for _, p := range prompts {
				if seen[p.RequestID] {
					continue
				}
				seen[p.RequestID] = true
				err := a.answerPrompt(client, w, p)
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
// the number the login page shows, or d to deny, then sends the answer.
// A transaction that cannot be shown can only be denied.
func (a *app) answerPrompt(client *deviceclient.Client, w watched, p enroll.PushPrompt) error {
	fmt.Fprintln(a.out)
	fmt.Fprintf(a.out, "Push request for %s at %s\n", accountLabel(w.entry.AccountName, w.entry.User), w.entry.Issuer)
	fmt.Fprintf(a.out, "  Action:  %s\n", p.Context.Action)
	fmt.Fprintf(a.out, "  From:    %s\n", orUnknown(p.Context.IP))
	fmt.Fprintf(a.out, "  Place:   %s\n", orUnknown(p.Context.Place))
	fmt.Fprintf(a.out, "  Browser: %s\n", orUnknown(p.Context.Browser))
	showable := true
	if len(p.Transaction) > 0 {
		lines, err := transactionLines(p.Transaction)
		if err != nil {
			showable = false
			fmt.Fprintf(a.out, "  Transaction: cannot be shown (%s); it can only be denied.\n", a.describe(err))
		} else {
			fmt.Fprintln(a.out, "  Transaction (approving signs it):")
			for _, l := range lines {
				fmt.Fprintf(a.out, "    %s\n", l)
			}
		}
	}
	fmt.Fprintf(a.out, "  Expires: %s (in %s)\n", p.ExpiresAt.Local().Format("15:04:05"),
		max(0, p.ExpiresAt.Sub(a.now())).Round(time.Second))

	approve, number, err := a.askDecision(showable)
	if err != nil {
		return err
	}
	if err := client.AnswerPush(a.ctx, w.cred, p, approve, number); err != nil {
		return during("answering the push request", err)
	}
	if approve {
		fmt.Fprintln(a.out, "Approved.")
	} else {
		fmt.Fprintln(a.out, "Denied. The portal suspends push for this account for a while and warns the user.")
	}
	return nil
}

// maxTries bounds how often a question is asked again after an answer
// that is not one of the choices.
const maxTries = 3

// askDecision reads the number the user types (approve) or d (deny).
func (a *app) askDecision(canApprove bool) (approve bool, number string, err error) {
	question := "Type the 2-digit number the login page shows to approve, or d to deny: "
	if !canApprove {
		question = "Type d to deny: "
	}
	for range maxTries {
		ans, err := a.con.ask(a.ctx, question)
		if err != nil {
			return false, "", err
		}
		switch strings.ToLower(ans) {
		case "d", "deny", "n", "no":
			return false, "", nil
		}
		if canApprove && len(ans) == 2 && isDigits(ans) {
			return true, ans, nil
		}
		if canApprove {
			a.con.say("The number has 2 digits, as the login page shows it; d denies.")
		}
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

// transactionLines parses canonical transaction bytes and returns the
// lines to show: computed from the bytes that are signed.
func transactionLines(b []byte) ([]string, error) {
	t, err := txn.Parse(b)
	if err != nil {
		return nil, err
	}
	return t.Display()
}

// sign signs a transaction: without arguments, the oldest transaction
// push waiting for the chosen accounts; with a QR payload, the
// transaction it carries, printing the response to type into the page.
func (a *app) sign(args []string, sel selection) error {
	if len(args) > 0 {
		return a.signQR(strings.Join(args, ""), sel)
	}
	client, err := a.deviceClient()
	if err != nil {
		return err
	}
	v, accounts, err := a.openAccounts(sel)
	if err != nil {
		return err
	}
	defer v.Zero()
	defer zeroAll(accounts)
	for _, w := range accounts {
		prompts, err := client.Pushes(a.ctx, w.cred)
		if err != nil {
			if len(accounts) > 1 && errors.Is(err, enroll.ErrDeviceAuth) {
				continue // another portal's account, or one not paired yet
			}
			return during("asking for push requests", err)
		}
		for _, p := range prompts {
			if len(p.Transaction) > 0 {
				return a.answerPrompt(client, w, p)
			}
		}
	}
	return errors.New("no transaction is waiting for approval (for a QR code, give its payload)")
}

// signQR signs the transaction of a QR payload with the chosen account
// after the user saw it and agreed.
func (a *app) signQR(payload string, sel selection) error {
	nonce, tx, err := txn.ParseQR(strings.TrimSpace(payload))
	if err != nil {
		return err
	}
	lines, err := tx.Display()
	if err != nil {
		return err
	}
	v, _, err := a.openVault()
	if err != nil {
		return err
	}
	defer v.Zero()
	e, err := a.choose(v, sel)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Transaction for %s at %s:\n", accountLabel(e.AccountName, e.User), e.Issuer)
	for _, l := range lines {
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
	c, err := credential(v, e)
	if err != nil {
		return err
	}
	defer c.Zero()
	r, err := c.RespondTransaction(nonce, tx, a.now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Response: %s\n", group(r))
	fmt.Fprintln(a.out, "Type it into the page that showed the QR code.")
	return nil
}
