package enroll

import (
	"bytes"
	"cmp"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/hkdf"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/internal/crockford"
)

// What a stolen vault costs an attacker
//
// A vault blob (what [Vault.Seal] returns) is sealed with AES-256-GCM
// under HKDF-SHA256(Argon2id(PIN, salt) ‖ platform secret). Someone who
// copies the blob off the phone (a backup, a file-system dump) and wants
// the root secrets must guess the PIN, and each guess costs one Argon2id
// at the blob's parameters; a wrong guess is recognised from the key
// check value (or, equally, from the AEAD tag).
//
// PINs accepted by [CheckPIN] are 4 to 6 characters. People pick digits:
// 10^4 four-digit, 10^5 five-digit and 10^6 six-digit PINs, 1,110,000 in
// all (the policy removes 2,674 of them, the ones tried first). Over the 94
// printable ASCII characters there are 94^4 ≈ 7.8·10^7 to
// 94^6 ≈ 6.9·10^11, but few users choose so.
//
// Without a KeyWrapper, at the default parameters (t=3, 64 MiB, p=4), one
// guess takes about 0.1 s of a 2-core x86-64 server
// (BenchmarkOpenVaultWrongPIN in vault_bench_test.go: 104 ms and 64 MiB
// a guess); a phone takes 0.1 to 0.5 s. That one machine tries every
// four-digit PIN in 10^4 × 0.1 s ≈ 17 minutes, every five-digit PIN in
// ≈ 3 hours and every six-digit PIN in ≈ 28 hours; half that on average.
// An attacker is bound by memory and its bandwidth, not by the PIN: a
// 64-core server with 256 GiB runs some 30 times as fast (every
// six-digit PIN in about an hour), a rack of them or of GPUs faster
// still. A PIN of 6 random characters over all 94 would take about 70
// years at 300 guesses a second, but people do not choose those.
// Argon2id buys time, not safety: without a KeyWrapper a stolen blob of
// a PIN-protected vault must be considered exposed.
//
// With a KeyWrapper, the key also depends on a 256-bit secret that only
// the phone's secure hardware can unwrap, with a key that never leaves
// it. A copied blob is then useless off the phone: guessing the platform
// secret is 2^256 work, so the attacker needs the phone itself. One
// limit, stated plainly: the platform secret is the same for every PIN
// guess, so an attacker who can run code on the phone and have the key
// unwrap it once can then guess PINs off the phone as above. Binding the
// hardware key to user authentication (Android's
// setUserAuthenticationRequired, iOS's .userPresence access control)
// puts the device's own lock, and its attempt limits, in front of that
// one unwrap. The app should in addition count [ErrWrongPIN] and wipe or
// lock the vault after a few failures: the library keeps no state
// between opens and cannot count for it.

// Vault errors, matched with [errors.Is].
var (
	// ErrWrongPIN reports a PIN that does not open the vault: its key
	// check value does not match. An attacker who rewrites the header of
	// a blob (and its checksum) gets the same answer; see [OpenVault].
	ErrWrongPIN = errors.New("enroll: wrong PIN")

	// ErrWrongPassphrase reports a backup passphrase that is mistyped
	// (its check character does not match) or does not open the export.
	ErrWrongPassphrase = errors.New("enroll: wrong backup passphrase")

	// ErrVaultParams reports Argon2id parameters outside the bounds: above
	// the library's cap or below the floor (the library's minimum or
	// VaultOptions.MinArgon2). When the parameters come from a blob the
	// error matches [ErrCorrupt] too: they are refused before any work
	// is done, so that a planted blob can neither lower the cost of a
	// guess nor make the phone allocate gigabytes.
	ErrVaultParams = errors.New("enroll: vault Argon2id parameters out of bounds")

	// ErrKeyWrapper reports a platform key that failed or is not the
	// vault's: the KeyWrapper returned an error (it is wrapped, for
	// [errors.Is] and [errors.As]), did not recover the secret this vault
	// was sealed with (another key, another phone), or a blob sealed with
	// a KeyWrapper was opened without one, or the other way round.
	ErrKeyWrapper = errors.New("enroll: vault platform key unavailable or not this vault's")

	// ErrNoCredential reports an issuer and user the vault holds no
	// credential for.
	ErrNoCredential = errors.New("enroll: no credential for this issuer and user in the vault")

	// ErrVaultZeroed reports a vault used after [Vault.Zero].
	ErrVaultZeroed = errors.New("enroll: vault was zeroed")
)

// Argon2Params are the parameters of Argon2id (RFC 9106).
type Argon2Params struct {
	Time      uint32 // passes over the memory
	MemoryKiB uint32 // memory, in KiB
	Threads   uint8  // lanes (parallelism)
}

// String returns e.g. "argon2id(t=3, m=65536 KiB, p=4)".
func (p Argon2Params) String() string {
	return fmt.Sprintf("argon2id(t=%d, m=%d KiB, p=%d)", p.Time, p.MemoryKiB, p.Threads)
}

var (
	// defaultArgon2 is RFC 9106's second recommended option (§4), for
	// when 2 GiB of memory is not available, as on a phone.
	defaultArgon2 = Argon2Params{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

	// minArgon2 is the library's floor: OWASP's minimum configuration
	// for Argon2id (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1),
	// a cost that phones of the last decade pay in a fraction of a
	// second. Nothing lower is accepted without VaultOptions.MinArgon2.
	minArgon2 = Argon2Params{Time: 2, MemoryKiB: 19 << 10, Threads: 1}

	// maxArgon2 is the cap: a blob asking for more is refused before
	// any allocation. 1 GiB is already more than many phones can spare.
	maxArgon2 = Argon2Params{Time: 16, MemoryKiB: 1 << 20, Threads: 16}
)

// maxArgon2Work caps Time × MemoryKiB at 4 GiB of passes over memory
// (4 passes over 1 GiB, 16 over 256 MiB; the default is 3 × 64 MiB), so
// that no blob can ask for 16 passes over 1 GiB.
const maxArgon2Work = 4 << 20

// withDefaults fills each zero field from d.
func (p Argon2Params) withDefaults(d Argon2Params) Argon2Params {
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	return p
}

// check returns why p is outside [floor, ceiling], or "". The ceiling is
// within maxArgon2.
func (p Argon2Params) check(floor, ceiling Argon2Params) string {
	switch {
	case p.Time > ceiling.Time || p.MemoryKiB > ceiling.MemoryKiB || p.Threads > ceiling.Threads:
		return fmt.Sprintf("%v is above the cap %v", p, ceiling)
	case uint64(p.Time)*uint64(p.MemoryKiB) > maxArgon2Work:
		return fmt.Sprintf("%v is above the cap of %d KiB of passes over memory (t × m)", p, maxArgon2Work)
	case p.Time < 1 || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads):
		return fmt.Sprintf("%v is not valid Argon2id (t ≥ 1, p ≥ 1, m ≥ 8·p KiB)", p)
	case p.Time < floor.Time || p.MemoryKiB < floor.MemoryKiB || p.Threads < floor.Threads:
		return fmt.Sprintf("%v is below the floor %v", p, floor)
	}
	return ""
}

// KeyWrapper is the app's bridge to a key in the phone's secure hardware
// that never leaves it. The vault hands it a fresh random 32-byte secret
// at every seal and stores only what Wrap returns; opening needs Unwrap,
// so a blob copied off the phone cannot be opened, however weak the PIN.
//
// Both platforms offer this shape:
//
//   - Android: an AES-256 key generated in the Android Keystore
//     (setIsStrongBoxBacked(true) where StrongBox exists), purposes
//     ENCRYPT | DECRYPT, "AES/GCM/NoPadding". Wrap encrypts and returns
//     the keystore's IV followed by the ciphertext and tag; Unwrap
//     decrypts.
//   - iOS: a P-256 key generated in the Secure Enclave
//     (kSecAttrTokenIDSecureEnclave, an accessibility ending in
//     ThisDeviceOnly). Wrap is SecKeyCreateEncryptedData with the public
//     key and eciesEncryptionCofactorVariableIVX963SHA256AESGCM; Unwrap is
//     SecKeyCreateDecryptedData with the private key, inside the enclave.
//
// Unwrap must fail (return an error) for bytes its key did not wrap; the
// authenticated encryption of both platforms does. The vault checks the
// unwrapped secret too, so that another key's output is reported as
// [ErrKeyWrapper], not as a wrong PIN. The key may require user
// authentication; the vault calls Unwrap once per [OpenVault] and Wrap
// once per [Vault.Seal]. Errors are passed back wrapped, with
// [ErrKeyWrapper]. The vault zeroes the secret it passes to Wrap and the
// slice Unwrap returns, once used.
//
// If the platform deletes the key (the app is reinstalled, or a key
// bound to biometrics is invalidated when the user enrolls a new
// finger), no sealed blob opens again: keep a backup ([Vault.Export]).
type KeyWrapper interface {
	// Wrap encrypts secret (32 bytes) under the hardware key. The result
	// must be 1 to 4096 bytes.
	Wrap(secret []byte) ([]byte, error)
	// Unwrap decrypts what Wrap returned.
	Unwrap(wrapped []byte) ([]byte, error)
}

// VaultOptions configure a vault. The zero value is valid: no platform
// key, the default Argon2id parameters and the library's floor.
type VaultOptions struct {
	// KeyWrapper, if set, binds the vault to the phone's secure hardware
	// (see [KeyWrapper]). A blob sealed with one opens only with it, and
	// a blob sealed without one does not open with one (so that nobody
	// can plant a vault of their own in its place); [Vault.SetKeyWrapper]
	// moves a vault from one to the other.
	KeyWrapper KeyWrapper

	// Argon2 are the parameters used to derive the key from a PIN when
	// one is set ([NewVault], [Vault.ChangePIN], [ImportVault]) and for
	// exports. A zero field takes the default: RFC 9106's second
	// recommended option, t=3, m=64 MiB (65536 KiB), p=4. OpenVault uses
	// the blob's own parameters; if they differ from these, it derives
	// the key again with these and a fresh salt, so that the next Seal
	// upgrades the blob.
	Argon2 Argon2Params

	// MinArgon2 is the floor: a blob or an Argon2 setting below it in any
	// field is refused ([ErrVaultParams]). A zero field takes the
	// library's minimum, OWASP's minimum for Argon2id: t=2, m=19 MiB
	// (19456 KiB), p=1. Lower it only in tests.
	MinArgon2 Argon2Params

	// MaxArgon2 is the cap: a blob or an Argon2 setting above it in any
	// field is refused ([ErrVaultParams]) before anything is allocated. A
	// zero field takes the library's cap, t=16, m=1 GiB (1048576 KiB),
	// p=16, which it can only lower (a phone short of memory might set
	// 256 MiB). Whatever the cap, t × m may not exceed 4 GiB.
	MaxArgon2 Argon2Params
}

// vaultConfig is VaultOptions resolved and checked.
type vaultConfig struct {
	wrapper KeyWrapper
	params  Argon2Params // for new PIN keys and exports
	floor   Argon2Params
	ceiling Argon2Params // the cap
}

func (o VaultOptions) resolve() (vaultConfig, error) {
	c := vaultConfig{
		wrapper: o.KeyWrapper,
		params:  o.Argon2.withDefaults(defaultArgon2),
		floor:   o.MinArgon2.withDefaults(minArgon2),
		ceiling: o.MaxArgon2.withDefaults(maxArgon2),
	}
	// The cap within the library's; the floor within the cap; both
	// valid Argon2id.
	if m := maxArgon2; c.ceiling.Time > m.Time || c.ceiling.MemoryKiB > m.MemoryKiB || c.ceiling.Threads > m.Threads {
		return vaultConfig{}, wrap(ErrVaultParams, "MaxArgon2: %v is above the library's cap %v", c.ceiling, m)
	}
	if why := c.floor.check(Argon2Params{}, c.ceiling); why != "" {
		return vaultConfig{}, wrap(ErrVaultParams, "MinArgon2: %s", why)
	}
	if why := c.params.check(c.floor, c.ceiling); why != "" {
		return vaultConfig{}, wrap(ErrVaultParams, "Argon2: %s", why)
	}
	return c, nil
}

// maxVaultCredentials is how many credentials a vault holds at most.
const maxVaultCredentials = 100

// Entry describes a credential in a vault, without its secrets.
type Entry struct {
	Issuer      string          // the service
	User        string          // the user ID
	AccountName string          // the label shown for the user
	DeviceID    string          // the server-assigned device ID
	Suite       challenge.Suite // the OCRA suite it answers with
	DeviceName  string          // the name the user gave the phone at activation
	CreatedAt   time.Time       // when the credential was made
}

// Vault is the phone's store of activated credentials, one per issuer and
// user, sealed at rest under the user's PIN and, if the app provides
// one, a key in the phone's secure hardware (see [KeyWrapper]). Make one
// with [NewVault], [OpenVault] or [ImportVault]; store what
// [Vault.Seal] returns after every change. Its methods are safe for
// concurrent use.
//
// In memory the vault holds the credentials and the key derived from the
// PIN (Argon2id output), never the PIN itself: a PIN is often the one of
// the user's bank card too. [Vault.Zero] wipes them. It prints no key
// material.
type Vault struct {
	mu     sync.Mutex
	cfg    vaultConfig
	pinKey Secret       // Argon2id(PIN, salt) under params; nil once zeroed
	salt   []byte       // 16 bytes, fresh whenever a PIN is set
	params Argon2Params // of pinKey
	creds  []*Credential
}

// NewVault makes an empty vault sealed under pin. The PIN must pass
// [CheckPIN] with no user name, since none is known yet; [Vault.ChangePIN]
// and [ImportVault] check it against the vault's user names too. It
// derives the PIN key (one Argon2id at opts.Argon2).
func NewVault(pin string, opts VaultOptions) (*Vault, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := CheckPIN(pin, ""); err != nil {
		return nil, err
	}
	v := &Vault{cfg: cfg}
	v.setPIN(pin)
	return v, nil
}

// setPIN derives a new PIN key with a fresh salt at the configured
// parameters.
func (v *Vault) setPIN(pin string) {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	k := deriveArgon2(pin, salt, v.cfg.params)
	v.pinKey.Zero()
	v.pinKey, v.salt, v.params = k, salt, v.cfg.params
}

const (
	argonSaltLen = 16 // RFC 9106 §3.1: 128 bits is enough
	argonKeyLen  = 32
)

func deriveArgon2(password string, salt []byte, p Argon2Params) Secret {
	pw := []byte(password)
	defer clear(pw)
	return Secret(argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, argonKeyLen))
}

func (v *Vault) live() error {
	if v.pinKey == nil {
		return ErrVaultZeroed
	}
	return nil
}

func (v *Vault) find(issuer, user string) int {
	for i, c := range v.creds {
		if c.offer.Issuer == issuer && c.offer.User == user {
			return i
		}
	}
	return -1
}

func (v *Vault) insert(c *Credential) {
	v.creds = append(v.creds, c)
	sortCredentials(v.creds)
}

func sortCredentials(cs []*Credential) {
	slices.SortFunc(cs, func(a, b *Credential) int {
		return cmp.Or(strings.Compare(a.offer.Issuer, b.offer.Issuer), strings.Compare(a.offer.User, b.offer.User))
	})
}

// Add stores a copy of c, which must be confirmed by the server
// ([ErrUnconfirmed] otherwise). A vault holds one credential per issuer
// and user: a second is [ErrAlreadyEnrolled] (remove the first to
// replace it). At most 100 credentials fit. Seal the vault afterwards.
func (v *Vault) Add(c *Credential) error {
	if c == nil {
		return wrap(ErrInvalidInput, "nil credential")
	}
	if !c.Confirmed() {
		return ErrUnconfirmed
	}
	// Storing goes through the encoding, so that whatever is added is
	// exactly what a sealed vault gives back.
	enc := appendCredential(nil, c)
	stored, err := decodeCredential(enc)
	clear(enc)
	if err != nil {
		return wrap(ErrInvalidInput, "credential cannot be stored: %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		stored.Zero()
		return err
	}
	if v.find(stored.offer.Issuer, stored.offer.User) >= 0 {
		stored.Zero()
		return wrap(ErrAlreadyEnrolled, "the vault holds a credential for issuer %q and user %q", stored.offer.Issuer, stored.offer.User)
	}
	if len(v.creds) >= maxVaultCredentials {
		stored.Zero()
		return wrap(ErrInvalidInput, "the vault holds the maximum of %d credentials", maxVaultCredentials)
	}
	v.insert(stored)
	return nil
}

// Remove deletes and wipes the credential for issuer and user
// ([ErrNoCredential] if there is none). Seal the vault afterwards; copies
// returned by [Vault.Get] are not reached.
func (v *Vault) Remove(issuer, user string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return err
	}
	i := v.find(issuer, user)
	if i < 0 {
		return ErrNoCredential
	}
	v.creds[i].Zero()
	v.creds = slices.Delete(v.creds, i, i+1)
	return nil
}

// Get returns a copy of the credential for issuer and user
// ([ErrNoCredential] if there is none). The copy is the caller's: Zero it
// when done.
func (v *Vault) Get(issuer, user string) (*Credential, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return nil, err
	}
	i := v.find(issuer, user)
	if i < 0 {
		return nil, ErrNoCredential
	}
	return cloneCredential(v.creds[i]), nil
}

// List describes the credentials, ordered by issuer and user, without
// their secrets. A zeroed vault lists nothing.
func (v *Vault) List() []Entry {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Entry, 0, len(v.creds))
	for _, c := range v.creds {
		out = append(out, entryOf(c))
	}
	return out
}

func entryOf(c *Credential) Entry {
	return Entry{
		Issuer:      c.offer.Issuer,
		User:        c.offer.User,
		AccountName: c.offer.AccountName,
		DeviceID:    c.deviceID,
		Suite:       c.offer.Suite,
		DeviceName:  c.device.Name,
		CreatedAt:   c.createdAt,
	}
}

// Len returns how many credentials the vault holds.
func (v *Vault) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.creds)
}

// Seal encrypts the vault for storage and returns the blob; the vault
// stays open. Every seal draws a fresh HKDF salt (hence a fresh key), a
// fresh nonce and, with a KeyWrapper, a fresh platform secret, which it
// wraps. The Argon2id salt is fresh whenever a PIN is set: running
// Argon2id again at every seal would need the PIN kept in memory, which
// the vault refuses to do. Sealing is therefore quick.
//
// Replace the stored blob with the new one. Older blobs still open with
// the PIN they were sealed under (a PIN change does not reach copies
// already taken), and flash storage may keep overwritten data: with a
// KeyWrapper, deleting the hardware key is what retires every old copy.
func (v *Vault) Seal() ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return nil, err
	}
	pt := encodeCredentials(v.creds)
	defer clear(pt)
	return sealBlob(kindVault, v.pinKey, v.salt, v.params, v.cfg.wrapper, pt)
}

// OpenVault opens a blob that [Vault.Seal] wrote, with the PIN and the
// options it was sealed with. It refuses, changing nothing and returning
// a nil vault:
//
//   - bytes that are not a vault, are truncated, or fail the checksum
//     that catches storage damage: [ErrCorrupt];
//   - Argon2id parameters above the cap or below the floor:
//     [ErrVaultParams] (and [ErrCorrupt]), before any allocation;
//   - a platform key that fails or is not the vault's: [ErrKeyWrapper];
//   - a PIN whose key check value does not match: [ErrWrongPIN];
//   - a ciphertext that does not decrypt, or whose contents are not
//     valid credentials: [ErrCorrupt].
//
// Telling a wrong PIN from an altered blob: the checksum (an unkeyed
// SHA-256 of the blob) catches accidental damage before any key is
// derived. A deliberate forger can recompute it; an altered header then
// yields ErrWrongPIN even for the right PIN, because until the key is
// known nothing can tell the two apart, and an altered ciphertext after
// a matching key check yields ErrCorrupt. The key check value (an HMAC of
// the header under a key derived beside the encryption key) tells an
// offline attacker nothing the AEAD tag does not: each guess costs them
// one Argon2id either way.
//
// OpenVault does not apply [CheckPIN]: a PIN accepted when it was set
// stays valid when the policy tightens.
func OpenVault(blob []byte, pin string, opts VaultOptions) (*Vault, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	pt, pinKey, h, err := openBlob(blob, kindVault, pin, cfg)
	if err != nil {
		return nil, err
	}
	creds, err := decodeCredentials(pt)
	clear(pt)
	if err != nil {
		pinKey.Zero()
		return nil, err
	}
	v := &Vault{cfg: cfg, pinKey: pinKey, salt: bytes.Clone(h.salt), params: h.params, creds: creds}
	if h.params != cfg.params {
		v.setPIN(pin)
	}
	return v, nil
}

// ChangePIN replaces the PIN: the current PIN must be right
// ([ErrWrongPIN]) and the new one must pass [CheckPIN] for every user ID
// and account name in the vault, and differ from the current one
// ([PINUnchanged]). The new PIN key gets a fresh salt and the configured
// Argon2id parameters. On error nothing changes. Seal the vault
// afterwards and replace the stored blob (see [Vault.Seal] on old
// copies).
func (v *Vault) ChangePIN(oldPIN, newPIN string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return err
	}
	if err := checkPINForAll(newPIN, v.creds); err != nil {
		return err
	}
	o, n := []byte(oldPIN), []byte(newPIN)
	same := subtle.ConstantTimeCompare(o, n) == 1
	clear(o)
	clear(n)
	if same {
		return weak(PINUnchanged)
	}
	k := deriveArgon2(oldPIN, v.salt, v.params)
	ok := subtle.ConstantTimeCompare(k, v.pinKey) == 1
	k.Zero()
	if !ok {
		return ErrWrongPIN
	}
	v.setPIN(newPIN)
	return nil
}

// SetKeyWrapper binds the vault to a platform key from the next
// [Vault.Seal] on, or with nil unbinds it: the way to move a vault sealed
// without a KeyWrapper to one (open it without, set the wrapper, seal,
// and store the new blob), or to a new hardware key. Open the new blob
// with the new wrapper in VaultOptions.
func (v *Vault) SetKeyWrapper(w KeyWrapper) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return err
	}
	v.cfg.wrapper = w
	return nil
}

// checkPINForAll applies CheckPIN with no user and with every user ID
// and account name of creds.
func checkPINForAll(pin string, creds []*Credential) error {
	if err := CheckPIN(pin, ""); err != nil {
		return err
	}
	for _, c := range creds {
		for _, u := range []string{c.offer.User, c.offer.AccountName} {
			if err := CheckPIN(pin, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// Zero wipes the PIN key and every credential; the vault can no longer be
// used ([ErrVaultZeroed]). Copies returned by [Vault.Get] are not reached.
func (v *Vault) Zero() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pinKey.Zero()
	v.pinKey = nil
	for _, c := range v.creds {
		c.Zero()
	}
	v.creds = nil
}

// Export returns a backup of the vault: a blob sealed under a passphrase
// the library draws from crypto/rand, 120 random bits and a check
// character in Crockford's base32, in five groups of five
// ("7K3M9-QXD2H-FAW4Z-NP8RT-C6V1E"). Show the passphrase once and never
// store it beside the blob: whoever has both has every credential.
//
// A backup is a clone of this phone's secrets, not a transfer: a vault
// restored from it ([ImportVault], [Vault.Import]) answers as the very
// same devices, and the server cannot tell the copies apart. Restore it
// only to recover a lost or reset phone. To move to a new phone, activate
// the new phone (a new device) and remove the old device on the server.
//
// The export is not bound to the platform key (it must open on another
// phone); its strength is the passphrase's 120 bits. It is stretched with
// Argon2id at VaultOptions.Argon2 all the same.
func (v *Vault) Export() (blob []byte, passphrase string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return nil, "", err
	}
	canon := newPassphrase()
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	k := deriveArgon2(canon, salt, v.cfg.params)
	defer k.Zero()
	pt := encodeCredentials(v.creds)
	defer clear(pt)
	blob, err = sealBlob(kindExport, k, salt, v.cfg.params, nil, pt)
	if err != nil {
		return nil, "", err
	}
	return blob, groupPassphrase(canon), nil
}

// Import merges a backup made by [Vault.Export] into this vault and
// returns what it added. The passphrase is read as a person types it:
// case, spaces and dashes are ignored, O reads as 0, I and L as 1; a
// check character that does not match is [ErrWrongPassphrase], without
// any key derivation. The import is all or nothing: a credential for an
// issuer and user the vault already holds is [ErrAlreadyEnrolled] (naming
// the issuer and user), and nothing is added; it never overwrites.
// Errors are otherwise those of [OpenVault], with [ErrWrongPassphrase]
// for a passphrase that does not open the export. Seal the vault
// afterwards. See [Vault.Export] on what a restored backup is.
func (v *Vault) Import(blob []byte, passphrase string) ([]Entry, error) {
	v.mu.Lock()
	cfg, err := v.cfg, v.live()
	v.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// The Argon2id of the export runs without the lock.
	creds, err := openExport(blob, passphrase, cfg)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		zeroAll(creds)
		return nil, err
	}
	if err := v.mergeable(creds); err != nil {
		zeroAll(creds)
		return nil, err
	}
	entries := make([]Entry, 0, len(creds))
	for _, c := range creds {
		v.insert(c)
		entries = append(entries, entryOf(c))
	}
	return entries, nil
}

// mergeable reports why creds cannot join the vault, or nil.
func (v *Vault) mergeable(creds []*Credential) error {
	for _, c := range creds {
		if v.find(c.offer.Issuer, c.offer.User) >= 0 {
			return wrap(ErrAlreadyEnrolled, "import: the vault already holds a credential for issuer %q and user %q", c.offer.Issuer, c.offer.User)
		}
	}
	if len(v.creds)+len(creds) > maxVaultCredentials {
		return wrap(ErrInvalidInput, "import: the vault would hold more than %d credentials", maxVaultCredentials)
	}
	return nil
}

// ImportVault restores a backup made by [Vault.Export] into a new vault
// sealed under pin, as on a phone that was reset. The PIN must pass
// [CheckPIN] for every user ID and account name in the backup. Errors
// are those of [Vault.Import] and [NewVault]; on error the vault is nil.
// See [Vault.Export] on what a restored backup is.
func ImportVault(blob []byte, passphrase, pin string, opts VaultOptions) (*Vault, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := CheckPIN(pin, ""); err != nil {
		return nil, err
	}
	creds, err := openExport(blob, passphrase, cfg)
	if err != nil {
		return nil, err
	}
	if err := checkPINForAll(pin, creds); err != nil {
		zeroAll(creds)
		return nil, err
	}
	v := &Vault{cfg: cfg, creds: creds}
	v.setPIN(pin)
	return v, nil
}

func openExport(blob []byte, passphrase string, cfg vaultConfig) ([]*Credential, error) {
	canon, err := parsePassphrase(passphrase)
	if err != nil {
		return nil, err
	}
	cfg.wrapper = nil
	pt, k, _, err := openBlob(blob, kindExport, canon, cfg)
	if err != nil {
		if errors.Is(err, ErrWrongPIN) {
			return nil, wrap(ErrWrongPassphrase, "the passphrase does not open this backup")
		}
		return nil, err
	}
	k.Zero()
	creds, err := decodeCredentials(pt)
	clear(pt)
	return creds, err
}

func zeroAll(creds []*Credential) {
	for _, c := range creds {
		c.Zero()
	}
}

// String describes the vault without key material.
func (v *Vault) String() string {
	if v == nil {
		return "enroll.Vault(nil)"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pinKey == nil {
		return "enroll.Vault{zeroed}"
	}
	return fmt.Sprintf("enroll.Vault{Credentials: %d, Argon2: %v, KeyWrapper: %t, Keys: %s}",
		len(v.creds), v.params, v.cfg.wrapper != nil, redacted)
}

// GoString is String.
func (v *Vault) GoString() string { return v.String() }

// Format prints String for every verb.
func (v *Vault) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue describes the vault to slog without key material.
func (v *Vault) LogValue() slog.Value {
	if v == nil {
		return slog.StringValue("enroll.Vault(nil)")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return slog.GroupValue(slog.Int("credentials", len(v.creds)), slog.String("argon2", v.params.String()),
		slog.Bool("key_wrapper", v.cfg.wrapper != nil), slog.Bool("zeroed", v.pinKey == nil))
}

// The blob format, version 1. Every integer is big-endian.
//
//	magic        "KLV" and the version byte 0x01
//	kind         'P' for a PIN vault, 'E' for an export
//	flags        bit 0: sealed with a KeyWrapper; the others are zero
//	argon2       t (4 bytes), m in KiB (4), p (1)
//	salt         16 bytes, the Argon2id salt
//	hkdf salt    32 bytes, fresh at every seal
//	if flag 0:   wrapped length (2 bytes, 1..4096), the wrapped platform
//	             secret, and its check (16 bytes: HMAC-SHA256 under the
//	             platform secret of "keyline/v1/vault-platform" ‖ hkdf
//	             salt, truncated)
//	key check    32 bytes: HMAC-SHA256 under the check key of every
//	             byte above
//	nonce        12 bytes
//	ciphertext   AES-256-GCM of the contents, with every byte above as
//	             associated data, so that no header field (the Argon2id
//	             parameters included) can change unnoticed
//	checksum     32 bytes: SHA-256 of every byte above, unkeyed, for
//	             storage damage
//
// The keys: HKDF-SHA256 with input Argon2id(PIN, salt) ‖ platform secret
// (when there is one), the hkdf salt, and info "keyline/v1/vault" (or
// "keyline/v1/vault-export" for an export) gives 64 bytes, the AES key
// and the check key. The contents: a 4-byte count and each credential as
// a field (4-byte length and bytes) in the encoding of
// credential_codec.go.
const (
	vaultMagic     = "KLV\x01"
	kindVault      = 'P'
	kindExport     = 'E'
	flagWrapped    = 1
	hkdfSaltLen    = 32
	wrapCheckLen   = 16
	maxWrappedLen  = 4096
	keyCheckLen    = 32
	gcmNonceLen    = 12
	gcmTagLen      = 16
	checksumLen    = sha256.Size
	fixedHeaderLen = len(vaultMagic) + 2 + 9 + argonSaltLen + hkdfSaltLen
	minBlobLen     = fixedHeaderLen + keyCheckLen + gcmNonceLen + gcmTagLen + checksumLen

	// maxCredentialLen bounds one encoded credential: the longest fields
	// Activate accepts.
	maxCredentialLen = 1 + 6*4 + 64 + 3*maxTextLen + 64 + keyLen + 8 + 3*4 + 128 + 128 + 64 + 1 +
		2*4 + 64<<10 + 4096 + 2*4 + 2*deviceIDLen + keyLen + 32 + 12
	maxContentsLen = 4 + maxVaultCredentials*(4+maxCredentialLen)
	maxBlobLen     = fixedHeaderLen + 2 + maxWrappedLen + wrapCheckLen + keyCheckLen + gcmNonceLen +
		maxContentsLen + gcmTagLen + checksumLen
)

// blobParamsError refuses a blob's Argon2id parameters; it matches both
// ErrVaultParams and ErrCorrupt.
type blobParamsError struct{ why string }

func (e *blobParamsError) Error() string   { return ErrVaultParams.Error() + ": the vault's " + e.why }
func (e *blobParamsError) Unwrap() []error { return []error{ErrVaultParams, ErrCorrupt} }

// vaultHeader is a parsed blob; its slices alias the blob.
type vaultHeader struct {
	kind      byte
	wrapped   []byte // nil when no KeyWrapper sealed it
	wrapCheck []byte
	params    Argon2Params
	salt      []byte
	hkdfSalt  []byte
	keyCheck  []byte
	signed    []byte // the bytes the key check covers
	nonce     []byte
	aad       []byte // everything before the ciphertext
	sealed    []byte // ciphertext and tag
}

func encodeCredentials(creds []*Credential) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(creds)))
	for _, c := range creds {
		enc := appendCredential(nil, c)
		b = appendField(b, enc)
		clear(enc)
	}
	return b
}

// decodeCredentials decodes the contents of a vault: valid credentials,
// at most maxVaultCredentials, no issuer and user twice.
func decodeCredentials(b []byte) ([]*Credential, error) {
	if len(b) < 4 {
		return nil, wrap(ErrCorrupt, "vault contents truncated")
	}
	n := binary.BigEndian.Uint32(b)
	if n > maxVaultCredentials {
		return nil, wrap(ErrCorrupt, "vault holds %d credentials, more than %d", n, maxVaultCredentials)
	}
	rest := b[4:]
	creds := make([]*Credential, 0, n)
	fail := func(err error) ([]*Credential, error) {
		zeroAll(creds)
		return nil, err
	}
	for range n {
		f, r, ok := cutField(rest)
		if !ok {
			return fail(wrap(ErrCorrupt, "vault contents truncated"))
		}
		rest = r
		c, err := decodeCredential(f)
		if err != nil {
			return fail(err)
		}
		creds = append(creds, c)
	}
	if len(rest) != 0 {
		return fail(wrap(ErrCorrupt, "vault contents: trailing bytes"))
	}
	sortCredentials(creds)
	for i := 1; i < len(creds); i++ {
		if creds[i].offer.Issuer == creds[i-1].offer.Issuer && creds[i].offer.User == creds[i-1].offer.User {
			return fail(wrap(ErrCorrupt, "vault holds two credentials for one issuer and user"))
		}
	}
	return creds, nil
}

// vaultKeys derives the AES key and the check key.
func vaultKeys(kind byte, argonKey, platform Secret, hkdfSalt []byte) (enc, check Secret) {
	ikm := make([]byte, 0, len(argonKey)+len(platform))
	ikm = append(append(ikm, argonKey...), platform...)
	info := "keyline/v1/vault"
	if kind == kindExport {
		info = "keyline/v1/vault-export"
	}
	okm := make([]byte, 64)
	if _, err := io.ReadFull(hkdf.New(sha256.New, ikm, hkdfSalt, []byte(info)), okm); err != nil {
		panic("enroll: hkdf: " + err.Error())
	}
	clear(ikm)
	return Secret(okm[:32:32]), Secret(okm[32:])
}

func keyCheckMAC(check Secret, signed []byte) []byte {
	m := hmac.New(sha256.New, check)
	m.Write([]byte("keyline/v1/vault-check"))
	m.Write(signed)
	return m.Sum(nil)
}

func platformCheck(platform Secret, hkdfSalt []byte) []byte {
	m := hmac.New(sha256.New, platform)
	m.Write([]byte("keyline/v1/vault-platform"))
	m.Write(hkdfSalt)
	return m.Sum(nil)[:wrapCheckLen]
}

func newGCM(key Secret) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("enroll: aes: " + err.Error())
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("enroll: gcm: " + err.Error())
	}
	return aead
}

// sealBlob writes a blob of kind around plaintext, under argonKey (the
// Argon2id output for salt and params) and, if wrapper is set, a fresh
// platform secret.
func sealBlob(kind byte, argonKey Secret, salt []byte, params Argon2Params, wrapper KeyWrapper, plaintext []byte) ([]byte, error) {
	hkdfSalt := make([]byte, hkdfSaltLen)
	rand.Read(hkdfSalt)
	var flags byte
	var platform Secret
	var wrapped []byte
	if wrapper != nil {
		flags |= flagWrapped
		platform = make(Secret, 32)
		defer platform.Zero()
		rand.Read(platform)
		arg := platform.clone()
		w, err := wrapper.Wrap(arg)
		arg.Zero()
		if err != nil {
			return nil, fmt.Errorf("%w: wrap: %w", ErrKeyWrapper, err)
		}
		if len(w) == 0 || len(w) > maxWrappedLen {
			return nil, wrap(ErrKeyWrapper, "wrap returned %d bytes, want 1 to %d", len(w), maxWrappedLen)
		}
		wrapped = w
	}
	b := make([]byte, 0, minBlobLen+2+len(wrapped)+wrapCheckLen+len(plaintext))
	b = append(b, vaultMagic...)
	b = append(b, kind, flags)
	b = binary.BigEndian.AppendUint32(b, params.Time)
	b = binary.BigEndian.AppendUint32(b, params.MemoryKiB)
	b = append(b, params.Threads)
	b = append(b, salt...)
	b = append(b, hkdfSalt...)
	if wrapper != nil {
		b = binary.BigEndian.AppendUint16(b, uint16(len(wrapped)))
		b = append(b, wrapped...)
		b = append(b, platformCheck(platform, hkdfSalt)...)
	}
	enc, check := vaultKeys(kind, argonKey, platform, hkdfSalt)
	defer enc.Zero()
	defer check.Zero()
	b = append(b, keyCheckMAC(check, b)...)
	nonce := make([]byte, gcmNonceLen)
	rand.Read(nonce)
	b = append(b, nonce...)
	// Seal into a buffer of its own: GCM's dst must not overlap its
	// associated data.
	b = append(b, newGCM(enc).Seal(nil, nonce, plaintext, b)...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// parseBlob checks a blob's structure and checksum. Nothing is derived
// and nothing allocated but the header.
func parseBlob(b []byte) (*vaultHeader, error) {
	if len(b) < len(vaultMagic) || string(b[:3]) != vaultMagic[:3] {
		return nil, wrap(ErrCorrupt, "not a keyline vault")
	}
	if b[3] != vaultMagic[3] {
		return nil, wrap(ErrCorrupt, "vault format version %d is not supported", b[3])
	}
	if len(b) > maxBlobLen {
		return nil, wrap(ErrCorrupt, "vault is longer than %d bytes", maxBlobLen)
	}
	if len(b) < minBlobLen {
		return nil, wrap(ErrCorrupt, "vault is truncated")
	}
	body, sum := b[:len(b)-checksumLen], b[len(b)-checksumLen:]
	if want := sha256.Sum256(body); subtle.ConstantTimeCompare(sum, want[:]) != 1 {
		return nil, wrap(ErrCorrupt, "vault checksum does not match: truncated or damaged")
	}
	h := &vaultHeader{kind: body[4]}
	flags := body[5]
	if flags&^flagWrapped != 0 {
		return nil, wrap(ErrCorrupt, "unknown vault flags")
	}
	h.params = Argon2Params{
		Time:      binary.BigEndian.Uint32(body[6:]),
		MemoryKiB: binary.BigEndian.Uint32(body[10:]),
		Threads:   body[14],
	}
	h.salt = body[15 : 15+argonSaltLen]
	h.hkdfSalt = body[15+argonSaltLen : fixedHeaderLen]
	rest := body[fixedHeaderLen:]
	if flags&flagWrapped != 0 {
		if len(rest) < 2 {
			return nil, wrap(ErrCorrupt, "vault is truncated")
		}
		n := int(binary.BigEndian.Uint16(rest))
		if n == 0 || n > maxWrappedLen || len(rest) < 2+n+wrapCheckLen {
			return nil, wrap(ErrCorrupt, "vault platform secret is malformed")
		}
		h.wrapped = rest[2 : 2+n]
		h.wrapCheck = rest[2+n : 2+n+wrapCheckLen]
		rest = rest[2+n+wrapCheckLen:]
	}
	if len(rest) < keyCheckLen+gcmNonceLen+gcmTagLen {
		return nil, wrap(ErrCorrupt, "vault is truncated")
	}
	h.signed = body[:len(body)-len(rest)]
	h.keyCheck = rest[:keyCheckLen]
	h.nonce = rest[keyCheckLen : keyCheckLen+gcmNonceLen]
	h.aad = body[:len(body)-len(rest)+keyCheckLen+gcmNonceLen]
	h.sealed = rest[keyCheckLen+gcmNonceLen:]
	return h, nil
}

// openBlob opens a blob of kind with password (a PIN, or an export's
// canonical passphrase), in the order OpenVault documents. It returns the
// plaintext, the Argon2id key and the header.
func openBlob(blob []byte, kind byte, password string, cfg vaultConfig) (pt []byte, argonKey Secret, h *vaultHeader, err error) {
	h, err = parseBlob(blob)
	if err != nil {
		return nil, nil, nil, err
	}
	if h.kind != kind {
		if h.kind == kindExport {
			return nil, nil, nil, wrap(ErrCorrupt, "this is a backup export: restore it with ImportVault or Vault.Import")
		}
		if h.kind == kindVault {
			return nil, nil, nil, wrap(ErrCorrupt, "this is a PIN vault, not a backup export")
		}
		return nil, nil, nil, wrap(ErrCorrupt, "unknown vault kind")
	}
	if why := h.params.check(cfg.floor, cfg.ceiling); why != "" {
		return nil, nil, nil, &blobParamsError{why: why}
	}
	if kind == kindExport && h.wrapped != nil {
		return nil, nil, nil, wrap(ErrCorrupt, "a backup export cannot carry a platform key")
	}
	var platform Secret
	switch {
	case h.wrapped != nil && cfg.wrapper == nil:
		return nil, nil, nil, wrap(ErrKeyWrapper, "the vault was sealed with a platform key and none was given")
	case h.wrapped == nil && cfg.wrapper != nil:
		return nil, nil, nil, wrap(ErrKeyWrapper, "the vault was sealed without a platform key; to bind it to one, open it without and use Vault.SetKeyWrapper")
	case h.wrapped != nil:
		u, err := cfg.wrapper.Unwrap(bytes.Clone(h.wrapped))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%w: unwrap: %w", ErrKeyWrapper, err)
		}
		platform = Secret(u)
		defer platform.Zero()
		if len(platform) != 32 || !hmac.Equal(platformCheck(platform, h.hkdfSalt), h.wrapCheck) {
			return nil, nil, nil, wrap(ErrKeyWrapper, "the platform key did not recover this vault's secret (another key or another phone)")
		}
	}
	argonKey = deriveArgon2(password, h.salt, h.params)
	enc, check := vaultKeys(kind, argonKey, platform, h.hkdfSalt)
	defer enc.Zero()
	defer check.Zero()
	if !hmac.Equal(keyCheckMAC(check, h.signed), h.keyCheck) {
		argonKey.Zero()
		return nil, nil, nil, ErrWrongPIN
	}
	pt, err = newGCM(enc).Open(nil, h.nonce, h.sealed, h.aad)
	if err != nil {
		argonKey.Zero()
		return nil, nil, nil, wrap(ErrCorrupt, "vault ciphertext does not authenticate")
	}
	return pt, argonKey, h, nil
}

// Backup passphrases: 24 characters of Crockford's base32 (120 bits from
// crypto/rand) and a Luhn mod 32 check character, shown in five groups
// of five.
const (
	passphraseChars = 24
	passphraseGroup = 5
)

// newPassphrase returns a fresh passphrase in canonical form: 25
// characters, no dashes.
func newPassphrase() string {
	var raw [passphraseChars * 5 / 8]byte
	rand.Read(raw[:])
	vals := make([]byte, 0, passphraseChars+1)
	var acc uint32
	bits := 0
	for _, b := range raw {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			vals = append(vals, byte(acc>>bits)&31)
		}
	}
	clear(raw[:])
	vals = append(vals, luhn32Check(vals))
	out := crockford.Encode(vals)
	clear(vals)
	return out
}

func groupPassphrase(canon string) string {
	var b strings.Builder
	for i := 0; i < len(canon); i++ {
		if i > 0 && i%passphraseGroup == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(canon[i])
	}
	return b.String()
}

// parsePassphrase reads a passphrase as typed and returns its canonical
// form, or [ErrWrongPassphrase] saying what is wrong (never what was
// typed).
func parsePassphrase(typed string) (string, error) {
	if len(typed) > 128 {
		return "", wrap(ErrWrongPassphrase, "too long")
	}
	vals, bad := crockford.Values(typed)
	if bad > 0 {
		return "", wrap(ErrWrongPassphrase, "it holds a character that is not in the passphrase alphabet")
	}
	if len(vals) != passphraseChars+1 {
		return "", wrap(ErrWrongPassphrase, "it has %d characters, want %d", len(vals), passphraseChars+1)
	}
	if luhn32Check(vals[:passphraseChars]) != vals[passphraseChars] {
		return "", wrap(ErrWrongPassphrase, "mistyped: the check character does not match")
	}
	return crockford.Encode(vals), nil
}
