package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
)

// status asks the portal about the device of every chosen account (all
// of them when sel names none), with a request each device signs, and
// reports it: active; removed (revoked at the portal, or replaced by a
// migration), in which case the account leaves the vault, since its
// device can never be used again; or unknown to the portal, which may
// mean it was removed long ago or its user erased, and is left for the
// user to judge (remove-user). The core asks (Phone.AccountStatus) and
// removes (Phone.RemoveAccount).
func (a *app) status(sel selection) error {
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
	entries := filterEntries(all, sel)
	if len(entries) == 0 {
		if len(all) == 0 {
			return errors.New("the vault holds no account: activate one first")
		}
		return fmt.Errorf("the vault holds no account %s (see the users command)", describeSelection(sel))
	}
	var removed []vault.Entry
	for _, e := range entries {
		st, err := p.AccountStatus(e.DeviceID, nil)
		label := accountLabel(e.AccountName, e.User)
		switch {
		case errors.Is(err, enroll.ErrDeviceAuth):
			fmt.Fprintf(a.out, "%s at %s: unknown to the portal (removed long ago, erased, not paired yet, or another portal); remove-user deletes it here\n", label, e.Issuer)
		case err != nil:
			return during("asking for the device's status", err)
		case st.Removed:
			fmt.Fprintf(a.out, "%s at %s: removed from the account on %s; deleting it from the vault\n", label, e.Issuer,
				time.Unix(st.RemovedUnix, 0).UTC().Format("2006-01-02 15:04 UTC"))
			removed = append(removed, e)
		default:
			fmt.Fprintf(a.out, "%s at %s: active\n", label, e.Issuer)
		}
	}
	for _, e := range removed {
		if err := p.RemoveAccount(e.DeviceID); err != nil {
			return err
		}
	}
	return nil
}
