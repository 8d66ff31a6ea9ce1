package enroll

import (
	"crypto"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/keyline/keyline/challenge"
)

// TOTPKeyOptions tune [NewTOTPKey]. The zero value selects what every
// authenticator app accepts: HMAC-SHA1, 6 digits, 30 seconds, a 20-byte
// secret.
type TOTPKeyOptions struct {
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
	defaultTOTPSecretSize = 20
	minTOTPSecretSize     = challenge.MinKeyLen
	maxTOTPSecretSize     = 64
	minTOTPPeriod         = 10 * time.Second
	maxTOTPPeriod         = 10 * time.Minute
)

// totpParams are resolved, checked options.
type totpParams struct {
	digits int
	hash   crypto.Hash
	alg    otp.Algorithm
	period time.Duration
	size   int
}

func (o TOTPKeyOptions) params() (totpParams, error) {
	p := totpParams{digits: o.Digits, hash: o.Algorithm, period: o.Period, size: o.SecretSize}
	switch p.digits {
	case 0:
		p.digits = 6
	case 6, 8:
	default:
		return p, wrap(ErrInvalidInput, "TOTP digits %d is not 6 or 8", p.digits)
	}
	switch p.hash {
	case 0, crypto.SHA1:
		p.hash, p.alg = crypto.SHA1, otp.AlgorithmSHA1
	case crypto.SHA256:
		p.alg = otp.AlgorithmSHA256
	case crypto.SHA512:
		p.alg = otp.AlgorithmSHA512
	default:
		return p, wrap(ErrInvalidInput, "TOTP algorithm %v is not SHA1, SHA256 or SHA512", p.hash)
	}
	if p.period == 0 {
		p.period = 30 * time.Second
	}
	if p.period < minTOTPPeriod || p.period > maxTOTPPeriod || p.period%time.Second != 0 {
		return p, wrap(ErrInvalidInput, "TOTP period %v is not a whole number of seconds from %v to %v", p.period, minTOTPPeriod, maxTOTPPeriod)
	}
	if p.size == 0 {
		p.size = defaultTOTPSecretSize
	}
	if p.size < minTOTPSecretSize || p.size > maxTOTPSecretSize {
		return p, wrap(ErrInvalidInput, "TOTP secret size %d out of range %d..%d bytes", p.size, minTOTPSecretSize, maxTOTPSecretSize)
	}
	return p, nil
}

// checkTOTPLabel accepts an issuer or account name that the otpauth URI
// carries unambiguously: non-empty, at most 256 bytes of printable UTF-8
// (letters, marks, numbers, punctuation, symbols and the ASCII space), no
// leading or trailing space (apps strip it), and no ':', which separates
// the two in the URI's label (the Key URI Format forbids it in both;
// pquerna/otp splits the label at the first ':' and does not escape it).
func checkTOTPLabel(name, s string) error {
	if s == "" {
		return wrap(ErrInvalidInput, "TOTP %s is empty", name)
	}
	if reason := checkText(s, maxTextLen); reason != "" {
		return wrap(ErrInvalidInput, "TOTP %s %s", name, reason)
	}
	for _, r := range s {
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

// TOTPKey is a TOTP secret (RFC 6238) for a user who prefers an
// authenticator app to the keyline app, with the parameters the app is
// told in its otpauth:// URI. The server keeps [TOTPKey.Secret], sealed,
// and verifies codes with [TOTPKey.TOTP]; the user scans [TOTPKey.QR]
// once.
//
// It prints no key material: String, GoString, Format and LogValue show
// the issuer and account name only, never the secret nor the URI (which
// holds the secret, unlike pquerna/otp's Key, whose String is the URI).
// Use it through its pointer; a copy shares the secret.
type TOTPKey struct {
	issuer, accountName string
	p                   totpParams
	secret              Secret // nil once zeroed
}

var b32NoPadding = base32.StdEncoding.WithPadding(base32.NoPadding)

// errTOTPGenerate hides pquerna/otp's errors, which can quote the URI and
// so the secret.
var errTOTPGenerate = errors.New("enroll: TOTP key generation failed")

// NewTOTPKey makes a TOTP key for accountName at issuer with a fresh
// secret from crypto/rand, through pquerna/otp's totp.Generate. Invalid
// options or names (see [TOTPKeyOptions]; each name must be non-empty, at
// most 256 bytes of printable UTF-8 without leading or trailing space,
// and without ':', which the URI's label uses as separator) are refused
// with an error wrapping [ErrInvalidInput].
func NewTOTPKey(issuer, accountName string, opts TOTPKeyOptions) (*TOTPKey, error) {
	p, err := opts.params()
	if err != nil {
		return nil, err
	}
	if err := checkTOTPLabel("issuer", issuer); err != nil {
		return nil, err
	}
	if err := checkTOTPLabel("account name", accountName); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: accountName,
		Period:      uint(p.period / time.Second),
		SecretSize:  uint(p.size),
		Digits:      otp.Digits(p.digits),
		Algorithm:   p.alg,
		Rand:        rand.Reader,
	})
	if err != nil {
		return nil, errTOTPGenerate
	}
	// The secret is the last parameter of Generate's URI (it sorts them).
	// Not key.Secret(): Generate leaves "&" unescaped in the issuer
	// parameter (see [TOTPKey.URI]), so an issuer could carry a
	// "secret=" of its own, ahead of the real one.
	gen := key.String()
	i := strings.LastIndex(gen, "&secret=")
	if i < 0 {
		return nil, errTOTPGenerate
	}
	raw, err := b32NoPadding.DecodeString(gen[i+len("&secret="):])
	if err != nil || len(raw) != p.size {
		clear(raw)
		return nil, errTOTPGenerate
	}
	k := &TOTPKey{issuer: issuer, accountName: accountName, p: p, secret: Secret(raw)}
	if !k.readsBack() {
		k.Zero()
		return nil, errTOTPGenerate
	}
	return k, nil
}

// readsBack reports whether pquerna/otp parses the key's URI back into
// exactly its names, parameters and secret.
func (k *TOTPKey) readsBack() bool {
	got, err := otp.NewKeyFromURL(k.URI())
	return err == nil && got.Type() == "totp" &&
		got.Issuer() == k.issuer && got.AccountName() == k.accountName &&
		got.Secret() == b32NoPadding.EncodeToString(k.secret) &&
		got.Algorithm() == k.p.alg && int(got.Digits()) == k.p.digits &&
		got.Period() == uint64(k.p.period/time.Second) &&
		got.Encoder() == otp.EncoderDefault
}

// Issuer returns the issuer, as the app shows it.
func (k *TOTPKey) Issuer() string { return k.issuer }

// AccountName returns the account name, as the app shows it.
func (k *TOTPKey) AccountName() string { return k.accountName }

// Digits returns the code length, 6 or 8.
func (k *TOTPKey) Digits() int { return k.p.digits }

// Period returns the time step.
func (k *TOTPKey) Period() time.Duration { return k.p.period }

// Algorithm returns the HMAC hash: crypto.SHA1, crypto.SHA256 or
// crypto.SHA512.
func (k *TOTPKey) Algorithm() crypto.Hash { return k.p.hash }

// TOTP returns the parameters for the server's verifier:
// key.TOTP().NewVerifier(secret) checks the codes the app shows.
func (k *TOTPKey) TOTP() challenge.TOTP {
	return challenge.TOTP{Hash: k.p.hash, Digits: k.p.digits, Period: k.p.period}
}

// Secret returns a copy of the raw secret, available only by this
// explicit method: store it sealed, and zero the copy when done. It is
// nil once the key is zeroed.
func (k *TOTPKey) Secret() Secret { return k.secret.clone() }

// URI returns the otpauth://totp/ URI that authenticator apps scan, in
// the Key URI Format:
//
//	otpauth://totp/Issuer:account?algorithm=SHA1&digits=6&issuer=Issuer&period=30&secret=BASE32
//
// with the names percent-encoded, all but letters, digits and "-._~@" (a
// space as %20, which apps show as a space, where some would show "+"),
// and the secret in unpadded base32.
// It is written here rather than taken from pquerna/otp, whose v1.5.0
// leaves "&" and "+" unescaped in the issuer parameter, so that "AT&T"
// reads back as "AT" and "a+b" as "a b"; pquerna/otp's parser reads this
// one back exactly, which [NewTOTPKey] checks for every key it makes.
//
// It contains the secret: show it once, to the user enrolling, and never
// log or store it. It is "" once the key is zeroed.
func (k *TOTPKey) URI() string {
	if k.secret == nil {
		return ""
	}
	return "otpauth://totp/" + escapeTOTP(k.issuer) + ":" + escapeTOTP(k.accountName) +
		"?algorithm=" + k.p.alg.String() +
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

// QR returns a PNG of the QR code of [TOTPKey.URI], drawn as [Offer.QR]
// draws (level M, or L for the few URIs too long for M: labels near 256
// bytes each of characters that must be percent-encoded; 4-module quiet
// zone; size×size pixels, from the code's
// width in modules to [MaxQRSize], else an error wrapping
// [ErrInvalidInput]). It holds the secret: show it once, never store or
// log it. A zeroed key is refused with an error wrapping ErrInvalidInput.
func (k *TOTPKey) QR(size int) ([]byte, error) {
	if err := checkQRSize(size); err != nil {
		return nil, err
	}
	uri := k.URI()
	if uri == "" {
		return nil, wrap(ErrInvalidInput, "TOTP key is zeroed")
	}
	s, err := encodeQR(uri, ErrInvalidInput)
	if err != nil {
		return nil, err
	}
	return s.png(size)
}

// Zero wipes the secret: the key can no longer give it, its URI or its
// QR code. Copies of the secret made earlier are not reached.
func (k *TOTPKey) Zero() {
	k.secret.Zero()
	k.secret = nil
}

// String describes the key without its secret or URI. It has a value
// receiver, like GoString, Format and LogValue, so that a dereferenced
// key prints redacted too.
func (k TOTPKey) String() string {
	return fmt.Sprintf("enroll.TOTPKey{Issuer: %q, AccountName: %q, Secret: %s}", k.issuer, k.accountName, redacted)
}

// GoString is String.
func (k TOTPKey) GoString() string { return k.String() }

// Format prints String for every verb.
func (k TOTPKey) Format(f fmt.State, _ rune) { fmt.Fprint(f, k.String()) }

// LogValue describes the key to slog without its secret or URI.
func (k TOTPKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("issuer", k.issuer), slog.String("account_name", k.accountName))
}
