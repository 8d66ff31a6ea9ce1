package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn/authntest"
)

func writeKeys(t *testing.T, path string, mode os.FileMode, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // WriteFile's mode is filtered by the umask
		t.Fatal(err)
	}
}

func keyLine(id string) string {
	k := make([]byte, 32)
	rand.Read(k)
	return id + " " + base64.StdEncoding.EncodeToString(k)
}

var quiet = slog.New(slog.DiscardHandler)

// TestKeysFile: a keys file is read when private and outside the data
// directory, and refused otherwise.
func TestKeysFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	path := filepath.Join(dir, "keys")
	writeKeys(t, path, 0o600, "# the portal's keys", keyLine("k2"), "", keyLine("k1"))
	k, err := loadKeyring(config{KeysFile: path, DataDir: data}, quiet)
	if err != nil {
		t.Fatalf("a 0600 keys file: %v", err)
	}
	if k.Primary() != "k2" || len(k.IDs()) != 2 {
		t.Fatalf("keyring %v; want primary k2 of 2", k)
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := loadKeyring(config{KeysFile: path, DataDir: data}, quiet)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %#o: %v; want a refusal naming the mode", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := loadKeyring(config{KeysFile: path, DataDir: data}, quiet); err != nil {
		t.Errorf("a 0400 keys file: %v", err)
	}

	// Inside the data directory, directly, through a subdirectory, or
	// through a symbolic link to it.
	if err := os.MkdirAll(filepath.Join(data, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(data, "keys"), filepath.Join(data, "sub", "keys")} {
		writeKeys(t, p, 0o600, keyLine("k1"))
		if _, err := loadKeyring(config{KeysFile: p, DataDir: data}, quiet); err == nil || !strings.Contains(err.Error(), "inside the data directory") {
			t.Errorf("keys at %s: %v; want a refusal", p, err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	if _, err := loadKeyring(config{KeysFile: filepath.Join(link, "keys"), DataDir: data}, quiet); err == nil {
		t.Error("keys reached through a link into the data directory were accepted")
	}
	// A sibling whose name starts like the data directory is outside it.
	sib := data + "-keys"
	writeKeys(t, sib, 0o600, keyLine("k1"))
	if _, err := loadKeyring(config{KeysFile: sib, DataDir: data}, quiet); err != nil {
		t.Errorf("keys at %s, beside the data directory: %v", sib, err)
	}

	for _, bad := range [][]string{
		{"k1"},                         // no key
		{"k1 bm90IGEga2V5"},            // not 32 bytes
		{keyLine("k1"), keyLine("k1")}, // twice
		{"# nothing but a comment"},    // empty
		{"bad/id " + strings.Fields(keyLine("x"))[1]}, // an invalid ID
	} {
		writeKeys(t, path, 0o600, bad...)
		_, err := loadKeyring(config{KeysFile: path, DataDir: data}, quiet)
		if err == nil {
			t.Errorf("keys file %q accepted", bad)
			continue
		}
		for _, l := range bad {
			if f := strings.Fields(l); len(f) == 2 && len(f[1]) > 20 && strings.Contains(err.Error(), f[1]) {
				t.Errorf("the error %q shows key material", err)
			}
		}
	}
}

// TestInsecureDemo: without -keys the portal refuses to start, unless
// -insecure-demo, which makes keys in the data directory (0600), says so
// loudly, and uses the same keys on the next start.
func TestInsecureDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	_, err := loadKeyring(config{DataDir: data}, quiet)
	if err == nil || !strings.Contains(err.Error(), "-insecure-demo") {
		t.Fatalf("no keys: %v; want a refusal that names -insecure-demo", err)
	}
	if _, err := newPortal(config{DataDir: data, Logger: quiet, Stderr: io.Discard, DemoUsers: true, Argon: testArgon}); err == nil {
		t.Fatal("newPortal started without keys")
	}
	if _, err := os.Stat(filepath.Join(data, "keyline.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused start created the database: %v", err)
	}

	var stderr, logs bytes.Buffer
	cfg := config{DataDir: data, InsecureDemo: true, Stderr: &stderr}
	k1, err := loadKeyring(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "INSECURE DEMO") || !strings.Contains(logs.String(), "insecure_demo_keys") {
		t.Fatalf("the demo keys were made quietly: %q %q", stderr.String(), logs.String())
	}
	st, err := os.Stat(filepath.Join(data, demoKeysName))
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("the demo keys file has mode %#o", st.Mode().Perm())
	}
	k2, err := loadKeyring(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k1.Seal("test", "u", "r", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := k2.Open("test", "u", "r", sealed); err != nil || string(got) != "hello" {
		t.Fatalf("the second start has other keys: %v", err)
	}
	// A demo keys file others can read is refused, demo or not.
	if runtime.GOOS != "windows" {
		if err := os.Chmod(filepath.Join(data, demoKeysName), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := loadKeyring(cfg, quiet); err == nil {
			t.Fatal("a world-readable demo keys file was used")
		}
	}
}

func TestUsersFile(t *testing.T) {
	h := hashPassword("carol's password", testArgon)
	users := map[string]*user{}
	raw := "# users\n\ncarol:" + h + ":Carol Example:CH93 0076 2011 6238 5295 7\ndave:" + h + "\n"
	if err := parseUsers([]byte(raw), users); err != nil {
		t.Fatal(err)
	}
	c, d := users["carol"], users["dave"]
	if c == nil || d == nil {
		t.Fatalf("users %v", users)
	}
	if c.Display != "Carol Example" || c.Account != "CH93 0076 2011 6238 5295 7" || c.ID != "portal:carol" {
		t.Fatalf("carol: %+v", c)
	}
	if d.Display != "dave" || d.Account != "DEMO-DAVE" {
		t.Fatalf("dave: %+v", d)
	}
	if h, _ := c.password(); !h.matches("carol's password") || h.matches("carol's passwore") {
		t.Fatal("the hash does not check the password")
	}
	for _, bad := range []string{
		"carol",                       // no hash
		"Carol:" + h,                  // upper case
		"carol:" + h + "\ncarol:" + h, // twice
		"erin:$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",       // not argon2id
		"erin:$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", // 4 GiB
		"erin:" + h + ":a:b:c", // too many fields
	} {
		if err := parseUsers([]byte(bad), map[string]*user{}); err == nil {
			t.Errorf("users file %q accepted", bad)
		}
	}
	// A users file on top of the demo users.
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	all, err := loadUsers(config{UsersFile: path, DemoUsers: true}, testArgon)
	if err != nil || len(all) != 4 {
		t.Fatalf("loadUsers: %d users, %v", len(all), err)
	}
	if err := os.WriteFile(path, []byte("alice:"+h+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadUsers(config{UsersFile: path, DemoUsers: true}, testArgon); err == nil {
		t.Fatal("a users file redefining a demo user was accepted")
	}
}

// TestUsersFileLogin: a user of the file signs in.
func TestUsersFileLogin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("carol:"+hashPassword("carol's password", testArgon)+":Carol Example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *config) { c.UsersFile, c.DemoUsers = path, false })
	b := h.browser()
	if pg := b.login("alice", alicePW); pg.path() != "/login" {
		t.Fatal("a demo user signed in with -demo-users=false")
	}
	b.login("carol", "carol's password")
	if pg := b.get("/account"); pg.text("user") != "Carol Example" {
		t.Fatalf("carol's account page: %s", pg.path())
	}
}

func TestHashPasswordCommand(t *testing.T) {
	var out bytes.Buffer
	if err := hashPasswordCommand(strings.NewReader("s3cret words\n"), &out); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	if !strings.HasPrefix(line, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("printed %q; want RFC 9106's second option", line)
	}
	h, err := parsePHC(line)
	if err != nil || !h.matches("s3cret words") || h.matches("s3cret word") {
		t.Fatalf("the printed hash does not check: %v", err)
	}
	if err := hashPasswordCommand(strings.NewReader(""), io.Discard); err == nil {
		t.Fatal("an empty password was hashed")
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-addr", ":9000", "-data", "/tmp/x", "-trusted-proxy", "10.0.0.0/8,192.0.2.1", "-trusted-proxy", "2001:db8::/32"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9000" || cfg.DataDir != "/tmp/x" || len(cfg.TrustedProxies) != 3 || !cfg.DemoUsers || cfg.SecureCookies {
		t.Fatalf("config %+v", cfg)
	}
	if got := cfg.TrustedProxies[1].String(); got != "192.0.2.1/32" {
		t.Fatalf("a bare address reads as %s", got)
	}
	if _, err := parseFlags([]string{"-trusted-proxy", "nonsense"}, io.Discard); err == nil {
		t.Error("a bad CIDR was accepted")
	}
	if _, err := parseFlags([]string{"-tls-cert", "c.pem"}, io.Discard); err == nil {
		t.Error("-tls-cert without -tls-key was accepted")
	}
	cfg, err = parseFlags([]string{"-tls-cert", "c.pem", "-tls-key", "k.pem"}, io.Discard)
	if err != nil || !cfg.SecureCookies {
		t.Errorf("TLS flags: %v, secure cookies %v", err, cfg.SecureCookies)
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("a stray argument was accepted")
	}
}

// TestRunOnSQLite runs the portal as main does, on SQLite in a
// temporary data directory with a keys file: a user activates a phone
// and signs in with it; then the context ends (as SIGTERM ends main's)
// and run returns after a graceful shutdown. The keys and the database
// survive into a second run, where the phone still answers.
func TestRunOnSQLite(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	writeKeys(t, keys, 0o600, keyLine("k1"))
	clock := authntest.NewClock(authntest.Start())
	cfg := config{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "data"), KeysFile: keys, DemoUsers: true,
		Issuer: "Portal Test", Logger: quiet, Stderr: io.Discard, Clock: clock.Now, Argon: testArgon}

	// start is run, keeping the portal it builds for the test's phone.
	start := func() (*harness, context.CancelFunc, chan error) {
		p, err := newPortal(cfg)
		if err != nil {
			t.Fatalf("newPortal: %v", err)
		}
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			p.Close()
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			defer p.Close()
			done <- serve(ctx, p, cfg, ln, ready)
		}()
		addr := <-ready
		return &harness{t: t, p: p, clock: clock, url: "http://" + addr, client: &http.Client{}}, cancel, done
	}
	stop := func(cancel context.CancelFunc, done chan error) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run after the signal: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("no graceful shutdown")
		}
	}

	h, cancel, done := start()
	if h.p.storeName != "sqlite:"+filepath.Join(cfg.DataDir, "keyline.db") {
		t.Fatalf("store %q", h.p.storeName)
	}
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	h.challengeLogin(b, "alice", alicePW, ph)
	stop(cancel, done)
	if resp, err := http.Get(h.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after the shutdown")
	}

	h.clock.Advance(time.Minute)
	h2, cancel, done := start()
	ph.h = h2
	b = h2.browser()
	h2.challengeLogin(b, "alice", alicePW, ph)
	if pg := b.get("/security"); !pg.has("device-" + ph.cred.DeviceID()) {
		t.Fatal("the phone is gone after a restart")
	}
	b.post("/logout", nil)
	stop(cancel, done)
}

// TestRunRefuses: run reports what stops it from starting.
func TestRunRefuses(t *testing.T) {
	err := run(context.Background(), config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: quiet, Stderr: io.Discard}, nil)
	if err == nil || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("run without keys: %v", err)
	}
}

// TestRunBusyAddress: a busy -addr stops the portal before it makes its
// data directory or demo keys, with a message that names -addr.
func TestRunBusyAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	data := filepath.Join(t.TempDir(), "portal-data")
	err = run(context.Background(), config{Addr: ln.Addr().String(), DataDir: data, InsecureDemo: true, Logger: quiet, Stderr: io.Discard}, nil)
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "-addr") {
		t.Fatalf("run on a busy address: %v; want a message naming -addr", err)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("the data directory was made before the address was checked: %v", err)
	}
}
