package keylinecore

import (
	"context"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// pairingGrace is how long after an offer's expiry a phone polls for its
// pairing (PROTOCOL.md §11, "Pairing status").
const pairingGrace = 10 * time.Minute

// Offer is an activation offer (PROTOCOL.md §1), from a scanned QR code
// (ParseOffer) or fetched for a typed session ID (Phone.FetchOffer), or
// made for a new phone by a migration (Phone.StartMigration). It is
// public: show its issuer and account name and ask the user before
// activating.
type Offer struct {
	URI         string // the QR payload: what Activate takes
	SessionID   string // the session ID, for typing on another phone
	Issuer      string // the service
	User        string // the user ID
	AccountName string // the label shown for the user
	ExpiresUnix int64  // when the offer expires, Unix seconds (server time)
}

func offerOf(o enroll.Offer) *Offer {
	return &Offer{URI: o.URI(), SessionID: o.SessionID, Issuer: o.Issuer, User: o.User,
		AccountName: o.AccountName, ExpiresUnix: o.ExpiresAt.Unix()}
}

// QRPNG returns a PNG of the offer's QR code, size×size pixels (at least
// the code's width, about 65 to 177; 256 to 512 suits a screen): what an
// old phone shows the new one in a migration.
func (o *Offer) QRPNG(size int) ([]byte, error) {
	eo, err := enroll.ParseOffer(o.URI)
	if err != nil {
		return nil, wrap(err)
	}
	png, err := eo.QR(size)
	return png, wrap(err)
}

// ParseOffer reads a scanned QR payload strictly (enroll.ParseOffer):
// CodeInvalidInput for anything that is not an offer of this protocol,
// CodeOfferMismatch for an altered one. The server address is never
// taken from it: the app knows its server.
func ParseOffer(qrPayload string) (*Offer, error) {
	o, err := enroll.ParseOffer(qrPayload)
	if err != nil {
		return nil, wrap(err)
	}
	return offerOf(o), nil
}

// FetchOffer fetches the offer of a session ID the user typed, from the
// server at serverURL (the device API's base URL, the app's own
// configuration), and checks that it is the offer of that ID (its key
// hashes to it): CodeSessionIDTypo for a typo (before anything is sent),
// CodeUnknownSession, CodeExpired, CodeAlreadyUsed, CodeOfferMismatch.
func (p *Phone) FetchOffer(serverURL, typedSessionID string, cancel *Cancel) (*Offer, error) {
	server := normServer(serverURL)
	if err := checkServerURL(server); err != nil {
		return nil, err
	}
	var o enroll.Offer
	err := p.call(server, cancel, func(ctx context.Context, c *deviceclient.Client) error {
		var err error
		o, err = c.FetchOffer(ctx, typedSessionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return offerOf(o), nil
}

// Activation is an activation the server completed and the phone kept.
type Activation struct {
	// AccountID is the new account's ID (its device ID).
	AccountID string
	// Paired reports that the device is active already (a server that
	// skips pairing). Otherwise show PairingCode for the user to type
	// where the activation started, and poll CheckPaired every 3
	// seconds until it is true or PairByUnix passes.
	Paired bool
	// PairingCode is the 6-digit code to show while not Paired.
	PairingCode string
	// PairByUnix is when pairing must be done by, Unix seconds (server
	// time): the offer's expiry plus 10 minutes.
	PairByUnix int64
}

// Activate activates an account with an offer URI (a scanned QR code,
// or Offer.URI of a fetched offer) at the server at serverURL: the keys
// agreed, the server's confirmation checked before anything is kept,
// then the credential added to the vault (which must be unlocked) and
// stored. The phone's self-description is the Config's name, platform
// and integrity verdict, the install ID, the push token last set and,
// with an Attester (SetAttester), an attestation bound to this offer. Server refusals
// are CodeExpired, CodeAlreadyUsed, CodeAlreadyEnrolled,
// CodeTooManyDevices, CodeDeviceIntegrity, ...
func (p *Phone) Activate(serverURL, offerURI string, cancel *Cancel) (*Activation, error) {
	server := normServer(serverURL)
	if err := checkServerURL(server); err != nil {
		return nil, err
	}
	offer, err := enroll.ParseOffer(offerURI)
	if err != nil {
		return nil, wrap(err)
	}
	p.mu.Lock()
	if p.v == nil {
		p.mu.Unlock()
		return nil, errLocked
	}
	verdict, _ := integrity(p.cfg.Integrity) // checked by NewPhone
	dev := enroll.DeviceInfo{InstallID: p.prof.InstallID, Name: p.cfg.DeviceName, Platform: p.cfg.Platform,
		Integrity: verdict, PushToken: p.prof.PushToken}
	attester := p.attester
	p.mu.Unlock()
	if attester != nil {
		att, err := attester.Attest(offer.AttestationChallenge(dev.InstallID))
		if err != nil {
			return nil, &coreError{code: CodeAttestation, detail: "the platform did not attest the app", err: err}
		}
		dev.Attestation = att
	}
	var act deviceclient.Activation
	err = p.call(server, cancel, func(ctx context.Context, c *deviceclient.Client) error {
		var err error
		act, err = c.Activate(ctx, offer, dev)
		return err
	})
	if err != nil {
		return nil, err
	}
	cred := act.Credential
	defer cred.Zero()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return nil, errLocked
	}
	if err := p.v.Add(cred); err != nil {
		return nil, wrap(err)
	}
	if err := p.sealLocked(p.v); err != nil {
		_ = p.v.Remove(cred.Issuer(), cred.User())
		return nil, err
	}
	meta := &accountMeta{Server: server, Paired: act.Paired, TokenSent: true}
	if !act.Paired {
		meta.PairBy = offer.ExpiresAt.Add(pairingGrace).Unix()
	}
	p.prof.Accounts[cred.DeviceID()] = meta
	if err := p.saveProfile(); err != nil {
		return nil, err
	}
	out := &Activation{AccountID: cred.DeviceID(), Paired: act.Paired, PairByUnix: meta.PairBy}
	if !act.Paired {
		out.PairingCode = cred.PairingCode()
	}
	return out, nil
}

// PairingCode returns the pairing code of an account (to show it again,
// after a restart while pairing).
func (p *Phone) PairingCode(accountID string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cred, _, err := p.credentialLocked(accountID)
	if err != nil {
		return "", err
	}
	defer cred.Zero()
	return cred.PairingCode(), nil
}

// CheckPaired asks the server once whether the user typed the account's
// pairing code (PROTOCOL.md §11, "Pairing status": a signed request is
// refused while the device is pending). True once paired (recorded: no
// request is sent again). Poll every 3 seconds while the code is shown.
// After PairByUnix without pairing, the credential is removed and the
// error is CodeExpired: say that pairing did not complete.
func (p *Phone) CheckPaired(accountID string, cancel *Cancel) (bool, error) {
	p.mu.Lock()
	cred, meta, err := p.credentialLocked(accountID)
	var paired bool
	var server string
	var pairBy int64
	if err == nil {
		paired, server, pairBy = meta.Paired, meta.Server, meta.PairBy
		cred.Zero()
	}
	p.mu.Unlock()
	if err != nil || paired {
		return paired, err
	}
	err = p.withAccount(accountID, func(cred *enroll.Credential, _ string) error {
		return p.call(server, cancel, func(ctx context.Context, c *deviceclient.Client) error {
			_, err := c.Pushes(ctx, cred)
			return err
		})
	})
	switch ErrorCode(err) {
	case "":
		p.mu.Lock()
		defer p.mu.Unlock()
		if m := p.prof.Accounts[accountID]; m != nil {
			m.Paired, m.PairBy = true, 0
			if err := p.saveProfile(); err != nil {
				return false, err
			}
		}
		return true, nil
	case CodeUnauthorized:
		p.mu.Lock()
		defer p.mu.Unlock()
		if now := p.clientLocked(server).ServerNow(); now.Unix() > pairBy {
			if err := p.removeLocked(accountID); err != nil {
				return false, err
			}
			return false, newError(CodeExpired, "pairing did not complete in time: the account was removed")
		}
		return false, nil
	}
	return false, err
}
