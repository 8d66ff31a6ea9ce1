package keylinecore

import (
	"context"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// Moving an account to a new phone (PROTOCOL.md §10, Migration), on the
// old phone: StartMigration, show the offer (its QRPNG, or its session
// ID) to the new phone, which activates with it (Activate); poll
// MigrationStatus until "completed"; type the new phone's pairing code:
// ConfirmMigration, which removes the account here.

// StartMigration asks the server for an activation that will replace
// this account's device, and returns its offer, for the new phone.
func (p *Phone) StartMigration(accountID string, cancel *Cancel) (*Offer, error) {
	var out *Offer
	err := p.accountCall(accountID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		o, err := c.StartMigration(ctx, cred)
		if err == nil {
			out = offerOf(o)
		}
		return err
	})
	return out, err
}

// MigrationProgress is where a migration stands.
type MigrationProgress struct {
	// Status is "waiting" (no new phone yet), "completed" (a new phone
	// activated: ask for its pairing code), "active" (done), "expired",
	// "cancelled" or "discarded" (three wrong codes: start again).
	Status string
	// TriesLeft is how many pairing codes may still be typed (3 once
	// completed; 0 in every other status).
	TriesLeft int
}

// MigrationStatus reports where a migration this account started is.
func (p *Phone) MigrationStatus(accountID, sessionID string, cancel *Cancel) (*MigrationProgress, error) {
	var out *MigrationProgress
	err := p.accountCall(accountID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		mp, err := c.MigrationProgress(ctx, cred, sessionID)
		if err == nil {
			out = &MigrationProgress{Status: mp.Status, TriesLeft: mp.TriesLeft}
		}
		return err
	})
	return out, err
}

// ConfirmMigration sends the pairing code the new phone shows, typed on
// this (old) phone. On success the new phone's device is active, this
// one is removed at the server, and the account is removed here (its
// credential deleted); it returns the new device's ID. A wrong code is
// CodeWrongPairingCode; the third discards the new phone
// (CodePairingDiscarded): start again.
func (p *Phone) ConfirmMigration(accountID, sessionID, pairingCode string, cancel *Cancel) (string, error) {
	var newID string
	err := p.accountCall(accountID, cancel, func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error {
		var err error
		newID, err = c.ConfirmMigration(ctx, cred, sessionID, pairingCode)
		return err
	})
	if err != nil {
		return "", err
	}
	return newID, p.RemoveAccount(accountID)
}
