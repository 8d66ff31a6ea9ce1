package keylinecore

import (
	"bytes"
	"encoding/json"
)

// Backup is an export of the vault (vault.Vault.Export): a clone of the
// phone's secrets, to restore a lost or reset phone (not to move: see
// StartMigration).
type Backup struct {
	// Blob is the sealed backup; store it where the user keeps backups.
	Blob []byte
	// Passphrase opens Blob: show it once, for the user to write down;
	// never store it beside Blob.
	Passphrase string
	// Servers names each account's server, which the vault does not
	// hold: JSON, {"<account ID>": "<server URL>", ...}. It is not
	// secret; keep it with Blob and give both to ImportBackup.
	Servers string
}

// ExportBackup exports the vault, after the BiometricGate (CodePresence).
func (p *Phone) ExportBackup() (*Backup, error) {
	if err := p.presence("Export a backup of your keys"); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return nil, errLocked
	}
	blob, pass, err := p.v.Export()
	if err != nil {
		return nil, wrap(err)
	}
	servers := map[string]string{}
	for _, e := range p.v.List() {
		if m := p.prof.Accounts[e.DeviceID]; m != nil {
			servers[e.DeviceID] = m.Server
		}
	}
	b, _ := json.Marshal(servers) // a map of strings: cannot fail
	return &Backup{Blob: blob, Passphrase: pass, Servers: string(b)}, nil
}

// parseServers reads Backup.Servers strictly.
func parseServers(s string) (map[string]string, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	var m map[string]string
	if len(s) > maxProfile || d.Decode(&m) != nil || d.More() || m == nil || len(m) > maxAccounts {
		return nil, newError(CodeInvalidInput, "the servers of a backup are not a JSON object of account IDs to URLs")
	}
	for id, u := range m {
		if !deviceIDValid(id) || checkServerURL(u) != nil || normServer(u) != u {
			return nil, newError(CodeInvalidInput, "the servers of a backup name an invalid account ID or URL")
		}
	}
	return m, nil
}

// ImportBackup merges a backup (Blob, the passphrase as the user types
// it, and Servers) into the unlocked vault and returns how many accounts
// it added. It is all or nothing: an account the vault holds already is
// CodeAlreadyEnrolled, a passphrase that does not open the backup
// CodeWrongPassphrase, an account Servers does not name
// CodeInvalidInput; then nothing is added. A restored account answers as
// the very device it was (see vault.Vault.Export). Then call
// AccountStatus for each account: it tells whether the device was
// removed since the export, and teaches the core the server's clock
// before the account answers a challenge offline (Respond).
func (p *Phone) ImportBackup(blob []byte, passphrase, servers string) (int, error) {
	srv, err := parseServers(servers)
	if err != nil {
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
	for _, e := range added {
		if _, ok := srv[e.DeviceID]; !ok {
			for _, e := range added {
				_ = p.v.Remove(e.Issuer, e.User)
			}
			return 0, newError(CodeInvalidInput, "the backup holds an account its servers do not name")
		}
	}
	if err := p.sealLocked(p.v); err != nil {
		for _, e := range added {
			_ = p.v.Remove(e.Issuer, e.User)
		}
		return 0, err
	}
	for _, e := range added {
		// A restored device was active when exported; if it was removed
		// since, the first call reports it (CodeDeviceRemoved).
		p.prof.Accounts[e.DeviceID] = &accountMeta{Server: srv[e.DeviceID], Paired: true}
	}
	return len(added), p.saveProfile()
}
