// Package qrtest reads back the QR codes that package qrcode draws, for
// the tests of enroll and its subpackages: the encoder's own matrix, a
// PNG's modules, a terminal drawing's modules, and the format
// information's error-correction level.
package qrtest

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/boombuler/barcode"
	"github.com/stretchr/testify/require"
)

// Grid is a module matrix with the quiet zone: dark[y][x].
type Grid [][]bool

// GridOf reads the encoder's own matrix, through barcode.Barcode's At, and
// surrounds it with a 4-module light quiet zone.
func GridOf(t testing.TB, code barcode.Barcode) Grid {
	t.Helper()
	b := code.Bounds()
	require.Equal(t, b.Dx(), b.Dy())
	n := b.Dx() + 8
	g := make(Grid, n)
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

// PNGGrid decodes a PNG of size×size pixels drawn from n×n modules and
// returns the module matrix sampled at the module centres. It also checks
// that every pixel of a module has the module's colour, that the margin
// left by the integer scale is white, and that all pixels are pure black
// or white.
func PNGGrid(t testing.TB, b []byte, size, n int) Grid {
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
	grid := make(Grid, n)
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

// TerminalGrid maps TerminalQR's characters back to modules: a glyph's
// ink is light, its background dark.
func TerminalGrid(t testing.TB, s string, n int) Grid {
	t.Helper()
	require.True(t, strings.HasSuffix(s, "\n"))
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	require.Len(t, lines, (n+1)/2)
	grid := make(Grid, n)
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

// FormatLevel reads the format information (ISO/IEC 18004 §7.9) of a
// matrix with its 4-module quiet zone, checks both copies and the BCH
// code, and returns the error-correction level.
func FormatLevel(t testing.TB, g Grid) string {
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
