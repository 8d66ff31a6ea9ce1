package main

import (
	"fmt"
	"strings"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
)

// activate activates an account: from an offer URI (the QR code's
// payload) or a session ID the user typed, whose offer is fetched from the
// portal and checked against it. The first activation makes the vault,
// with a new PIN asked twice; later ones open it with its PIN (add-user
// insists that it exists). The pairing code is shown only once the
// credential is safely in the vault file, so that the portal never pairs
// a device whose credential was lost.
func (a *app) activate(args []string, name string, mustExist bool) error {
	if len(args) == 0 {
		return usagef("give the offer URI of the QR code, or the session ID the portal shows")
	}
	input := strings.TrimSpace(strings.Join(args, " ")) // a session ID may come in groups
	f, err := readVaultFile(a.vault)
	if err != nil {
		return err
	}
	if mustExist && !f.exists {
		return errNoVault
	}
	client, err := a.deviceClient()
	if err != nil {
		return err
	}

	var offer enroll.Offer
	if strings.Contains(input, "://") {
		// Scanned: the URI is the whole offer, and its key hashes to its
		// session ID (ParseOffer checks). The server address is never
		// taken from it: it is -portal.
		if offer, err = enroll.ParseOffer(input); err != nil {
			return during("reading the offer", err)
		}
	} else {
		// Typed: FetchOffer checks the ID before sending it, and that the
		// key of the offer it gets hashes to it.
		if offer, err = client.FetchOffer(a.ctx, input); err != nil {
			return during("fetching the offer", err)
		}
	}
	if !a.now().Before(offer.ExpiresAt) {
		return during("reading the offer", enroll.ErrExpired)
	}
	fmt.Fprintf(a.out, "Activating %s at %s.\n", accountLabel(offer.AccountName, offer.User), offer.Issuer)

	var v *vault.Vault
	if f.exists {
		v, err = a.unlock(f, "PIN: ")
	} else {
		a.con.say("This is the first account of the vault %s: choose its PIN.", a.vault)
		var pin string
		if pin, err = a.newPIN(offer.User, offer.AccountName); err == nil {
			v, err = vault.New(pin, vaultOptions)
		}
	}
	if err != nil {
		return err
	}
	defer v.Zero()
	// Refuse before the portal makes a device that could never be kept.
	if c, err := v.Get(offer.Issuer, offer.User); err == nil {
		c.Zero()
		return enroll.ErrAlreadyEnrolled
	}
	info, err := deviceInfo(v, name)
	if err != nil {
		return err
	}
	act, err := client.Activate(a.ctx, offer, info)
	if err != nil {
		return during("activating", err)
	}
	cred := act.Credential
	defer cred.Zero()
	if err := v.Add(cred); err != nil {
		return err
	}
	if err := a.seal(v, f); err != nil {
		return fmt.Errorf("%w (the portal's new device stays unpaired and lapses)", err)
	}
	fmt.Fprintf(a.out, "Activated: device %s, kept in %s.\n", cred.DeviceID(), a.vault)
	if act.Paired {
		fmt.Fprintln(a.out, "The portal activated the device at once (it does not ask for pairing).")
		return nil
	}
	fmt.Fprintf(a.out, "Pairing code: %s\n", cred.PairingCode())
	fmt.Fprintln(a.out, "Type it into the portal page that started the activation; the device answers nothing until then.")
	return nil
}

// accountLabel is an account as a sentence names it.
func accountLabel(account, user string) string {
	if account == user || user == "" {
		return account
	}
	return fmt.Sprintf("%s (user %s)", account, user)
}
