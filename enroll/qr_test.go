package enroll

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/stretchr/testify/require"
)

// testOffer returns a valid offer with the given names.
func testOffer(t *testing.T, issuer, user, acct string) Offer {
	t.Helper()
	p, err := Start(issuer, user, StartOptions{AccountName: acct, Now: t0})
	require.NoError(t, err)
	return p.Offer()
}

// qrGrid is a module matrix with the quiet zone: dark[y][x].
type qrGrid [][]bool

// gridOf reads the encoder's own matrix, through barcode.Barcode's At, and
// surrounds it with a 4-module light quiet zone.
func gridOf(t *testing.T, code barcode.Barcode) qrGrid {
	t.Helper()
	b := code.Bounds()
	require.Equal(t, b.Dx(), b.Dy())
	n := b.Dx() + 8
	g := make(qrGrid, n)
	for y := range g {
		g[y] = make([]bool, n)
		for x := range g[y] {
			mx, my := x-4, y-4
			if mx >= 0 && my >= 0 && mx < b.Dx() && my < b.Dy() {
				r, _, _, _ := code.At(b.Min.X+mx, b.Min.Y+my).RGBA()
				g[y][x] = r == 0
			}
		}
	}
	return g
}

// pngGrid decodes a PNG of size×size pixels drawn from n×n modules and
// returns the module matrix sampled at the module centres. It also checks
// that every pixel of a module has the module's colour, that the margin
// left by the integer scale is white, and that all pixels are pure black
// or white.
func pngGrid(t *testing.T, b []byte, size, n int) qrGrid {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, size, img.Bounds().Dx())
	require.Equal(t, size, img.Bounds().Dy())
	scale := size / n
	require.GreaterOrEqual(t, scale, 1)
	off := (size - n*scale) / 2
	dark := func(px, py int) bool {
		r, g, bl, _ := img.At(img.Bounds().Min.X+px, img.Bounds().Min.Y+py).RGBA()
		if r != g || g != bl || (r != 0 && r != 0xffff) {
			t.Fatalf("pixel (%d,%d) is not black or white", px, py)
		}
		return r == 0
	}
	grid := make(qrGrid, n)
	for my := range grid {
		grid[my] = make([]bool, n)
		for mx := range grid[my] {
			grid[my][mx] = dark(off+mx*scale+scale/2, off+my*scale+scale/2)
		}
	}
	for py := range size {
		for px := range size {
			mx, my := (px-off)/scale, (py-off)/scale
			if px < off || py < off || mx >= n || my >= n {
				if dark(px, py) {
					t.Fatalf("margin pixel (%d,%d) is dark", px, py)
				}
				continue
			}
			if dark(px, py) != grid[my][mx] {
				t.Fatalf("pixel (%d,%d) differs from its module", px, py)
			}
		}
	}
	return grid
}

// terminalGrid maps TerminalQR's characters back to modules: a glyph's
// ink is light, its background dark.
func terminalGrid(t *testing.T, s string, n int) qrGrid {
	t.Helper()
	require.True(t, strings.HasSuffix(s, "\n"))
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	require.Len(t, lines, (n+1)/2)
	grid := make(qrGrid, n)
	for y := range grid {
		grid[y] = make([]bool, n)
	}
	for i, line := range lines {
		require.Equal(t, n, utf8.RuneCountInString(line), "line %d", i)
		x := 0
		for _, r := range line {
			var topLight, bottomLight bool
			switch r {
			case '█':
				topLight, bottomLight = true, true
			case '▀':
				topLight = true
			case '▄':
				bottomLight = true
			case ' ':
			default:
				t.Fatalf("unexpected character %q in line %d", r, i)
			}
			grid[2*i][x] = !topLight
			if 2*i+1 < n {
				grid[2*i+1][x] = !bottomLight
			} else {
				// Below the last module row is the terminal's background.
				require.False(t, bottomLight, "line %d draws below the code", i)
			}
			x++
		}
	}
	return grid
}

// formatLevel reads the format information (ISO/IEC 18004 §7.9) of a
// matrix with its 4-module quiet zone, checks both copies and the BCH
// code, and returns the error-correction level.
func formatLevel(t *testing.T, g qrGrid) string {
	t.Helper()
	q := 4
	dim := len(g) - 2*q
	at := func(x, y int) uint { // column x, row y of the symbol
		if g[y+q][x+q] {
			return 1
		}
		return 0
	}
	var a, b uint
	for _, p := range [][2]int{{0, 8}, {1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {7, 8}, {8, 8}, {8, 7}, {8, 5}, {8, 4}, {8, 3}, {8, 2}, {8, 1}, {8, 0}} {
		a = a<<1 | at(p[0], p[1])
	}
	for i := range 7 {
		b = b<<1 | at(8, dim-1-i)
	}
	for i := range 8 {
		b = b<<1 | at(dim-8+i, 8)
	}
	require.Equal(t, a, b, "the two copies of the format information differ")
	require.Equal(t, uint(1), at(8, dim-8), "dark module missing")
	v := a ^ 0x5412
	data := v >> 10
	rem := data << 10
	for i := 14; i >= 10; i-- {
		if rem&(1<<i) != 0 {
			rem ^= 0x537 << (i - 10)
		}
	}
	require.Equal(t, v&0x3ff, rem, "format information BCH code does not check")
	return [4]string{"M", "L", "H", "Q"}[data>>3]
}

func TestOfferQR(t *testing.T) {
	o := testOffer(t, "Example Bank", "user-42", "ada@example.com")
	code, err := qr.Encode(o.URI(), qr.M, qr.Unicode)
	require.NoError(t, err)
	want := gridOf(t, code)
	n := len(want)

	for _, size := range []int{n, n + 1, 2*n - 1, 256, 300, 512} {
		b, err := o.QR(size)
		require.NoError(t, err, "size %d", size)
		got := pngGrid(t, b, size, n)
		require.Equal(t, want, got, "size %d", size)
	}
	require.Equal(t, "M", formatLevel(t, want))
	t.Logf("typical offer URI: %d bytes, %d modules with the quiet zone", len(o.URI()), n)

	// The helper both methods use encodes the offer's URI, and nothing
	// but the symbol boombuler made.
	s, err := o.qrSymbol()
	require.NoError(t, err)
	require.Equal(t, o.URI(), s.code.Content())
	require.Equal(t, n, s.n)

	// The quiet zone is 4 light modules on every side.
	for i := range n {
		for j := range 4 {
			require.False(t, want[i][j] || want[j][i] || want[i][n-1-j] || want[n-1-j][i])
		}
	}

	// And the terminal drawing is the same matrix.
	require.Equal(t, want, terminalGrid(t, o.TerminalQR(), n))
}

func TestOfferQRSizes(t *testing.T) {
	o := testOffer(t, "Example Bank", "user-42", "ada@example.com")
	s, err := o.qrSymbol()
	require.NoError(t, err)
	for _, size := range []int{-1, 0, 1, 28, s.n - 1, MaxQRSize + 1, 1 << 40} {
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
	require.Equal(t, "M", formatLevel(t, pngGrid(t, b, 512, s.n)))
	require.Equal(t, o.URI(), s.code.Content())
	_, err = ParseOffer(s.code.Content())
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
	size := 2 * s.n
	b, err = o.QR(size)
	require.NoError(t, err)
	require.Equal(t, "M", formatLevel(t, pngGrid(t, b, size, s.n)))
	require.Equal(t, gridOf(t, s.code), terminalGrid(t, o.TerminalQR(), s.n))
	t.Logf("longest offer URI: %d bytes, %d modules with the quiet zone", len(o.URI()), s.n)
}

// A payload too long for level M falls back to L; one too long for L is
// refused with the sentinel, without quoting the payload.
func TestEncodeQRLevels(t *testing.T) {
	s, err := encodeQR(strings.Repeat("x", 2331), ErrInvalidInput) // version 40-M's byte capacity
	require.NoError(t, err)
	require.Equal(t, "M", formatLevel(t, gridOf(t, s.code)))
	require.Equal(t, 177+8, s.n)

	s, err = encodeQR(strings.Repeat("x", 2332), ErrInvalidInput)
	require.NoError(t, err)
	require.Equal(t, "L", formatLevel(t, gridOf(t, s.code)))

	s, err = encodeQR(strings.Repeat("x", 2953), ErrInvalidInput) // 40-L
	require.NoError(t, err)
	require.Equal(t, "L", formatLevel(t, gridOf(t, s.code)))

	secret := strings.Repeat("secret", 500)
	_, err = encodeQR(secret, ErrInvalidOffer)
	require.ErrorIs(t, err, ErrInvalidOffer)
	require.NotContains(t, err.Error(), "secret")
}
