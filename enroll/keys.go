package enroll

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"io"

	"golang.org/x/crypto/hkdf"

	"github.com/keyline/keyline/challenge"
)

// Purpose-key labels: the HKDF info of each key derived from a device's
// root secret. One key never serves two protocols.
const (
	LabelOCRA   = "keyline/v1/ocra" // challenge/response (the suite's hash size)
	LabelPush   = "keyline/v1/push" // phone → server push approvals
	LabelServer = "keyline/v1/srv"  // server → phone: server confirmation, push prompts
	LabelAPI    = "keyline/v1/api"  // device API request MACs
	LabelPair   = "keyline/v1/pair" // the pairing code
)

// Keys are a device's purpose keys, derived from its root secret.
type Keys struct {
	OCRA   Secret // the OCRA key: the suite's hash size (20, 32 or 64 bytes)
	Push   Secret // MACs of push answers, phone → server (32 bytes)
	Server Secret // MACs of server messages, server → phone (32 bytes)
	API    Secret // MACs of device API requests (32 bytes)
	Pair   Secret // the pairing code (32 bytes)
}

// DeriveKeys derives the purpose keys from a root secret: for each,
// HKDF-SHA256 (RFC 5869) with the root as input keying material, no salt
// (RFC 5869 then uses HashLen zero bytes) and the key's label as info.
func DeriveKeys(root Secret, suite challenge.Suite) Keys {
	ocraLen := 32
	if !suite.IsZero() {
		ocraLen = suite.Hash().Size()
	}
	return Keys{
		OCRA:   hkdfKey(root, LabelOCRA, ocraLen),
		Push:   hkdfKey(root, LabelPush, 32),
		Server: hkdfKey(root, LabelServer, 32),
		API:    hkdfKey(root, LabelAPI, 32),
		Pair:   hkdfKey(root, LabelPair, 32),
	}
}

// OCRAKey derives only the OCRA key of [DeriveKeys]: what a server needs
// to check responses, without deriving the four keys it does not use.
func OCRAKey(root Secret, suite challenge.Suite) Secret {
	n := 32
	if !suite.IsZero() {
		n = suite.Hash().Size()
	}
	return hkdfKey(root, LabelOCRA, n)
}

func hkdfKey(root Secret, label string, n int) Secret {
	k := make(Secret, n)
	// Reading at most 255·32 bytes from HKDF cannot fail.
	if _, err := io.ReadFull(hkdf.New(sha256.New, root, nil, []byte(label)), k); err != nil {
		panic("enroll: hkdf: " + err.Error())
	}
	return k
}

// Zero overwrites every key with zeros.
func (k Keys) Zero() {
	k.OCRA.Zero()
	k.Push.Zero()
	k.Server.Zero()
	k.API.Zero()
	k.Pair.Zero()
}

// PairingCode returns the 6-digit code that pairs the device deviceID: the
// phone shows it, the user types it into the portal session that started
// the activation, and the server, which computes the same, compares. Only
// the phone that completed this activation knows it. It is HMAC-SHA256
// under the pair key of "keyline/v1/pairing-code" ‖ device ID, truncated
// as HOTP does (RFC 4226 §5.3) to 6 digits.
func (k Keys) PairingCode(deviceID string) string {
	m := hmac.New(sha256.New, k.Pair)
	m.Write([]byte("keyline/v1/pairing-code"))
	m.Write([]byte(deviceID))
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	clear(sum)
	var d [6]byte
	v %= 1000000
	for i := 5; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return string(d[:])
}
