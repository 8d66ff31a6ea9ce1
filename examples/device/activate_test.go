package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
)

// TestActivateBySessionID: a first activation by a typed session ID (lower
// case, in groups) makes the vault under a new PIN asked twice, and prints
// the pairing code that the portal's ConfirmActivation accepts.
func TestActivateBySessionID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	offer, err := h.svc.StartActivation(ctx, "alice", nil, authn.AccountName("Alice Liddell"))
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(pin+"\n"+pin+"\n", append([]string{"activate", "-name", "test laptop"}, typed(offer.SessionID)...)...)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "Activating Alice Liddell (user alice) at authntest.") {
		t.Errorf("the offer is not described:\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, pin) {
		t.Errorf("the PIN appears in the output:\n%s", r)
	}
	code := pairingCode(t, r)

	// Until paired, the device is pending: the portal's page types the code.
	dev, err := h.svc.ConfirmActivation(ctx, "alice", offer.SessionID, code)
	if err != nil {
		t.Fatalf("ConfirmActivation with the printed code %s: %v", code, err)
	}
	if !strings.Contains(r.stdout, "device "+dev.ID) {
		t.Errorf("the device ID %s is not printed:\n%s", dev.ID, r)
	}
	if dev.Name != "test laptop" || dev.Platform != "cli" {
		t.Errorf("device %q on %q; want the -name and platform cli", dev.Name, dev.Platform)
	}

	// The vault file and the core's profile beside it: mode 0600, the
	// vault opens with the PIN, nothing else left in its directory.
	for _, name := range []string{h.vault, h.vault + profileSuffix} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v; want 0600", name, st.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(h.vault))
	if len(entries) != 2 {
		t.Errorf("the vault's directory holds %d files; want the vault and its profile alone", len(entries))
	}
	blob, _ := os.ReadFile(h.vault)
	v, err := vault.Open(blob, pin, vaultOptions)
	if err != nil {
		t.Fatalf("vault.Open: %v", err)
	}
	defer v.Zero()
	if l := v.List(); len(l) != 1 || l[0].User != "alice" || l[0].DeviceID != dev.ID {
		t.Errorf("vault lists %+v; want alice's device %s", l, dev.ID)
	}
}

// TestActivateByURIAddsUser: a second account from a scanned offer URI goes
// into the vault that exists (its PIN asked once), with the same install
// ID; add-user refuses to start a vault.
func TestActivateByURIAddsUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.enrollUser(h.vault, "alice", pin)

	offer, err := h.svc.StartActivation(ctx, "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(pin+"\n", "add-user", offer.URI())
	wantOK(t, r)
	if _, err := h.svc.ConfirmActivation(ctx, "bob", offer.SessionID, pairingCode(t, r)); err != nil {
		t.Fatalf("ConfirmActivation(bob): %v", err)
	}
	blob, _ := os.ReadFile(h.vault)
	v, err := vault.Open(blob, pin, vaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Zero()
	if v.Len() != 2 {
		t.Fatalf("the vault holds %d accounts; want 2", v.Len())
	}
	a, _ := v.Get(authntestIssuer, "alice")
	b, _ := v.Get(authntestIssuer, "bob")
	defer a.Zero()
	defer b.Zero()
	if a.Device().InstallID != b.Device().InstallID || a.Device().InstallID == "" {
		t.Errorf("install IDs %q and %q; want one per vault", a.Device().InstallID, b.Device().InstallID)
	}

	// add-user with no vault.
	offer, err = h.svc.StartActivation(ctx, "carol", nil)
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(h.dir, "nowhere", "vault")
	r = h.runVault(missing, pin+"\n"+pin+"\n", "add-user", offer.URI())
	wantFailure(t, r, "add-user", "no vault at "+missing)
	if _, err := os.Stat(missing); err == nil {
		t.Error("add-user made a vault")
	}
}

const authntestIssuer = "authntest"

// TestActivateNewPINPolicy: a new vault's PIN must pass enroll's policy,
// for the offer's user too, and be typed the same twice; a refusal comes
// before the portal is asked to activate anything.
func TestActivateNewPINPolicy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	offer, err := h.svc.StartActivation(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stdin, want string
		secrets     []string
	}{
		{"1234\n1234\n", "PIN refused: the PIN is a run", []string{"1234"}},
		{"77\n77\n", "PIN refused: the PIN must have 4 to 6 characters", nil},
		{"alice\nalice\n", "PIN refused: the PIN is or contains the user name", nil},
		{pin + "\n" + otherPIN + "\n", "the two PINs differ", []string{pin, otherPIN}},
		{pin + "\n", "standard input ended", []string{pin}},
	} {
		r := h.run(c.stdin, "activate", offer.URI())
		wantFailure(t, r, "activate", c.want, c.secrets...)
		if _, err := os.Stat(h.vault); err == nil {
			t.Fatalf("%q: a vault was written", c.stdin)
		}
	}
	devs, err := h.svc.Devices(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 0 {
		t.Errorf("the portal has %d devices after refused PINs; want none", len(devs))
	}
	if st, _ := h.svc.ActivationStatus(ctx, "alice", offer.SessionID); st.State != authn.ActivationWaiting {
		t.Errorf("activation %s; want it still waiting", st.State)
	}
}

// TestActivateRefusals: a mistyped, unknown or expired session ID, an
// account the vault holds already (refused by the vault, and by the
// portal for an account removed from the vault only), and an unreachable
// portal: exit status 1 and one line that says so, without the session ID.
func TestActivateRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	offer, err := h.svc.StartActivation(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	sid := offer.SessionID

	// One character changed: the check character catches it before
	// anything is sent.
	bad := []byte(sid)
	if bad[0] == 'A' {
		bad[0] = 'B'
	} else {
		bad[0] = 'A'
	}
	r := h.run(pin+"\n"+pin+"\n", "activate", string(bad))
	wantFailure(t, r, "activate", "session ID is mistyped", string(bad), sid)

	// A well-formed ID that this portal never issued.
	other, err := enroll.Start("elsewhere", "alice", enroll.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n"+pin+"\n", "activate", other.SessionID())
	wantFailure(t, r, "activate", "knows no activation with this session ID", other.SessionID())

	// The portal cannot be reached.
	r = runProgram(t, strings.NewReader(pin+"\n"+pin+"\n"), "-vault", h.vault, "-portal", closedPortal(t), "activate", sid)
	wantFailure(t, r, "activate", "cannot reach the portal's device API", sid)

	// Activate, then the same user again: the vault refuses before the
	// portal makes a device.
	h.enrollUser(h.vault, "alice", pin)
	h.enrollUser(h.vault, "bob", pin)
	proof, err := h.svc.Operator("test").Proof(ctx, "alice", "a second device")
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.svc.StartActivation(ctx, "alice", proof)
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n", "activate", again.URI())
	wantFailure(t, r, "activate", "already enrolled")
	if devs, _ := h.svc.Devices(ctx, "alice"); len(devs) != 1 {
		t.Errorf("alice has %d devices; want 1", len(devs))
	}
	// Removed from the vault but not revoked: the portal knows this
	// install, and refuses it.
	wantOK(t, h.run(pin+"\n", "remove-user", "alice"))
	r = h.run(pin+"\n", "activate", again.URI())
	wantFailure(t, r, "activate", "already enrolled")
}

// TestActivateExpired: a session ID typed after its offer expired.
func TestActivateExpired(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	offer, err := h.svc.StartActivation(context.Background(), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.kit.Clock.Advance(enroll.DefaultActivationTTL + time.Minute)
	r := h.run(pin+"\n"+pin+"\n", append([]string{"activate"}, typed(offer.SessionID)...)...)
	// The store forgets an expired activation or reports it expired;
	// either way the user is told to start again.
	if r.code != exitError || !(strings.Contains(r.stderr, "expired") || strings.Contains(r.stderr, "knows no activation")) {
		t.Fatalf("want an expired offer refused; got %s", r)
	}
	wantFailure(t, r, "activate", "start again at the portal", offer.SessionID)
}

// TestActivateSubstitutedKey: a server that answers a typed session ID
// with an offer of another key is caught: the key must hash to the ID.
func TestActivateSubstitutedKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	offer, err := h.svc.StartActivation(context.Background(), "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := enroll.Start(offer.Issuer, "alice", enroll.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/device/v1/offer" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"offer": forged.Offer().URI()})
	}))
	defer evil.Close()
	r := runProgram(t, strings.NewReader(pin+"\n"+pin+"\n"), "-vault", h.vault, "-portal", evil.URL, "activate", offer.SessionID)
	wantFailure(t, r, "activate", "server key was substituted", offer.SessionID)
	if _, err := os.Stat(h.vault); err == nil {
		t.Error("a vault was written")
	}
}

// TestActivateWithoutPairing: a portal that skips pairing activates the
// device at once, and no pairing code is shown.
func TestActivateWithoutPairing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, authntest.WithConfig(func(c *authn.Config) { c.SkipPairing = true }))
	ctx := context.Background()
	offer, err := h.svc.StartActivation(ctx, "alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(pin+"\n"+pin+"\n", "activate", offer.URI())
	wantOK(t, r)
	if pairingRE.MatchString(r.stdout) || !strings.Contains(r.stdout, "activated the device at once") {
		t.Errorf("activation without pairing:\n%s", r)
	}
	ch, err := h.svc.BeginChallenge(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n", "respond", ch.Question)
	wantOK(t, r)
	if _, err := h.svc.FinishChallenge(ctx, "alice", ch.ID, response(t, r)); err != nil {
		t.Fatalf("FinishChallenge: %v", err)
	}
}

// TestVaultChangedMeanwhile: a command does not save over a vault file
// that another command rewrote after it was read.
func TestVaultChangedMeanwhile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "vault")
	if err := writeFileAtomic(path, []byte("first"), true); err != nil {
		t.Fatal(err)
	}
	f, err := readVaultFile(path)
	if err != nil || !f.exists {
		t.Fatalf("readVaultFile: %v, exists %v", err, f.exists)
	}
	if err := writeFileAtomic(path, []byte("another command's"), true); err != nil {
		t.Fatal(err)
	}
	if err := f.save([]byte("second")); !errors.Is(err, errVaultChanged) {
		t.Fatalf("save over a changed file: %v; want errVaultChanged", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "another command's" {
		t.Fatalf("the file holds %q", b)
	}
	// A file that appeared since: refused too.
	fresh, err := readVaultFile(path + "2")
	if err != nil || fresh.exists {
		t.Fatalf("readVaultFile: %v", err)
	}
	if err := writeFileAtomic(path+"2", []byte("x"), true); err != nil {
		t.Fatal(err)
	}
	if err := fresh.save([]byte("y")); !errors.Is(err, errVaultChanged) {
		t.Fatalf("save over a file made meanwhile: %v", err)
	}
	// Unchanged: saved, and saved again.
	f, _ = readVaultFile(path)
	if err := f.save([]byte("third")); err != nil {
		t.Fatal(err)
	}
	if err := f.save([]byte("fourth")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "fourth" {
		t.Fatalf("the file holds %q", b)
	}
}
