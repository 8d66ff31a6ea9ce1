package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll/vault"
)

// TestMain lowers the vault's Argon2id cost, which at the defaults (64
// MiB, three passes) would make each PIN prompt take a noticeable time
// under the race detector. It is set before any test runs and only read
// afterwards.
func TestMain(m *testing.M) {
	small := vault.Argon2Params{Time: 2, MemoryKiB: 19456, Threads: 1} // the floor the core opens vaults at
	vaultOptions = vault.Options{Argon2: small, MinArgon2: small}
	os.Exit(m.Run())
}

const (
	pin      = "4739" // the vault's PIN in most tests
	otherPIN = "5830"
)

// harness is a login service's device API, in-process: an authn.Service
// on memstore (authntest's kit) behind deviceapi, mounted at /device/ as
// the portal mounts it, and a directory for vault files.
type harness struct {
	t     *testing.T
	kit   *authntest.Kit
	svc   *authn.Service
	srv   *httptest.Server
	dir   string
	vault string // the default vault file
}

func newHarness(t *testing.T, opts ...authntest.Option) *harness {
	t.Helper()
	k := authntest.New(t, opts...)
	// The program signs requests with the real clock, and the device API
	// checks them against the Service's: start the fake clock at the
	// real time (it stays there unless a test moves it).
	k.Clock.Set(time.Now())
	mux := http.NewServeMux()
	mux.Handle("/device/", http.StripPrefix("/device", deviceapi.NewHandler(k.Service, deviceapi.Options{})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	return &harness{t: t, kit: k, svc: k.Service, srv: srv, dir: dir, vault: filepath.Join(dir, "phone", "vault")}
}

// result is what one run of the program left.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the program against the harness's portal and default vault.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	return h.runVault(h.vault, stdin, args...)
}

// runVault runs the program with the vault file vault.
func (h *harness) runVault(vault, stdin string, args ...string) result {
	h.t.Helper()
	return runProgram(h.t, strings.NewReader(stdin), append([]string{"-vault", vault, "-portal", h.srv.URL}, args...)...)
}

// runProgram calls run with a deadline, so that a command waiting for
// input that never comes fails the test instead of hanging it.
func runProgram(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, stdin, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// errorLines returns the lines of stderr that report a failure: prompts
// and guidance do not start with "device ".
func errorLines(stderr string) []string {
	var out []string
	for l := range strings.Lines(stderr) {
		if strings.HasPrefix(l, "device ") || strings.HasPrefix(l, "device:") {
			out = append(out, strings.TrimRight(l, "\n"))
		}
	}
	return out
}

// wantFailure checks that r failed with status 1 and exactly one error
// line, for command cmd, containing want, and none of the secrets.
func wantFailure(t *testing.T, r result, cmd, want string, secrets ...string) {
	t.Helper()
	if r.code != exitError {
		t.Fatalf("want exit status 1; got %s", r)
	}
	lines := errorLines(r.stderr)
	if len(lines) != 1 {
		t.Fatalf("want one error line; got %d:\n%s", len(lines), r)
	}
	if !strings.HasPrefix(lines[0], "device "+cmd+": ") || !strings.Contains(lines[0], want) {
		t.Fatalf("error line %q; want \"device %s: ...%s...\"", lines[0], cmd, want)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("a stack trace:\n%s", r.stderr)
	}
	for _, s := range secrets {
		if s != "" && (strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s)) {
			t.Fatalf("output carries the secret %q:\n%s", s, r)
		}
	}
}

func wantOK(t *testing.T, r result) {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("want success; got %s", r)
	}
}

var (
	pairingRE  = regexp.MustCompile(`(?m)^Pairing code: (\d{6})$`)
	responseRE = regexp.MustCompile(`(?m)(?:^|(?:Response|Response for .*): )(\d{4}) ?(\d{4})$`)
	offerURIRE = regexp.MustCompile(`keyline://activate\?\S+`)
)

// pairingCode returns the pairing code an activation printed.
func pairingCode(t *testing.T, r result) string {
	t.Helper()
	m := pairingRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no pairing code printed:\n%s", r)
	}
	return m[1]
}

// response returns the 8-digit response a command printed, without its
// space.
func response(t *testing.T, r result) string {
	t.Helper()
	m := responseRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no response printed:\n%s", r)
	}
	return m[1] + m[2]
}

// typed is a session ID as a person types it: lower case, in groups.
func typed(sid string) []string {
	return strings.Fields(strings.ToLower(strings.ReplaceAll(sid, "-", " ")))
}

// enrollUser activates user in vault (made with the PIN p if new) by the
// typed session ID, and pairs it as the portal would. It returns the
// device ID.
func (h *harness) enrollUser(vault, user, p string) string {
	h.t.Helper()
	ctx := context.Background()
	offer, err := h.svc.StartActivation(ctx, user, nil)
	if err != nil {
		h.t.Fatalf("StartActivation(%s): %v", user, err)
	}
	stdin := p + "\n"
	if _, err := os.Stat(vault); err != nil {
		stdin = p + "\n" + p + "\n" // a new vault: the PIN twice
	}
	r := h.runVault(vault, stdin, append([]string{"activate"}, typed(offer.SessionID)...)...)
	wantOK(h.t, r)
	dev, err := h.svc.ConfirmActivation(ctx, user, offer.SessionID, pairingCode(h.t, r))
	if err != nil {
		h.t.Fatalf("ConfirmActivation(%s) with the printed code: %v", user, err)
	}
	return dev.ID
}

// closedPortal returns a URL where nothing listens.
func closedPortal(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// syncBuffer is a bytes.Buffer that a running command writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls f until it is true or the deadline passes.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
