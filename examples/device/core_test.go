package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/enroll/vault"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// TestOldVaultOpens: a vault file made by the command before it ran on
// the phone core (testdata/v1/vault: alice and bob of issuer authntest,
// activated by that version's activate, PIN 4739) opens on the core: the
// first run gives its accounts the portal as their server and keeps that
// in the profile beside the vault, users lists both, respond answers
// with the vault's credential, and the vault file itself is left as it
// was.
func TestOldVaultOpens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	old, err := os.ReadFile(filepath.Join("testdata", "v1", "vault"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.dir, "old", "vault")
	if err := writeFileAtomic(path, old, false); err != nil {
		t.Fatal(err)
	}
	v, err := vault.Open(old, pin, vaultOptions)
	if err != nil {
		t.Fatalf("the testdata vault does not open: %v", err)
	}
	defer v.Zero()
	entries := v.List()
	if len(entries) != 2 {
		t.Fatalf("the testdata vault holds %d accounts; want 2", len(entries))
	}

	r := h.runVault(path, pin+"\n", "users")
	wantOK(t, r)
	for _, e := range entries {
		if !strings.Contains(r.stdout, e.DeviceID) || !strings.Contains(r.stdout, e.User) {
			t.Errorf("users does not list %s (%s):\n%s", e.User, e.DeviceID, r)
		}
	}
	prof, err := os.ReadFile(path + profileSuffix)
	if err != nil {
		t.Fatalf("no profile beside the vault after the first run: %v", err)
	}
	if !strings.Contains(string(prof), h.srv.URL+deviceMount) {
		t.Errorf("the profile does not give the accounts the portal's device API:\n%s", prof)
	}

	const question = "482139"
	alice := entries[0]
	if alice.User != "alice" {
		alice = entries[1]
	}
	want := func() string {
		c, err := v.Get(alice.Issuer, alice.User)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Zero()
		resp, err := c.Respond(question, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	before := want()
	r = h.runVault(path, pin+"\n", "respond", "-user", "alice", question)
	after := want()
	wantOK(t, r)
	if got := strings.TrimSpace(r.stdout); got != before && got != after {
		t.Errorf("respond printed %q; want the vault's response %q", got, before)
	}
	if now, _ := os.ReadFile(path); string(now) != string(old) {
		t.Error("opening an old vault rewrote the vault file")
	}
}

// TestFileStorage: the core's records are files (the vault record the
// -vault file, the profile beside it), mode 0600; a record another
// command rewrote since it was loaded is not overwritten
// (errVaultChanged); a missing record loads empty and deletes without
// error.
func TestFileStorage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "phone", "vault")
	s := newFileStorage(path)
	for _, name := range []string{keylinecore.VaultRecord, keylinecore.ProfileRecord} {
		if b, err := s.Load(name); err != nil || len(b) != 0 {
			t.Fatalf("Load(%s) of nothing: %q, %v", name, b, err)
		}
		if err := s.Store(name, []byte("first "+name)); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "first "+keylinecore.VaultRecord {
		t.Errorf("the vault file holds %q", b)
	}
	st, err := os.Stat(path + profileSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("profile mode %v; want 0600", st.Mode().Perm())
	}
	if _, err := s.Load("other"); err == nil {
		t.Error("Load of a record the program does not keep: no error")
	}

	// Another command rewrites the vault file.
	if err := os.WriteFile(path, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Store(keylinecore.VaultRecord, []byte("mine")); !errors.Is(err, errVaultChanged) {
		t.Fatalf("Store over a changed vault file: %v; want errVaultChanged", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "theirs" {
		t.Errorf("the changed vault file was overwritten: %q", b)
	}

	if err := s.Delete(keylinecore.ProfileRecord); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(keylinecore.ProfileRecord); err != nil {
		t.Fatalf("deleting a missing record: %v", err)
	}
	if _, err := os.Stat(path + profileSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the profile is still there: %v", err)
	}
}
