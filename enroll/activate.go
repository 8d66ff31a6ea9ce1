package enroll

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"golang.org/x/crypto/hkdf"

	"github.com/keyline/keyline/challenge"
)

// Integrity is a device's own verdict on its integrity. It is self-reported
// and bound into the activation transcript; a Rooted device is refused,
// but that is hygiene, not a control: a compromised phone can say Intact.
// Attestation (DeviceInfo.Attestation, checked by the server's hook) is
// the control.
type Integrity uint8

// Integrity verdicts. The zero value is Unknown.
const (
	Unknown Integrity = iota // the app could not tell
	Intact                   // the platform's checks passed
	Rooted                   // rooted, jailbroken or otherwise compromised
)

// String returns "unknown", "intact" or "rooted".
func (i Integrity) String() string {
	switch i {
	case Unknown:
		return "unknown"
	case Intact:
		return "intact"
	case Rooted:
		return "rooted"
	}
	return "invalid"
}

// MarshalText returns the verdict's name.
func (i Integrity) MarshalText() ([]byte, error) {
	if i > Rooted {
		return nil, wrap(ErrInvalidInput, "integrity verdict %d", i)
	}
	return []byte(i.String()), nil
}

// UnmarshalText reads a verdict's name.
func (i *Integrity) UnmarshalText(b []byte) error {
	for _, v := range []Integrity{Unknown, Intact, Rooted} {
		if string(b) == v.String() {
			*i = v
			return nil
		}
	}
	return wrap(ErrInvalidInput, "unknown integrity verdict")
}

// DeviceInfo is what the phone says about itself at activation. Every
// field but PushToken is bound into the activation transcript.
type DeviceInfo struct {
	InstallID   string    `json:"install_id"`            // the app's own ID for this install (1-128 bytes)
	Name        string    `json:"name"`                  // the name the user gave the phone (at most 128 bytes)
	Platform    string    `json:"platform"`              // e.g. "ios", "android" (at most 64 bytes)
	Integrity   Integrity `json:"integrity"`             // the app's integrity verdict
	Attestation []byte    `json:"attestation,omitempty"` // a platform attestation (App Attest, Play Integrity), at most 64 KiB
	PushToken   string    `json:"push_token,omitempty"`  // the OS push token, not bound: it rotates (at most 4096 bytes)
}

func (d DeviceInfo) validate() error {
	if d.InstallID == "" {
		return wrap(ErrInvalidRequest, "install ID is required")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"install ID", d.InstallID, 128}, {"name", d.Name, 128}, {"platform", d.Platform, 64}, {"push token", d.PushToken, 4096}} {
		if reason := checkText(f.v, f.max); reason != "" {
			return wrap(ErrInvalidRequest, "device %s %s", f.name, reason)
		}
	}
	if d.Integrity > Rooted {
		return wrap(ErrInvalidRequest, "unknown integrity verdict")
	}
	if len(d.Attestation) > 64<<10 {
		return wrap(ErrInvalidRequest, "attestation longer than 64 KiB")
	}
	return nil
}

// Request is the phone's activation request: its public key, what it says
// about itself, the hash of the offer it saw, and its confirmation MAC.
type Request struct {
	SessionID string     `json:"sid"`
	DeviceKey []byte     `json:"device_key"` // the phone's X25519 public key (32 bytes)
	Device    DeviceInfo `json:"device"`
	OfferHash []byte     `json:"offer_hash"` // [Offer.Hash] of the offer the phone saw
	Confirm   []byte     `json:"confirm"`    // HMAC-SHA256 under the confirmation key
}

func (r Request) validate() error {
	if canon, err := ParseSessionID(r.SessionID); err != nil || canon != r.SessionID {
		return wrap(ErrInvalidRequest, "session ID is not canonical")
	}
	if len(r.DeviceKey) != keyLen || len(r.OfferHash) != sha256.Size || len(r.Confirm) != sha256.Size {
		return wrap(ErrInvalidRequest, "device key, offer hash and confirmation must be 32 bytes each")
	}
	return r.Device.validate()
}

// UnmarshalJSON decodes a request strictly (one JSON object; no
// unknown, repeated, differently cased or missing fields; no trailing
// data: PROTOCOL.md §2) and validates it; on error r is left unchanged.
func (r *Request) UnmarshalJSON(b []byte) error {
	if reason := checkJSONShape(b, requestShape); reason != "" {
		return wrap(ErrInvalidRequest, "json: %s", reason)
	}
	type plain Request
	var v plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return wrap(ErrInvalidRequest, "json: %v", err)
	}
	if len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) != 0 {
		return wrap(ErrInvalidRequest, "json: trailing data")
	}
	if err := Request(v).validate(); err != nil {
		return err
	}
	*r = Request(v)
	return nil
}

// Hash returns SHA-256 of the request's canonical encoding, for telling a
// byte-identical retry from another request.
func (r Request) Hash() []byte {
	b := []byte("keyline/v1/request")
	b = appendField(b, []byte(r.SessionID))
	b = appendField(b, r.DeviceKey)
	b = appendDevice(b, r.Device)
	b = appendField(b, []byte(r.Device.PushToken))
	b = appendField(b, r.OfferHash)
	b = appendField(b, r.Confirm)
	sum := sha256.Sum256(b)
	return sum[:]
}

func appendDevice(b []byte, d DeviceInfo) []byte {
	b = appendField(b, []byte(d.InstallID))
	b = appendField(b, []byte(d.Name))
	b = appendField(b, []byte(d.Platform))
	b = appendField(b, []byte(d.Integrity.String()))
	ah := sha256.Sum256(d.Attestation)
	return appendField(b, ah[:])
}

// transcript is what an activation binds: every field of the offer and
// of the device, and both public keys, length-prefixed (PROTOCOL.md). Its
// SHA-256 enters the HKDF info and both confirmations.
func transcript(o Offer, deviceKey []byte, d DeviceInfo) []byte {
	b := []byte("keyline/v1/transcript")
	b = o.encode(b)
	b = appendField(b, deviceKey)
	return appendDevice(b, d)
}

// agree runs the key agreement and derivation both sides share: the root
// secret, the confirmation key, and the transcript hash.
func agree(priv *ecdh.PrivateKey, peer []byte, o Offer, deviceKey []byte, d DeviceInfo) (root, confirmKey Secret, th [32]byte, err error) {
	pub, err := ecdh.X25519().NewPublicKey(peer)
	if err != nil {
		return nil, nil, th, wrap(ErrInvalidRequest, "public key")
	}
	shared, err := priv.ECDH(pub)
	if err != nil {
		// A low-order point: the shared secret would be all zeros.
		return nil, nil, th, wrap(ErrInvalidRequest, "public key is a low-order point")
	}
	th = sha256.Sum256(transcript(o, deviceKey, d))
	salt, info := activationHKDFInputs(o.SessionID, th)
	okm := make([]byte, 64)
	if _, err := io.ReadFull(hkdf.New(sha256.New, shared, salt, info), okm); err != nil {
		panic("enroll: hkdf: " + err.Error())
	}
	clear(shared)
	return Secret(okm[:32:32]), Secret(okm[32:]), th, nil
}

// MaxPrimitiveInput is the most bytes the protocol passes to a
// primitive as a parameter (an HKDF salt or info): node:crypto's hkdf,
// and Web Crypto as Node implements it, refuse an info longer than 1,024
// bytes. What may be longer, the activation transcript, enters HKDF as its
// SHA-256 (PROTOCOL.md, "Primitives").
const MaxPrimitiveInput = 1024

// labelActivateInfo starts the activation's HKDF info.
const labelActivateInfo = "keyline/v1/activate-info"

// activationHKDFInputs returns the salt and info of the activation's
// HKDF: "keyline/v1/activate" ‖ session ID, and "keyline/v1/activate-info"
// ‖ SHA-256(transcript). Both are at most 56 bytes whatever the fields'
// lengths.
func activationHKDFInputs(sid string, th [32]byte) (salt, info []byte) {
	salt = append([]byte("keyline/v1/activate"), sid...)
	info = append([]byte(labelActivateInfo), th[:]...)
	return salt, info
}

func phoneConfirm(confirmKey Secret, th [32]byte) []byte {
	m := hmac.New(sha256.New, confirmKey)
	m.Write([]byte("keyline/v1/phone-confirm"))
	m.Write(th[:])
	return m.Sum(nil)
}

// serverConfirm is the device ID (16 bytes) followed by HMAC-SHA256 under
// the srv key of "keyline/v1/server-confirm" ‖ device ID ‖ transcript hash.
func serverConfirm(server Secret, deviceID []byte, th [32]byte) []byte {
	m := hmac.New(sha256.New, server)
	m.Write([]byte("keyline/v1/server-confirm"))
	m.Write(deviceID)
	m.Write(th[:])
	return m.Sum(append([]byte(nil), deviceID...))
}

const deviceIDLen = 16

// StartOptions tune [Start]. The zero value selects the defaults.
type StartOptions struct {
	AccountName string          // the label the phone shows; default: the user ID
	Suite       challenge.Suite // default challenge.Default
	Now         time.Time       // default time.Now()
	TTL         time.Duration   // default 10 minutes, at most 24 hours
}

// DefaultActivationTTL is how long an offer stays valid by default.
const DefaultActivationTTL = 10 * time.Minute

// Pending is the server's side of an activation in progress: the offer
// and the ephemeral private key. Store it with [Pending.MarshalBinary],
// sealed (the private key is in it), and complete it once. It prints no
// key material.
type Pending struct {
	offer Offer
	priv  Secret // X25519 private key; nil once zeroed
}

// Start begins an activation of user at issuer: an ephemeral X25519 key
// pair and the offer naming it.
func Start(issuer, user string, opts StartOptions) (*Pending, error) {
	var raw [keyLen]byte
	rand.Read(raw[:])
	defer clear(raw[:])
	return startWith(raw[:], issuer, user, opts)
}

// startWith is Start with the private key given: the known-answer tests fix it.
func startWith(raw []byte, issuer, user string, opts StartOptions) (*Pending, error) {
	if opts.Suite.IsZero() {
		opts.Suite = challenge.Default
	}
	if opts.AccountName == "" {
		opts.AccountName = user
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	switch {
	case opts.TTL == 0:
		opts.TTL = DefaultActivationTTL
	case opts.TTL < time.Second || opts.TTL > 24*time.Hour:
		return nil, wrap(ErrInvalidInput, "TTL %v out of range 1s..24h", opts.TTL)
	}
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return nil, err
	}
	pub := priv.PublicKey().Bytes()
	p := &Pending{
		offer: Offer{
			SessionID:   sessionIDFor(pub),
			Issuer:      issuer,
			User:        user,
			AccountName: opts.AccountName,
			Suite:       opts.Suite,
			ServerKey:   pub,
			ExpiresAt:   opts.Now.Add(opts.TTL).Truncate(time.Second).UTC(),
		},
		priv: Secret(raw).clone(),
	}
	if err := p.offer.validate(); err != nil {
		p.Zero()
		return nil, wrap(ErrInvalidInput, "%v", err)
	}
	return p, nil
}

// Offer returns the public part of the activation.
func (p *Pending) Offer() Offer {
	o := p.offer
	o.ServerKey = bytes.Clone(o.ServerKey)
	return o
}

// SessionID returns the activation's session ID.
func (p *Pending) SessionID() string { return p.offer.SessionID }

// Zero wipes the private key; the activation can no longer complete.
func (p *Pending) Zero() {
	p.priv.Zero()
	p.priv = nil
}

const pendingMagic = "KLP1"

// MarshalBinary encodes the pending activation for storage: "KLP1", the
// private key and the offer URI, each length-prefixed. The private key is
// in the clear: seal the result before it leaves memory.
func (p *Pending) MarshalBinary() ([]byte, error) {
	if p.priv == nil {
		return nil, fmt.Errorf("%w: pending activation was zeroed", errActivationUsed)
	}
	b := []byte(pendingMagic)
	b = appendField(b, p.priv)
	b = appendField(b, []byte(p.offer.URI()))
	return b, nil
}

// UnmarshalPending decodes what [Pending.MarshalBinary] wrote, checking
// that the private key matches the offer's public key. Anything else is
// [ErrCorrupt].
func UnmarshalPending(b []byte) (*Pending, error) {
	rest, ok := bytes.CutPrefix(b, []byte(pendingMagic))
	if !ok {
		return nil, wrap(ErrCorrupt, "not a pending activation")
	}
	priv, rest, ok := cutField(rest)
	if !ok || len(priv) != keyLen {
		return nil, wrap(ErrCorrupt, "pending activation: private key")
	}
	uri, rest, ok := cutField(rest)
	if !ok || len(rest) != 0 {
		return nil, wrap(ErrCorrupt, "pending activation: offer")
	}
	o, err := ParseOffer(string(uri))
	if err != nil {
		return nil, wrap(ErrCorrupt, "pending activation: offer")
	}
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil || !bytes.Equal(k.PublicKey().Bytes(), o.ServerKey) {
		return nil, wrap(ErrCorrupt, "pending activation: key does not match the offer")
	}
	return &Pending{offer: o, priv: Secret(priv).clone()}, nil
}

// cutField reads a 4-byte length and that many bytes.
func cutField(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// Device is the server's record of an activated device.
type Device struct {
	ID              string          // server-assigned: 32 lowercase hex digits (128 random bits)
	Issuer          string          // from the offer
	User            string          // from the offer
	AccountName     string          // from the offer
	Suite           challenge.Suite // from the offer
	InstallID       string          // the phone's install ID, as bound into the transcript
	Name            string          // the name the user gave the phone
	Platform        string          // the phone's platform
	Integrity       Integrity       // the phone's self-reported verdict
	AttestationHash []byte          // SHA-256 of the attestation sent (of nothing, when none was)
	PushToken       string          // the OS push token at activation
	SessionID       string          // the activation that created it
	CreatedAt       time.Time       // when the activation completed
}

// Enrollment is a completed activation on the server: the device record,
// its root secret, and the server confirmation to send to the phone.
type Enrollment struct {
	Device        Device
	Secret        Secret // the root secret (32 bytes); seal it at rest
	ServerConfirm []byte // device ID ‖ MAC, for [Credential.CheckServerConfirm]
}

// PairingCode returns the 6-digit code the phone of this enrollment shows.
func (e Enrollment) PairingCode() string {
	k := DeriveKeys(e.Secret, e.Device.Suite)
	defer k.Zero()
	return k.PairingCode(e.Device.ID)
}

// Complete finishes the activation with the phone's request, in this
// order: the session must be this one ([ErrWrongSession]); it must not
// have expired at now ([ErrExpired]); the request must be well formed
// ([ErrInvalidRequest]); the phone must have seen this offer
// ([ErrOfferMismatch]); its confirmation must verify, compared in constant
// time ([ErrBadConfirmation]); and it must not report itself Rooted
// ([ErrDeviceIntegrity]). On success it assigns the device ID.
//
// Complete does not make the activation single-use: the store that holds
// the Pending must take it once (and the authn package does).
func (p *Pending) Complete(req Request, now time.Time) (Enrollment, error) {
	id := make([]byte, deviceIDLen)
	rand.Read(id)
	return p.complete(req, now, id)
}

// complete is Complete with the device ID given: the known-answer tests
// fix it.
func (p *Pending) complete(req Request, now time.Time, id []byte) (Enrollment, error) {
	if req.SessionID != p.offer.SessionID {
		return Enrollment{}, ErrWrongSession
	}
	if !now.Before(p.offer.ExpiresAt) {
		return Enrollment{}, errActivationExpired
	}
	if p.priv == nil {
		return Enrollment{}, fmt.Errorf("%w: pending activation was zeroed", errActivationUsed)
	}
	if err := req.validate(); err != nil {
		return Enrollment{}, err
	}
	if !hmac.Equal(req.OfferHash, p.offer.Hash()) {
		return Enrollment{}, ErrOfferMismatch
	}
	priv, err := ecdh.X25519().NewPrivateKey(p.priv)
	if err != nil {
		return Enrollment{}, wrap(ErrCorrupt, "pending private key")
	}
	root, confirmKey, th, err := agree(priv, req.DeviceKey, p.offer, req.DeviceKey, req.Device)
	if err != nil {
		return Enrollment{}, err
	}
	defer confirmKey.Zero()
	if !hmac.Equal(req.Confirm, phoneConfirm(confirmKey, th)) {
		root.Zero()
		return Enrollment{}, ErrBadConfirmation
	}
	if req.Device.Integrity == Rooted {
		root.Zero()
		return Enrollment{}, wrap(ErrDeviceIntegrity, "the device reports itself rooted")
	}
	keys := DeriveKeys(root, p.offer.Suite)
	defer keys.Zero()
	ah := sha256.Sum256(req.Device.Attestation)
	return Enrollment{
		Device: Device{
			ID:              hex.EncodeToString(id),
			Issuer:          p.offer.Issuer,
			User:            p.offer.User,
			AccountName:     p.offer.AccountName,
			Suite:           p.offer.Suite,
			InstallID:       req.Device.InstallID,
			Name:            req.Device.Name,
			Platform:        req.Device.Platform,
			Integrity:       req.Device.Integrity,
			AttestationHash: ah[:],
			PushToken:       req.Device.PushToken,
			SessionID:       p.offer.SessionID,
			CreatedAt:       now.UTC(),
		},
		Secret:        root,
		ServerConfirm: serverConfirm(keys.Server, id, th),
	}, nil
}

// Credential is the phone's side of an activated device: the root secret
// and what it needs to answer challenges. It becomes usable once
// [Credential.CheckServerConfirm] has passed; the phone must not keep a
// credential that fails it. It prints no key material.
type Credential struct {
	offer     Offer
	device    DeviceInfo
	deviceID  string
	root      Secret
	keys      Keys
	th        [32]byte // transcript hash
	confirmed bool
	createdAt time.Time
}

// Activate is the phone's side of an activation: a fresh X25519 key pair,
// the shared secret with the offer's key, and from it (HKDF-SHA256 over
// the whole transcript) the root secret and the confirmation key. It
// returns the credential, not yet usable, and the request to send. An
// expired or malformed offer is refused before any key is made.
func Activate(offer Offer, dev DeviceInfo, now time.Time) (*Credential, Request, error) {
	if err := offer.validate(); err != nil {
		return nil, Request{}, err
	}
	if !now.Before(offer.ExpiresAt) {
		return nil, Request{}, errActivationExpired
	}
	if err := dev.validate(); err != nil {
		return nil, Request{}, err
	}
	var raw [keyLen]byte
	rand.Read(raw[:])
	defer clear(raw[:])
	return activateWith(raw[:], offer, dev, now)
}

// activateWith is Activate, after its checks, with the phone's private key
// given: the known-answer tests fix it.
func activateWith(raw []byte, offer Offer, dev DeviceInfo, now time.Time) (*Credential, Request, error) {
	offer.ServerKey = bytes.Clone(offer.ServerKey)
	dev.Attestation = bytes.Clone(dev.Attestation)
	priv, err := ecdh.X25519().NewPrivateKey(raw)
	if err != nil {
		return nil, Request{}, err
	}
	pub := priv.PublicKey().Bytes()
	root, confirmKey, th, err := agree(priv, offer.ServerKey, offer, pub, dev)
	if err != nil {
		return nil, Request{}, wrap(ErrInvalidOffer, "server key is not usable")
	}
	defer confirmKey.Zero()
	c := &Credential{
		offer:     offer,
		device:    dev,
		root:      root,
		keys:      DeriveKeys(root, offer.Suite),
		th:        th,
		createdAt: now.UTC(),
	}
	req := Request{
		SessionID: offer.SessionID,
		DeviceKey: pub,
		Device:    dev,
		OfferHash: offer.Hash(),
		Confirm:   phoneConfirm(confirmKey, th),
	}
	return c, req, nil
}

// CheckServerConfirm checks the server's confirmation (the device ID and
// a MAC under the srv key over it and the transcript) and, if it holds,
// records the device ID and makes the credential usable. A confirmation
// that does not verify is [ErrBadServerConfirmation]: discard the
// credential.
func (c *Credential) CheckServerConfirm(sc []byte) error {
	if len(sc) != deviceIDLen+sha256.Size {
		return wrap(ErrBadServerConfirmation, "wrong length")
	}
	id := sc[:deviceIDLen]
	if !hmac.Equal(sc, serverConfirm(c.keys.Server, id, c.th)) {
		return ErrBadServerConfirmation
	}
	c.deviceID = hex.EncodeToString(id)
	c.confirmed = true
	return nil
}

// Confirmed reports whether the server's confirmation has been checked.
func (c *Credential) Confirmed() bool { return c.confirmed }

// PairingCode returns the 6-digit code to show the user, who types it
// into the portal to pair this device; "" until the server's confirmation
// has been checked.
func (c *Credential) PairingCode() string {
	if !c.confirmed {
		return ""
	}
	return c.keys.PairingCode(c.deviceID)
}

// Respond answers a challenge question with the credential's suite at
// time now. A credential not yet confirmed by the server refuses.
func (c *Credential) Respond(question string, now time.Time) (string, error) {
	if !c.confirmed {
		return "", ErrUnconfirmed
	}
	in := challenge.Input{Question: question}
	if c.offer.Suite.TakesTime() {
		in.Time = now
	}
	return c.offer.Suite.Respond(c.keys.OCRA, in)
}

// Issuer returns the service the credential is for.
func (c *Credential) Issuer() string { return c.offer.Issuer }

// User returns the user ID the credential is for.
func (c *Credential) User() string { return c.offer.User }

// AccountName returns the label shown for the user.
func (c *Credential) AccountName() string { return c.offer.AccountName }

// DeviceID returns the server-assigned device ID ("" until confirmed).
func (c *Credential) DeviceID() string { return c.deviceID }

// Suite returns the OCRA suite the credential answers with.
func (c *Credential) Suite() challenge.Suite { return c.offer.Suite }

// Device returns what the phone said about itself at activation.
func (c *Credential) Device() DeviceInfo {
	d := c.device
	d.Attestation = bytes.Clone(d.Attestation)
	return d
}

// CreatedAt returns when the credential was made.
func (c *Credential) CreatedAt() time.Time { return c.createdAt }

// Zero wipes the credential's keys; it can no longer answer.
func (c *Credential) Zero() {
	c.root.Zero()
	c.keys.Zero()
	c.confirmed = false
}

// String describes the credential without key material.
func (c *Credential) String() string {
	return fmt.Sprintf("enroll.Credential{Issuer: %q, User: %q, DeviceID: %q, Suite: %s, Keys: %s}",
		c.offer.Issuer, c.offer.User, c.deviceID, c.offer.Suite, redacted)
}

// GoString is String.
func (c *Credential) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Credential) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue describes the credential to slog without key material.
func (c *Credential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", c.offer.Issuer), slog.String("user", c.offer.User),
		slog.String("device_id", c.deviceID), slog.String("suite", c.offer.Suite.String()))
}

// String describes the pending activation without key material.
func (p *Pending) String() string {
	return fmt.Sprintf("enroll.Pending{Issuer: %q, User: %q, ExpiresAt: %s, PrivateKey: %s}",
		p.offer.Issuer, p.offer.User, p.offer.ExpiresAt.Format(time.RFC3339), redacted)
}

// GoString is String.
func (p *Pending) GoString() string { return p.String() }

// Format prints String for every verb.
func (p *Pending) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue describes the pending activation to slog without key material.
func (p *Pending) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", p.offer.Issuer), slog.String("user", p.offer.User),
		slog.Time("expires_at", p.offer.ExpiresAt))
}
