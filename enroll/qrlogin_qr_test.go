package enroll

import (
	"testing"

	"github.com/boombuler/barcode/qr"
	"github.com/keyline/keyline/enroll/internal/qrcode/qrtest"
	"github.com/stretchr/testify/require"
)

// TestQRLoginQR: the PNG is the QR code of the login's text, at level M,
// for every vector; bad sizes and bad logins are refused.
func TestQRLoginQR(t *testing.T) {
	for _, v := range qrLoginVectors() {
		q := QRLogin{Issuer: v.Issuer, User: v.User, RequestID: v.RequestID}
		code, err := qr.Encode(q.Text(), qr.M, qr.Unicode)
		require.NoError(t, err)
		want := qrtest.GridOf(t, code)
		n := len(want)
		for _, size := range []int{n, 2*n - 1, 320} {
			b, err := q.QR(size)
			require.NoError(t, err, "%s: size %d", v.Name, size)
			require.Equal(t, want, qrtest.PNGGrid(t, b, size, n), "%s: size %d", v.Name, size)
		}
		require.Equal(t, "M", qrtest.FormatLevel(t, want))
		for _, size := range []int{-1, 0, n - 1, MaxQRSize + 1} {
			b, err := q.QR(size)
			require.ErrorIs(t, err, ErrInvalidInput, "%s: size %d", v.Name, size)
			require.Nil(t, b)
		}
	}
	for name, bad := range map[string]QRLogin{
		"zero":       {},
		"no user":    {Issuer: "Example Bank", RequestID: "qr-x"},
		"bad id":     {Issuer: "Example Bank", User: "ada", RequestID: "a b"},
		"control ch": {Issuer: "Example\nBank", User: "ada", RequestID: "qr-x"},
	} {
		b, err := bad.QR(320)
		require.ErrorIs(t, err, ErrInvalidQRLogin, name)
		require.Nil(t, b, name)
	}
}
