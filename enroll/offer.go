package enroll

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyline/keyline/challenge"
)

// Offer is the public part of an activation: what the QR code carries,
// and what a phone that typed the session ID fetches from its server. It
// holds no secret: whoever sees it can try to complete the activation,
// which is why a completed activation must still be paired (see
// [Credential.PairingCode]).
type Offer struct {
	SessionID   string          // canonical session ID, derived from ServerKey
	Issuer      string          // the service, as the phone shows it
	User        string          // the opaque, stable user ID
	AccountName string          // the label the phone shows for the user
	Suite       challenge.Suite // the OCRA suite the device will answer with
	ServerKey   []byte          // the server's ephemeral X25519 public key (32 bytes)
	ExpiresAt   time.Time       // whole seconds; the activation is refused from then on
}

const (
	uriPrefix  = "keyline://activate?"
	maxURI     = 2048
	maxTextLen = 256 // bytes, for issuer, user and account name
	keyLen     = 32  // X25519 keys
)

// URI returns the offer as the QR payload:
//
//	keyline://activate?acct=...&exp=...&iss=...&key=...&sid=...&suite=...&user=...&v=1
//
// with the server key in unpadded base64url and the expiry in Unix
// seconds. It carries no server address: the phone's app knows its server.
func (o Offer) URI() string {
	v := url.Values{}
	v.Set("v", "1")
	v.Set("sid", o.SessionID)
	v.Set("key", base64.RawURLEncoding.EncodeToString(o.ServerKey))
	v.Set("iss", o.Issuer)
	v.Set("user", o.User)
	v.Set("acct", o.AccountName)
	v.Set("suite", o.Suite.String())
	v.Set("exp", strconv.FormatInt(o.ExpiresAt.Unix(), 10))
	return uriPrefix + v.Encode()
}

// ParseOffer parses an offer URI as [Offer.URI] writes it, strictly: the
// scheme and host, version 1, every parameter exactly once and no other,
// a 32-byte key whose hash is the session ID, a valid suite and expiry,
// and printable issuer, user and account name. A refused URI wraps
// [ErrInvalidOffer] (or [ErrOfferMismatch] when the key does not hash to
// the session ID) and yields the zero Offer.
func ParseOffer(uri string) (Offer, error) {
	if len(uri) > maxURI {
		return Offer{}, wrap(ErrInvalidOffer, "longer than %d bytes", maxURI)
	}
	query, ok := strings.CutPrefix(uri, uriPrefix)
	if !ok {
		return Offer{}, wrap(ErrInvalidOffer, "not a keyline://activate URI (scheme and host are lower case)")
	}
	vals, reason := parseOfferQuery(query)
	if reason != "" {
		return Offer{}, wrap(ErrInvalidOffer, "%s", reason)
	}
	if vals["v"] != "1" {
		return Offer{}, wrap(ErrInvalidOffer, "version is not 1")
	}
	key, err := base64.RawURLEncoding.Strict().DecodeString(vals["key"])
	if err != nil || len(key) != keyLen {
		return Offer{}, wrap(ErrInvalidOffer, "key is not 32 bytes of unpadded base64url")
	}
	suite, err := challenge.ParseSuite(vals["suite"])
	if err != nil {
		return Offer{}, wrap(ErrInvalidOffer, "suite: %v", err)
	}
	exp, err := strconv.ParseInt(vals["exp"], 10, 64)
	if err != nil || exp <= 0 || exp > maxUnix || strconv.FormatInt(exp, 10) != vals["exp"] {
		return Offer{}, wrap(ErrInvalidOffer, "expiry is not a canonical positive Unix time")
	}
	o := Offer{
		SessionID:   vals["sid"],
		Issuer:      vals["iss"],
		User:        vals["user"],
		AccountName: vals["acct"],
		Suite:       suite,
		ServerKey:   key,
		ExpiresAt:   time.Unix(exp, 0).UTC(),
	}
	if err := o.validate(); err != nil {
		return Offer{}, err
	}
	return o, nil
}

// maxUnix keeps expiries within what every platform's date types hold
// (year 9999).
const maxUnix = 253402300799

// validate checks an offer's fields, whatever their source.
func (o Offer) validate() error {
	if len(o.ServerKey) != keyLen {
		return wrap(ErrInvalidOffer, "server key is not 32 bytes")
	}
	if reason := checkOfferSuite(o.Suite); reason != "" {
		return wrap(ErrInvalidOffer, "%s", reason)
	}
	if o.ExpiresAt.IsZero() || o.ExpiresAt.Unix() <= 0 || o.ExpiresAt.Unix() > maxUnix || o.ExpiresAt.Nanosecond() != 0 {
		return wrap(ErrInvalidOffer, "expiry is not a whole second after 1970")
	}
	for _, f := range []struct{ name, v string }{{"issuer", o.Issuer}, {"user", o.User}, {"account name", o.AccountName}} {
		if reason := checkText(f.v, maxTextLen); reason != "" {
			return wrap(ErrInvalidOffer, "%s %s", f.name, reason)
		}
	}
	if o.Issuer == "" || o.User == "" {
		return wrap(ErrInvalidOffer, "issuer and user are required")
	}
	if canon, err := ParseSessionID(o.SessionID); err != nil || canon != o.SessionID {
		return wrap(ErrInvalidOffer, "session ID is not canonical")
	}
	if err := checkSessionID(o.SessionID, o.ServerKey); err != nil {
		return err
	}
	// Percent-encoding can triple a label's length: an offer must still
	// fit the URI that carries it.
	if len(o.URI()) > maxURI {
		return wrap(ErrInvalidOffer, "URI longer than %d bytes; shorten the issuer, user or account name", maxURI)
	}
	return nil
}

// Check is what a phone that typed the session ID does with the offer it
// fetched: the typed ID must parse (a typo is [ErrSessionIDTypo]), and the
// offer's server key must hash to it, so that nobody between the phone and
// the server can substitute a key of their own ([ErrOfferMismatch]).
func (o Offer) Check(typedSessionID string) error {
	sid, err := ParseSessionID(typedSessionID)
	if err != nil {
		return err
	}
	if err := checkSessionID(sid, o.ServerKey); err != nil {
		return err
	}
	if o.SessionID != sid {
		return wrap(ErrOfferMismatch, "offer names another session ID")
	}
	return o.validate()
}

// Hash returns SHA-256 of the offer's canonical encoding (PROTOCOL.md):
// what the phone puts in [Request.OfferHash] so that the server can tell
// an altered offer from a bad confirmation.
func (o Offer) Hash() []byte {
	h := sha256.New()
	h.Write(o.encode([]byte("keyline/v1/offer")))
	return h.Sum(nil)
}

// encode appends the offer's fields, length-prefixed, in a fixed order.
func (o Offer) encode(b []byte) []byte {
	b = appendField(b, []byte(o.SessionID))
	b = appendField(b, []byte(o.Issuer))
	b = appendField(b, []byte(o.User))
	b = appendField(b, []byte(o.AccountName))
	b = appendField(b, []byte(o.Suite.String()))
	b = appendField(b, o.ServerKey)
	return binary.BigEndian.AppendUint64(b, uint64(o.ExpiresAt.Unix()))
}

// appendField appends a 4-byte big-endian length and the bytes.
func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// checkText accepts valid UTF-8 of at most max bytes without control or
// bidirectional formatting characters, which could make a label display
// as something it is not. It returns why it refuses, or "".
func checkText(s string, max int) string {
	if len(s) > max {
		return "is longer than " + strconv.Itoa(max) + " bytes"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return "contains a control or bidi character"
		}
	}
	return ""
}
