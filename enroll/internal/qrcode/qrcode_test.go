package qrcode

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll/internal/qrcode/qrtest"
)

var (
	errInvalid = errors.New("test: invalid")
	errOther   = errors.New("test: other")
)

// A payload too long for level M falls back to L; one too long for L is
// refused with the sentinel, without quoting the payload.
func TestEncodeQRLevels(t *testing.T) {
	s, err := Encode(strings.Repeat("x", 2331), errInvalid) // version 40-M's byte capacity
	require.NoError(t, err)
	require.Equal(t, "M", qrtest.FormatLevel(t, qrtest.GridOf(t, s.Code)))
	require.Equal(t, 177+8, s.N)

	s, err = Encode(strings.Repeat("x", 2332), errInvalid)
	require.NoError(t, err)
	require.Equal(t, "L", qrtest.FormatLevel(t, qrtest.GridOf(t, s.Code)))

	s, err = Encode(strings.Repeat("x", 2953), errInvalid) // 40-L
	require.NoError(t, err)
	require.Equal(t, "L", qrtest.FormatLevel(t, qrtest.GridOf(t, s.Code)))

	secret := strings.Repeat("secret", 500)
	_, err = Encode(secret, errOther)
	require.ErrorIs(t, err, errOther)
	require.NotContains(t, err.Error(), "secret")
}
