// Package qrcode draws the QR codes of package enroll and its
// subpackages (an activation offer, a transaction, a TOTP key) from
// one encoder, so that every code keyline shows has the same level,
// quiet zone and refusals.
//
// The symbol is encoded in byte mode at error-correction level M: it
// recovers 15% of the codewords, enough for the glare, moiré and partial
// cover (a finger, a notch, a mouse pointer) of a code read off a screen,
// while keeping the symbol at the lowest version, and so the largest
// modules, that the payload allows. Q and H would make a dense symbol
// denser for no gain on a screen; authenticator apps' codes (pquerna/otp's
// among them) are M too. Only a payload that M cannot hold at version 40
// (a TOTP key with labels near 256 bytes of percent-encoded characters)
// falls back to level L.
//
// Byte mode, not boombuler's Auto: the payloads are URIs, lower case, so
// neither numeric nor alphanumeric mode can hold them, and Auto's error
// quotes the payload, which for a TOTP key is its secret. The URIs are
// ASCII (every other byte is percent-encoded), so the missing ECI header
// leaves no reader in doubt about the character set.
//
// boombuler's symbol has no quiet zone (its image is the modules alone,
// and barcode.Scale only centres it in whatever margin is left), so the
// drawing below adds the 4 light modules on each side that ISO/IEC 18004
// asks for.
//
// Every error wraps the sentinel the caller passes, so that each package
// reports a refused code with its own meaning; no error quotes the
// payload.
package qrcode

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// MaxSize is the largest image, in pixels per side, that PNG draws.
const MaxSize = 4096

// QuietZone is the light margin, in modules, around the symbol.
const QuietZone = 4

// minModules is the side of the smallest symbol (version 1, 21 modules)
// with its quiet zone.
const minModules = 21 + 2*QuietZone

// Symbol is an encoded QR code with its quiet zone: N×N modules.
type Symbol struct {
	// N is the side of the symbol, in modules, quiet zone included.
	N int
	// Code is the encoder's symbol, without the quiet zone.
	Code barcode.Barcode

	dark []bool // row-major, N*N; the quiet zone is light
}

// Encode encodes payload at level M, or L when M cannot hold it. A
// payload too long for either is refused with an error wrapping invalid;
// the error never quotes the payload.
func Encode(payload string, invalid error) (*Symbol, error) {
	code, err := qr.Encode(payload, qr.M, qr.Unicode)
	if err != nil {
		code, err = qr.Encode(payload, qr.L, qr.Unicode)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: a payload of %d bytes does not fit in a QR code", invalid, len(payload))
	}
	b := code.Bounds()
	dim := b.Dx()
	s := &Symbol{N: dim + 2*QuietZone, Code: code}
	s.dark = make([]bool, s.N*s.N)
	for y := range dim {
		for x := range dim {
			r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
			s.dark[(y+QuietZone)*s.N+x+QuietZone] = r < 0x8000
		}
	}
	return s, nil
}

// isDark reports whether the module at column x, row y (quiet zone
// included) is dark; outside the symbol it is light.
func (s *Symbol) isDark(x, y int) bool {
	if x < 0 || y < 0 || x >= s.N || y >= s.N {
		return false
	}
	return s.dark[y*s.N+x]
}

// CheckSize refuses, with an error wrapping invalid, sizes no symbol can
// be drawn at, before anything is encoded; PNG refuses those too small
// for the symbol at hand.
func CheckSize(size int, invalid error) error {
	if size < minModules || size > MaxSize {
		return fmt.Errorf("%w: QR size %d out of range %d..%d pixels", invalid, size, minModules, MaxSize)
	}
	return nil
}

// PNG draws the symbol as a size×size PNG, black on white: each module a
// square of size/N pixels, the whole centred, so that the pixels left
// over widen the quiet zone. A size outside [CheckSize]'s range or
// smaller than N is refused with an error wrapping invalid.
func (s *Symbol) PNG(size int, invalid error) ([]byte, error) {
	if err := CheckSize(size, invalid); err != nil {
		return nil, err
	}
	if size < s.N {
		return nil, fmt.Errorf("%w: QR size %d pixels is smaller than the code's %d modules (with its quiet zone)", invalid, size, s.N)
	}
	scale := size / s.N
	off := (size - s.N*scale) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}})
	for my := range s.N {
		for mx := range s.N {
			if !s.isDark(mx, my) {
				continue
			}
			for py := off + my*scale; py < off+(my+1)*scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := off + mx*scale; px < off+(mx+1)*scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Half blocks for two module rows in one character cell: the glyph
// (foreground) is a light module, the background a dark one.
const (
	blockFull  = '█' // both light
	blockUpper = '▀' // top light, bottom dark
	blockLower = '▄' // top dark, bottom light
	blockNone  = ' ' // both dark
)

// Text draws the symbol with half blocks, two module rows per line, light
// modules as glyphs (see enroll's Offer.TerminalQR). Each line ends in
// "\n"; the odd last module row stands over the terminal's (dark)
// background.
func (s *Symbol) Text() string {
	var b strings.Builder
	b.Grow((s.N + 1) / 2 * (s.N*len(string(blockFull)) + 1))
	for y := 0; y < s.N; y += 2 {
		for x := range s.N {
			top, bottom := !s.isDark(x, y), y+1 < s.N && !s.isDark(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune(blockFull)
			case top:
				b.WriteRune(blockUpper)
			case bottom:
				b.WriteRune(blockLower)
			default:
				b.WriteRune(blockNone)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
