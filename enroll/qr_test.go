package enroll

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/keyline/keyline/enroll/internal/qrcode/qrtest"
	"github.com/stretchr/testify/require"
)

// testOffer returns a valid offer with the given names.
func testOffer(t *testing.T, issuer, user, acct string) Offer {
	t.Helper()
	p, err := Start(issuer, user, StartOptions{AccountName: acct, Now: t0})
	require.NoError(t, err)
	return p.Offer()
}

func TestOfferQR(t *testing.T) {
	o := testOffer(t, "Example Bank", "user-42", "ada@example.com")
	code, err := qr.Encode(o.URI(), qr.M, qr.Unicode)
	require.NoError(t, err)
	want := qrtest.GridOf(t, code)
	n := len(want)

	for _, size := range []int{n, n + 1, 2*n - 1, 256, 300, 512} {
		b, err := o.QR(size)
		require.NoError(t, err, "size %d", size)
		got := qrtest.PNGGrid(t, b, size, n)
		require.Equal(t, want, got, "size %d", size)
	}
	require.Equal(t, "M", qrtest.FormatLevel(t, want))
	t.Logf("typical offer URI: %d bytes, %d modules with the quiet zone", len(o.URI()), n)

	// The helper both methods use encodes the offer's URI, and nothing
	// but the symbol boombuler made.
	s, err := o.qrSymbol()
	require.NoError(t, err)
	require.Equal(t, o.URI(), s.Code.Content())
	require.Equal(t, n, s.N)

	// The quiet zone is 4 light modules on every side.
	for i := range n {
		for j := range 4 {
			require.False(t, want[i][j] || want[j][i] || want[i][n-1-j] || want[n-1-j][i])
		}
	}

	// And the terminal drawing is the same matrix.
	require.Equal(t, want, qrtest.TerminalGrid(t, o.TerminalQR(), n))
}

func TestOfferQRSizes(t *testing.T) {
	o := testOffer(t, "Example Bank", "user-42", "ada@example.com")
	s, err := o.qrSymbol()
	require.NoError(t, err)
	for _, size := range []int{-1, 0, 1, 28, s.N - 1, MaxQRSize + 1, 1 << 40} {
		b, err := o.QR(size)
		require.ErrorIs(t, err, ErrInvalidInput, "size %d", size)
		require.Nil(t, b)
	}
	if testing.Short() {
		return
	}
	b, err := o.QR(MaxQRSize)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, MaxQRSize, img.Bounds().Dx())
}

func TestOfferQRRefusesInvalidOffer(t *testing.T) {
	o := testOffer(t, "Example Bank", "user-42", "ada@example.com")
	for name, bad := range map[string]Offer{
		"zero":        {},
		"short key":   func() Offer { b := o; b.ServerKey = b.ServerKey[:31]; return b }(),
		"wrong sid":   func() Offer { b := o; b.SessionID = testOffer(t, "x", "y", "z").SessionID; return b }(),
		"no issuer":   func() Offer { b := o; b.Issuer = ""; return b }(),
		"control chr": func() Offer { b := o; b.AccountName = "a\nb"; return b }(),
		"fractional":  func() Offer { b := o; b.ExpiresAt = b.ExpiresAt.Add(time.Millisecond); return b }(),
	} {
		_, err := bad.QR(256)
		_, perr := ParseOffer(bad.URI())
		require.Error(t, err, name)
		if name != "fractional" { // the URI drops the fraction: only the Offer is wrong
			require.Error(t, perr, name)
		}
		if name == "wrong sid" {
			require.ErrorIs(t, err, ErrOfferMismatch, name)
		} else {
			require.ErrorIs(t, err, ErrInvalidOffer, name)
		}
		require.Equal(t, "", bad.TerminalQR(), name)
	}
}

// The longest names offer.go allows still encode; an offer whose URI is
// longer than ParseOffer accepts is refused, since the phone would refuse
// it too; every URI ParseOffer accepts fits at level M.
func TestOfferQRLong(t *testing.T) {
	long := func(c string, n int) string { return strings.Repeat(c, n/len(c)) }

	// 256 bytes each, ASCII.
	o := testOffer(t, long("I", maxTextLen), long("u", maxTextLen), long("a", maxTextLen))
	require.Len(t, o.Issuer, maxTextLen)
	b, err := o.QR(512)
	require.NoError(t, err)
	s, err := o.qrSymbol()
	require.NoError(t, err)
	require.Equal(t, "M", qrtest.FormatLevel(t, qrtest.PNGGrid(t, b, 512, s.N)))
	require.Equal(t, o.URI(), s.Code.Content())
	_, err = ParseOffer(s.Code.Content())
	require.NoError(t, err)

	// 256 bytes each of a character that percent-encodes to 3 bytes per
	// byte: the URI is longer than ParseOffer takes, so Start refuses it,
	// and an offer altered to carry it makes no QR code.
	_, err = Start(long("é", maxTextLen), long("é", maxTextLen), StartOptions{AccountName: long("é", maxTextLen), Now: t0})
	require.ErrorIs(t, err, ErrInvalidInput)
	base := testOffer(t, "I", "u", "a")
	named := func(issuer, user, acct string) Offer {
		o := base
		o.Issuer, o.User, o.AccountName = issuer, user, acct
		return o
	}
	o = named(long("é", maxTextLen), long("é", maxTextLen), long("é", maxTextLen))
	require.Greater(t, len(o.URI()), maxURI)
	_, err = ParseOffer(o.URI())
	require.ErrorIs(t, err, ErrInvalidOffer)
	_, err = o.QR(512)
	require.ErrorIs(t, err, ErrInvalidOffer)
	require.Equal(t, "", o.TerminalQR())

	// The longest URI ParseOffer accepts is at level M.
	acct := ""
	for {
		next := named(long("é", maxTextLen), long("é", maxTextLen), acct+"é")
		if len(next.URI()) > maxURI {
			break
		}
		acct += "é"
	}
	o = testOffer(t, long("é", maxTextLen), long("é", maxTextLen), acct)
	require.Greater(t, len(o.URI()), maxURI-len("%C3%A9"))
	s, err = o.qrSymbol()
	require.NoError(t, err)
	size := 2 * s.N
	b, err = o.QR(size)
	require.NoError(t, err)
	require.Equal(t, "M", qrtest.FormatLevel(t, qrtest.PNGGrid(t, b, size, s.N)))
	require.Equal(t, qrtest.GridOf(t, s.Code), qrtest.TerminalGrid(t, o.TerminalQR(), s.N))
	t.Logf("longest offer URI: %d bytes, %d modules with the quiet zone", len(o.URI()), s.N)
}
