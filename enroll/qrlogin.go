package enroll

import (
	"errors"
	"net/url"
	"strings"
)

// ErrInvalidQRLogin reports a login QR code's text that is not well
// formed (PROTOCOL.md §8, "Log in with a QR code").
var ErrInvalidQRLogin = errors.New("enroll: invalid login QR code")

// qrLoginPrefix is the scheme and host of a login QR code's text.
const qrLoginPrefix = "keyline://login?"

// maxQRLogin bounds the text: the prefix, the names and separators, and
// the issuer and user (256 bytes each) fully percent-encoded, the request
// ID (64 bytes).
const maxQRLogin = len(qrLoginPrefix) + len("v=1&iss=&user=&id=") + 2*3*maxTextLen + maxRequestIDLen

// QRLogin is what a login page's QR code carries: which account's login
// is waiting (the issuer and user, so that a phone holding several
// accounts knows which one answers) and the push request to fetch and
// answer (PROTOCOL.md §8, "Log in with a QR code"). It carries no secret
// and no MAC: the phone fetches the request's sealed prompt over the
// device API, shows only what that prompt says, and answers it as any
// push; a code altered on the way names a request the phone cannot
// fetch.
type QRLogin struct {
	Issuer    string
	User      string
	RequestID string
}

// qrLoginParams are the parameters in the one order the text has them.
var qrLoginParams = [...]string{"v", "iss", "user", "id"}

// Text returns the QR code's text:
//
//	keyline://login?v=1&iss=...&user=...&id=...
//
// the issuer and user form-encoded (a space as '+', other bytes outside
// A–Z a–z 0–9 - . _ ~ as '%' and two upper-case hex digits). It is
// the one text [ParseQRLogin] accepts for q.
func (q QRLogin) Text() string {
	return qrLoginPrefix + "v=1&iss=" + url.QueryEscape(q.Issuer) + "&user=" + url.QueryEscape(q.User) +
		"&id=" + url.QueryEscape(q.RequestID)
}

// check returns why q's fields are refused, or "".
func (q QRLogin) check() string {
	switch {
	case q.Issuer == "":
		return "issuer is empty"
	case checkText(q.Issuer, maxTextLen) != "":
		return "issuer " + checkText(q.Issuer, maxTextLen)
	case q.User == "":
		return "user is empty"
	case checkText(q.User, maxTextLen) != "":
		return "user " + checkText(q.User, maxTextLen)
	case !isRequestID(q.RequestID):
		return "request ID is not 1-64 bytes of A-Z a-z 0-9 - . _ ~"
	}
	return ""
}

// Validate reports whether q may be written as a QR code: an issuer and
// a user of 1–256 bytes of UTF-8 without control or bidi characters and a
// request ID as a push prompt's. A refusal wraps [ErrInvalidQRLogin].
func (q QRLogin) Validate() error {
	if r := q.check(); r != "" {
		return wrap(ErrInvalidQRLogin, "%s", r)
	}
	return nil
}

// ParseQRLogin reads a login QR code's text strictly: it must be exactly
// what [QRLogin.Text] writes for valid fields — scheme and host in lower
// case, version 1, the four parameters in order, once each, nothing else,
// and each value in its one encoding. A refusal wraps
// [ErrInvalidQRLogin] and yields the zero QRLogin. A version other than 1
// means the app needs an update: the refusal says so.
func ParseQRLogin(text string) (QRLogin, error) {
	if len(text) > maxQRLogin {
		return QRLogin{}, wrap(ErrInvalidQRLogin, "longer than %d bytes", maxQRLogin)
	}
	query, ok := strings.CutPrefix(text, qrLoginPrefix)
	if !ok {
		return QRLogin{}, wrap(ErrInvalidQRLogin, "not a keyline://login URI (scheme and host are lower case)")
	}
	for i := 0; i < len(query); i++ {
		if c := query[i]; c < 0x21 || c > 0x7e || c == '#' || c == ';' {
			return QRLogin{}, wrap(ErrInvalidQRLogin, "a byte that is not printable ASCII, or '#' or ';'")
		}
	}
	pairs := strings.Split(query, "&")
	if len(pairs) != len(qrLoginParams) {
		return QRLogin{}, wrap(ErrInvalidQRLogin, "not exactly the four parameters v, iss, user, id")
	}
	var vals [len(qrLoginParams)]string
	for i, pair := range pairs {
		name, raw, ok := strings.Cut(pair, "=")
		if !ok || name != qrLoginParams[i] {
			return QRLogin{}, wrap(ErrInvalidQRLogin, "parameter %s missing, repeated, unknown or out of order", qrLoginParams[i])
		}
		v, ok := formDecode(raw)
		if !ok {
			return QRLogin{}, wrap(ErrInvalidQRLogin, "parameter %s: a '%%' not followed by two hex digits", name)
		}
		vals[i] = v
	}
	if vals[0] != "1" {
		return QRLogin{}, wrap(ErrInvalidQRLogin, "version is not 1: the app needs an update")
	}
	q := QRLogin{Issuer: vals[1], User: vals[2], RequestID: vals[3]}
	if r := q.check(); r != "" {
		return QRLogin{}, wrap(ErrInvalidQRLogin, "%s", r)
	}
	if q.Text() != text {
		// One text per login: a value encoded another way ("%41" for
		// "A", "%20" for a space) is refused, so that two readers never
		// disagree on what a code says.
		return QRLogin{}, wrap(ErrInvalidQRLogin, "a value not in its one encoding")
	}
	return q, nil
}
