package keylinecore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/mobile/keylinecore"
)

// A vault whose accounts the profile does not know (one made outside the
// core) shows no account until AdoptAccounts gives them their server;
// then signed calls reach it, and a second adoption changes nothing.
func TestAdoptAccounts(t *testing.T) {
	s := newServer(t, time.Now(), "Adopt Bank")
	store := newStorage()
	key := newHWKey()
	first, err := keylinecore.NewPhone(config("phone"), store, key, nil, phoneClock{server: s.kit.Clock})
	require.NoError(t, err)
	require.NoError(t, first.CreateVault(pin))
	id := activate(t, first, s, "alice")

	require.NoError(t, store.Delete(keylinecore.ProfileRecord))
	p, err := keylinecore.NewPhone(config("phone"), store, key, nil, phoneClock{server: s.kit.Clock})
	require.NoError(t, err)
	_, err = p.AdoptAccounts(s.url)
	require.Equal(t, keylinecore.CodeVaultLocked, code(err))
	require.NoError(t, p.Unlock(pin))
	l, err := p.Accounts()
	require.NoError(t, err)
	require.Equal(t, 0, l.Len())
	_, err = p.AdoptAccounts("ftp://example.com")
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))

	n, err := p.AdoptAccounts(s.url + "/")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	a, err := p.Account(id)
	require.NoError(t, err)
	require.Equal(t, s.url, a.Server)
	require.True(t, a.Paired)
	st, err := p.AccountStatus(id, nil)
	require.NoError(t, err)
	require.False(t, st.Removed)

	n, err = p.AdoptAccounts("https://other.example/device")
	require.NoError(t, err)
	require.Equal(t, 0, n)
	a, err = p.Account(id)
	require.NoError(t, err)
	require.Equal(t, s.url, a.Server)

	// The adoption is stored: a phone started afresh knows the account.
	again, err := keylinecore.NewPhone(config("phone"), store, key, nil, phoneClock{server: s.kit.Clock})
	require.NoError(t, err)
	require.NoError(t, again.Unlock(pin))
	_, err = again.Account(id)
	require.NoError(t, err)
}

// ImportBackupTo restores a backup's accounts with the server given: a
// locked phone or a bad URL changes nothing, and the restored account
// reaches the server.
func TestImportBackupTo(t *testing.T) {
	s := newServer(t, time.Now(), "Import Bank")
	old := newPhone(t, s)
	id := activate(t, old, s, "alice")
	b, err := old.ExportBackup()
	require.NoError(t, err)

	p, err := keylinecore.NewPhone(config("new phone"), newStorage(), newHWKey(), nil, phoneClock{server: s.kit.Clock})
	require.NoError(t, err)
	_, err = p.ImportBackupTo(b.Blob, b.Passphrase, s.url)
	require.Equal(t, keylinecore.CodeVaultLocked, code(err))
	require.NoError(t, p.CreateVault(pin))
	_, err = p.ImportBackupTo(b.Blob, b.Passphrase, "mailto:x@example.com")
	require.Equal(t, keylinecore.CodeInvalidInput, code(err))
	_, err = p.ImportBackupTo(b.Blob, "wrong-passphrase", s.url)
	require.Equal(t, keylinecore.CodeWrongPassphrase, code(err))
	l, err := p.Accounts()
	require.NoError(t, err)
	require.Equal(t, 0, l.Len())

	n, err := p.ImportBackupTo(b.Blob, b.Passphrase, s.url)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	a, err := p.Account(id)
	require.NoError(t, err)
	require.Equal(t, s.url, a.Server)
	st, err := p.AccountStatus(id, nil)
	require.NoError(t, err)
	require.False(t, st.Removed)
	_, err = p.ImportBackupTo(b.Blob, b.Passphrase, s.url)
	require.Equal(t, keylinecore.CodeAlreadyEnrolled, code(err))
}

// SetAccountServer moves an account's calls to another server URL; bad
// input changes nothing.
func TestSetAccountServer(t *testing.T) {
	s := newServer(t, time.Now(), "Move Bank")
	p := newPhone(t, s)
	id := activate(t, p, s, "alice")
	require.Equal(t, keylinecore.CodeInvalidInput, code(p.SetAccountServer(id, "not a URL")))
	require.Equal(t, keylinecore.CodeNoAccount, code(p.SetAccountServer("0123456789abcdef0123456789abcdef", s.url)))
	a, err := p.Account(id)
	require.NoError(t, err)
	require.Equal(t, s.url, a.Server)

	require.NoError(t, p.SetAccountServer(id, "http://127.0.0.1:1/device"))
	a, err = p.Account(id)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:1/device", a.Server)
	_, err = p.AccountStatus(id, nil)
	require.Equal(t, keylinecore.CodeUnreachable, code(err))

	require.NoError(t, p.SetAccountServer(id, s.url+"/"))
	st, err := p.AccountStatus(id, nil)
	require.NoError(t, err)
	require.False(t, st.Removed)
	p.Lock()
	require.Equal(t, keylinecore.CodeVaultLocked, code(p.SetAccountServer(id, s.url)))
}
