package keylinecore

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
	"github.com/keyline/keyline/enroll/vault"
)

// Config is how the app describes itself to the core. The zero value is
// valid: unnamed phone, 30-second calls, the vault's default Argon2id.
type Config struct {
	// DeviceName is the name the user gave the phone, sent at activation
	// (at most 128 bytes): the server lists the device by it.
	DeviceName string
	// Platform is "android" or "ios" (at most 64 bytes), sent at
	// activation.
	Platform string
	// TimeoutSeconds bounds each call to a server: default 30.
	TimeoutSeconds int
	// Argon2Time, Argon2MemoryKiB and Argon2Threads set the Argon2id
	// parameters a new PIN key is derived with (vault.Options.Argon2); 0
	// takes the vault's default (t=3, 64 MiB, p=4). The vault refuses
	// anything below OWASP's minimum (t=2, 19 MiB, p=1). A blob opens
	// with its own parameters whatever these say.
	Argon2Time      int
	Argon2MemoryKiB int
	Argon2Threads   int
	// Integrity is the app's own verdict on the phone, sent at
	// activation: "intact" (the platform's checks passed), "rooted"
	// (the server refuses such a device) or "unknown" ("" too). It is
	// self-reported; an Attester's attestation is what a server can
	// check.
	Integrity string
}

// Phone is the whole phone side of keyline for one app install: the
// vault of credentials (sealed under the PIN and the KeyStore, kept in
// SecureStorage), the accounts on one or more servers, and the device API
// calls, with the clock of each server corrected. Make one with NewPhone
// when the app starts; then CreateVault (first launch) or Unlock. Its
// methods are safe for concurrent use: calls to servers run outside its
// lock, so a slow network does not block the others.
type Phone struct {
	cfg     Config
	storage SecureStorage
	keys    KeyStore
	gate    BiometricGate
	clock   Clock
	hc      *http.Client

	mu       sync.Mutex
	attester Attester     // nil: activations carry no attestation
	v        *vault.Vault // nil while locked
	prof     *profile
	clients  map[string]*deviceclient.Client // by server URL
}

// NewPhone makes the core of an app install. storage is required; keys
// (the hardware key) is strongly advised: without it a copied vault blob
// is protected by the PIN's Argon2id alone (see package vault); gate nil
// means approvals need no presence check beyond the unlocked app; clock
// nil is the system clock. On the first launch it draws the install ID
// and stores the profile.
func NewPhone(cfg *Config, storage SecureStorage, keys KeyStore, gate BiometricGate, clock Clock) (*Phone, error) {
	if storage == nil {
		return nil, newError(CodeInvalidInput, "a SecureStorage is required")
	}
	if clock == nil {
		clock = systemClock{}
	}
	p := &Phone{storage: storage, keys: keys, gate: gate, clock: clock, clients: map[string]*deviceclient.Client{}}
	if cfg != nil {
		p.cfg = *cfg
	}
	if p.cfg.TimeoutSeconds <= 0 {
		p.cfg.TimeoutSeconds = 30
	}
	if _, err := integrity(p.cfg.Integrity); err != nil {
		return nil, err
	}
	p.hc = &http.Client{Timeout: time.Duration(p.cfg.TimeoutSeconds) * time.Second}
	raw, err := storage.Load(ProfileRecord)
	if err != nil {
		return nil, wrapf(err, "loading the profile")
	}
	if len(raw) == 0 {
		p.prof = newProfile()
		if err := p.saveProfile(); err != nil {
			return nil, err
		}
	} else if p.prof, err = parseProfile(raw); err != nil {
		return nil, err
	}
	return p, nil
}

// InstallID returns the install's ID (PROTOCOL.md §11, "Install ID"):
// random, drawn at the first launch, the same for every account.
func (p *Phone) InstallID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prof.InstallID
}

// HasVault reports whether a vault is stored (false on a first launch:
// CreateVault).
func (p *Phone) HasVault() (bool, error) {
	raw, err := p.storage.Load(VaultRecord)
	if err != nil {
		return false, wrapf(err, "loading the vault")
	}
	return len(raw) > 0, nil
}

// Unlocked reports whether the vault is open.
func (p *Phone) Unlocked() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.v != nil
}

// CheckPIN applies the vault's PIN policy (vault.CheckPIN) to a PIN the
// user is choosing, for the user name given ("" when none is known): nil
// or a CodeWeakPIN error whose detail names the rule broken.
func CheckPIN(pin, user string) error {
	return wrap(vault.CheckPIN(pin, user))
}

// vaultOptions are the vault's options from the Config and the KeyStore.
func (p *Phone) vaultOptions() vault.Options {
	o := vault.Options{Argon2: vault.Argon2Params{
		Time: uint32(clampInt(p.cfg.Argon2Time, 0, 16)), MemoryKiB: uint32(clampInt(p.cfg.Argon2MemoryKiB, 0, 1<<20)),
		Threads: uint8(clampInt(p.cfg.Argon2Threads, 0, 16)),
	}}
	if p.keys != nil {
		o.KeyWrapper = p.keys
	}
	return o
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }

// CreateVault makes the vault on a first launch, sealed under pin (which
// must pass CheckPIN) and the KeyStore, stores it and leaves it unlocked.
// A vault already stored is CodeVaultExists: nothing is overwritten.
func (p *Phone) CreateVault(pin string) error {
	if has, err := p.HasVault(); err != nil {
		return err
	} else if has {
		return newError(CodeVaultExists, "a vault is stored already")
	}
	v, err := vault.New(pin, p.vaultOptions())
	if err != nil {
		return wrap(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.sealLocked(v); err != nil {
		v.Zero()
		return err
	}
	p.replaceVaultLocked(v)
	return nil
}

// Unlock opens the stored vault with the PIN (and the KeyStore it was
// sealed with): CodeWrongPIN for a wrong PIN (the app counts them and
// locks or wipes after a few: the core keeps no count), CodeKeyStore for
// a hardware key that fails or is not the vault's, CodeNoVault when
// there is none.
func (p *Phone) Unlock(pin string) error {
	return p.openStored(func(raw []byte) (*vault.Vault, error) { return vault.Open(raw, pin, p.vaultOptions()) })
}

// openStored opens the stored vault with open and makes it the phone's.
func (p *Phone) openStored(open func(raw []byte) (*vault.Vault, error)) error {
	raw, err := p.storage.Load(VaultRecord)
	if err != nil {
		return wrapf(err, "loading the vault")
	}
	if len(raw) == 0 {
		return newError(CodeNoVault, "no vault is stored")
	}
	v, err := open(raw)
	if err != nil {
		return wrap(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaceVaultLocked(v)
	return nil
}

// Lock wipes the open vault's keys from memory; Unlock opens it again.
func (p *Phone) Lock() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replaceVaultLocked(nil)
}

func (p *Phone) replaceVaultLocked(v *vault.Vault) {
	if p.v != nil && p.v != v {
		p.v.Zero()
	}
	p.v = v
}

// ChangePIN replaces the PIN: the current one must be right
// (CodeWrongPIN), the new one pass CheckPIN for every account's user
// (CodeWeakPIN). The vault is sealed again and stored.
func (p *Phone) ChangePIN(oldPIN, newPIN string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		return errLocked
	}
	if err := p.v.ChangePIN(oldPIN, newPIN); err != nil {
		return wrap(err)
	}
	return p.sealLocked(p.v)
}

var errLocked = newError(CodeVaultLocked, "unlock the vault first")

// sealLocked seals v and stores the blob. p.mu is held.
func (p *Phone) sealLocked(v *vault.Vault) error {
	blob, err := v.Seal()
	if err != nil {
		return wrapf(err, "sealing the vault")
	}
	if err := p.storage.Store(VaultRecord, blob); err != nil {
		return wrapf(err, "storing the vault")
	}
	return nil
}

// saveProfile stores the profile. p.mu is held (or p is not shared yet).
func (p *Phone) saveProfile() error {
	if err := p.storage.Store(ProfileRecord, p.prof.encode()); err != nil {
		return wrapf(err, "storing the profile")
	}
	return nil
}

// client returns the device API client of a server, its clock offset
// restored from the profile. p.mu is held.
func (p *Phone) clientLocked(server string) *deviceclient.Client {
	c := p.clients[server]
	if c == nil {
		c = deviceclient.New(server, p.hc)
		c.Now = nowOf(p.clock)
		if s := p.prof.Servers[server]; s != nil {
			_ = c.SetClockOffset(time.Duration(s.Offset) * time.Second) // bounded when parsed
		}
		p.clients[server] = c
	}
	return c
}

// keepOffset records a server's clock offset after a call, if it moved.
// p.mu is held. A storage failure is left for the next save: the offset
// is relearned from the next answer anyway.
func (p *Phone) keepOffsetLocked(server string, c *deviceclient.Client) {
	off := int64(c.ClockOffset() / time.Second)
	if s := p.prof.Servers[server]; s != nil && s.Offset == off {
		return
	}
	p.prof.server(server).Offset = off
	_ = p.saveProfile()
}

// ClockOffsetSeconds returns the offset the core keeps to a server's
// clock (PROTOCOL.md §11): server time minus phone time, in whole
// seconds, learned from the server's answers and bounded by a day
// (deviceclient.MaxClockOffset); 0 for a server not heard from.
func (p *Phone) ClockOffsetSeconds(serverURL string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.prof.Servers[normServer(serverURL)]; s != nil {
		return s.Offset
	}
	return 0
}

// normServer is the form a server URL is kept in: without trailing
// slashes.
func normServer(s string) string { return strings.TrimRight(s, "/") }

// call runs one exchange with a server: the context of the Cancel and
// the timeout, the server's client, and afterwards its clock offset
// kept. The error is the core's.
func (p *Phone) call(server string, cancel *Cancel, f func(ctx context.Context, c *deviceclient.Client) error) error {
	p.mu.Lock()
	c := p.clientLocked(server)
	p.mu.Unlock()
	ctx, stop := cancel.context(time.Duration(p.cfg.TimeoutSeconds) * time.Second)
	defer stop()
	err := f(ctx, c)
	p.mu.Lock()
	p.keepOffsetLocked(server, c)
	p.mu.Unlock()
	return wrap(err)
}

// credential returns a copy of an account's credential and its meta,
// from the open vault. The copy is the caller's: Zero it.
func (p *Phone) credentialLocked(accountID string) (*enroll.Credential, *accountMeta, error) {
	if p.v == nil {
		return nil, nil, errLocked
	}
	meta := p.prof.Accounts[accountID]
	for _, e := range p.v.List() {
		if e.DeviceID == accountID && meta != nil {
			c, err := p.v.Get(e.Issuer, e.User)
			if err != nil {
				return nil, nil, wrap(err)
			}
			return c, meta, nil
		}
	}
	return nil, nil, newError(CodeNoAccount, "no account with this ID")
}

// withAccount runs f with a copy of an account's credential (zeroed
// afterwards), the account's server and its meta's copy.
func (p *Phone) withAccount(accountID string, f func(cred *enroll.Credential, server string) error) error {
	p.mu.Lock()
	cred, meta, err := p.credentialLocked(accountID)
	var server string
	if meta != nil {
		server = meta.Server
	}
	p.mu.Unlock()
	if err != nil {
		return err
	}
	defer cred.Zero()
	return f(cred, server)
}

// presence asks the BiometricGate, if the app gave one.
func (p *Phone) presence(reason string) error {
	if p.gate == nil {
		return nil
	}
	if err := p.gate.Authenticate(reason); err != nil {
		return &coreError{code: CodePresence, detail: "the user did not confirm presence", err: err}
	}
	return nil
}
