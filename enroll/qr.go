package enroll

import (
	"github.com/keyline/keyline/enroll/internal/qrcode"
)

// MaxQRSize is the largest image, in pixels per side, that QR methods
// draw.
const MaxQRSize = qrcode.MaxSize

// qrSymbol encodes the offer's URI, refusing an offer that [ParseOffer]
// would refuse: the phone could do nothing with it.
func (o Offer) qrSymbol() (*qrcode.Symbol, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	uri := o.URI()
	if len(uri) > maxURI {
		return nil, wrap(ErrInvalidOffer, "URI of %d bytes is longer than the %d that ParseOffer accepts", len(uri), maxURI)
	}
	return qrcode.Encode(uri, ErrInvalidOffer)
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
	if err := qrcode.CheckSize(size, ErrInvalidInput); err != nil {
		return nil, err
	}
	s, err := o.qrSymbol()
	if err != nil {
		return nil, err
	}
	return s.PNG(size, ErrInvalidInput)
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
	return s.Text()
}
