package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyline/keyline/enroll"
)

// TestQR draws an offer URI in the terminal and refuses anything else.
func TestQR(t *testing.T) {
	t.Parallel()
	p, err := enroll.Start("Example Bank", "alice", enroll.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	offer := p.Offer()
	r := runProgram(t, strings.NewReader(""), "qr", offer.URI())
	wantOK(t, r)
	if !strings.HasPrefix(r.stdout, offer.TerminalQR()) {
		t.Errorf("qr does not print the offer's QR code:\n%s", r)
	}
	if !strings.Contains(r.stdout, "alice at Example Bank, session ID "+offer.SessionID) {
		t.Errorf("qr does not name the offer:\n%s", r)
	}
	wantFailure(t, runProgram(t, strings.NewReader(""), "qr", "https://example.com/"), "qr", "not a keyline activation offer")
	wantFailure(t, runProgram(t, strings.NewReader(""), "qr", "keyline://tx?v=1&n=AAAA&t=BBBB"), "qr", "the sign command")
}

// TestUsage: a command line that cannot run exits with status 2 and says
// why; -h and help print the usage and exit 0.
func TestUsage(t *testing.T) {
	t.Parallel()
	vault := filepath.Join(t.TempDir(), "vault")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "device: no command given"},
		{[]string{"frobnicate"}, `device: unknown command "frobnicate"`},
		{[]string{"-nope", "users"}, "device: flag provided but not defined: -nope"},
		{[]string{"-vault", vault, "respond"}, "device respond: give the challenge the login page shows"},
		{[]string{"-vault", vault, "activate"}, "device activate: give the offer URI"},
		{[]string{"-vault", vault, "users", "extra"}, "device users: unexpected arguments: extra"},
		{[]string{"-vault", vault, "watch", "-interval", "1ms"}, "device watch: -interval must be at least 10ms"},
		{[]string{"-vault", vault, "-portal", "ftp://x", "watch"}, "device watch: -portal must be an absolute http or https URL"},
		{[]string{"-vault", vault, "export"}, "device export: give the backup file to write"},
	} {
		r := runProgram(t, strings.NewReader(""), c.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "usage: device") {
			t.Errorf("%q: want exit 2 with %q and the usage; got %s", c.args, c.want, r)
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}} {
		r := runProgram(t, strings.NewReader(""), args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "usage: device") {
			t.Errorf("%q: %s", args, r)
		}
		for _, name := range commandOrder {
			if !strings.Contains(r.stdout, "  "+name+" ") {
				t.Errorf("the usage does not list %s", name)
			}
		}
	}
	r := runProgram(t, strings.NewReader(""), "respond", "-h")
	if r.code != exitOK || !strings.Contains(r.stdout, "usage: device respond [-user NAME]") || !strings.Contains(r.stdout, "-vault") {
		t.Errorf("respond -h: %s", r)
	}
}

// TestFlagsAfterCommand: the shared flags work after the command's name,
// and those before it stay in force when they are not repeated.
func TestFlagsAfterCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	r := runProgram(t, strings.NewReader(pin+"\n"), "users", "-vault", h.vault)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "alice") {
		t.Errorf("users -vault: %s", r)
	}
	offer, err := h.svc.StartActivation(context.Background(), "bob", nil)
	if err != nil {
		t.Fatal(err)
	}
	r = runProgram(t, strings.NewReader(pin+"\n"), "-portal", h.srv.URL, "add-user", "-vault", h.vault, offer.SessionID)
	wantOK(t, r)
	pairingCode(t, r)
}

// TestInterrupted: a command waiting for an answer ends when the run is
// interrupted, with one line.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb strings.Builder
	code := run(ctx, []string{"-vault", h.vault, "users"}, strings.NewReader(pin+"\n"), &out, &errb)
	r := result{code, out.String(), errb.String()}
	wantFailure(t, r, "users", "interrupted")
}

// TestDocListsEveryCommand: the package doc (go doc) describes every
// command the usage lists.
func TestDocListsEveryCommand(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range commandOrder {
		if !strings.Contains(string(doc), "\n//\t"+name+" ") && !strings.Contains(string(doc), "\n//\t"+name+"\n") {
			t.Errorf("doc.go does not describe the %s command", name)
		}
	}
}
