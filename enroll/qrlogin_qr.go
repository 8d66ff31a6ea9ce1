package enroll

import "github.com/keyline/keyline/enroll/internal/qrcode"

// QR returns a PNG of the QR code of the login's [QRLogin.Text],
// size×size pixels, drawn as [Offer.QR] draws an offer: black modules on
// white, a quiet zone of at least 4 modules, error-correction level M,
// each module a whole number of pixels. A size the code does not fit in,
// or above [MaxQRSize], is refused with an error wrapping
// [ErrInvalidInput]; a login [QRLogin.Validate] refuses, with an error
// wrapping [ErrInvalidQRLogin]. 256 to 512 suits a screen.
func (q QRLogin) QR(size int) ([]byte, error) {
	if err := qrcode.CheckSize(size, ErrInvalidInput); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	s, err := qrcode.Encode(q.Text(), ErrInvalidQRLogin)
	if err != nil {
		return nil, err
	}
	return s.PNG(size, ErrInvalidInput)
}
