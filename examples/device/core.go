package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/keyline/keyline/enroll/vault"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// This program is an app of the phone core, mobile/keylinecore, as a
// Kotlin or Swift app is: it gives the core the platform's services
// (below) and calls it for what it does with the vault and the portal.

// profileSuffix names the core's profile record beside the vault file:
// the vault "…/vault" has its profile in "…/vault.profile". The profile
// holds no secret (the install ID, the push token, each account's
// server, the portal's clock offset).
const profileSuffix = ".profile"

// fileStorage is the core's SecureStorage as files: the vault record is
// the -vault file itself, in the format this program has always kept (a
// sealed vault blob, so a vault file of an older version of it opens as
// it is), and the profile record the file beside it. Both are written
// atomically with mode 0600. Like vaultFile.save, storing a record that
// another command rewrote since this one loaded it is refused
// (errVaultChanged): two commands run against one vault would otherwise
// lose the first one's change.
type fileStorage struct {
	vault string
	mu    sync.Mutex            // the core may call from several goroutines
	read  map[string]*vaultFile // what Load saw, by record name
}

func newFileStorage(vaultPath string) *fileStorage {
	return &fileStorage{vault: vaultPath, read: map[string]*vaultFile{}}
}

func (s *fileStorage) path(name string) (string, error) {
	switch name {
	case keylinecore.VaultRecord:
		return s.vault, nil
	case keylinecore.ProfileRecord:
		return s.vault + profileSuffix, nil
	}
	return "", errors.New("the core asked for a record this program does not keep: " + name)
}

// Load implements keylinecore.SecureStorage.
func (s *fileStorage) Load(name string) ([]byte, error) {
	p, err := s.path(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := readVaultFile(p)
	if err != nil {
		return nil, err
	}
	s.read[name] = f
	return bytes.Clone(f.blob), nil
}

// Store implements keylinecore.SecureStorage.
func (s *fileStorage) Store(name string, data []byte) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.read[name]
	if f == nil {
		if f, err = readVaultFile(p); err != nil {
			return err
		}
		s.read[name] = f
	}
	return f.save(data)
}

// Delete implements keylinecore.SecureStorage.
func (s *fileStorage) Delete(name string) error {
	p, err := s.path(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.read, name)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// appClock is the core's Clock: the run's clock (time.Now but in tests).
type appClock struct{ now func() time.Time }

// NowUnixMilli implements keylinecore.Clock.
func (c appClock) NowUnixMilli() int64 { return c.now().UnixMilli() }

// terminalGate is the core's BiometricGate on a computer, which has no
// sensor to prove presence with: the person at the terminal proved it
// by typing the vault's PIN for this run and by the answer they type at
// the prompt the command shows before each approval, signature or
// export, so the gate itself lets every call through.
type terminalGate struct{}

// Authenticate implements keylinecore.BiometricGate.
func (terminalGate) Authenticate(string) error { return nil }

// The core's KeyStore is none: a computer has no key store this program
// can bind the vault to, so a copied vault file is protected by the
// PIN's Argon2id alone, as it always was (package vault's threat model,
// "with the blob").

// coreConfig describes this program to the core: the device name for a
// new activation, platform "cli", the Argon2id of vaultOptions (the
// library's default but in the tests).
func (a *app) coreConfig(name string) *keylinecore.Config {
	p := vaultOptions.Argon2
	return &keylinecore.Config{DeviceName: name, Platform: "cli", TimeoutSeconds: int(httpTimeout / time.Second),
		Argon2Time: int(p.Time), Argon2MemoryKiB: int(p.MemoryKiB), Argon2Threads: int(p.Threads)}
}

// newPhone makes the core over the vault file, for a new activation's
// device name (or "").
func (a *app) newPhone(name string) (*keylinecore.Phone, error) {
	return keylinecore.NewPhone(a.coreConfig(name), newFileStorage(a.vault), nil, terminalGate{}, appClock{a.now})
}

// openPhone opens the vault file through the core with the PIN the user
// types. A missing file is errNoVault (and nothing is written). Every
// account is put on -portal's device API (adoptAll): the vault's
// accounts the profile does not know yet (a vault file of an older
// version of this program, which kept no profile) are adopted, which is
// the step that moves such a vault onto the core, once.
func (a *app) openPhone() (*keylinecore.Phone, error) {
	p, _, err := a.unlockPhone("PIN: ")
	return p, err
}

// unlockPhone is openPhone asking for the PIN at prompt; it returns the
// PIN too, for a command that needs it again (change-pin).
func (a *app) unlockPhone(prompt string) (*keylinecore.Phone, string, error) {
	f, err := readVaultFile(a.vault)
	if err != nil {
		return nil, "", err
	}
	if !f.exists {
		return nil, "", errNoVault
	}
	server, err := a.deviceURL()
	if err != nil {
		return nil, "", err
	}
	p, err := a.newPhone("")
	if err != nil {
		return nil, "", err
	}
	pin, err := a.con.secret(a.ctx, prompt)
	if err != nil {
		return nil, "", err
	}
	if err := p.Unlock(pin); err != nil {
		return nil, "", err
	}
	if err := adoptAll(p, server); err != nil {
		p.Lock()
		return nil, "", err
	}
	return p, pin, nil
}

// adoptAll puts every account of the open vault on server, -portal's
// device API, as the command has always had it: the vault's accounts
// the profile does not know yet are adopted (Phone.AdoptAccounts), and
// those the profile keeps on another server are moved there
// (Phone.SetAccountServer).
func adoptAll(p *keylinecore.Phone, server string) error {
	if _, err := p.AdoptAccounts(server); err != nil {
		return err
	}
	l, err := p.Accounts()
	if err != nil {
		return err
	}
	for i := range l.Len() {
		if acc := l.At(i); acc.Server != server {
			if err := p.SetAccountServer(acc.ID, server); err != nil {
				return err
			}
		}
	}
	return nil
}

// memStorage is SecureStorage in memory: where a new vault is made
// before anything of it is written (import), so that a refusal leaves no
// file behind.
type memStorage map[string][]byte

func (m memStorage) Load(name string) ([]byte, error) { return bytes.Clone(m[name]), nil }

func (m memStorage) Store(name string, data []byte) error {
	m[name] = bytes.Clone(data)
	return nil
}

func (m memStorage) Delete(name string) error {
	delete(m, name)
	return nil
}

// phoneAccounts lists the core's accounts as the vault's entries, which
// the account choice (chooseEntry) and the lists work on.
func phoneAccounts(p *keylinecore.Phone) ([]vault.Entry, error) {
	l, err := p.Accounts()
	if err != nil {
		return nil, err
	}
	out := make([]vault.Entry, 0, l.Len())
	for i := range l.Len() {
		acc := l.At(i)
		out = append(out, vault.Entry{Issuer: acc.Issuer, User: acc.User, AccountName: acc.AccountName,
			DeviceID: acc.ID, DeviceName: acc.DeviceName, CreatedAt: time.Unix(acc.CreatedUnix, 0)})
	}
	return out, nil
}

// writeStaged writes a vault the core made in memory to the vault file
// and its profile beside it; a vault file that appeared meanwhile is
// not overwritten (errVaultChanged).
func (a *app) writeStaged(m memStorage) error {
	files := newFileStorage(a.vault)
	if err := files.Store(keylinecore.ProfileRecord, m[keylinecore.ProfileRecord]); err != nil {
		return err
	}
	return during("saving the vault", files.Store(keylinecore.VaultRecord, m[keylinecore.VaultRecord]))
}

// cancel is a keylinecore.Cancel that the run's interruption cancels;
// call stop when the command is done with it.
func (a *app) cancel() (*keylinecore.Cancel, func()) {
	c := keylinecore.NewCancel()
	done := make(chan struct{})
	go func() {
		select {
		case <-a.ctx.Done():
			c.Cancel()
		case <-done:
		}
	}()
	return c, func() { close(done) }
}
