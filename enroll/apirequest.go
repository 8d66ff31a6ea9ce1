package enroll

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Device API request authentication: every request a phone makes to the
// device API (PROTOCOL.md §10), other than fetching an offer and
// completing an activation, carries an Authorization header
//
//	Keyline-v1 user=<base64url>,device=<hex>,time=<decimal>,nonce=<base64url>,mac=<base64url>
//
// whose MAC is HMAC-SHA256 under the device's api purpose key (§6) of the
// request's canonical form ([APIRequest.Canonical]): the method, the path,
// the raw query, the SHA-256 of the body, the user, the device ID, the
// time and the nonce, each but the time length-prefixed. Both sides use
// the code in this file, so a phone and a server cannot disagree on the
// bytes. The server checks the time (within [APIMaxSkew] of its clock),
// that the device exists and is active, the MAC (constant time), and that
// the nonce was not seen before; the phone only signs
// ([Credential.SignAPIRequest]).

// Device API parameters.
const (
	// APIScheme is the HTTP Authorization scheme of a device API request.
	APIScheme = "Keyline-v1"

	// APINonceSize is the size of a request's nonce, in bytes: 128 bits
	// from crypto/rand, so that two requests of a device never share one.
	APINonceSize = 16

	// APIMaxSkew is how far a request's time may be from the server's
	// clock, either way. A request older than that is refused, so the
	// server remembers each nonce only for this long.
	APIMaxSkew = 60 * time.Second

	// MaxAPIPath bounds [APIRequest.Path] in bytes.
	MaxAPIPath = 256

	// MaxAPIQuery bounds [APIRequest.Query] in bytes.
	MaxAPIQuery = 2048

	// MaxAPIAuthorization bounds the Authorization header value that
	// [ParseAPIAuthorization] reads, in bytes: the longest valid one (a
	// user of 256 bytes) has 493.
	MaxAPIAuthorization = 512
)

// labelAPIRequest opens the MAC input of a device API request.
const labelAPIRequest = "keyline/v1/api-request"

// maxAPIMethod bounds APIRequest.Method in bytes.
const maxAPIMethod = 16

// Device API sentinel errors, matched with [errors.Is]; package authn
// re-exports them as the same values.
var (
	// ErrInvalidAPIRequest reports a device API request, or its
	// Authorization header, that is not well formed: a field out of
	// range, a header in another format, another scheme.
	ErrInvalidAPIRequest = errors.New("enroll: invalid device API request")

	// ErrDeviceAuth reports a device API request that does not
	// authenticate: its MAC does not verify under the device's api key,
	// or (on the server) the device is unknown, revoked or not yet
	// paired. The server answers all of these alike, so that nobody
	// learns which devices exist.
	ErrDeviceAuth = errors.New("enroll: device API request not authenticated")

	// ErrAPIRequestTime reports a request whose time is more than
	// [APIMaxSkew] from the server's clock: the phone's clock is wrong,
	// or the request was held back.
	ErrAPIRequestTime = errors.New("enroll: device API request time out of window")

	// ErrAPIReplay reports a request whose nonce the server has already
	// taken: a replay, or a phone that sent the same signed request
	// twice (sign every attempt afresh).
	ErrAPIReplay = errors.New("enroll: device API request replayed")
)

// APIRequest is what a device API request's MAC covers. The phone fills
// it from the request it sends; the server from the request it receives
// (method, path, query, body) and from the Authorization header (user,
// device, time, nonce: [ParseAPIAuthorization]).
type APIRequest struct {
	Method   string    // "GET", "POST": 1-16 upper-case ASCII letters
	Path     string    // the endpoint's path below the API's mount point, e.g. "/v1/pushes": '/' then printable ASCII without '?' or '#', at most MaxAPIPath bytes
	Query    string    // the raw query as sent, without '?': printable ASCII without '#', at most MaxAPIQuery bytes; "" for none
	BodyHash [32]byte  // SHA-256 of the body (of no bytes, for a request without one)
	User     string    // the credential's user ID: 1-256 bytes of text, as in the offer
	DeviceID string    // the device's ID: 32 lowercase hex digits
	Time     time.Time // when the phone signed, in whole seconds: only Unix seconds are covered
	Nonce    []byte    // APINonceSize random bytes, fresh for every request
}

// check returns why r cannot be encoded, or "".
func (r APIRequest) check() string {
	switch {
	case r.Method == "" || len(r.Method) > maxAPIMethod || strings.IndexFunc(r.Method, func(c rune) bool { return c < 'A' || c > 'Z' }) >= 0:
		return "method is not 1-16 upper-case ASCII letters"
	case len(r.Path) > MaxAPIPath || !strings.HasPrefix(r.Path, "/") || !printableASCII(r.Path, "?#"):
		return "path is not '/' and printable ASCII without '?' or '#', at most 256 bytes"
	case len(r.Query) > MaxAPIQuery || !printableASCII(r.Query, "#"):
		return "query is not printable ASCII without '#', at most 2048 bytes"
	}
	return r.checkHeader()
}

// checkHeader returns why the fields the Authorization header carries
// cannot be encoded, or "".
func (r APIRequest) checkHeader() string {
	switch {
	case r.User == "":
		return "user is empty"
	case checkText(r.User, maxTextLen) != "":
		return "user " + checkText(r.User, maxTextLen)
	case !isDeviceID(r.DeviceID):
		return "device ID is not 32 lowercase hex digits"
	case r.Time.Unix() < 0 || r.Time.Unix() > maxUnix:
		return "time is before 1970 or after 9999"
	case len(r.Nonce) != APINonceSize:
		return "nonce is not 16 bytes"
	}
	return ""
}

// printableASCII reports whether s is made of 0x21-0x7e without any of
// the bytes in not.
func printableASCII(s, not string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || strings.IndexByte(not, s[i]) >= 0 {
			return false
		}
	}
	return true
}

// Canonical returns the bytes the request's MAC is computed over
// (PROTOCOL.md §10):
//
//	"keyline/v1/api-request" ‖ lp(method) ‖ lp(path) ‖ lp(query)
//	‖ lp(SHA-256(body)) ‖ lp(user) ‖ lp(device ID) ‖ u64(time) ‖ lp(nonce)
//
// A request with a field out of range is refused with
// [ErrInvalidAPIRequest].
func (r APIRequest) Canonical() ([]byte, error) {
	if reason := r.check(); reason != "" {
		return nil, wrap(ErrInvalidAPIRequest, "%s", reason)
	}
	return r.appendCanonical(make([]byte, 0, r.canonicalLen())), nil
}

// canonicalLen is the length of the canonical form: the label, seven
// length prefixes, the fields and the time.
func (r APIRequest) canonicalLen() int {
	return len(labelAPIRequest) + 7*4 + 8 + len(r.Method) + len(r.Path) + len(r.Query) + sha256.Size +
		len(r.User) + len(r.DeviceID) + len(r.Nonce)
}

func (r APIRequest) appendCanonical(b []byte) []byte {
	b = append(b, labelAPIRequest...)
	b = appendString(b, r.Method)
	b = appendString(b, r.Path)
	b = appendString(b, r.Query)
	b = appendField(b, r.BodyHash[:])
	b = appendString(b, r.User)
	b = appendString(b, r.DeviceID)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.Unix()))
	return appendField(b, r.Nonce)
}

// appendString is appendField for a string, without converting it.
func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// APIKey derives a device's api key from its root secret, as
// [DeriveKeys] derives it: HKDF-SHA256 with no salt and [LabelAPI] as
// info, 32 bytes. The server verifies requests with it, without deriving
// the device's other keys.
func APIKey(root Secret) Secret { return hkdfKey(root, LabelAPI, 32) }

// APIRequestMAC returns HMAC-SHA256 under apiKey (32 bytes: the device's
// [Keys.API], ErrInvalidInput otherwise) of the request's canonical form.
// A phone holding a [Credential] signs with [Credential.SignAPIRequest].
func APIRequestMAC(apiKey Secret, r APIRequest) ([]byte, error) {
	if len(apiKey) != 32 {
		return nil, wrap(ErrInvalidInput, "api key is not 32 bytes")
	}
	if reason := r.check(); reason != "" {
		return nil, wrap(ErrInvalidAPIRequest, "%s", reason)
	}
	canon := r.appendCanonical(make([]byte, 0, r.canonicalLen()))
	m := hmac.New(sha256.New, apiKey)
	m.Write(canon)
	return m.Sum(make([]byte, 0, sha256.Size)), nil
}

// VerifyAPIRequest is the server's check of a request's MAC under the
// device's api key: a request out of range is [ErrInvalidAPIRequest], a
// MAC that does not verify (compared in constant time; a MAC of another
// length is refused the same way) is [ErrDeviceAuth]. It checks neither
// the time nor the nonce: the server compares the time with its clock
// ([APIMaxSkew]) and takes the nonce once (package authn does both).
func VerifyAPIRequest(apiKey Secret, r APIRequest, mac []byte) error {
	want, err := APIRequestMAC(apiKey, r)
	if err != nil {
		return err
	}
	if !hmac.Equal(mac, want) {
		return ErrDeviceAuth
	}
	return nil
}

// Authorization returns the Authorization header value of the request
// with its MAC (32 bytes):
//
//	Keyline-v1 user=<base64url(user)>,device=<device ID>,time=<Unix seconds>,nonce=<base64url(nonce)>,mac=<base64url(mac)>
//
// base64url without padding, the time in decimal without leading zeros,
// the parameters in this order, no spaces after the scheme's. The method,
// path, query and body travel as the request itself; only the fields the
// header carries are checked here.
func (r APIRequest) Authorization(mac []byte) (string, error) {
	if reason := r.checkHeader(); reason != "" {
		return "", wrap(ErrInvalidAPIRequest, "%s", reason)
	}
	if len(mac) != sha256.Size {
		return "", wrap(ErrInvalidAPIRequest, "MAC is not 32 bytes")
	}
	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(MaxAPIAuthorization)
	b.WriteString(APIScheme + " user=")
	b.WriteString(enc.EncodeToString([]byte(r.User)))
	b.WriteString(",device=")
	b.WriteString(r.DeviceID)
	b.WriteString(",time=")
	b.WriteString(strconv.FormatInt(r.Time.Unix(), 10))
	b.WriteString(",nonce=")
	b.WriteString(enc.EncodeToString(r.Nonce))
	b.WriteString(",mac=")
	b.WriteString(enc.EncodeToString(mac))
	return b.String(), nil
}

// apiAuthParams are the Authorization header's parameters, in order.
var apiAuthParams = [5]string{"user=", "device=", "time=", "nonce=", "mac="}

// ParseAPIAuthorization reads an Authorization header value as
// [APIRequest.Authorization] writes it, and nothing else: the scheme and
// one space, the five parameters in order, once each, separated by a
// comma alone; base64url without padding and with zero padding bits; a
// user that is 1-256 bytes of text; 32 lowercase hex digits of device
// ID; a decimal time without sign or leading zeros, from 1970 to 9999; a
// nonce of 16 bytes and a MAC of 32. It returns the request with User,
// DeviceID, Time (UTC) and Nonce set, for the server to complete with the
// method, path, query and body hash, and the MAC. A refusal is
// [ErrInvalidAPIRequest] and yields the zero request and a nil MAC; its
// message says which parameter, never its value.
func ParseAPIAuthorization(v string) (APIRequest, []byte, error) {
	r, mac, reason := parseAPIAuthorization(v)
	if reason != "" {
		return APIRequest{}, nil, wrap(ErrInvalidAPIRequest, "authorization: %s", reason)
	}
	return r, mac, nil
}

func parseAPIAuthorization(v string) (APIRequest, []byte, string) {
	if len(v) > MaxAPIAuthorization {
		return APIRequest{}, nil, "longer than 512 bytes"
	}
	rest, ok := strings.CutPrefix(v, APIScheme+" ")
	if !ok {
		return APIRequest{}, nil, "not the " + APIScheme + " scheme"
	}
	var vals [len(apiAuthParams)]string
	for i, name := range apiAuthParams {
		var part string
		if i < len(apiAuthParams)-1 {
			var found bool
			if part, rest, found = strings.Cut(rest, ","); !found {
				return APIRequest{}, nil, "fewer than five parameters"
			}
		} else {
			part = rest
		}
		if vals[i], ok = strings.CutPrefix(part, name); !ok {
			return APIRequest{}, nil, "parameter " + strconv.Itoa(i+1) + " is not " + strings.TrimSuffix(name, "=")
		}
	}
	enc := base64.RawURLEncoding.Strict()
	user, err := enc.DecodeString(vals[0])
	if err != nil || len(user) == 0 || len(user) > maxTextLen || checkText(string(user), maxTextLen) != "" {
		return APIRequest{}, nil, "user is not base64url of 1-256 bytes of text"
	}
	if !isDeviceID(vals[1]) {
		return APIRequest{}, nil, "device is not 32 lowercase hex digits"
	}
	ts := vals[2]
	if ts == "" || len(ts) > 12 || (len(ts) > 1 && ts[0] == '0') || strings.IndexFunc(ts, func(c rune) bool { return c < '0' || c > '9' }) >= 0 {
		return APIRequest{}, nil, "time is not decimal Unix seconds"
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || secs > maxUnix {
		return APIRequest{}, nil, "time is after 9999"
	}
	nonce, err := enc.DecodeString(vals[3])
	if err != nil || len(nonce) != APINonceSize {
		return APIRequest{}, nil, "nonce is not base64url of 16 bytes"
	}
	mac, err := enc.DecodeString(vals[4])
	if err != nil || len(mac) != sha256.Size {
		return APIRequest{}, nil, "mac is not base64url of 32 bytes"
	}
	return APIRequest{User: string(user), DeviceID: vals[1], Time: time.Unix(secs, 0).UTC(), Nonce: nonce}, mac, ""
}

// SignAPIRequest returns the Authorization header value for a device API
// request the phone is about to send, at time now: the method, the path
// below the API's mount point ("/v1/pushes"), the raw query as it will be
// sent ("" for none) and the body (nil for none), with the credential's
// user and device ID, now in whole seconds, and a fresh random nonce,
// MAC'd under the credential's api key. Sign every request, retries
// included, afresh: the server takes each nonce once. A credential not
// yet confirmed by its server refuses (ErrUnconfirmed).
func (c *Credential) SignAPIRequest(method, path, query string, body []byte, now time.Time) (string, error) {
	if !c.confirmed {
		return "", ErrUnconfirmed
	}
	r := APIRequest{Method: method, Path: path, Query: query, BodyHash: sha256.Sum256(body),
		User: c.offer.User, DeviceID: c.deviceID, Time: time.Unix(now.Unix(), 0).UTC(), Nonce: make([]byte, APINonceSize)}
	rand.Read(r.Nonce)
	mac, err := APIRequestMAC(c.keys.API, r)
	if err != nil {
		return "", err
	}
	return r.Authorization(mac)
}

// CheckAPIRequestTime is the server's time check of a device API request
// (PROTOCOL.md §10): with s the whole second of now (rounded down), it
// accepts a request time t with |s − t| ≤ 60 seconds ([APIMaxSkew]) and
// refuses any other with [ErrAPIRequestTime]. Whole seconds on both
// sides make the window the same either way.
func CheckAPIRequestTime(now, t time.Time) error {
	d := now.Unix() - t.Unix()
	if limit := int64(APIMaxSkew / time.Second); d > limit || d < -limit {
		return ErrAPIRequestTime
	}
	return nil
}
