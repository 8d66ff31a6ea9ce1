package keylinecore

import (
	"context"
	"errors"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// Account describes one credential of the vault, without its secrets.
// Its ID is the device ID the server gave it: 32 lowercase hex digits,
// unique in the install, the handle every account call takes.
type Account struct {
	ID          string // the device ID
	Server      string // the device API's base URL
	Issuer      string // the service, as shown
	User        string // the user ID at the service
	AccountName string // the label shown for the user
	Suite       string // the OCRA suite it answers challenges with
	DeviceName  string // the name the phone gave itself at activation
	CreatedUnix int64  // when it was activated, Unix seconds
	// Paired reports that the server accepts the device. False while the
	// user has yet to type the pairing code (PairingCode; CheckPaired).
	Paired bool
	// RemovedUnix is when the server removed the device (revoked, or
	// replaced by another phone), Unix seconds, as the status call told
	// it; 0 when not known removed. A removed account can only be
	// removed here too: RemoveAccount.
	RemovedUnix int64
}

// AccountList is a list crossing the bridge as a getter object: Len and
// At. Accounts are ordered by issuer, then user.
type AccountList struct {
	items []*Account
}

// Len returns the number of accounts.
func (l *AccountList) Len() int { return len(l.items) }

// At returns the i-th account, or nil when i is out of range.
func (l *AccountList) At(i int) *Account {
	if i < 0 || i >= len(l.items) {
		return nil
	}
	return l.items[i]
}

// Accounts lists the vault's accounts (CodeVaultLocked while locked).
func (p *Phone) Accounts() (*AccountList, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return nil, errLocked
	}
	l := &AccountList{}
	for _, e := range p.v.List() {
		m := p.prof.Accounts[e.DeviceID]
		if m == nil {
			continue // not activated through the core: no server known
		}
		l.items = append(l.items, &Account{
			ID: e.DeviceID, Server: m.Server, Issuer: e.Issuer, User: e.User, AccountName: e.AccountName,
			Suite: e.Suite.String(), DeviceName: e.DeviceName, CreatedUnix: e.CreatedAt.Unix(),
			Paired: m.Paired, RemovedUnix: m.RemovedAt,
		})
	}
	return l, nil
}

// Account returns one account by ID (CodeNoAccount if there is none).
func (p *Phone) Account(accountID string) (*Account, error) {
	l, err := p.Accounts()
	if err != nil {
		return nil, err
	}
	for _, a := range l.items {
		if a.ID == accountID {
			return a, nil
		}
	}
	return nil, newError(CodeNoAccount, "no account with this ID")
}

// RemoveAccount deletes an account's credential from the vault (and
// stores the vault): after the server removed the device
// (CodeDeviceRemoved, AccountStatus), or when the user wants it gone.
// It does not tell the server: a device removed here still exists there
// until the user revokes it at the service.
func (p *Phone) RemoveAccount(accountID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removeLocked(accountID)
}

func (p *Phone) removeLocked(accountID string) error {
	cred, _, err := p.credentialLocked(accountID)
	if err != nil {
		return err
	}
	issuer, user := cred.Issuer(), cred.User()
	cred.Zero()
	if err := p.v.Remove(issuer, user); err != nil {
		return wrap(err)
	}
	if err := p.sealLocked(p.v); err != nil {
		return err
	}
	delete(p.prof.Accounts, accountID)
	return p.saveProfile()
}

// AccountStatus is what the server says of an account's device.
type AccountStatus struct {
	// Removed reports that the server removed the device (revoked, or
	// replaced by a migration another phone completed): tell the user,
	// with the date, and RemoveAccount.
	Removed bool
	// RemovedUnix is when, Unix seconds; 0 while active.
	RemovedUnix int64
}

// AccountStatus asks the server whether the account's device is still
// active (PROTOCOL.md §10, the status call; §11, "Revocation"). The core
// calls it itself after any call refused as unauthorized and reports a
// removal as CodeDeviceRemoved; call it directly at most once a day.
// CodeUnauthorized here means the server knows nothing of the device:
// removed over its window ago (30 days by default), the user erased, or
// still pending pairing; do not delete the credential on that alone.
func (p *Phone) AccountStatus(accountID string, cancel *Cancel) (*AccountStatus, error) {
	var st deviceclient.DeviceStatus
	err := p.withAccount(accountID, func(cred *enroll.Credential, server string) error {
		return p.call(server, cancel, func(ctx context.Context, c *deviceclient.Client) error {
			var err error
			st, err = c.Status(ctx, cred)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if st.Removed {
		p.markRemoved(accountID, st.RemovedAt.Unix())
		return &AccountStatus{Removed: true, RemovedUnix: st.RemovedAt.Unix()}, nil
	}
	return &AccountStatus{}, nil
}

// markRemoved records that the server removed an account's device.
func (p *Phone) markRemoved(accountID string, at int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m := p.prof.Accounts[accountID]; m != nil && m.RemovedAt != at {
		m.RemovedAt = at
		_ = p.saveProfile()
	}
}

// accountCall runs a signed call of an account. When the server refuses
// it as unauthorized, it asks the status call (PROTOCOL.md §11,
// "Revocation"): a removed device is reported as CodeDeviceRemoved (and
// recorded: Account.RemovedUnix), anything else as the refusal.
func (p *Phone) accountCall(accountID string, cancel *Cancel, f func(ctx context.Context, c *deviceclient.Client, cred *enroll.Credential) error) error {
	return p.withAccount(accountID, func(cred *enroll.Credential, server string) error {
		var removed deviceclient.DeviceStatus
		err := p.call(server, cancel, func(ctx context.Context, c *deviceclient.Client) error {
			err := f(ctx, c, cred)
			if errors.Is(err, enroll.ErrDeviceAuth) {
				if st, serr := c.Status(ctx, cred); serr == nil && st.Removed {
					removed = st
				}
			}
			return err
		})
		if removed.Removed {
			p.markRemoved(accountID, removed.RemovedAt.Unix())
			return &coreError{code: CodeDeviceRemoved, err: err,
				detail: "the server removed this device on " + removed.RemovedAt.UTC().Format("2006-01-02")}
		}
		return err
	})
}
