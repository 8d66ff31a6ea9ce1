package totpkey

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/internal/qrcode/qrtest"
)

// t0 is a fixed instant of the tests, as in enroll's.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

var totpTimes = []time.Time{
	time.Unix(59, 0),
	time.Unix(1111111109, 0),
	time.Unix(1234567890, 0),
	time.Unix(2000000000, 0),
	t0,
	t0.Add(29 * time.Second),
	t0.Add(30 * time.Second),
}

func TestKeyDefaults(t *testing.T) {
	k, err := New("Example Bank", "ada@example.com", Options{})
	require.NoError(t, err)
	require.Equal(t, "Example Bank", k.Issuer())
	require.Equal(t, "ada@example.com", k.AccountName())
	require.Equal(t, 6, k.Digits())
	require.Equal(t, 30*time.Second, k.Period())
	require.Equal(t, crypto.SHA1, k.Algorithm())
	require.Equal(t, challenge.TOTP{Hash: crypto.SHA1, Digits: 6, Period: 30 * time.Second}, k.TOTP())
	secret := k.Secret()
	require.Len(t, secret, 20)

	u, err := otp.NewKeyFromURL(k.URI())
	require.NoError(t, err)
	require.Equal(t, "totp", u.Type())
	require.Equal(t, "Example Bank", u.Issuer())
	require.Equal(t, "ada@example.com", u.AccountName())
	require.Equal(t, otp.DigitsSix, u.Digits())
	require.Equal(t, uint64(30), u.Period())
	require.Equal(t, otp.AlgorithmSHA1, u.Algorithm())
	require.True(t, strings.HasPrefix(k.URI(), "otpauth://totp/Example%20Bank:ada@example.com?"), k.URI())
	raw, err := b32NoPadding.DecodeString(u.Secret())
	require.NoError(t, err)
	require.Equal(t, []byte(secret), raw)

	// pquerna's codes, as an authenticator app computes them, verify with
	// the server's verifier, at the step they were made for.
	v, err := k.TOTP().NewVerifier(k.Secret())
	require.NoError(t, err)
	for _, at := range totpTimes {
		code, err := totp.GenerateCode(u.Secret(), at)
		require.NoError(t, err)
		m, err := v.Verify(at, code, challenge.Window{})
		require.NoError(t, err, "at %v", at)
		require.Equal(t, uint64(at.Unix()/30), m.Step)
		ours, err := k.TOTP().Code(k.Secret(), at)
		require.NoError(t, err)
		require.Equal(t, code, ours)
	}
}

func TestOptions(t *testing.T) {
	for _, opts := range []Options{
		{Digits: 8},
		{Algorithm: crypto.SHA256},
		{Algorithm: crypto.SHA512, Digits: 8, Period: 60 * time.Second, SecretSize: 64},
		{Algorithm: crypto.SHA1, Period: 10 * time.Second, SecretSize: 16},
		{Period: 10 * time.Minute, SecretSize: 32},
	} {
		k, err := New("Example", "ada", opts)
		require.NoError(t, err, "%+v", opts)
		want := challenge.TOTP{Hash: crypto.SHA1, Digits: 6, Period: 30 * time.Second}
		size := 20
		if opts.Algorithm != 0 {
			want.Hash = opts.Algorithm
		}
		if opts.Digits != 0 {
			want.Digits = opts.Digits
		}
		if opts.Period != 0 {
			want.Period = opts.Period
		}
		if opts.SecretSize != 0 {
			size = opts.SecretSize
		}
		require.Equal(t, want, k.TOTP())
		require.Equal(t, want.Hash, k.Algorithm())
		require.Equal(t, want.Digits, k.Digits())
		require.Equal(t, want.Period, k.Period())
		require.Len(t, k.Secret(), size)

		u, err := otp.NewKeyFromURL(k.URI())
		require.NoError(t, err)
		alg := map[crypto.Hash]otp.Algorithm{crypto.SHA1: otp.AlgorithmSHA1, crypto.SHA256: otp.AlgorithmSHA256, crypto.SHA512: otp.AlgorithmSHA512}[want.Hash]
		require.Equal(t, alg, u.Algorithm())
		require.Equal(t, otp.Digits(want.Digits), u.Digits())
		require.Equal(t, uint64(want.Period/time.Second), u.Period())
		raw, err := b32NoPadding.DecodeString(u.Secret())
		require.NoError(t, err)
		require.Equal(t, []byte(k.Secret()), raw)

		v, err := k.TOTP().NewVerifier(k.Secret())
		require.NoError(t, err)
		for _, at := range totpTimes {
			code, err := totp.GenerateCodeCustom(u.Secret(), at, totp.ValidateOpts{
				Period: uint(u.Period()), Digits: u.Digits(), Algorithm: u.Algorithm(),
			})
			require.NoError(t, err)
			require.Len(t, code, want.Digits)
			m, err := v.Verify(at, code, challenge.Window{})
			require.NoError(t, err, "%+v at %v", opts, at)
			require.Equal(t, uint64(at.Unix())/uint64(want.Period/time.Second), m.Step)
		}
	}
}

func TestKeyRefusesOptions(t *testing.T) {
	for _, opts := range []Options{
		{Digits: -1}, {Digits: 5}, {Digits: 7}, {Digits: 9}, {Digits: 10},
		{Algorithm: crypto.MD5}, {Algorithm: crypto.SHA224}, {Algorithm: crypto.SHA3_256}, {Algorithm: crypto.Hash(999)},
		{Period: -30 * time.Second}, {Period: time.Second}, {Period: 9 * time.Second}, {Period: 1500 * time.Millisecond},
		{Period: 30*time.Second + 1}, {Period: 10*time.Minute + time.Second}, {Period: 30}, // 30 ns, not 30 s
		{SecretSize: -1}, {SecretSize: 10}, {SecretSize: 15}, {SecretSize: 65},
	} {
		k, err := New("Example", "ada", opts)
		require.ErrorIs(t, err, ErrInvalidInput, "%+v", opts)
		require.Nil(t, k)
	}
}

func TestKeyNames(t *testing.T) {
	long := strings.Repeat("é", maxLabelLen/2)
	for _, name := range []string{"Example Bank", "ada+tag@example.com", "a&b=c?d#e%f", "AT&T", "a+b", "x&secret=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Zoë 100%", "a/b", "a;b,c$d@e", "日本銀行", "x", long, strings.Repeat("a", maxLabelLen)} {
		k, err := New(name, name, Options{})
		require.NoError(t, err, "%q", name)
		u, err := otp.NewKeyFromURL(k.URI())
		require.NoError(t, err)
		require.Equal(t, name, u.Issuer(), "%q", name)
		require.Equal(t, name, u.AccountName(), "%q", name)
		require.Equal(t, b32NoPadding.EncodeToString(k.Secret()), u.Secret(), "%q", name)
		require.NotContains(t, k.URI(), "+", "%q: a space or plus must be percent-encoded", name)
	}
	// Every printable ASCII character but ':' inside a name reads back.
	for c := byte(' '); c <= '~'; c++ {
		if c == ':' {
			continue
		}
		name := "a" + string(c) + "b"
		k, err := New(name, name, Options{})
		require.NoError(t, err, "%q", name)
		u, err := otp.NewKeyFromURL(k.URI())
		require.NoError(t, err)
		require.Equal(t, name, u.Issuer(), "%q", name)
		require.Equal(t, name, u.AccountName(), "%q", name)
	}
	for _, name := range []string{
		"", "a:b", ":", " lead", "trail ", "two\tparts", "ctl\x01", "new\nline", "\u202eevil", "zero\u200bwidth",
		"nb\u00a0sp", "\xff", strings.Repeat("a", maxLabelLen+1), strings.Repeat("é", maxLabelLen/2) + "a",
	} {
		_, err := New(name, "ada", Options{})
		require.ErrorIs(t, err, ErrInvalidInput, "issuer %q", name)
		_, err = New("Example", name, Options{})
		require.ErrorIs(t, err, ErrInvalidInput, "account name %q", name)
	}
}

func TestKeyFresh(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		k, err := New("Example", "ada", Options{})
		require.NoError(t, err)
		s := string(k.Secret())
		require.False(t, seen[s])
		seen[s] = true
		require.NotEqual(t, make([]byte, 20), []byte(s))
	}
}

func TestKeySecretIsACopyAndZero(t *testing.T) {
	k, err := New("Example", "ada", Options{})
	require.NoError(t, err)
	s := k.Secret()
	uri := k.URI()
	s.Zero()
	require.NotEqual(t, []byte(s), []byte(k.Secret()))
	require.Equal(t, uri, k.URI())

	k.Zero()
	require.Nil(t, k.Secret())
	require.Equal(t, "", k.URI())
	_, err = k.QR(256)
	require.ErrorIs(t, err, ErrInvalidInput)
	require.Equal(t, "Example", k.Issuer())
}

func TestKeyQR(t *testing.T) {
	k, err := New("Example Bank", "ada@example.com", Options{})
	require.NoError(t, err)
	code, err := qr.Encode(k.URI(), qr.M, qr.Unicode)
	require.NoError(t, err)
	require.Equal(t, k.URI(), code.Content())
	want := qrtest.GridOf(t, code)
	n := len(want)
	for _, size := range []int{n, 256, 333} {
		b, err := k.QR(size)
		require.NoError(t, err)
		require.Equal(t, want, qrtest.PNGGrid(t, b, size, n))
	}
	require.Equal(t, "M", qrtest.FormatLevel(t, want))
	for _, size := range []int{0, 28, n - 1, enroll.MaxQRSize + 1} {
		_, err := k.QR(size)
		require.ErrorIs(t, err, ErrInvalidInput, "size %d", size)
	}

	// The longest labels, each byte percent-encoded (three times over:
	// issuer in the label and the parameter, account name), and the
	// largest secret: too long for level M, so L.
	long := strings.Repeat("é", maxLabelLen/2)
	k, err = New(long, long, Options{SecretSize: maxSecretSize})
	require.NoError(t, err)
	require.Greater(t, len(k.URI()), 2331)
	code, err = qr.Encode(k.URI(), qr.L, qr.Unicode)
	require.NoError(t, err)
	want = qrtest.GridOf(t, code)
	b, err := k.QR(2 * len(want))
	require.NoError(t, err)
	require.Equal(t, want, qrtest.PNGGrid(t, b, 2*len(want), len(want)))
	require.Equal(t, "L", qrtest.FormatLevel(t, want))
}

// Nothing a Key prints shows its secret, in raw, hex, decimal or
// base32 form, nor its URI.
func TestKeyPrintsNoSecret(t *testing.T) {
	k, err := New("Example Bank", "ada@example.com", Options{})
	require.NoError(t, err)
	secret := k.Secret()
	b32 := b32NoPadding.EncodeToString(secret)
	uri := k.URI()

	values := []any{k, *k, struct{ Key *Key }{k}, struct{ Key Key }{*k}, []*Key{k}, map[string]*Key{"k": k}}
	var out strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", v)
	}
	text := out.String()
	require.Contains(t, text, "Example Bank")
	require.Contains(t, text, "ada@example.com")
	require.Contains(t, text, redacted)

	require.NotContains(t, text, uri)
	require.NotContains(t, text, "otpauth")
	require.NotContains(t, text, "secret=")
	require.NotContains(t, text, string(secret))
	h := hex.EncodeToString(secret)
	for i := 0; i+16 <= len(h); i += 2 {
		require.NotContains(t, strings.ToLower(text), h[i:i+16])
	}
	// No 8-character window of the base32, in either case.
	for i := 0; i+8 <= len(b32); i++ {
		require.NotContains(t, text, b32[i:i+8])
		require.NotContains(t, text, strings.ToLower(b32[i:i+8]))
	}
	require.NotContains(t, text, strings.Trim(fmt.Sprint([]byte(secret[:6])), "[]"))
	require.False(t, bytes.Contains([]byte(text), secret[:8]))
}

// What pquerna/otp checked at run time before it became the test-time
// cross-check: for every pair of names New accepts, its parser reads the
// URI back into exactly the names, parameters and secret.
func FuzzURIReadsBack(f *testing.F) {
	for _, s := range []string{"Example Bank", "ada+tag@example.com", "AT&T", "a+b", "x&secret=AAAA", "Zoë 100%", "日本銀行", "a:b", " x"} {
		f.Add(s, "ada@example.com", uint8(0))
	}
	f.Fuzz(func(t *testing.T, issuer, account string, pick uint8) {
		opts := []Options{{}, {Digits: 8, Algorithm: crypto.SHA256, Period: time.Minute}, {Algorithm: crypto.SHA512, SecretSize: 64}}[int(pick)%3]
		k, err := New(issuer, account, opts)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidInput)
			require.Nil(t, k)
			return
		}
		u, err := otp.NewKeyFromURL(k.URI())
		require.NoError(t, err)
		require.Equal(t, "totp", u.Type())
		require.Equal(t, issuer, u.Issuer())
		require.Equal(t, account, u.AccountName())
		require.Equal(t, b32NoPadding.EncodeToString(k.Secret()), u.Secret())
		require.Equal(t, k.p.alg, u.Algorithm().String())
		require.Equal(t, k.Digits(), int(u.Digits()))
		require.Equal(t, uint64(k.Period()/time.Second), u.Period())
		require.Equal(t, otp.EncoderDefault, u.Encoder())
	})
}
