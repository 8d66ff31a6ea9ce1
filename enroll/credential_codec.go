package enroll

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/keyline/keyline/challenge"
)

// The binary encoding of a confirmed *Credential, for a sealed store
// such as package vault's (it carries the root secret in the clear).
// Version 1:
//
//	version      1 byte, 1
//	offer        session ID, issuer, user, account name, suite string,
//	             server key: each a field (4-byte big-endian length and
//	             bytes); expiry: 8 bytes, Unix seconds
//	device       install ID, name, platform: fields; integrity: 1 byte;
//	             attestation, push token: fields
//	device ID    field, 32 lowercase hex digits
//	root secret  field, 32 bytes
//	transcript   32 bytes, the activation transcript hash
//	created      8 bytes Unix seconds (signed) and 4 bytes nanoseconds
//
// The purpose keys are not stored: they are derived again from the root
// secret, so a later protocol's key needs no change of format. The
// decoder is strict: every field is validated as [Activate] validates it,
// and trailing bytes are refused.
const credentialVersion = 1

// MaxCredentialSize bounds the length of [EncodeCredential]'s bytes: the
// longest fields [Activate] accepts. A store can refuse longer input
// before it decodes anything.
const MaxCredentialSize = 1 + 6*4 + 64 + 3*maxTextLen + 64 + keyLen + 8 + 3*4 + 128 + 128 + 64 + 1 +
	2*4 + 64<<10 + 4096 + 2*4 + 2*deviceIDLen + keyLen + 32 + 12

// EncodeCredential returns the binary encoding of a confirmed credential,
// for a store that seals it (package vault's vault does). The bytes hold
// the root secret in the clear: seal them, never log or send them, and
// clear them when done. It is a function rather than a MarshalBinary
// method, so that no encoder (encoding/gob among them) writes a
// credential out by accident. A credential not confirmed by its server,
// or zeroed, is refused with [ErrUnconfirmed].
func EncodeCredential(c *Credential) ([]byte, error) {
	if c == nil || !c.confirmed {
		return nil, ErrUnconfirmed
	}
	return appendCredential(nil, c), nil
}

// DecodeCredential reads what [EncodeCredential] wrote, strictly: every
// field is validated as [Activate] validates it, and trailing bytes are
// refused. Anything else is refused with an error wrapping [ErrCorrupt],
// naming the field but none of its content. The credential shares no
// memory with b; its purpose keys are derived again from the root secret.
func DecodeCredential(b []byte) (*Credential, error) { return decodeCredential(b) }

// appendCredential appends the encoding of c, which must be confirmed.
func appendCredential(b []byte, c *Credential) []byte {
	o := c.offer
	b = append(b, credentialVersion)
	for _, f := range [][]byte{[]byte(o.SessionID), []byte(o.Issuer), []byte(o.User), []byte(o.AccountName), []byte(o.Suite.String()), o.ServerKey} {
		b = appendField(b, f)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(o.ExpiresAt.Unix()))
	d := c.device
	b = appendField(b, []byte(d.InstallID))
	b = appendField(b, []byte(d.Name))
	b = appendField(b, []byte(d.Platform))
	b = append(b, byte(d.Integrity))
	b = appendField(b, d.Attestation)
	b = appendField(b, []byte(d.PushToken))
	b = appendField(b, []byte(c.deviceID))
	b = appendField(b, c.root)
	b = append(b, c.th[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.createdAt.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(c.createdAt.Nanosecond()))
}

// fieldReader reads length-prefixed and fixed-size fields (of an encoded
// credential, of a push prompt); the first failure sticks.
type fieldReader struct {
	b   []byte
	bad string // what failed to read, or ""
}

func (r *fieldReader) field(name string, max int) []byte {
	if r.bad != "" {
		return nil
	}
	f, rest, ok := cutField(r.b)
	if !ok || len(f) > max {
		r.bad = name
		return nil
	}
	r.b = rest
	return f
}

func (r *fieldReader) fixed(name string, n int) []byte {
	if r.bad != "" {
		return nil
	}
	if len(r.b) < n {
		r.bad = name
		return nil
	}
	f := r.b[:n]
	r.b = r.b[n:]
	return f
}

// decodeCredential decodes what appendCredential wrote. Anything else is
// [ErrCorrupt], naming the field but no content. The result shares no
// memory with b.
func decodeCredential(b []byte) (*Credential, error) {
	r := &fieldReader{b: b}
	if v := r.fixed("version", 1); r.bad == "" && v[0] != credentialVersion {
		return nil, wrap(ErrCorrupt, "credential: unknown version %d", v[0])
	}
	sid := r.field("session ID", 64)
	issuer := r.field("issuer", maxTextLen)
	user := r.field("user", maxTextLen)
	acct := r.field("account name", maxTextLen)
	suite := r.field("suite", 64)
	serverKey := r.field("server key", keyLen)
	exp := r.fixed("expiry", 8)
	install := r.field("install ID", 128)
	name := r.field("device name", 128)
	platform := r.field("platform", 64)
	integrity := r.fixed("integrity", 1)
	attestation := r.field("attestation", 64<<10)
	push := r.field("push token", 4096)
	deviceID := r.field("device ID", 2*deviceIDLen)
	root := r.field("root secret", keyLen)
	th := r.fixed("transcript hash", 32)
	created := r.fixed("creation time", 12)
	if r.bad != "" {
		return nil, wrap(ErrCorrupt, "credential: %s is truncated or too long", r.bad)
	}
	if len(r.b) != 0 {
		return nil, wrap(ErrCorrupt, "credential: trailing bytes")
	}
	s, err := challenge.ParseSuite(string(suite))
	if err != nil {
		return nil, wrap(ErrCorrupt, "credential: suite")
	}
	expiry := int64(binary.BigEndian.Uint64(exp))
	if expiry <= 0 || expiry > maxUnix {
		return nil, wrap(ErrCorrupt, "credential: offer expiry")
	}
	o := Offer{
		SessionID:   string(sid),
		Issuer:      string(issuer),
		User:        string(user),
		AccountName: string(acct),
		Suite:       s,
		ServerKey:   bytes.Clone(serverKey),
		ExpiresAt:   time.Unix(expiry, 0).UTC(),
	}
	if err := o.validate(); err != nil {
		return nil, wrap(ErrCorrupt, "credential: offer does not validate")
	}
	d := DeviceInfo{
		InstallID:   string(install),
		Name:        string(name),
		Platform:    string(platform),
		Integrity:   Integrity(integrity[0]),
		Attestation: bytes.Clone(attestation),
		PushToken:   string(push),
	}
	if len(d.Attestation) == 0 {
		d.Attestation = nil // as Activate keeps a device that sent none
	}
	if err := d.validate(); err != nil {
		return nil, wrap(ErrCorrupt, "credential: device does not validate")
	}
	if !isDeviceID(string(deviceID)) {
		return nil, wrap(ErrCorrupt, "credential: device ID is not %d lowercase hex digits", 2*deviceIDLen)
	}
	if len(root) != keyLen {
		return nil, wrap(ErrCorrupt, "credential: root secret is not %d bytes", keyLen)
	}
	sec, nsec := int64(binary.BigEndian.Uint64(created[:8])), binary.BigEndian.Uint32(created[8:])
	if nsec >= 1e9 {
		return nil, wrap(ErrCorrupt, "credential: creation time")
	}
	c := &Credential{
		offer:     o,
		device:    d,
		deviceID:  string(deviceID),
		root:      Secret(root).clone(),
		th:        [32]byte(th),
		confirmed: true,
		createdAt: time.Unix(sec, int64(nsec)).UTC(),
	}
	c.keys = DeriveKeys(c.root, o.Suite)
	return c, nil
}

// isDeviceID reports 32 lowercase hex digits, as CheckServerConfirm
// records a device ID.
func isDeviceID(s string) bool {
	if len(s) != 2*deviceIDLen {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && s == string(bytes.ToLower([]byte(s)))
}

// cloneCredential returns a deep copy of c: its own root secret, keys,
// server key and attestation, so that zeroing one leaves the other whole.
func cloneCredential(c *Credential) *Credential {
	d := *c
	d.offer.ServerKey = bytes.Clone(c.offer.ServerKey)
	d.device.Attestation = bytes.Clone(c.device.Attestation)
	d.root = c.root.clone()
	d.keys = Keys{
		OCRA:   c.keys.OCRA.clone(),
		Push:   c.keys.Push.clone(),
		Server: c.keys.Server.clone(),
		API:    c.keys.API.clone(),
		Pair:   c.keys.Pair.clone(),
	}
	return &d
}
