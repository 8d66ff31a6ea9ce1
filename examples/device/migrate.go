package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// migrate moves an account to a new phone, run on the old one: the portal
// makes an offer that replaces this device (this device's signed request
// stands for the step-up proof), the new phone scans or types it and
// activates, and the user types the pairing code the new phone shows here.
// The portal then pairs the new device and revokes this one in one step,
// and the account leaves this vault.
func (a *app) migrate(sel selection, interval time.Duration) error {
	if interval < minInterval {
		return usagef("-interval must be at least %s", minInterval)
	}
	client, err := a.deviceClient()
	if err != nil {
		return err
	}
	v, f, err := a.openVault()
	if err != nil {
		return err
	}
	defer v.Zero()
	e, err := a.choose(v, sel)
	if err != nil {
		return err
	}
	c, err := credential(v, e)
	if err != nil {
		return err
	}
	defer c.Zero()

	offer, err := client.StartMigration(a.ctx, c)
	if err != nil {
		return during("starting the migration", err)
	}
	fmt.Fprintf(a.out, "Moving %s at %s to a new phone.\n", accountLabel(e.AccountName, e.User), e.Issuer)
	fmt.Fprintln(a.out, "On the new phone, scan this QR code:")
	fmt.Fprint(a.out, offer.TerminalQR())
	fmt.Fprintf(a.out, "or activate with the offer URI\n  %s\n", offer.URI())
	fmt.Fprintf(a.out, "or the session ID %s. The offer expires at %s.\n", offer.SessionID, offer.ExpiresAt.Local().Format("15:04:05"))
	fmt.Fprintln(a.out, "Waiting for the new phone to activate...")

	paired, err := a.awaitNewPhone(client, c, offer, interval)
	if err != nil {
		return err
	}
	newID := ""
	if !paired {
		if newID, err = a.confirmNewPhone(client, c, offer.SessionID); err != nil {
			return err
		}
	}
	// This device is revoked now: its credential is of no use any more.
	if err := v.Remove(e.Issuer, e.User); err != nil {
		return err
	}
	if err := a.seal(v, f); err != nil {
		return fmt.Errorf("the account moved, but removing it from this vault failed: %w", err)
	}
	if newID != "" {
		fmt.Fprintf(a.out, "Moved: the new phone's device %s is active.\n", newID)
	} else {
		fmt.Fprintln(a.out, "Moved: the portal had paired the new phone already.")
	}
	fmt.Fprintf(a.out, "This device (%s) is revoked, and the vault no longer holds the account.\n", e.DeviceID)
	return nil
}

// awaitNewPhone polls the migration until a new phone has completed its
// activation. It reports paired when the portal has paired it already.
func (a *app) awaitNewPhone(client *deviceclient.Client, c *enroll.Credential, offer enroll.Offer, interval time.Duration) (paired bool, err error) {
	for {
		status, err := client.MigrationStatus(a.ctx, c, offer.SessionID)
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
		switch status {
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
		if !a.now().Before(offer.ExpiresAt) {
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
// asked again without spending one.
func (a *app) confirmNewPhone(client *deviceclient.Client, c *enroll.Credential, sessionID string) (string, error) {
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
		id, err := client.ConfirmMigration(a.ctx, c, sessionID, code)
		if err == nil {
			return id, nil
		}
		if errors.Is(err, deviceclient.ErrPairingDiscarded) {
			return "", errors.New("wrong pairing code, the last try: the portal discarded the new phone's device; this device stays active, run migrate again")
		}
		if !errors.Is(err, deviceclient.ErrWrongPairingCode) {
			return "", during("confirming the new phone", err)
		}
		p, err := client.MigrationProgress(a.ctx, c, sessionID)
		if err != nil {
			// The count is the server's; without it, say no number.
			a.con.say("Wrong pairing code.")
			continue
		}
		a.con.say("Wrong pairing code: %d tries left.", p.TriesLeft)
	}
}
