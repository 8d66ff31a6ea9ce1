package authn

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// The request ID is a hash of the handle: the handle finishes exactly
// its own request, the ID (read off the screen) is no handle, and no push
// request's ID looks like a QR login's.
func TestQRLoginIDIsHashOfHandle(t *testing.T) {
	raw := make([]byte, qrHandleLen)
	for i := range raw {
		raw[i] = byte(i)
	}
	handle := base64.RawURLEncoding.EncodeToString(raw)
	id := qrLoginID(raw)
	require.Equal(t, id, qrHandleID(handle))
	// PROTOCOL.md §8, "Log in with a QR code": the handle 00 01 … 1f.
	require.Equal(t, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", handle)
	require.Equal(t, "qr-MXnilCprvRiyzW3n-v9PUg", id)
	require.Len(t, id, 25)
	require.True(t, isQRLoginID(id))
	require.NoError(t, enroll.QRLogin{Issuer: "i", User: "u", RequestID: id}.Validate(), "a valid request ID")
	require.Empty(t, qrHandleID(id), "the ID is no handle")
	require.Empty(t, qrHandleID(handle[:42]))
	require.Empty(t, qrHandleID(strings.Repeat("=", 43)))
	raw[0] ^= 1
	require.NotEqual(t, id, qrLoginID(raw))
	require.False(t, isQRLoginID(newID()), "a push request's ID")
}
