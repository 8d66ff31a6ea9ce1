package vault

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Vault errors, matched with [errors.Is].
var (
	// ErrWrongPIN reports a PIN that does not open the vault: its key
	// check value does not match. An attacker who rewrites the header of
	// a blob (and its checksum) gets the same answer; see [Open].
	ErrWrongPIN = errors.New("vault: wrong PIN")

	// ErrWrongPassphrase reports a backup passphrase that is mistyped
	// (its check character does not match) or does not open the export.
	ErrWrongPassphrase = errors.New("vault: wrong backup passphrase")

	// ErrParams reports Argon2id parameters outside the bounds: above
	// the library's cap or below the floor (the library's minimum or
	// Options.MinArgon2). When the parameters come from a blob the
	// error matches [ErrCorrupt] too: they are refused before any work
	// is done, so that a planted blob can neither lower the cost of a
	// guess nor make the phone allocate gigabytes.
	ErrParams = errors.New("vault: Argon2id parameters out of bounds")

	// ErrKeyWrapper reports a platform key that failed or is not the
	// vault's: the KeyWrapper returned an error (it is wrapped, for
	// [errors.Is] and [errors.As]), did not recover the secret this vault
	// was sealed with (another key, another phone), or a blob sealed with
	// a KeyWrapper was opened without one, or the other way round.
	ErrKeyWrapper = errors.New("vault: platform key unavailable or not this vault's")

	// ErrNoCredential reports an issuer and user the vault holds no
	// credential for.
	ErrNoCredential = errors.New("vault: no credential for this issuer and user")

	// ErrZeroed reports a vault used after [Vault.Zero].
	ErrZeroed = errors.New("vault: vault was zeroed")
)

// Errors the vault shares with package enroll: the same values, so that
// [errors.Is] matches either name.
var (
	// ErrCorrupt reports a blob, or a credential in it, that is altered,
	// truncated or not a vault.
	ErrCorrupt = enroll.ErrCorrupt

	// ErrAlreadyEnrolled reports a credential for an issuer and user the
	// vault already holds.
	ErrAlreadyEnrolled = enroll.ErrAlreadyEnrolled

	// ErrUnconfirmed reports a credential added before its server's
	// confirmation was checked.
	ErrUnconfirmed = enroll.ErrUnconfirmed

	// ErrInvalidInput reports an argument out of range: a nil
	// credential, a vault full.
	ErrInvalidInput = enroll.ErrInvalidInput
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
	// second. Nothing lower is accepted without Options.MinArgon2.
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
// authentication; the vault calls Unwrap once per [Open] and Wrap
// once per [Vault.Seal] of a vault that holds the PIN key (a vault
// opened with the biometric key carries the wrapped secret instead). Errors are passed back wrapped, with
// [ErrKeyWrapper]. The vault zeroes the secret it passes to Wrap and the
// slice Unwrap returns, once used.
//
// If the platform deletes the key (the app is reinstalled, or a key
// bound to biometrics is invalidated when the user enrolls a new
// finger), no sealed blob opens again: keep a backup ([Vault.Export]).
// So do not bind this key to biometrics: biometric unlock is a second
// key of its own ([Vault.EnableBiometricUnlock]), which the platform may
// invalidate while this one and the PIN still open the vault.
//
// The same interface serves as the biometric key; there, Unwrap is what
// asks for the user's face or finger, and it unwraps the vault key
// rather than a platform secret.
type KeyWrapper interface {
	// Wrap encrypts secret (32 bytes) under the hardware key. The result
	// must be 1 to 4096 bytes.
	Wrap(secret []byte) ([]byte, error)
	// Unwrap decrypts what Wrap returned.
	Unwrap(wrapped []byte) ([]byte, error)
}

// Options configure a vault. The zero value is valid: no platform
// key, the default Argon2id parameters and the library's floor.
type Options struct {
	// KeyWrapper, if set, binds the vault to the phone's secure hardware
	// (see [KeyWrapper]). A blob sealed with one opens only with it, and
	// a blob sealed without one does not open with one (so that nobody
	// can plant a vault of their own in its place); [Vault.SetKeyWrapper]
	// moves a vault from one to the other.
	KeyWrapper KeyWrapper

	// Argon2 are the parameters used to derive the key from a PIN when
	// one is set ([New], [Vault.ChangePIN], [Import]) and for
	// exports. A zero field takes the default: RFC 9106's second
	// recommended option, t=3, m=64 MiB (65536 KiB), p=4. Open uses
	// the blob's own parameters; if they differ from these, it derives
	// the key again with these and a fresh salt, so that the next Seal
	// upgrades the blob.
	Argon2 Argon2Params

	// MinArgon2 is the floor: a blob or an Argon2 setting below it in any
	// field is refused ([ErrParams]). A zero field takes the
	// library's minimum, OWASP's minimum for Argon2id: t=2, m=19 MiB
	// (19456 KiB), p=1. Lower it only in tests.
	MinArgon2 Argon2Params

	// MaxArgon2 is the cap: a blob or an Argon2 setting above it in any
	// field is refused ([ErrParams]) before anything is allocated. A
	// zero field takes the library's cap, t=16, m=1 GiB (1048576 KiB),
	// p=16, which it can only lower (a phone short of memory might set
	// 256 MiB). Whatever the cap, t × m may not exceed 4 GiB.
	MaxArgon2 Argon2Params
}

// config is Options resolved and checked.
type config struct {
	wrapper KeyWrapper
	params  Argon2Params // for new PIN keys and exports
	floor   Argon2Params
	ceiling Argon2Params // the cap
}

func (o Options) resolve() (config, error) {
	c := config{
		wrapper: o.KeyWrapper,
		params:  o.Argon2.withDefaults(defaultArgon2),
		floor:   o.MinArgon2.withDefaults(minArgon2),
		ceiling: o.MaxArgon2.withDefaults(maxArgon2),
	}
	// The cap within the library's; the floor within the cap; both
	// valid Argon2id.
	if m := maxArgon2; c.ceiling.Time > m.Time || c.ceiling.MemoryKiB > m.MemoryKiB || c.ceiling.Threads > m.Threads {
		return config{}, wrap(ErrParams, "MaxArgon2: %v is above the library's cap %v", c.ceiling, m)
	}
	if why := c.floor.check(Argon2Params{}, c.ceiling); why != "" {
		return config{}, wrap(ErrParams, "MinArgon2: %s", why)
	}
	if why := c.params.check(c.floor, c.ceiling); why != "" {
		return config{}, wrap(ErrParams, "Argon2: %s", why)
	}
	return c, nil
}

// maxCredentials is how many credentials a vault holds at most.
const maxCredentials = 100

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
// with [New], [Open] or [Import]; store what [Vault.Seal] returns after
// every change. Its methods are safe for concurrent use.
//
// In memory the vault holds the credentials, encoded, the vault key and,
// when it was opened or made with the PIN, the key derived from the PIN
// (Argon2id output), never the PIN itself: a PIN is often the one of the
// user's bank card too. A vault opened with the biometric key holds
// nothing derived from the PIN until the PIN is given to it. [Vault.Zero]
// wipes them. It prints no key material.
type Vault struct {
	mu      sync.Mutex
	cfg     config
	key     enroll.Secret // the vault key, which seals the contents; nil once zeroed
	pinKey  enroll.Secret // Argon2id(PIN, salt) under params; nil while the PIN is not known (opened with the biometric key)
	salt    []byte        // 16 bytes, fresh whenever a PIN is set
	params  Argon2Params  // of pinKey
	carried pinWrap       // the opened blob's PIN wrap, sealed again while pinKey is nil
	bio     KeyWrapper    // the biometric key, when this vault was given it
	bioWrap []byte        // the vault key wrapped by the biometric key; nil when biometric unlock is off
	creds   []stored      // ordered by issuer and user
}

// stored is a credential as the vault keeps it: its description, and its
// bytes in enroll's encoding (which hold the root secret). The purpose
// keys are derived only when [Vault.Get] hands out a credential.
type stored struct {
	entry Entry
	enc   []byte
}

// storedOf validates an encoded credential, as [enroll.DecodeCredential]
// does, and describes it. The result owns a copy of enc.
func storedOf(enc []byte) (stored, error) {
	if len(enc) > enroll.MaxCredentialSize {
		return stored{}, wrap(ErrCorrupt, "credential of %d bytes, more than %d", len(enc), enroll.MaxCredentialSize)
	}
	c, err := enroll.DecodeCredential(enc)
	if err != nil {
		return stored{}, err
	}
	defer c.Zero()
	return stored{entry: entryOf(c), enc: bytes.Clone(enc)}, nil
}

func entryOf(c *enroll.Credential) Entry {
	return Entry{
		Issuer:      c.Issuer(),
		User:        c.User(),
		AccountName: c.AccountName(),
		DeviceID:    c.DeviceID(),
		Suite:       c.Suite(),
		DeviceName:  c.Device().Name,
		CreatedAt:   c.CreatedAt(),
	}
}

// New makes an empty vault sealed under pin. The PIN must pass
// [CheckPIN] with no user name, since none is known yet; [Vault.ChangePIN]
// and [Import] check it against the vault's user names too. It derives
// the PIN key (one Argon2id at opts.Argon2).
func New(pin string, opts Options) (*Vault, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := CheckPIN(pin, ""); err != nil {
		return nil, err
	}
	v := &Vault{cfg: cfg, key: newVaultKey()}
	v.setPIN(pin)
	return v, nil
}

// newVaultKey draws a vault key.
func newVaultKey() enroll.Secret {
	k := make(enroll.Secret, vaultKeyLen)
	rand.Read(k)
	return k
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

func deriveArgon2(password string, salt []byte, p Argon2Params) enroll.Secret {
	pw := []byte(password)
	defer clear(pw)
	return enroll.Secret(argon2.IDKey(pw, salt, p.Time, p.MemoryKiB, p.Threads, argonKeyLen))
}

func (v *Vault) live() error {
	if v.key == nil {
		return ErrZeroed
	}
	return nil
}

func (v *Vault) find(issuer, user string) int {
	for i, s := range v.creds {
		if s.entry.Issuer == issuer && s.entry.User == user {
			return i
		}
	}
	return -1
}

func (v *Vault) insert(s stored) {
	v.creds = append(v.creds, s)
	sortStored(v.creds)
}

func sortStored(ss []stored) {
	slices.SortFunc(ss, func(a, b stored) int {
		return cmp.Or(strings.Compare(a.entry.Issuer, b.entry.Issuer), strings.Compare(a.entry.User, b.entry.User))
	})
}

// Add stores a copy of c, which must be confirmed by the server
// ([ErrUnconfirmed] otherwise). A vault holds one credential per issuer
// and user: a second is [ErrAlreadyEnrolled] (remove the first to
// replace it). At most 100 credentials fit. Seal the vault afterwards.
func (v *Vault) Add(c *enroll.Credential) error {
	if c == nil {
		return wrap(ErrInvalidInput, "nil credential")
	}
	if !c.Confirmed() {
		return ErrUnconfirmed
	}
	// Storing goes through the encoding, so that whatever is added is
	// exactly what a sealed vault gives back.
	enc, err := enroll.EncodeCredential(c)
	if err != nil {
		return err
	}
	s, err := storedOf(enc)
	clear(enc)
	if err != nil {
		return wrap(ErrInvalidInput, "credential cannot be stored: %v", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		clear(s.enc)
		return err
	}
	if v.find(s.entry.Issuer, s.entry.User) >= 0 {
		clear(s.enc)
		return wrap(ErrAlreadyEnrolled, "the vault holds a credential for issuer %q and user %q", s.entry.Issuer, s.entry.User)
	}
	if len(v.creds) >= maxCredentials {
		clear(s.enc)
		return wrap(ErrInvalidInput, "the vault holds the maximum of %d credentials", maxCredentials)
	}
	v.insert(s)
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
	clear(v.creds[i].enc)
	v.creds = slices.Delete(v.creds, i, i+1)
	return nil
}

// Get returns a copy of the credential for issuer and user
// ([ErrNoCredential] if there is none). The copy is the caller's: Zero it
// when done.
func (v *Vault) Get(issuer, user string) (*enroll.Credential, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return nil, err
	}
	i := v.find(issuer, user)
	if i < 0 {
		return nil, ErrNoCredential
	}
	return enroll.DecodeCredential(v.creds[i].enc)
}

// List describes the credentials, ordered by issuer and user, without
// their secrets. A zeroed vault lists nothing.
func (v *Vault) List() []Entry {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Entry, 0, len(v.creds))
	for _, s := range v.creds {
		out = append(out, s.entry)
	}
	return out
}

// Len returns how many credentials the vault holds.
func (v *Vault) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.creds)
}

// Seal encrypts the vault for storage and returns the blob; the vault
// stays open. It writes format version 2 (blob.go). Every seal draws a
// fresh salt for the contents' keys (hence fresh keys) and a fresh
// nonce; a vault that holds the PIN key also wraps the vault key under
// it anew, with a fresh HKDF salt and, with a KeyWrapper, a fresh
// platform secret, which it wraps. A vault opened with the biometric key
// ([OpenBiometric]) carries its blob's PIN wrap unchanged, and no seal
// calls the biometric key. The Argon2id salt is fresh whenever a PIN is
// set: running Argon2id again at every seal would need the PIN kept in
// memory, which the vault refuses to do. Sealing is therefore quick.
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
	pw := v.carried
	if v.pinKey != nil {
		var err error
		if pw, err = makePINWrap(v.key, v.pinKey, v.salt, v.params, v.cfg.wrapper); err != nil {
			return nil, err
		}
	}
	pt := encodeContents(v.creds)
	defer clear(pt)
	return sealV2(v.key, pw, v.bioWrap, pt), nil
}

// Open opens a blob that [Vault.Seal] wrote, with the PIN and the
// options it was sealed with: of format version 2, or of version 1
// (sealed before biometric unlock existed), which the next Seal writes
// as version 2 under a fresh vault key. It refuses, changing nothing and returning
// a nil vault:
//
//   - bytes that are not a vault, are truncated, or fail the checksum
//     that catches storage damage: [ErrCorrupt];
//   - Argon2id parameters above the cap or below the floor:
//     [ErrParams] (and [ErrCorrupt]), before any allocation;
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
// Open does not apply [CheckPIN]: a PIN accepted when it was set stays
// valid when the policy tightens.
func Open(blob []byte, pin string, opts Options) (*Vault, error) {
	cfg, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if isV2(blob) {
		return openV2(blob, pin, cfg)
	}
	// Format version 1: no vault key yet; the next Seal writes version 2
	// under a fresh one.
	pt, pinKey, h, err := openBlob(blob, kindVault, pin, cfg)
	if err != nil {
		return nil, err
	}
	creds, err := decodeContents(pt)
	clear(pt)
	if err != nil {
		pinKey.Zero()
		return nil, err
	}
	v := &Vault{cfg: cfg, key: newVaultKey(), pinKey: pinKey, salt: bytes.Clone(h.salt), params: h.params, creds: creds}
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
//
// It also draws a new vault key, so that an old blob and the old PIN,
// should both leak, open nothing sealed after the change. With biometric
// unlock on, the biometric key wraps the new key (Wrap is called; an
// error is [ErrKeyWrapper]) if the vault holds it: opened by
// [OpenBiometric] or given to [Vault.EnableBiometricUnlock]. A vault
// opened with the PIN does not hold it, and the change turns biometric
// unlock off: enable it again with the new PIN. On a vault opened with
// the biometric key, the old PIN is checked through the blob's PIN wrap
// (one Argon2id, and the KeyWrapper's Unwrap when bound).
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
	if err := v.verifyPIN(oldPIN); err != nil {
		return err
	}
	return v.rekey(newPIN)
}

// SetKeyWrapper binds the vault to a platform key from the next
// [Vault.Seal] on, or with nil unbinds it: the way to move a vault sealed
// without a KeyWrapper to one (open it without, set the wrapper, seal,
// and store the new blob), or to a new hardware key. Open the new blob
// with the new wrapper in Options. The new binding needs a new PIN wrap:
// a vault opened with the biometric key whose PIN has not been given
// since ([Vault.ChangePIN], [Vault.EnableBiometricUnlock]) refuses with
// [ErrPINRequired].
func (v *Vault) SetKeyWrapper(w KeyWrapper) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.live(); err != nil {
		return err
	}
	if v.pinKey == nil {
		return wrap(ErrPINRequired, "a new platform key needs a new PIN wrap")
	}
	v.cfg.wrapper = w
	return nil
}

// checkPINForAll applies CheckPIN with no user and with every user ID
// and account name of creds.
func checkPINForAll(pin string, creds []stored) error {
	if err := CheckPIN(pin, ""); err != nil {
		return err
	}
	for _, s := range creds {
		for _, u := range []string{s.entry.User, s.entry.AccountName} {
			if err := CheckPIN(pin, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// Zero wipes the vault key, the PIN key and every credential; the vault
// can no longer be used ([ErrZeroed]). Copies returned by [Vault.Get] are not reached.
func (v *Vault) Zero() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.key.Zero()
	v.key = nil
	v.pinKey.Zero()
	v.pinKey = nil
	v.bio, v.bioWrap = nil, nil
	zeroAll(v.creds)
	v.creds = nil
}

func zeroAll(creds []stored) {
	for _, s := range creds {
		clear(s.enc)
	}
}

// wrap returns sentinel with a reason. A shared value of package keyline,
// whose text names no package, is said to come from this package.
func wrap(sentinel error, format string, args ...any) error {
	if !strings.Contains(sentinel.Error(), ": ") {
		format = "%s: %w: " + format
		return fmt.Errorf(format, append([]any{"vault", sentinel}, args...)...)
	}
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

const redacted = "[redacted]"

// String describes the vault without key material.
func (v *Vault) String() string {
	if v == nil {
		return "vault.Vault(nil)"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.key == nil {
		return "vault.Vault{zeroed}"
	}
	return fmt.Sprintf("vault.Vault{Credentials: %d, Argon2: %v, KeyWrapper: %t, Biometric: %t, Keys: %s}",
		len(v.creds), v.params, v.cfg.wrapper != nil, v.bioWrap != nil, redacted)
}

// GoString is String.
func (v *Vault) GoString() string { return v.String() }

// Format prints String for every verb.
func (v *Vault) Format(f fmt.State, _ rune) { fmt.Fprint(f, v.String()) }

// LogValue describes the vault to slog without key material.
func (v *Vault) LogValue() slog.Value {
	if v == nil {
		return slog.StringValue("vault.Vault(nil)")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	return slog.GroupValue(slog.Int("credentials", len(v.creds)), slog.String("argon2", v.params.String()),
		slog.Bool("key_wrapper", v.cfg.wrapper != nil), slog.Bool("biometric", v.bioWrap != nil), slog.Bool("zeroed", v.key == nil))
}
