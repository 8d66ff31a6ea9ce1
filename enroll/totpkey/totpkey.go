package totpkey

import (
	"crypto"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/internal/qrcode"
)

// ErrInvalidInput reports options, names or a QR size out of range, or a
// zeroed key asked for its URI's QR code. It is enroll's value, so that
// [errors.Is] matches either name.
var ErrInvalidInput = enroll.ErrInvalidInput

// Options tune [New]. The zero value selects what every authenticator
// app accepts: HMAC-SHA1, 6 digits, 30 seconds, a 20-byte
// secret.
type Options struct {
	// Digits is the code length, 6 or 8; 0 selects 6.
	Digits int
	// Algorithm is crypto.SHA1 (the zero value selects it),
	// crypto.SHA256 or crypto.SHA512. Many apps, Google Authenticator
	// among them, ignore the URI's algorithm and compute SHA-1 codes,
	// which then never verify: keep SHA-1 unless every user's app is
	// known to honour the choice.
	Algorithm crypto.Hash
	// Period is the time step, a whole number of seconds from 10s to
	// 10m; 0 selects 30s. Many apps honour 30s only.
	Period time.Duration
	// SecretSize is the secret's length in bytes, 16 (RFC 4226's
	// minimum) to 64; 0 selects 20 (160 bits, as RFC 4226 recommends).
	SecretSize int
}

const (
	defaultSecretSize = 20
	minSecretSize     = challenge.MinKeyLen
	maxSecretSize     = 64
	minPeriod         = 10 * time.Second
	maxPeriod         = 10 * time.Minute

	// maxLabelLen bounds an issuer or account name, in bytes, as enroll
	// bounds the names of an offer.
	maxLabelLen = 256
)

// params are resolved, checked options.
type params struct {
	digits int
	hash   crypto.Hash
	alg    string // the URI's algorithm parameter
	period time.Duration
	size   int
}

func (o Options) params() (params, error) {
	p := params{digits: o.Digits, hash: o.Algorithm, period: o.Period, size: o.SecretSize}
	switch p.digits {
	case 0:
		p.digits = 6
	case 6, 8:
	default:
		return p, wrap(ErrInvalidInput, "TOTP digits %d is not 6 or 8", p.digits)
	}
	switch p.hash {
	case 0, crypto.SHA1:
		p.hash, p.alg = crypto.SHA1, "SHA1"
	case crypto.SHA256:
		p.alg = "SHA256"
	case crypto.SHA512:
		p.alg = "SHA512"
	default:
		return p, wrap(ErrInvalidInput, "TOTP algorithm %v is not SHA1, SHA256 or SHA512", p.hash)
	}
	if p.period == 0 {
		p.period = 30 * time.Second
	}
	if p.period < minPeriod || p.period > maxPeriod || p.period%time.Second != 0 {
		return p, wrap(ErrInvalidInput, "TOTP period %v is not a whole number of seconds from %v to %v", p.period, minPeriod, maxPeriod)
	}
	if p.size == 0 {
		p.size = defaultSecretSize
	}
	if p.size < minSecretSize || p.size > maxSecretSize {
		return p, wrap(ErrInvalidInput, "TOTP secret size %d out of range %d..%d bytes", p.size, minSecretSize, maxSecretSize)
	}
	return p, nil
}

// checkLabel accepts an issuer or account name that the otpauth URI
// carries unambiguously: non-empty, at most 256 bytes of printable UTF-8
// (letters, marks, numbers, punctuation, symbols and the ASCII space), no
// leading or trailing space (apps strip it), and no ':', which separates
// the two in the URI's label (the Key URI Format forbids it in both;
// pquerna/otp splits the label at the first ':' and does not escape it).
func checkLabel(name, s string) error {
	if s == "" {
		return wrap(ErrInvalidInput, "TOTP %s is empty", name)
	}
	if len(s) > maxLabelLen {
		return wrap(ErrInvalidInput, "TOTP %s is longer than %d bytes", name, maxLabelLen)
	}
	if !utf8.ValidString(s) {
		return wrap(ErrInvalidInput, "TOTP %s is not valid UTF-8", name)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return wrap(ErrInvalidInput, "TOTP %s contains a control or bidi character", name)
		}
		if !unicode.IsPrint(r) {
			return wrap(ErrInvalidInput, "TOTP %s contains a character that is not printable", name)
		}
	}
	if strings.TrimSpace(s) != s {
		return wrap(ErrInvalidInput, "TOTP %s has leading or trailing space", name)
	}
	if strings.Contains(s, ":") {
		return wrap(ErrInvalidInput, "TOTP %s contains ':'", name)
	}
	return nil
}

// Key is a TOTP secret (RFC 6238) for a user who prefers an
// authenticator app to the keyline app, with the parameters the app is
// told in its otpauth:// URI. The server keeps [Key.Secret], sealed,
// and verifies codes with [Key.TOTP]; the user scans [Key.QR] once.
//
// It prints no key material: String, GoString, Format and LogValue show
// the issuer and account name only, never the secret nor the URI (which
// holds the secret, unlike pquerna/otp's Key, whose String is the URI).
// Use it through its pointer; a copy shares the secret.
type Key struct {
	issuer, accountName string
	p                   params
	secret              enroll.Secret // nil once zeroed
}

var b32NoPadding = base32.StdEncoding.WithPadding(base32.NoPadding)

// New makes a TOTP key for accountName at issuer with a fresh secret of
// opts.SecretSize bytes read from crypto/rand. Invalid options or names
// (see [Options]; each name must be non-empty, at most 256 bytes of
// printable UTF-8 without leading or trailing space, and without ':',
// which the URI's label uses as separator) are refused with an error
// wrapping [ErrInvalidInput].
func New(issuer, accountName string, opts Options) (*Key, error) {
	p, err := opts.params()
	if err != nil {
		return nil, err
	}
	if err := checkLabel("issuer", issuer); err != nil {
		return nil, err
	}
	if err := checkLabel("account name", accountName); err != nil {
		return nil, err
	}
	secret := make(enroll.Secret, p.size)
	rand.Read(secret) // never fails (crypto/rand, Go 1.24+)
	return &Key{issuer: issuer, accountName: accountName, p: p, secret: secret}, nil
}

// Issuer returns the issuer, as the app shows it.
func (k *Key) Issuer() string { return k.issuer }

// AccountName returns the account name, as the app shows it.
func (k *Key) AccountName() string { return k.accountName }

// Digits returns the code length, 6 or 8.
func (k *Key) Digits() int { return k.p.digits }

// Period returns the time step.
func (k *Key) Period() time.Duration { return k.p.period }

// Algorithm returns the HMAC hash: crypto.SHA1, crypto.SHA256 or
// crypto.SHA512.
func (k *Key) Algorithm() crypto.Hash { return k.p.hash }

// TOTP returns the parameters for the server's verifier:
// key.TOTP().NewVerifier(secret) checks the codes the app shows.
func (k *Key) TOTP() challenge.TOTP {
	return challenge.TOTP{Hash: k.p.hash, Digits: k.p.digits, Period: k.p.period}
}

// Secret returns a copy of the raw secret, available only by this
// explicit method: store it sealed, and zero the copy when done. It is
// nil once the key is zeroed.
func (k *Key) Secret() enroll.Secret {
	if k.secret == nil {
		return nil
	}
	return append(enroll.Secret(nil), k.secret...)
}

// URI returns the otpauth://totp/ URI that authenticator apps scan, in
// the Key URI Format:
//
//	otpauth://totp/Issuer:account?algorithm=SHA1&digits=6&issuer=Issuer&period=30&secret=BASE32
//
// with the names percent-encoded, all but letters, digits and "-._~@" (a
// space as %20, which apps show as a space, where some would show "+"),
// and the secret in unpadded base32.
// It is written here rather than by pquerna/otp, whose v1.5.0 leaves "&"
// and "+" unescaped in the issuer parameter, so that "AT&T" reads back as
// "AT" and "a+b" as "a b"; pquerna/otp's parser reads this one back
// exactly, which the tests check for every name they try and the fuzz
// target for every name [New] accepts.
//
// It contains the secret: show it once, to the user enrolling, and never
// log or store it. It is "" once the key is zeroed.
func (k *Key) URI() string {
	if k.secret == nil {
		return ""
	}
	return "otpauth://totp/" + escapeTOTP(k.issuer) + ":" + escapeTOTP(k.accountName) +
		"?algorithm=" + k.p.alg +
		"&digits=" + strconv.Itoa(k.p.digits) +
		"&issuer=" + escapeTOTP(k.issuer) +
		"&period=" + strconv.FormatInt(int64(k.p.period/time.Second), 10) +
		"&secret=" + b32NoPadding.EncodeToString(k.secret)
}

// escapeTOTP percent-encodes every byte but the unreserved characters of
// RFC 3986 (letters, digits, "-", ".", "_", "~") and "@" (valid in a path
// and a query alike, and left as is in an e-mail address, as the Key URI
// Format's examples do), a space as %20. It is the same in the label and
// the query, so that no app's decoder, strict or form-style, reads a "+"
// as a space or an "&" as a separator.
func escapeTOTP(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&15])
		}
	}
	return b.String()
}

// QR returns a PNG of the QR code of [Key.URI], drawn as [enroll.Offer.QR]
// draws (level M, or L for the few URIs too long for M: labels near 256
// bytes each of characters that must be percent-encoded; 4-module quiet
// zone; size×size pixels, from the code's
// width in modules to [enroll.MaxQRSize], else an error wrapping
// [ErrInvalidInput]). It holds the secret: show it once, never store or
// log it. A zeroed key is refused with an error wrapping ErrInvalidInput.
func (k *Key) QR(size int) ([]byte, error) {
	if err := qrcode.CheckSize(size, ErrInvalidInput); err != nil {
		return nil, err
	}
	uri := k.URI()
	if uri == "" {
		return nil, wrap(ErrInvalidInput, "TOTP key is zeroed")
	}
	s, err := qrcode.Encode(uri, ErrInvalidInput)
	if err != nil {
		return nil, err
	}
	return s.PNG(size, ErrInvalidInput)
}

// Zero wipes the secret: the key can no longer give it, its URI or its
// QR code. Copies of the secret made earlier are not reached.
func (k *Key) Zero() {
	k.secret.Zero()
	k.secret = nil
}

// String describes the key without its secret or URI. It has a value
// receiver, like GoString, Format and LogValue, so that a dereferenced
// key prints redacted too.
func (k Key) String() string {
	return fmt.Sprintf("totpkey.Key{Issuer: %q, AccountName: %q, Secret: %s}", k.issuer, k.accountName, redacted)
}

// GoString is String.
func (k Key) GoString() string { return k.String() }

// Format prints String for every verb.
func (k Key) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue describes the key to slog without its secret or URI.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", k.issuer), slog.String("account_name", k.accountName))
}

const redacted = "[redacted]"

// wrap returns sentinel with a reason. A shared value of package keyline,
// whose text names no package, is said to come from this package.
func wrap(sentinel error, format string, args ...any) error {
	if !strings.Contains(sentinel.Error(), ": ") {
		format = "%s: %w: " + format
		return fmt.Errorf(format, append([]any{"totpkey", sentinel}, args...)...)
	}
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
