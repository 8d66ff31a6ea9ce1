package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyline/keyline/authn"
)

// TestDemoKeysCopiedOut: the keys -insecure-demo generates are marked as
// a demonstration's in the file itself, so a copy of the file moved out
// of the data directory and given as -keys is still refused without
// -insecure-demo (issue 12: the portal started with it).
func TestDemoKeysCopiedOut(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := loadKeyring(config{DataDir: data, InsecureDemo: true, Stderr: io.Discard}, quiet); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(data, demoKeysName))
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dir, "keys")
	if err := os.WriteFile(copied, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadKeyring(config{KeysFile: copied, DataDir: data}, quiet)
	if !errors.Is(err, authn.ErrDemoKeyring) {
		t.Fatalf("demo keys copied out of the data directory: %v; want ErrDemoKeyring", err)
	}
	if _, err := newPortal(config{KeysFile: copied, DataDir: data, Logger: quiet, Stderr: io.Discard, DemoUsers: true, Argon: testArgon}); !errors.Is(err, authn.ErrDemoKeyring) {
		t.Fatalf("the portal started on demo keys without -insecure-demo: %v", err)
	}
	// With the flag, the copy is accepted: the demonstration chose it.
	if _, err := loadKeyring(config{KeysFile: copied, DataDir: data, InsecureDemo: true, Stderr: io.Discard}, quiet); err != nil {
		t.Fatalf("demo keys with -insecure-demo: %v", err)
	}
}

// TestKeysFromEnvironment: -keys-env names a variable holding the keys,
// in the same format.
func TestKeysFromEnvironment(t *testing.T) {
	t.Setenv("PORTAL_TEST_KEYS", keyLine("k2")+"; "+keyLine("k1"))
	k, err := loadKeyring(config{KeysEnv: "PORTAL_TEST_KEYS", DataDir: t.TempDir()}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if k.Primary() != "k2" || len(k.IDs()) != 2 {
		t.Fatalf("keyring %v; want primary k2 of 2", k)
	}
	if _, err := loadKeyring(config{KeysEnv: "PORTAL_TEST_KEYS", KeysFile: "x", DataDir: t.TempDir()}, quiet); err == nil {
		t.Fatal("-keys and -keys-env together were accepted")
	}
}
