package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// users lists the vault's accounts: account name, issuer, user ID and
// device ID. None of these is a secret; the credentials' keys never leave
// the vault.
func (a *app) users() error {
	p, err := a.openPhone()
	if err != nil {
		return err
	}
	defer p.Lock()
	list, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(a.out, "The vault holds no account.")
		return nil
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tISSUER\tUSER ID\tDEVICE ID")
	for _, e := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.AccountName, e.Issuer, e.User, e.DeviceID)
	}
	return tw.Flush()
}

// respond answers a login challenge with the chosen account's credential
// and prints the response: to a terminal as a sentence, in groups of four
// digits; to a pipe or a file as its 8 digits alone, so that a script
// can pass it on as it is (a sentence piped into the login form would be
// a wrong answer, counted toward the lock).
func (a *app) respond(args []string, sel selection) error {
	if len(args) == 0 {
		return usagef("give the challenge the login page shows")
	}
	// People copy "123 456" or "123-456"; the question is its digits.
	question := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.Join(args, ""))
	p, err := a.openPhone()
	if err != nil {
		return err
	}
	defer p.Lock()
	all, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	e, err := a.chooseEntry(all, sel)
	if err != nil {
		return err
	}
	r, err := p.Respond(e.DeviceID, question)
	if errors.Is(err, challenge.ErrInvalidInput) {
		return fmt.Errorf("%w: %w", errNotAQuestion, err)
	}
	if err != nil {
		return err
	}
	if !a.outTTY {
		_, err = fmt.Fprintln(a.out, r)
		return err
	}
	fmt.Fprintf(a.out, "Response for %s at %s: %s\n", accountLabel(e.AccountName, e.User), e.Issuer, group(r))
	return nil
}

// group writes a code in groups of four characters: "1234 5678".
func group(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// removeUser deletes an account from the vault. Its device stays
// registered at the portal until revoked there: the phone cannot revoke
// itself through the device API.
func (a *app) removeUser(args []string, issuer string) error {
	if len(args) == 0 {
		return usagef("give the account to remove (see the users command)")
	}
	sel := selection{user: strings.Join(args, " "), issuer: issuer}
	p, err := a.openPhone()
	if err != nil {
		return err
	}
	defer p.Lock()
	all, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	e, err := a.chooseEntry(all, sel)
	if err != nil {
		return err
	}
	if err := p.RemoveAccount(e.DeviceID); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "Removed %s at %s from the vault.\n", accountLabel(e.AccountName, e.User), e.Issuer)
	fmt.Fprintf(a.out, "Its device %s is still registered at the portal: revoke it there.\n", e.DeviceID)
	return nil
}

// changePIN replaces the vault's PIN, applying the PIN policy for every
// account it holds (Phone.ChangePIN).
func (a *app) changePIN() error {
	// The old PIN is asked once, to open the vault and again for
	// ChangePIN, which checks it itself.
	p, old, err := a.unlockPhone("Current PIN: ")
	if err != nil {
		return err
	}
	defer p.Lock()
	all, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range all {
		names = append(names, e.User, e.AccountName)
	}
	pin, err := a.newPIN(names...)
	if err != nil {
		return err
	}
	if err := p.ChangePIN(old, pin); err != nil {
		return err
	}
	fmt.Fprintln(a.out, "The PIN is changed.")
	fmt.Fprintln(a.out, "Copies of the vault file taken before still open with the old PIN.")
	return nil
}

// export writes a backup of the vault to a new file and shows its
// passphrase, once (Phone.ExportBackup). The file is the backup's blob
// alone, as before: the accounts' server is -portal's device API, which
// import gives them again, so the backup's Servers are not kept.
func (a *app) export(args []string) error {
	if len(args) != 1 {
		return usagef("give the backup file to write")
	}
	p, err := a.openPhone()
	if err != nil {
		return err
	}
	defer p.Lock()
	all, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	b, err := p.ExportBackup()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(args[0], b.Blob, false); err != nil {
		return during("writing the backup", err)
	}
	fmt.Fprintf(a.out, "Backup of %d account(s) written to %s.\n", len(all), args[0])
	fmt.Fprintf(a.out, "Passphrase: %s\n", b.Passphrase)
	fmt.Fprintln(a.out, "It is shown this once. Keep it apart from the file: whoever has both has every account.")
	fmt.Fprintln(a.out, "A restored backup is a clone of these devices, not a move: to move to a new phone, use migrate.")
	return nil
}

// importBackup restores a backup: merged into the vault when there is
// one (its PIN opens it), or as a new vault under a new PIN
// (Phone.ImportBackupTo, with -portal's device API as the accounts'
// server). A new vault is made in memory and written only once the
// import and the PIN policy for its accounts passed.
func (a *app) importBackup(args []string) error {
	if len(args) != 1 {
		return usagef("give the backup file to read")
	}
	blob, err := readSmallFile(args[0])
	if err != nil {
		return during("reading the backup", err)
	}
	server, err := a.deviceURL()
	if err != nil {
		return err
	}
	f, err := readVaultFile(a.vault)
	if err != nil {
		return err
	}
	var p *keylinecore.Phone
	var before map[string]bool
	if f.exists {
		if p, err = a.openPhone(); err != nil {
			return err
		}
		defer p.Lock()
		all, err := phoneAccounts(p)
		if err != nil {
			return err
		}
		before = map[string]bool{}
		for _, e := range all {
			before[e.DeviceID] = true
		}
		pass, err := a.con.secret(a.ctx, "Backup passphrase: ")
		if err != nil {
			return err
		}
		if _, err := p.ImportBackupTo(blob, pass, server); err != nil {
			return err
		}
	} else {
		pass, err := a.con.secret(a.ctx, "Backup passphrase: ")
		if err != nil {
			return err
		}
		a.con.say("The backup becomes the vault %s: choose its PIN.", a.vault)
		pin, err := a.newPIN() // checked against the backup's names below
		if err != nil {
			return err
		}
		if p, err = a.importNewVault(blob, pass, pin, server); err != nil {
			return err
		}
		defer p.Lock()
	}
	all, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	var added []vault.Entry
	for _, e := range all {
		if !before[e.DeviceID] {
			added = append(added, e)
		}
	}
	fmt.Fprintf(a.out, "Imported %d account(s) into %s:\n", len(added), a.vault)
	for _, e := range added {
		fmt.Fprintf(a.out, "  %s\n", entryLabel(e))
	}
	fmt.Fprintln(a.out, "They answer as the devices they were backed up from: do not keep both copies in use.")
	return nil
}

// importNewVault makes a vault from a backup, in memory: under pin,
// which must pass the PIN policy for every account of the backup; then
// writes its records to the vault file (refused if one appeared
// meanwhile) and returns the core over the file, unlocked.
func (a *app) importNewVault(blob []byte, pass, pin, server string) (*keylinecore.Phone, error) {
	mem := memStorage{}
	staged, err := keylinecore.NewPhone(a.coreConfig(""), mem, nil, terminalGate{}, appClock{a.now})
	if err != nil {
		return nil, err
	}
	defer staged.Lock()
	if err := staged.CreateVault(pin); err != nil {
		return nil, err
	}
	if _, err := staged.ImportBackupTo(blob, pass, server); err != nil {
		return nil, err
	}
	all, err := phoneAccounts(staged)
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		for _, n := range []string{e.User, e.AccountName} {
			if err := keylinecore.CheckPIN(pin, n); err != nil {
				return nil, err
			}
		}
	}
	if err := a.writeStaged(mem); err != nil {
		return nil, err
	}
	p, err := a.newPhone("")
	if err != nil {
		return nil, err
	}
	if err := p.Unlock(pin); err != nil {
		return nil, err
	}
	return p, nil
}

// qr draws an activation offer URI as a QR code in the terminal, for a
// phone to scan.
func (a *app) qr(args []string) error {
	if len(args) != 1 {
		return usagef("give one keyline://activate URI")
	}
	offer, err := enroll.ParseOffer(strings.TrimSpace(args[0]))
	if err != nil {
		if strings.HasPrefix(strings.ToLower(args[0]), "keyline://tx") {
			return errors.New("only activation offers are drawn; a transaction QR code is signed with the sign command")
		}
		return err
	}
	art := offer.TerminalQR()
	if art == "" {
		return errors.New("this offer cannot be drawn as a QR code")
	}
	fmt.Fprint(a.out, art)
	fmt.Fprintf(a.out, "%s at %s, session ID %s\n", accountLabel(offer.AccountName, offer.User), offer.Issuer, offer.SessionID)
	return nil
}
