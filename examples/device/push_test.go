package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

var loginContext = enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}

// otherNumber is a 2-digit number that is not n.
func otherNumber(n string) string {
	var v int
	fmt.Sscanf(n, "%d", &v)
	return fmt.Sprintf("%02d", (v+1)%100)
}

// TestWatchOnce: watch shows a push's context, approves it with the number
// typed (after an answer that is not a number), and FinishPush logs in;
// a wrong number fails the request; d denies the next.
func TestWatchOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	dev := h.enrollUser(h.vault, "alice", pin)

	pr, err := h.svc.BeginPush(ctx, "alice", loginContext)
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(pin+"\nyes\n"+pr.Number+"\n", "watch", "-once", "-interval", "20ms")
	wantOK(t, r)
	for _, want := range []string{"Push request for alice at authntest", "Action:  Login", "From:    203.0.113.7",
		"Place:   Zürich, CH", "Browser: Firefox on macOS", "Approved."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("watch output lacks %q:\n%s", want, r)
		}
	}
	if !strings.Contains(r.stderr, "The number has 2 digits") {
		t.Errorf("an answer that is not a number is not asked again:\n%s", r)
	}
	res, err := h.svc.FinishPush(ctx, "alice", pr.ID)
	if err != nil {
		t.Fatalf("FinishPush after the approval: %v", err)
	}
	if res.Method != authn.MethodPush || res.DeviceID != dev {
		t.Errorf("result %s by %s; want push by %s", res.Method, res.DeviceID, dev)
	}

	// A wrong number: the portal refuses, and the request is over.
	pr, err = h.svc.BeginPush(ctx, "alice", loginContext)
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n"+otherNumber(pr.Number)+"\n", "watch", "-once", "-interval", "20ms")
	wantFailure(t, r, "watch", "wrong number", pin)
	if st, _ := h.svc.PushStatus(ctx, "alice", pr.ID, 0); st != authn.PushFailed {
		t.Errorf("push status %s after a wrong number; want failed", st)
	}

	// Denied.
	pr, err = h.svc.BeginPush(ctx, "alice", enroll.PushContext{Action: "Login", IP: "198.51.100.9"})
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\nd\n", "watch", "-once", "-interval", "20ms")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "From:    198.51.100.9") || !strings.Contains(r.stdout, "Place:   (not given)") ||
		!strings.Contains(r.stdout, "Denied.") {
		t.Errorf("watch output:\n%s", r)
	}
	if st, _ := h.svc.PushStatus(ctx, "alice", pr.ID, 0); st != authn.PushDenied {
		t.Errorf("push status %s after d; want denied", st)
	}
	if _, err := h.svc.FinishPush(ctx, "alice", pr.ID); err == nil {
		t.Error("FinishPush logs in after a denial")
	}
}

// TestWatchWaits: watch -once polls until a push arrives, for any account
// of the vault, and reports an account the portal does not accept.
func TestWatchWaits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.enrollUser(h.vault, "alice", pin)
	bobDev := h.enrollUser(h.vault, "bob", pin)
	// carol's device completes but is never paired: the portal does not
	// accept its requests.
	offer, err := h.svc.StartActivation(ctx, "carol", nil)
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, h.run(pin+"\n", "activate", offer.URI()))

	stdin, feed := io.Pipe()
	defer feed.Close()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		done <- run(rctx, []string{"-vault", h.vault, "-portal", h.srv.URL, "watch", "-once", "-interval", "20ms"}, stdin, out, errb)
	}()
	if _, err := io.WriteString(feed, pin+"\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's device to be dropped", func() bool {
		return strings.Contains(errb.String(), "carol at authntest: the portal does not accept this device")
	})
	pr, err := h.svc.BeginPush(ctx, "bob", loginContext)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the push to show", func() bool { return strings.Contains(out.String(), "Push request for bob") })
	if _, err := io.WriteString(feed, pr.Number+"\n"); err != nil {
		t.Fatal(err)
	}
	if code := <-done; code != 0 {
		t.Fatalf("watch: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	if res, err := h.svc.FinishPush(ctx, "bob", pr.ID); err != nil || res.DeviceID != bobDev {
		t.Fatalf("FinishPush(bob): %v", err)
	}
}

// TestWatchUnreachable: a portal that cannot be reached ends watch with
// one line.
func TestWatchUnreachable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.enrollUser(h.vault, "alice", pin)
	r := runProgram(t, strings.NewReader(pin+"\n"), "-vault", h.vault, "-portal", closedPortal(t), "watch", "-interval", "20ms")
	wantFailure(t, r, "watch", "cannot reach the portal's device API", pin)
}

var withdrawal = txn.Transaction{
	Kind:        txn.KindWithdrawal,
	Amount:      123456,
	Currency:    "EUR",
	From:        "U1234567",
	To:          "DE89370400440532013000",
	Beneficiary: "Ada Lovelace",
}

var withdrawalLines = []string{"Withdrawal", "Amount: EUR 1,234.56", "From: U1234567",
	"To: DE89 3704 0044 0532 0130 00", "Beneficiary: Ada Lovelace"}

// TestSignPush: sign shows a transaction push's lines, and its approval
// with the typed number signs it: FinishPush returns the transaction.
func TestSignPush(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.enrollUser(h.vault, "alice", pin)

	wantFailure(t, h.run(pin+"\n", "sign"), "sign", "no transaction is waiting")
	// A plain login push is not a transaction: sign leaves it.
	login, err := h.svc.BeginPush(ctx, "alice", loginContext)
	if err != nil {
		t.Fatal(err)
	}
	wantFailure(t, h.run(pin+"\n", "sign"), "sign", "no transaction is waiting")
	if err := h.svc.CancelPush(ctx, "alice", login.ID); err != nil {
		t.Fatal(err)
	}

	pr, err := h.svc.BeginTransactionPush(ctx, "alice", withdrawal, enroll.PushContext{Action: "Withdrawal", IP: "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	r := h.run(pin+"\n"+pr.Number+"\n", "sign")
	wantOK(t, r)
	for _, l := range append([]string{"Transaction (approving signs it):", "Action:  Withdrawal"}, withdrawalLines...) {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("sign output lacks %q:\n%s", l, r)
		}
	}
	res, err := h.svc.FinishPush(ctx, "alice", pr.ID)
	if err != nil {
		t.Fatalf("FinishPush: %v", err)
	}
	if res.Transaction == nil || *res.Transaction != withdrawal {
		t.Errorf("signed transaction %+v; want %+v", res.Transaction, withdrawal)
	}
}

// TestSignQR: sign with a transaction QR payload shows the transaction,
// and after y prints the response FinishTransaction accepts; without y it
// signs nothing; a payload that is not a transaction is refused.
func TestSignQR(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.enrollUser(h.vault, "alice", pin)
	tc, err := h.svc.BeginTransaction(ctx, "alice", withdrawal)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := txn.URI(tc.Nonce, tc.Transaction)
	if err != nil {
		t.Fatal(err)
	}

	r := h.run(pin+"\nn\n", "sign", payload)
	wantOK(t, r)
	if !strings.Contains(r.stdout, "Not signed.") || responseRE.MatchString(r.stdout) {
		t.Errorf("declined, yet:\n%s", r)
	}

	r = h.run(pin+"\ny\n", "sign", payload)
	wantOK(t, r)
	for _, l := range withdrawalLines {
		if !strings.Contains(r.stdout, "  "+l+"\n") {
			t.Errorf("sign output lacks %q:\n%s", l, r)
		}
	}
	if !regexp.MustCompile(`(?m)^Response: \d{4} \d{4}$`).MatchString(r.stdout) {
		t.Errorf("the response is not printed as \"1234 5678\":\n%s", r)
	}
	res, err := h.svc.FinishTransaction(ctx, "alice", tc.ID, response(t, r))
	if err != nil {
		t.Fatalf("FinishTransaction with the printed response: %v", err)
	}
	if res.Transaction == nil || *res.Transaction != withdrawal {
		t.Errorf("signed %+v", res.Transaction)
	}

	wantFailure(t, h.run(pin+"\ny\n", "sign", "keyline://tx?v=1&n=AAAA&t=BBBB"), "sign", "not a valid transaction QR payload")
	wantFailure(t, h.run(pin+"\ny\n", "sign", "keyline://tx?v=2&n=AAAA&t=BBBB"), "sign", "newer version")
}

// TestMigrate: the old phone starts a migration and shows the offer; a new
// phone (another vault) activates with it; the pairing code it shows,
// typed on the old phone after a wrong one, makes the new device active
// and revokes the old, which leaves the old vault.
func TestMigrate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	oldDev := h.enrollUser(h.vault, "alice", pin)
	newVault := filepath.Join(h.dir, "new-phone", "vault")

	stdin, feed := io.Pipe()
	defer feed.Close()
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		done <- run(rctx, []string{"-vault", h.vault, "-portal", h.srv.URL, "migrate", "-interval", "100ms"}, stdin, out, errb)
	}()
	if _, err := io.WriteString(feed, pin+"\n"); err != nil {
		t.Fatal(err)
	}
	var uri string
	waitFor(t, "the migration offer", func() bool {
		uri = offerURIRE.FindString(out.String())
		return uri != "" && strings.Contains(out.String(), "Waiting for the new phone")
	})
	if !strings.Contains(out.String(), "█") {
		t.Errorf("no QR code drawn:\n%s", out.String())
	}
	offer, err := enroll.ParseOffer(uri)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "or the session ID "+offer.SessionID) {
		t.Errorf("the session ID is not shown:\n%s", out.String())
	}

	// The new phone activates with the offer.
	r := h.runVault(newVault, otherPIN+"\n"+otherPIN+"\n", "activate", uri)
	wantOK(t, r)
	code := pairingCode(t, r)

	waitFor(t, "the pairing code prompt", func() bool { return strings.Contains(errb.String(), "Pairing code shown on the new phone") })
	if _, err := io.WriteString(feed, "12345\n"+otherCode(code)+"\n"+code[:3]+" "+code[3:]+"\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-done:
		if c != 0 {
			t.Fatalf("migrate: exit %d\n%s\n%s", c, out.String(), errb.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("migrate did not end")
	}
	if !strings.Contains(errb.String(), "The pairing code has 6 digits.") || !strings.Contains(errb.String(), "Wrong pairing code: 2 tries left.") {
		t.Errorf("the wrong codes are not reported:\n%s", errb.String())
	}
	devs, err := h.svc.Devices(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].ID == oldDev {
		t.Fatalf("alice's devices %+v; want the new one alone", devs)
	}
	if !strings.Contains(out.String(), "Moved: the new phone's device "+devs[0].ID+" is active.") {
		t.Errorf("migrate output:\n%s", out.String())
	}

	// The old vault no longer holds the account; the new phone answers.
	if r := h.run(pin+"\n", "users"); r.code != 0 || !strings.Contains(r.stdout, "The vault holds no account.") {
		t.Errorf("old vault: %s", r)
	}
	ch, err := h.svc.BeginChallenge(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	r = h.runVault(newVault, otherPIN+"\n", "respond", ch.Question)
	wantOK(t, r)
	if res, err := h.svc.FinishChallenge(ctx, "alice", ch.ID, response(t, r)); err != nil || res.DeviceID != devs[0].ID {
		t.Fatalf("the new phone's response: %v", err)
	}
}

// otherCode is a 6-digit code that is not c.
func otherCode(c string) string {
	var v int
	fmt.Sscanf(c, "%d", &v)
	return fmt.Sprintf("%06d", (v+1)%1000000)
}

// TestMigrateRevokedDevice: a device the portal revoked cannot start a
// migration.
func TestMigrateRevokedDevice(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	dev := h.enrollUser(h.vault, "alice", pin)
	proof, err := h.svc.Operator("test").Proof(ctx, "alice", "lost phone")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.RevokeDevice(ctx, "alice", dev, proof); err != nil {
		t.Fatal(err)
	}
	r := h.run(pin+"\n", "migrate", "-interval", "20ms")
	wantFailure(t, r, "migrate", "the portal does not accept this device", pin)
}
