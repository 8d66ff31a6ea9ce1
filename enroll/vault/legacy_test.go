package vault

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// v1Manifest describes the blobs of testdata/v1, which the vault code of
// format version 1 sealed (testdata/v1/gen.go, run at main 188f782).
type v1Manifest struct {
	PIN     string
	Argon2  Argon2Params
	Blobs   map[string]bool // file name: sealed with fixedWrapper
	Account []fixtureAccount
}

// fixtureAccount is an account of the blobs in testdata, with an answer
// it gave when they were sealed.
type fixtureAccount struct {
	Issuer, User, DeviceID, PairingCode string
	Question, Response                  string
	At                                  time.Time
}

func readV1(t *testing.T) v1Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "v1", "manifest.json"))
	require.NoError(t, err)
	var m v1Manifest
	require.NoError(t, json.Unmarshal(b, &m))
	require.Len(t, m.Blobs, 2)
	require.Len(t, m.Account, 2)
	return m
}

func v1Opts(m v1Manifest, wrapped bool) Options {
	o := Options{Argon2: m.Argon2, MinArgon2: m.Argon2}
	if wrapped {
		o.KeyWrapper = fixedWrapper
	}
	return o
}

// requireV1Accounts checks that v holds the accounts of the manifest and
// that they answer as they did when the blob was sealed.
func requireV1Accounts(t *testing.T, m v1Manifest, v *Vault) {
	t.Helper()
	requireAccounts(t, m.Account, v)
}

// requireAccounts checks that v holds exactly accounts, answering as
// they did when the fixture was made.
func requireAccounts(t *testing.T, accounts []fixtureAccount, v *Vault) {
	t.Helper()
	require.Equal(t, len(accounts), v.Len())
	for _, a := range accounts {
		c, err := v.Get(a.Issuer, a.User)
		require.NoError(t, err)
		require.Equal(t, a.DeviceID, c.DeviceID())
		require.Equal(t, a.PairingCode, c.PairingCode())
		r, err := c.Respond(a.Question, a.At)
		require.NoError(t, err)
		require.Equal(t, a.Response, r)
		c.Zero()
	}
}

// Blobs that today's format-1 code sealed open with the PIN, with and
// without a KeyWrapper, and refuse what they refused then.
func TestVaultOpensFormat1(t *testing.T) {
	m := readV1(t)
	for name, wrapped := range m.Blobs {
		blob, err := os.ReadFile(filepath.Join("testdata", "v1", name))
		require.NoError(t, err)
		require.Equal(t, "KLV\x01", string(blob[:4]), name)
		v, err := Open(blob, m.PIN, v1Opts(m, wrapped))
		require.NoError(t, err, name)
		requireV1Accounts(t, m, v)

		require.ErrorIs(t, openFails(t, blob, otherPIN, v1Opts(m, wrapped)), ErrWrongPIN, name)
		require.ErrorIs(t, openFails(t, blob, m.PIN, v1Opts(m, !wrapped)), ErrKeyWrapper, name)
	}
}

// readTestdata reads a file under testdata.
func readTestdata(t *testing.T, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, path...)...))
	require.NoError(t, err)
	return b
}
