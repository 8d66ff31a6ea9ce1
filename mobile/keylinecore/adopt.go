package keylinecore

// AdoptAccounts gives every account of the open vault that the profile
// does not know the server serverURL: an account whose credential was
// added to the vault outside the core (the device command line kept a
// bare vault file before it ran on the core), which Accounts leaves out
// and no call reaches until it has a server. The server is the app's
// configuration, the one the account was activated with; an adopted
// account is taken as paired (a signed call tells otherwise:
// CodeUnauthorized). Accounts the profile knows keep their server. It
// returns how many accounts were adopted; CodeVaultLocked while locked,
// CodeInvalidInput for a server URL that is not absolute http(s).
func (p *Phone) AdoptAccounts(serverURL string) (int, error) {
	server := normServer(serverURL)
	if err := checkServerURL(server); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return 0, errLocked
	}
	n := 0
	for _, e := range p.v.List() {
		if !deviceIDValid(e.DeviceID) || p.prof.Accounts[e.DeviceID] != nil {
			continue
		}
		p.prof.Accounts[e.DeviceID] = &accountMeta{Server: server, Paired: true}
		n++
	}
	if n == 0 {
		return 0, nil
	}
	// On a storage failure the adopted accounts stay in memory, for
	// this run, and the next save stores them.
	if err := p.saveProfile(); err != nil {
		return 0, err
	}
	return n, nil
}

// ImportBackupTo is ImportBackup for an app whose accounts all have one
// server, the app's configuration (the device command line's -portal):
// it merges a backup blob into the unlocked vault, giving every account
// it adds serverURL, without the backup's Servers. Its refusals are
// ImportBackup's, and CodeInvalidInput for a server URL that is not
// absolute http(s); then nothing is added.
func (p *Phone) ImportBackupTo(blob []byte, passphrase, serverURL string) (int, error) {
	server := normServer(serverURL)
	if err := checkServerURL(server); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return 0, errLocked
	}
	added, err := p.v.Import(blob, passphrase)
	if err != nil {
		return 0, wrap(err)
	}
	if err := p.sealLocked(p.v); err != nil {
		for _, e := range added {
			_ = p.v.Remove(e.Issuer, e.User)
		}
		return 0, err
	}
	for _, e := range added {
		p.prof.Accounts[e.DeviceID] = &accountMeta{Server: server, Paired: true}
	}
	return len(added), p.saveProfile()
}

// SetAccountServer moves an account to another server URL: the app's
// configuration of where the account's service keeps its device API
// changed (the device command line takes it from -portal at every run).
// The account, its pairing state and its credential are unchanged; the
// clock offset is the new server's. CodeNoAccount, CodeVaultLocked,
// CodeInvalidInput for a URL that is not absolute http(s).
func (p *Phone) SetAccountServer(accountID, serverURL string) error {
	server := normServer(serverURL)
	if err := checkServerURL(server); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cred, meta, err := p.credentialLocked(accountID)
	if err != nil {
		return err
	}
	cred.Zero()
	if meta.Server == server {
		return nil
	}
	old := meta.Server
	meta.Server = server
	if err := p.saveProfile(); err != nil {
		meta.Server = old
		return err
	}
	return nil
}
