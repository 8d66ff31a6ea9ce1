package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// activate activates an account: from an offer URI (the QR code's
// payload) or a session ID the user typed, whose offer is fetched from the
// portal and checked against it (keylinecore.ParseOffer,
// Phone.FetchOffer; Phone.Activate). The first activation makes the
// vault, with a new PIN asked twice; later ones open it with its PIN
// (add-user insists that it exists). A new vault is made by the core in
// memory and written only once the portal activated the device. The
// pairing code is shown only once the credential is safely in the vault
// file, so that the portal never pairs a device whose credential was
// lost.
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
	server, err := a.deviceURL()
	if err != nil {
		return err
	}
	if len(name) > maxDeviceName {
		return &usageError{fmt.Sprintf("-name: at most %d bytes", maxDeviceName)}
	}
	cancel, stop := a.cancel()
	defer stop()

	var offer *keylinecore.Offer
	if strings.Contains(input, "://") {
		// Scanned: the URI is the whole offer, and its key hashes to its
		// session ID (ParseOffer checks). The server address is never
		// taken from it: it is -portal.
		if offer, err = keylinecore.ParseOffer(input); err != nil {
			return during("reading the offer", err)
		}
	} else {
		// Typed: FetchOffer checks the ID before sending it, and that the
		// key of the offer it gets hashes to it. Any phone fetches it: no
		// vault is needed yet.
		fetcher, err := keylinecore.NewPhone(a.coreConfig(""), memStorage{}, nil, terminalGate{}, appClock{a.now})
		if err != nil {
			return err
		}
		if offer, err = fetcher.FetchOffer(server, input, cancel); err != nil {
			return during("fetching the offer", err)
		}
	}
	if !a.now().Before(time.Unix(offer.ExpiresUnix, 0)) {
		return during("reading the offer", enroll.ErrExpired)
	}
	fmt.Fprintf(a.out, "Activating %s at %s.\n", accountLabel(offer.AccountName, offer.User), offer.Issuer)

	var p *keylinecore.Phone
	var staged memStorage // the new vault's records, until the activation is done
	if f.exists {
		p, err = a.openPhone()
	} else {
		a.con.say("This is the first account of the vault %s: choose its PIN.", a.vault)
		var pin string
		if pin, err = a.newPIN(offer.User, offer.AccountName); err == nil {
			staged = memStorage{}
			if p, err = keylinecore.NewPhone(a.coreConfig(""), staged, nil, terminalGate{}, appClock{a.now}); err == nil {
				err = p.CreateVault(pin)
			}
		}
	}
	if err != nil {
		return err
	}
	defer p.Lock()
	all, err := phoneAccounts(p)
	if err != nil {
		return err
	}
	// Refuse before the portal makes a device that could never be kept.
	for _, e := range all {
		if e.Issuer == offer.Issuer && e.User == offer.User {
			return enroll.ErrAlreadyEnrolled
		}
	}
	if err := p.SetDeviceName(deviceName(name, all)); err != nil {
		return err
	}
	// The push token this program has is none: it polls (watch, sign).
	// SetPushToken records it for the activation before it tells the
	// servers of the accounts that have yet to hear it; that part's
	// failure is not this activation's, and the next command retries it.
	_ = p.SetPushToken(pollPushToken, cancel)
	act, err := p.Activate(server, offer.URI, cancel)
	if errors.Is(err, errVaultChanged) {
		return fmt.Errorf("%w (the portal's new device stays unpaired and lapses)", err)
	}
	if err != nil {
		return during("activating", err)
	}
	if staged != nil {
		if err := a.writeStaged(staged); err != nil {
			return fmt.Errorf("%w (the portal's new device stays unpaired and lapses)", err)
		}
	}
	fmt.Fprintf(a.out, "Activated: device %s, kept in %s.\n", act.AccountID, a.vault)
	if act.Paired {
		fmt.Fprintln(a.out, "The portal activated the device at once (it does not ask for pairing).")
		return nil
	}
	fmt.Fprintf(a.out, "Pairing code: %s\n", act.PairingCode)
	fmt.Fprintln(a.out, "Type it into the portal page that started the activation; the device answers nothing until then.")
	return nil
}

// deviceName is the name a new activation gives the device: -name, else
// the one the vault's accounts carry, else "CLI on HOST".
func deviceName(flag string, all []vault.Entry) string {
	if flag != "" {
		return flag
	}
	for _, e := range all {
		if e.DeviceName != "" {
			return e.DeviceName
		}
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return truncate("CLI on "+h, maxDeviceName)
	}
	return "keyline device CLI"
}

// accountLabel is an account as a sentence names it.
func accountLabel(account, user string) string {
	if account == user || user == "" {
		return account
	}
	return fmt.Sprintf("%s (user %s)", account, user)
}
