package vault

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The blobs of testdata/v2 were sealed by the commit that introduced
// format version 2 (testdata/v2/gen.go): they pin the format, its labels
// and its key derivations, so that a change to any of them, or a later
// format, is seen to leave them unreadable.
func TestVaultOpensFormat2(t *testing.T) {
	var m struct {
		PIN     string
		Argon2  Argon2Params
		Blobs   map[string]struct{ Wrapped, Biometric bool }
		Account []fixtureAccount
	}
	require.NoError(t, json.Unmarshal(readTestdata(t, "v2", "manifest.json"), &m))
	require.Len(t, m.Blobs, 4)
	require.Len(t, m.Account, 2)
	for name, b := range m.Blobs {
		blob := readTestdata(t, "v2", name)
		require.Equal(t, vaultMagicV2, string(blob[:4]), name)
		opts := Options{Argon2: m.Argon2, MinArgon2: m.Argon2}
		if b.Wrapped {
			opts.KeyWrapper = fixedWrapper
		}
		require.Equal(t, b.Biometric, HasBiometricUnlock(blob), name)
		v, err := Open(blob, m.PIN, opts)
		require.NoError(t, err, name)
		require.Equal(t, b.Biometric, v.BiometricUnlock(), name)
		requireAccounts(t, m.Account, v)
		require.ErrorIs(t, openFails(t, blob, otherPIN, opts), ErrWrongPIN, name)
		w, err := OpenBiometric(blob, fixedBiometric, opts)
		if !b.Biometric {
			require.ErrorIs(t, err, ErrKeyWrapper, name)
			continue
		}
		require.NoError(t, err, name)
		requireAccounts(t, m.Account, w)
		for _, a := range m.Account {
			c, err := OpenCredential(blob, fixedBiometric, a.Issuer, a.User, opts)
			require.NoError(t, err, name)
			r, err := c.Respond(a.Question, a.At)
			require.NoError(t, err)
			require.Equal(t, a.Response, r)
		}
		_, err = OpenBiometric(blob, fixedWrapper, opts)
		require.ErrorIs(t, err, ErrKeyWrapper, name)
	}
}
