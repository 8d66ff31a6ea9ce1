package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// migrate moves an account to a new phone, run on the old one: the portal
// makes an offer that replaces this device (this device's signed request
// stands for the step-up proof), the new phone scans or types it and
// activates, and the user types the pairing code the new phone shows here.
// The portal then pairs the new device and revokes this one in one step,
// and the account leaves this vault (Phone.StartMigration,
// MigrationStatus, ConfirmMigration).
func (a *app) migrate(sel selection, interval time.Duration) error {
	if interval < minInterval {
		return usagef("-interval must be at least %s", minInterval)
	}
	if _, err := a.deviceURL(); err != nil {
		return err
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
	e, err := a.chooseEntry(all, sel)
	if err != nil {
		return err
	}
	cancel, stop := a.cancel()
	defer stop()
	m := &migration{a: a, p: p, cancel: cancel, id: e.DeviceID}

	offer, err := p.StartMigration(e.DeviceID, cancel)
	if err != nil {
		return during("starting the migration", err)
	}
	drawn, err := enroll.ParseOffer(offer.URI)
	if err != nil {
		return during("starting the migration", err)
	}
	expires := time.Unix(offer.ExpiresUnix, 0)
	fmt.Fprintf(a.out, "Moving %s at %s to a new phone.\n", accountLabel(e.AccountName, e.User), e.Issuer)
	fmt.Fprintln(a.out, "On the new phone, scan this QR code:")
	fmt.Fprint(a.out, drawn.TerminalQR())
	fmt.Fprintf(a.out, "or activate with the offer URI\n  %s\n", offer.URI)
	fmt.Fprintf(a.out, "or the session ID %s. The offer expires at %s.\n", offer.SessionID, expires.Local().Format("15:04:05"))
	fmt.Fprintln(a.out, "Waiting for the new phone to activate...")

	paired, err := m.awaitNewPhone(offer.SessionID, expires, interval)
	if err != nil {
		return err
	}
	newID := ""
	if paired {
		// This device is revoked now: its credential is of no use any more.
		if err := p.RemoveAccount(e.DeviceID); err != nil {
			return fmt.Errorf("the account moved, but removing it from this vault failed: %w", err)
		}
	} else if newID, err = m.confirmNewPhone(offer.SessionID); err != nil {
		return err
	}
	if newID != "" {
		fmt.Fprintf(a.out, "Moved: the new phone's device %s is active.\n", newID)
	} else {
		fmt.Fprintln(a.out, "Moved: the portal had paired the new phone already.")
	}
	fmt.Fprintf(a.out, "This device (%s) is revoked, and the vault no longer holds the account.\n", e.DeviceID)
	return nil
}

// migration is one account's move, on the old phone.
type migration struct {
	a      *app
	p      *keylinecore.Phone
	cancel *keylinecore.Cancel
	id     string // the account
}

// awaitNewPhone polls the migration until a new phone has completed its
// activation. It reports paired when the portal has paired it already.
func (m *migration) awaitNewPhone(sessionID string, expires time.Time, interval time.Duration) (paired bool, err error) {
	a := m.a
	for {
		mp, err := m.p.MigrationStatus(m.id, sessionID, m.cancel)
		switch {
		case err == nil:
		case a.ctx.Err() != nil:
			return false, a.ctx.Err()
		case errors.Is(err, deviceclient.ErrRateLimited):
			if err := a.sleep(retryAfter(err, interval)); err != nil {
				return false, err
			}
			continue
		default:
			return false, during("waiting for the new phone", err)
		}
		switch mp.Status {
		case "completed":
			fmt.Fprintln(a.out, "The new phone has activated; it shows a pairing code.")
			return false, nil
		case "active":
			return true, nil
		case "expired":
			return false, errors.New("the offer expired before a new phone activated; nothing changed")
		case "cancelled":
			return false, errors.New("the migration was cancelled (a newer activation replaced it, or pairing failed); nothing changed")
		}
		if !a.now().Before(expires) {
			return false, errors.New("the offer expired before a new phone activated; nothing changed")
		}
		if err := a.sleep(interval); err != nil {
			return false, err
		}
	}
}

// confirmNewPhone asks for the new phone's pairing code and sends it,
// giving the user the portal's tries, as many as the server says are left
// (the migration status's tries_left). A code that is not 6 digits is
// asked again without spending one. On success the core has removed the
// account from the vault.
func (m *migration) confirmNewPhone(sessionID string) (string, error) {
	a := m.a
	malformed := 0
	for {
		ans, err := a.con.ask(a.ctx, "Pairing code shown on the new phone: ")
		if err != nil {
			return "", err
		}
		code := strings.ReplaceAll(ans, " ", "")
		if len(code) != 6 || !isDigits(code) {
			if malformed++; malformed >= maxTries {
				return "", errors.New("no pairing code given; the new phone stays unpaired and this device stays active")
			}
			a.con.say("The pairing code has 6 digits.")
			continue
		}
		id, err := m.p.ConfirmMigration(m.id, sessionID, code, m.cancel)
		if err == nil {
			return id, nil
		}
		if id != "" {
			return "", fmt.Errorf("the account moved, but removing it from this vault failed: %w", err)
		}
		if errors.Is(err, deviceclient.ErrPairingDiscarded) {
			return "", errors.New("wrong pairing code, the last try: the portal discarded the new phone's device; this device stays active, run migrate again")
		}
		if !errors.Is(err, deviceclient.ErrWrongPairingCode) {
			return "", during("confirming the new phone", err)
		}
		mp, err := m.p.MigrationStatus(m.id, sessionID, m.cancel)
		if err != nil {
			// The count is the server's; without it, say no number.
			a.con.say("Wrong pairing code.")
			continue
		}
		a.con.say("Wrong pairing code: %d tries left.", mp.TriesLeft)
	}
}
