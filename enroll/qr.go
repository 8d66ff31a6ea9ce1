package enroll

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QR code drawing, shared by [Offer] and [TOTPKey].
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

// MaxQRSize is the largest image, in pixels per side, that QR methods
// draw.
const MaxQRSize = 4096

// qrQuietZone is the light margin, in modules, around the symbol.
const qrQuietZone = 4

// qrMinModules is the side of the smallest symbol (version 1, 21
// modules) with its quiet zone.
const qrMinModules = 21 + 2*qrQuietZone

// qrSymbol is an encoded QR code with its quiet zone: n×n modules.
type qrSymbol struct {
	n    int
	dark []bool // row-major, n*n; the quiet zone is light
	code barcode.Barcode
}

// encodeQR encodes payload at level M, or L when M cannot hold it. A
// payload too long for either is refused with an error wrapping sentinel;
// the error never quotes the payload.
func encodeQR(payload string, sentinel error) (*qrSymbol, error) {
	code, err := qr.Encode(payload, qr.M, qr.Unicode)
	if err != nil {
		code, err = qr.Encode(payload, qr.L, qr.Unicode)
	}
	if err != nil {
		return nil, wrap(sentinel, "a payload of %d bytes does not fit in a QR code", len(payload))
	}
	b := code.Bounds()
	dim := b.Dx()
	s := &qrSymbol{n: dim + 2*qrQuietZone, code: code}
	s.dark = make([]bool, s.n*s.n)
	for y := range dim {
		for x := range dim {
			r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA()
			s.dark[(y+qrQuietZone)*s.n+x+qrQuietZone] = r < 0x8000
		}
	}
	return s, nil
}

// isDark reports whether the module at column x, row y (quiet zone
// included) is dark; outside the symbol it is light.
func (s *qrSymbol) isDark(x, y int) bool {
	if x < 0 || y < 0 || x >= s.n || y >= s.n {
		return false
	}
	return s.dark[y*s.n+x]
}

// checkQRSize refuses sizes no symbol can be drawn at before anything is
// encoded; png refuses those too small for the symbol at hand.
func checkQRSize(size int) error {
	if size < qrMinModules || size > MaxQRSize {
		return wrap(ErrInvalidInput, "QR size %d out of range %d..%d pixels", size, qrMinModules, MaxQRSize)
	}
	return nil
}

// png draws the symbol as a size×size PNG, black on white: each module a
// square of size/n pixels, the whole centred, so that the pixels left over
// widen the quiet zone.
func (s *qrSymbol) png(size int) ([]byte, error) {
	if err := checkQRSize(size); err != nil {
		return nil, err
	}
	if size < s.n {
		return nil, wrap(ErrInvalidInput, "QR size %d pixels is smaller than the code's %d modules (with its quiet zone)", size, s.n)
	}
	scale := size / s.n
	off := (size - s.n*scale) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.Gray{Y: 0xff}, color.Gray{Y: 0}})
	for my := range s.n {
		for mx := range s.n {
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

// text draws the symbol with half blocks, two module rows per line, light
// modules as glyphs: see [Offer.TerminalQR]. Each line ends in "\n"; the
// odd last module row stands over the terminal's (dark) background.
func (s *qrSymbol) text() string {
	var b strings.Builder
	b.Grow((s.n + 1) / 2 * (s.n*len(string(blockFull)) + 1))
	for y := 0; y < s.n; y += 2 {
		for x := range s.n {
			top, bottom := !s.isDark(x, y), y+1 < s.n && !s.isDark(x, y+1)
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

// qrSymbol encodes the offer's URI, refusing an offer that [ParseOffer]
// would refuse: the phone could do nothing with it.
func (o Offer) qrSymbol() (*qrSymbol, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	uri := o.URI()
	if len(uri) > maxURI {
		return nil, wrap(ErrInvalidOffer, "URI of %d bytes is longer than the %d that ParseOffer accepts", len(uri), maxURI)
	}
	return encodeQR(uri, ErrInvalidOffer)
}

// QR returns a PNG of the QR code of the offer's [Offer.URI], size×size
// pixels, black modules on white with a quiet zone of at least 4 modules,
// at error-correction level M (every URI that [ParseOffer] accepts fits).
// Each module is a whole number of pixels, so size must be at least the
// code's width in modules with its quiet zone (about 65 for a typical
// offer, 177 for the longest URI ParseOffer accepts) and at most
// [MaxQRSize]: other sizes are refused with an error wrapping
// [ErrInvalidInput]. 256 to 512 suits a screen. An offer that is not
// valid as ParseOffer would return it (ill-formed, or with a URI longer
// than ParseOffer accepts) is refused with an error wrapping
// [ErrInvalidOffer], or [ErrOfferMismatch] when its server key does not
// hash to its session ID.
func (o Offer) QR(size int) ([]byte, error) {
	if err := checkQRSize(size); err != nil {
		return nil, err
	}
	s, err := o.qrSymbol()
	if err != nil {
		return nil, err
	}
	return s.png(size)
}

// TerminalQR returns the QR code of [Offer.URI], as [Offer.QR] encodes it,
// drawn in text for a terminal: Unicode half blocks (█ ▀ ▄ and space), two
// module rows per line, one module per column, with the 4-module quiet
// zone, each line ending in "\n".
//
// Light modules are drawn as glyphs and dark modules as blank cells, so
// the code reads the right way round on a terminal with light text on a
// dark background, the usual default (the convention of qrencode -t UTF8).
// On a dark-on-light terminal it shows inverted, which most phone
// cameras still read but some scanners do not: there, show [Offer.QR]'s
// PNG instead. The font must draw the block characters full-cell, without
// gaps between lines, as terminal fonts do.
//
// It returns "" for an offer that [Offer.QR] refuses (see there for the
// error).
func (o Offer) TerminalQR() string {
	s, err := o.qrSymbol()
	if err != nil {
		return ""
	}
	return s.text()
}
