package main

import (
	"context"
	"strings"
	"testing"
)

// TestStatus: status reports an active account as such; after the portal
// revokes its device it says so and deletes the account from the vault;
// an account the portal no longer knows at all is only reported.
func TestStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	dev := h.enrollUser(h.vault, "alice", pin)
	h.enrollUser(h.vault, "bob", pin)

	r := h.run(pin+"\n", "status")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "alice at authntest: active") || !strings.Contains(r.stdout, "bob at authntest: active") {
		t.Fatalf("want both active:\n%s", r)
	}

	proof, err := h.svc.Operator("test").Proof(ctx, "alice", "lost phone")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.RevokeDevice(ctx, "alice", dev, proof); err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n", "status", "-user", "alice")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "alice at authntest: removed from the account on ") {
		t.Fatalf("want alice removed:\n%s", r)
	}
	r = h.run(pin+"\n", "users")
	wantOK(t, r)
	if strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "bob") {
		t.Fatalf("want alice deleted from the vault, bob kept:\n%s", r)
	}

	// Erased at the portal: nothing is left to say it was removed.
	if err := h.svc.Operator("test").DeleteUser(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	r = h.run(pin+"\n", "status")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "bob at authntest: unknown to the portal") {
		t.Fatalf("want bob unknown:\n%s", r)
	}
	r = h.run(pin+"\n", "users")
	wantOK(t, r)
	if !strings.Contains(r.stdout, "bob") {
		t.Fatalf("an unknown account stays in the vault:\n%s", r)
	}
}
