package vault

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// reassembleV2 writes a parsed header back as bytes: parse then write
// gives the input back.
func reassembleV2(b []byte, h *headerV2) []byte {
	out := append([]byte(nil), b[:6]...)
	out = append(out, h.pin.slot...)
	if h.bio != nil {
		out = binary.BigEndian.AppendUint16(out, uint16(len(h.bio)))
		out = append(out, h.bio...)
	}
	out = append(out, h.sealSalt...)
	out = append(out, h.keyCheck...)
	out = append(out, h.nonce...)
	out = append(out, h.sealed...)
	return append(out, b[len(b)-checksumLen:]...)
}

// FuzzOpenBiometric feeds blobs to the format-2 parser and to both ways
// in. Properties: a refused blob gives no vault and a documented error;
// what parses writes back to the same bytes, with the header slices
// inside the blob; what opens one way is a whole vault, and opens the
// other way too.
func FuzzOpenBiometric(f *testing.F) {
	c, _ := confirmed(f, "Example Bank", "user-42")
	for _, wrapped := range []bool{false, true} {
		v, err := New(testPIN, fuzzOpts(wrapped))
		require.NoError(f, err)
		require.NoError(f, v.Add(c))
		require.NoError(f, v.EnableBiometricUnlock(testPIN, fixedWrapper))
		blob, err := v.Seal()
		require.NoError(f, err)
		f.Add(blob, false, wrapped)
		f.Add(blob[:len(blob)-40], true, wrapped)
	}
	f.Fuzz(func(t *testing.T, blob []byte, fixChecksum, wrapped bool) {
		if fixChecksum && len(blob) >= checksumLen {
			blob = reChecksum(blob)
		}
		keep := bytes.Clone(blob)
		if h, err := parseV2(blob); err == nil {
			require.Equal(t, blob, reassembleV2(blob, h))
			require.True(t, HasBiometricUnlock(blob) == (h.bio != nil))
		} else {
			require.Nil(t, h)
			require.ErrorIs(t, err, ErrCorrupt)
			require.False(t, HasBiometricUnlock(blob))
		}
		opts := fuzzOpts(wrapped)
		v, err := OpenBiometric(blob, fixedWrapper, opts)
		require.Equal(t, keep, blob, "opening must not alter the blob")
		if err != nil {
			require.Nil(t, v)
			requireKnownError(t, err)
			c, err := OpenCredential(blob, fixedWrapper, "Example Bank", "user-42", opts)
			require.Nil(t, c)
			requireKnownError(t, err)
			return
		}
		require.NotNil(t, v)
		require.True(t, v.BiometricUnlock())
		for _, e := range v.List() {
			c, err := OpenCredential(blob, fixedWrapper, e.Issuer, e.User, opts)
			require.NoError(t, err)
			require.Equal(t, e.DeviceID, c.DeviceID())
		}
		// The PIN wrap was made by the vault, so the PIN opens it too.
		w, err := Open(blob, testPIN, opts)
		require.NoError(t, err)
		require.Equal(t, v.List(), w.List())
		requireWholeVault(t, v, testPIN, opts)
	})
}
