package main

import (
	"context"
	"testing"
	"time"
)

// TestRecoveryCodesAloneNeedAStepUp: a user whose only factor left is
// unused recovery codes (the phone was revoked) is asked for a step-up
// before any change, as the Service requires: the portal asks
// authn.Factors.HasFactor instead of counting factors itself.
func TestRecoveryCodesAloneNeedAStepUp(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	pg := stepUpWithPhone(t, b, b.post("/security/stepup", nil), ph)
	if !pg.has("unlocked") {
		t.Fatalf("no proof after the step-up, on %s", pg.path())
	}
	b.post("/security/recovery", nil)

	// The phone goes (revoked by an operator); the recovery codes stay.
	u := h.p.users["alice"]
	proof, err := h.p.svc.Operator("op-1").Proof(ctx, u.ID, "lost phone")
	if err != nil {
		t.Fatal(err)
	}
	devs, err := h.p.svc.Devices(ctx, u.ID)
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices %v, %v", devs, err)
	}
	if err := h.p.svc.RevokeDevice(ctx, u.ID, devs[0].ID, proof); err != nil {
		t.Fatal(err)
	}

	// The step-up's proof lapses: changes lock again.
	h.clock.Advance(6 * time.Minute)
	pg = b.get("/security")
	if pg.has("unlocked") || !pg.has("stepup") {
		t.Fatal("the security page allows changes to a user with recovery codes, without a step-up")
	}
	pg = b.post("/security/activate", nil)
	if pg.path() != "/2fa" {
		t.Fatalf("activating a phone without a proof led to %s", pg.path())
	}
	if f, err := h.p.svc.Factors(ctx, u.ID); err != nil || len(f.Pending) != 0 {
		t.Fatalf("an activation was started: %v, %v", f.Pending, err)
	}
}
