package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestRespond: the response printed for a challenge is one FinishChallenge
// accepts, for the account -user names or the one picked from the list.
func TestRespond(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	aliceDev := h.enrollUser(h.vault, "alice", pin)
	bobDev := h.enrollUser(h.vault, "bob", pin)

	ch, err := h.svc.BeginChallenge(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// To a pipe, the 8 digits alone: what a script passes to the form.
	r := h.run(pin+"\n", "respond", "-user", "alice", ch.Question)
	wantOK(t, r)
	if !regexp.MustCompile(`^\d{8}\n$`).MatchString(r.stdout) {
		t.Errorf("the response to a pipe is not its 8 digits alone:\n%s", r)
	}
	// To a terminal, a sentence with the digits in groups of four.
	var tty ttyBuffer
	var errb bytes.Buffer
	if code := run(ctx, []string{"-vault", h.vault, "-portal", h.srv.URL, "respond", "-user", "alice", ch.Question},
		strings.NewReader(pin+"\n"), &tty, &errb); code != exitOK {
		t.Fatalf("respond to a terminal: exit %d\n%s", code, errb.String())
	}
	if !regexp.MustCompile(`(?m)^Response for alice at authntest: \d{4} \d{4}$`).MatchString(tty.String()) {
		t.Errorf("the response to a terminal is not printed as \"Response for …: 1234 5678\":\n%s", tty.String())
	}
	res, err := h.svc.FinishChallenge(ctx, "alice", ch.ID, response(t, r))
	if err != nil {
		t.Fatalf("FinishChallenge with the printed response: %v", err)
	}
	if res.DeviceID != aliceDev {
		t.Errorf("logged in with device %s; want %s", res.DeviceID, aliceDev)
	}

	// Without -user, the program asks; the question may come in groups.
	ch, err = h.svc.BeginChallenge(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\nbob\n", "respond", ch.Question[:3], ch.Question[3:])
	wantOK(t, r)
	if !strings.Contains(r.stderr, "1. alice (authntest)") || !strings.Contains(r.stderr, "2. bob (authntest)") {
		t.Errorf("the accounts are not listed to pick from:\n%s", r)
	}
	if res, err = h.svc.FinishChallenge(ctx, "bob", ch.ID, response(t, r)); err != nil || res.DeviceID != bobDev {
		t.Fatalf("FinishChallenge(bob): %v, device %s; want %s", err, res.DeviceID, bobDev)
	}

	// Choosing by number.
	ch, err = h.svc.BeginChallenge(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n1\n", "respond", ch.Question)
	wantOK(t, r)
	if _, err := h.svc.FinishChallenge(ctx, "alice", ch.ID, response(t, r)); err != nil {
		t.Fatalf("FinishChallenge(alice), picked by number: %v", err)
	}

	// Not a question of the suite; an account the vault does not hold.
	wantFailure(t, h.run(pin+"\n", "respond", "-user", "alice", "12ab56"), "respond", "not a challenge this account answers", pin)
	wantFailure(t, h.run(pin+"\n", "respond", "-user", "carol", "123456"), "respond", `no account "carol"`, pin)
	wantFailure(t, h.run(pin+"\n7\n", "respond", "123456"), "respond", "no such account in the list", pin)
}

// TestWrongPIN: a wrong PIN ends the command with exit status 1 and one
// line, which does not repeat the PIN.
func TestWrongPIN(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	for _, args := range [][]string{
		{"respond", "123456"},
		{"users"},
		{"watch", "-once"},
		{"export", filepath.Join(h.dir, "backup")},
		{"remove-user", "alice"},
		{"change-pin"},
	} {
		r := h.run(otherPIN+"\n"+pin+"\n"+pin+"\n", args...)
		wantFailure(t, r, args[0], "wrong PIN", otherPIN)
		if !strings.HasSuffix(r.stderr, "device "+args[0]+": wrong PIN\n") {
			t.Errorf("%s: stderr ends %q; want the error line last", args[0], r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, "backup")); err == nil {
		t.Error("export wrote a backup with a wrong PIN")
	}
	// Nothing changed: the right PIN still lists alice.
	if r := h.run(pin+"\n", "users"); r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Errorf("after wrong PINs: %s", r)
	}
	// No vault at all.
	missing := filepath.Join(h.dir, "missing")
	wantFailure(t, h.runVault(missing, pin+"\n", "users"), "users", "no vault at "+missing)
}

// TestUsers lists account, issuer, user ID and device ID, and nothing
// else: every word of the output is one of those or a heading.
func TestUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	aliceDev := h.enrollUser(h.vault, "alice", pin)
	bobDev := h.enrollUser(h.vault, "bob", pin)
	r := h.run(pin+"\n", "users")
	wantOK(t, r)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a heading and 2 accounts:\n%s", r)
	}
	allowed := map[string]bool{"ACCOUNT": true, "ISSUER": true, "USER": true, "ID": true, "DEVICE": true,
		"alice": true, "bob": true, authntestIssuer: true, aliceDev: true, bobDev: true}
	for _, w := range strings.Fields(r.stdout) {
		if !allowed[w] {
			t.Errorf("users prints %q, which is none of account, issuer, user ID, device ID", w)
		}
	}
	if f := strings.Fields(lines[1]); len(f) != 4 || f[0] != "alice" || f[3] != aliceDev {
		t.Errorf("alice's line %q", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 4 || f[0] != "bob" || f[3] != bobDev {
		t.Errorf("bob's line %q", lines[2])
	}
	if strings.Contains(r.stdout+r.stderr, pin) {
		t.Error("the PIN is printed")
	}
}

// TestRemoveUser deletes one account from the vault and leaves the other.
func TestRemoveUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	aliceDev := h.enrollUser(h.vault, "alice", pin)
	bobDev := h.enrollUser(h.vault, "bob", pin)
	r := h.run(pin+"\n", "remove-user", "bob")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "Removed bob at authntest") || !strings.Contains(r.stdout, bobDev+" is still registered at the portal") {
		t.Errorf("remove-user output:\n%s", r)
	}
	r = h.run(pin+"\n", "users")
	wantOK(t, r)
	if !strings.Contains(r.stdout, aliceDev) || strings.Contains(r.stdout, "bob") {
		t.Errorf("after removing bob:\n%s", r)
	}
	wantFailure(t, h.run(pin+"\n", "remove-user", "bob"), "remove-user", `no account "bob"`)
	// bob's device is still at the portal: removing is local.
	if devs, _ := h.svc.Devices(ctx, "bob"); len(devs) != 1 {
		t.Errorf("bob has %d devices at the portal; want 1", len(devs))
	}
	// Removing the last account leaves an empty vault.
	wantOK(t, h.run(pin+"\n", "remove-user", "alice"))
	if r := h.run(pin+"\n", "users"); r.code != 0 || !strings.Contains(r.stdout, "The vault holds no account.") {
		t.Errorf("empty vault: %s", r)
	}
}

// TestChangePIN: the new PIN opens the vault, the old one no longer does;
// a weak, mistyped or unchanged new PIN changes nothing.
func TestChangePIN(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	before, _ := os.ReadFile(h.vault)
	for _, c := range []struct{ stdin, want string }{
		{pin + "\n1111\n1111\n", "PIN refused: the PIN is one character repeated"},
		{pin + "\nalice9\nalice9\n", "PIN refused: the PIN is or contains the user name"},
		{pin + "\n" + otherPIN + "\n8302\n", "the two PINs differ"},
		{pin + "\n" + pin + "\n" + pin + "\n", "PIN refused: the PIN is the current PIN"},
	} {
		wantFailure(t, h.run(c.stdin, "change-pin"), "change-pin", c.want, otherPIN)
	}
	if after, _ := os.ReadFile(h.vault); string(after) != string(before) {
		t.Fatal("a refused change rewrote the vault")
	}
	r := h.run(pin+"\n"+otherPIN+"\n"+otherPIN+"\n", "change-pin")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "The PIN is changed.") {
		t.Errorf("change-pin output:\n%s", r)
	}
	wantFailure(t, h.run(pin+"\n", "users"), "users", "wrong PIN", pin)
	if r := h.run(otherPIN+"\n", "users"); r.code != 0 || !strings.Contains(r.stdout, "alice") {
		t.Errorf("the new PIN: %s", r)
	}
	if st, err := os.Stat(h.vault); err == nil && runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("vault mode %v after change-pin; want 0600", st.Mode().Perm())
	}
}

var passphraseRE = regexp.MustCompile(`(?m)^Passphrase: ([0-9A-Z]{5}(?:-[0-9A-Z]{5}){4})$`)

// TestExportImport: a backup written by export, with the passphrase printed
// once, restores as a new vault under a new PIN that answers for the same
// device; merging it into a vault that holds the account is refused, and
// so is a wrong passphrase.
func TestExportImport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	aliceDev := h.enrollUser(h.vault, "alice", pin)
	backup := filepath.Join(h.dir, "backup.keyline")

	r := h.run(pin+"\n", "export", backup)
	wantOK(t, r)
	m := passphraseRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no passphrase printed:\n%s", r)
	}
	pass := m[1]
	if strings.Count(r.stdout, pass) != 1 {
		t.Error("the passphrase is printed more than once")
	}
	if st, err := os.Stat(backup); err != nil {
		t.Fatal(err)
	} else if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v; want 0600", st.Mode().Perm())
	}
	wantFailure(t, h.run(pin+"\n", "export", backup), "export", "exists already")

	// Restored as a new vault.
	restored := filepath.Join(h.dir, "restored", "vault")
	wrong := []byte(pass)
	wrong[0] ^= 1 // another character: the check character catches it
	wantFailure(t, h.runVault(restored, string(wrong)+"\n"+otherPIN+"\n"+otherPIN+"\n", "import", backup),
		"import", "wrong backup passphrase", string(wrong), otherPIN)
	wantFailure(t, h.runVault(restored, pass+"\nalice9\nalice9\n", "import", backup),
		"import", "PIN refused: the PIN is or contains the user name", pass)
	r = h.runVault(restored, strings.ToLower(pass)+"\n"+otherPIN+"\n"+otherPIN+"\n", "import", backup)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "Imported 1 account(s)") || strings.Contains(r.stdout+r.stderr, pass) {
		t.Errorf("import output:\n%s", r)
	}
	r = h.runVault(restored, otherPIN+"\n", "users")
	wantOK(t, r)
	if !strings.Contains(r.stdout, aliceDev) {
		t.Errorf("the restored vault lists:\n%s", r)
	}
	ch, err := h.svc.BeginChallenge(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r = h.runVault(restored, otherPIN+"\n", "respond", ch.Question)
	wantOK(t, r)
	if res, err := h.svc.FinishChallenge(ctx, "alice", ch.ID, response(t, r)); err != nil || res.DeviceID != aliceDev {
		t.Fatalf("the restored credential: %v (device %s)", err, res.DeviceID)
	}

	// Merged into the original vault, which holds alice already.
	wantFailure(t, h.run(pin+"\n"+pass+"\n", "import", backup), "import", "already enrolled", pass)
	// Merged into a vault with another account.
	other := filepath.Join(h.dir, "other", "vault")
	h.enrollUser(other, "bob", pin)
	r = h.runVault(other, pin+"\n"+pass+"\n", "import", backup)
	wantOK(t, r)
	if r = h.runVault(other, pin+"\n", "users"); !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "bob") {
		t.Errorf("merged vault lists:\n%s", r)
	}
	wantFailure(t, h.run(pin+"\n", "import", filepath.Join(h.dir, "none")), "import", "no such file")
}

// ttyBuffer is a buffer that says it is a terminal.
type ttyBuffer struct{ bytes.Buffer }

func (*ttyBuffer) IsTerminal() bool { return true }
