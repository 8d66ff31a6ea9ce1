package txn

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/keyline/keyline/enroll/internal/qrcode"
)

// Question returns the OCRA question of [Suite] for
// a transaction: the 64 lowercase hex digits of
//
//	SHA-256("keyline/v1/tx" ‖ lp(serverNonce) ‖ t.Canonical())
//
// The nonce, 16 to 64 bytes ([ErrInvalidInput] otherwise), is the
// server's: it makes each question new, and the server accepts one
// response per nonce. Its length prefix keeps the boundary between nonce
// and transaction unambiguous. A transaction Canonical refuses is refused
// with the same error.
func Question(serverNonce []byte, t Transaction) (string, error) {
	if err := checkTxnNonce(serverNonce); err != nil {
		return "", err
	}
	c, err := t.Canonical()
	if err != nil {
		return "", err
	}
	return txnQuestion(serverNonce, c), nil
}

func txnQuestion(nonce, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(txnLabel))
	h.Write(appendField(nil, nonce))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

func checkTxnNonce(n []byte) error {
	if len(n) < txnMinNonce || len(n) > txnMaxNonce {
		return wrap(ErrInvalidInput, "transaction nonce of %d bytes, want %d to %d", len(n), txnMinNonce, txnMaxNonce)
	}
	return nil
}

// QR payload of a transaction.
const (
	txnURIPrefix = "keyline://tx?"
	txnURIHead   = txnURIPrefix + "v=1&n="
	txnURITail   = "&t="
)

// txnMaxURI bounds a transaction URI: the largest nonce and canonical
// bytes in base64url.
var txnMaxURI = len(txnURIHead) + base64.RawURLEncoding.EncodedLen(txnMaxNonce) +
	len(txnURITail) + base64.RawURLEncoding.EncodedLen(txnMaxCanonical)

// URI returns the QR payload of a transaction:
//
//	keyline://tx?v=1&n=<nonce>&t=<canonical bytes>
//
// both in unpadded base64url, the parameters in this order. It carries the
// canonical bytes themselves, so the phone reads what it will sign with
// the parser that checks it, and no server address. The nonce must be 16
// to 64 bytes ([ErrInvalidInput]); a transaction Canonical refuses is
// refused with the same error.
func URI(serverNonce []byte, t Transaction) (string, error) {
	if err := checkTxnNonce(serverNonce); err != nil {
		return "", err
	}
	c, err := t.Canonical()
	if err != nil {
		return "", err
	}
	return txnURI(serverNonce, c), nil
}

func txnURI(nonce, canonical []byte) string {
	enc := base64.RawURLEncoding
	return txnURIHead + enc.EncodeToString(nonce) + txnURITail + enc.EncodeToString(canonical)
}

// ParseQR reads a QR payload as [URI] writes it, and
// nothing else: the scheme and host, "v=1" ([ClassVersion] for another
// version), then n and t, in this order, once each, in unpadded base64url
// without any other character, a nonce of 16 to 64 bytes, and canonical
// bytes that [Parse] accepts. A refusal is a
// *[Error] matching [ErrInvalid] and yields a nil
// nonce and the zero Transaction.
func ParseQR(payload string) (nonce []byte, t Transaction, err error) {
	nonce, t, err = parseQR(payload)
	if err != nil {
		return nil, Transaction{}, err
	}
	return nonce, t, nil
}

func parseQR(payload string) ([]byte, Transaction, error) {
	if len(payload) > txnMaxURI {
		return nil, Transaction{}, txnErr("", "payload longer than "+strconv.Itoa(txnMaxURI)+" bytes", ClassEncoding)
	}
	query, ok := strings.CutPrefix(payload, txnURIPrefix)
	if !ok {
		return nil, Transaction{}, txnErr("", "not a keyline://tx payload", ClassEncoding)
	}
	parts := strings.Split(query, "&")
	if v, ok := strings.CutPrefix(parts[0], "v="); ok && v != "1" {
		return nil, Transaction{}, txnErr("", "payload version is not 1", ClassVersion)
	}
	if len(parts) != 3 || parts[0] != "v=1" || !strings.HasPrefix(parts[1], "n=") || !strings.HasPrefix(parts[2], "t=") {
		return nil, Transaction{}, txnErr("", "payload is not v=1&n=…&t=…", ClassEncoding)
	}
	enc := base64.RawURLEncoding.Strict()
	nonce, err := enc.DecodeString(parts[1][2:])
	if err != nil {
		return nil, Transaction{}, txnErr("nonce", "not unpadded base64url", ClassEncoding)
	}
	if len(nonce) < txnMinNonce || len(nonce) > txnMaxNonce {
		return nil, Transaction{}, txnErr("nonce", "not 16 to 64 bytes", ClassEncoding)
	}
	c, err := enc.DecodeString(parts[2][2:])
	if err != nil {
		return nil, Transaction{}, txnErr("", "transaction is not unpadded base64url", ClassEncoding)
	}
	t, err := parse(c)
	if err != nil {
		return nil, Transaction{}, err
	}
	// Strict base64 refuses non-zero padding bits, so this holds; check
	// it rather than trust it.
	if txnURI(nonce, c) != payload {
		return nil, Transaction{}, txnErr("", "payload is not canonical", ClassEncoding)
	}
	return nonce, t, nil
}

// QR returns a PNG of the QR code of [URI], size×size pixels, drawn as
// enroll's offers are (level M, 4-module quiet zone, whole pixels per
// module). The largest transaction needs 121 modules with the quiet zone,
// a typical one 61 to 73: size must be at least that and at most 4096
// ([ErrInvalidInput]); 400 to 600 suits a screen. Nonce and transaction
// are refused as by URI.
func QR(serverNonce []byte, t Transaction, size int) ([]byte, error) {
	if err := qrcode.CheckSize(size, ErrInvalidInput); err != nil {
		return nil, err
	}
	uri, err := URI(serverNonce, t)
	if err != nil {
		return nil, err
	}
	s, err := qrcode.Encode(uri, ErrInvalid)
	if err != nil {
		return nil, err
	}
	return s.PNG(size, ErrInvalidInput)
}
