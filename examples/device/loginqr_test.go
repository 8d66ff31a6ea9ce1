package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// beginQRLogin begins a QR login for user, as the portal's "Log in with
// QR code" does.
func (h *harness) beginQRLogin(user string) authn.QRLogin {
	h.t.Helper()
	q, err := h.svc.BeginQRLogin(context.Background(), user, loginContext)
	if err != nil {
		h.t.Fatalf("BeginQRLogin(%s): %v", user, err)
	}
	return q
}

// finishQRLogin is what the login page's session gets for q.
func (h *harness) finishQRLogin(user string, q authn.QRLogin) (authn.Result, error) {
	return h.svc.FinishQRLogin(context.Background(), user, q.Handle)
}

// TestLoginQR: login-qr shows what the login page's QR code approves
// (the account, action, address, place and browser) and approves it with
// the number typed at the prompt, with -number, or with the code's text
// on standard input ("-"); the page's session then logs in. The same
// code again is used.
func TestLoginQR(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dev := h.enrollUser(h.vault, "alice", pin)

	q := h.beginQRLogin("alice")
	r := h.run(pin+"\n12345\n"+q.Number+"\n", "login-qr", q.Text)
	wantOK(t, r)
	for _, want := range []string{"Login request for alice at authntest", "Action:  Login", "From:    203.0.113.7",
		"Place:   Zürich, CH", "Browser: Firefox on macOS", "Expires: ", "Approved. The login page moves on by itself."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("login-qr output lacks %q:\n%s", want, r)
		}
	}
	if !strings.Contains(r.stderr, "The number has 2 digits") {
		t.Errorf("an answer that is not the number is not asked again:\n%s", r)
	}
	res, err := h.finishQRLogin("alice", q)
	if err != nil {
		t.Fatalf("FinishQRLogin after the approval: %v", err)
	}
	if res.Method != authn.MethodPush || res.DeviceID != dev {
		t.Errorf("result %s by %s; want push by %s", res.Method, res.DeviceID, dev)
	}
	wantFailure(t, h.run(pin+"\n", "login-qr", "-number", q.Number, q.Text), "login-qr", "already used", pin)

	// -number: nothing asked but the PIN.
	q = h.beginQRLogin("alice")
	wantOK(t, h.run(pin+"\n", "login-qr", "-number", q.Number, q.Text))
	if _, err := h.finishQRLogin("alice", q); err != nil {
		t.Fatalf("FinishQRLogin after login-qr -number: %v", err)
	}

	// "-": the text is the first line of standard input (as a decoder
	// prints it, with its line ending), then the PIN.
	q = h.beginQRLogin("alice")
	r = h.run(q.Text+"\r\n"+pin+"\n", "login-qr", "-number", q.Number, "-")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "Approved.") {
		t.Errorf("login-qr -: %s", r)
	}
	if _, err := h.finishQRLogin("alice", q); err != nil {
		t.Fatalf("FinishQRLogin after login-qr -: %v", err)
	}
}

// TestLoginQRDeny: -deny, or d at the prompt, denies the login: the
// page's session does not log in.
func TestLoginQRDeny(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	for _, c := range []struct {
		stdin string
		args  []string
	}{{pin + "\n", []string{"-deny"}}, {pin + "\nd\n", nil}} {
		q := h.beginQRLogin("alice")
		r := h.run(c.stdin, append(append([]string{"login-qr"}, c.args...), q.Text)...)
		wantOK(t, r)
		if !strings.Contains(r.stdout, "Login request for alice at authntest") || !strings.Contains(r.stdout, "Denied.") {
			t.Errorf("login-qr %q output:\n%s", c.args, r)
		}
		if _, err := h.finishQRLogin("alice", q); !errors.Is(err, authn.ErrPushDenied) {
			t.Errorf("FinishQRLogin after login-qr %q: %v; want denied", c.args, err)
		}
	}
}

// TestLoginQRWrongNumber: a wrong number fails the command with one
// line, and ends the login: the page's session does not log in.
func TestLoginQRWrongNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	q := h.beginQRLogin("alice")
	wantFailure(t, h.run(pin+"\n"+otherNumber(q.Number)+"\n", "login-qr", q.Text), "login-qr", "wrong number", pin)
	if _, err := h.finishQRLogin("alice", q); !errors.Is(err, authn.ErrWrongNumber) {
		t.Errorf("FinishQRLogin after a wrong number: %v", err)
	}
	q = h.beginQRLogin("alice")
	wantFailure(t, h.run(pin+"\n", "login-qr", "-number", otherNumber(q.Number), q.Text), "login-qr", "wrong number", pin)
}

// TestLoginQRNotThisVault: a code for an account this vault does not
// hold (bob's, on another phone) is refused, and nothing is answered;
// text that is no login QR code, or of a newer version, is refused
// before the PIN is asked.
func TestLoginQRNotThisVault(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	h.enrollUser(h.dir+"/bobs-phone/vault", "bob", otherPIN)
	q := h.beginQRLogin("bob")
	r := h.run(pin+"\n", "login-qr", "-number", q.Number, q.Text)
	wantFailure(t, r, "login-qr", "not for an account of this vault", pin)
	if strings.Contains(r.stdout, "Login request") {
		t.Errorf("a code of another vault's account is shown:\n%s", r)
	}
	if st, err := h.svc.QRLoginStatus(context.Background(), "bob", q.Handle, 0); err != nil || st != authn.PushPending {
		t.Errorf("bob's login is %s (%v) after alice's vault refused it; want pending", st, err)
	}
	// bob's own phone approves it.
	wantOK(t, h.runVault(h.dir+"/bobs-phone/vault", otherPIN+"\n", "login-qr", "-number", q.Number, q.Text))

	for _, c := range []struct{ text, want string }{
		{"https://bank.example/2fa", "not a keyline login QR code"},
		{"keyline://activate?v=1", "not a keyline login QR code"},
		{strings.Replace(q.Text, "user=bob", "user=bob&x=1", 1), "not a keyline login QR code"},
		{"keyline://login?v=2&iss=authntest&user=alice&id=qr-x", "newer version"},
	} {
		// No PIN on standard input: the text is refused before it is asked.
		wantFailure(t, h.run("", "login-qr", c.text), "login-qr", c.want, pin)
	}
	if _, err := enroll.ParseQRLogin(q.Text); err != nil {
		t.Fatal(err)
	}
}

// TestLoginQRUsage: the command line login-qr cannot run.
func TestLoginQRUsage(t *testing.T) {
	t.Parallel()
	vault := t.TempDir() + "/vault"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"login-qr"}, "give the text of the login page's QR code"},
		{[]string{"login-qr", "a", "b"}, "give the text of the login page's QR code"},
		{[]string{"login-qr", "-deny", "-number", "42", "x"}, "-deny and -number"},
		{[]string{"login-qr", "-number", "4", "x"}, "-number is the 2 digits"},
		{[]string{"login-qr", "-number", "4a", "x"}, "-number is the 2 digits"},
	} {
		r := runProgram(t, strings.NewReader(""), append([]string{"-vault", vault}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "usage: device login-qr") {
			t.Errorf("%q: want exit 2 with %q and the usage; got %s", c.args, c.want, r)
		}
	}
	r := runProgram(t, strings.NewReader(""), "login-qr", "-h")
	if r.code != exitOK || !strings.Contains(r.stdout, "-number") || !strings.Contains(r.stdout, "-deny") {
		t.Errorf("login-qr -h: %s", r)
	}
}
