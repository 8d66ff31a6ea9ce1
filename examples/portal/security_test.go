package main

import (
	"encoding/base32"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/challenge"
)

// stepUpWithPhone answers the "Confirm it's you" page with the phone and
// returns the page it leads to.
func stepUpWithPhone(t *testing.T, b *browser, pg *page, ph *phone) *page {
	t.Helper()
	pg.mustContain("title", "Confirm it's you")
	if pg.has("push-number") {
		pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	}
	return b.post("/2fa/challenge", url.Values{"response": {ph.respond(pg.text("challenge"))}})
}

// TestStepUpRecoveryCodesAndTOTP: changes wait for a fresh second factor;
// recovery codes are shown once and each signs in once; an
// authenticator app is enrolled from its QR code and signs in.
func TestStepUpRecoveryCodesAndTOTP(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")

	// Signed in on trust (no factor then): changes are locked now.
	pg := b.get("/security")
	if pg.has("recovery-new-form") || !pg.has("stepup") {
		t.Fatal("the security page allows changes without a step-up")
	}
	before := b.sessionCookie()
	pg = b.post("/security/stepup", nil)
	pg = stepUpWithPhone(t, b, pg, ph)
	if pg.path() != "/security" || !pg.has("unlocked") {
		t.Fatalf("after the step-up on %s, unlocked %v", pg.path(), pg.has("unlocked"))
	}
	if b.sessionCookie() == before {
		t.Fatal("the session ID did not change at the step-up")
	}

	pg = b.post("/security/recovery", nil)
	codes := regexp.MustCompile(`<code class="recovery-code">([0-9A-Z-]+)</code>`).FindAllStringSubmatch(pg.body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown; want 10:\n%s", len(codes), pg.body)
	}
	if pg := b.get("/security"); pg.text("recovery-left") != "10" || strings.Contains(pg.body, codes[0][1]) {
		t.Fatal("the security page does not count the codes, or shows one again")
	}

	// TOTP: the key from the page, a code from it.
	pg = b.post("/security/totp/start", nil)
	if pg.path() != "/security/totp" || !pg.has("totp-qr") {
		t.Fatalf("on %s", pg.path())
	}
	if img := b.get("/security/totp/qr.png"); img.status != http.StatusOK || img.header.Get("Content-Type") != "image/png" {
		t.Fatalf("the TOTP QR: status %d", img.status)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(pg.text("totp-secret"))
	if err != nil {
		t.Fatal(err)
	}
	code, err := challenge.TOTP{}.Code(key, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	pg = b.post("/security/totp/complete", url.Values{"code": {code}})
	pg.mustContain("notice", "authenticator app is set up")
	if got := pg.text("totp-state"); got != "set up" {
		t.Fatalf("#totp-state is %q", got)
	}
	if b.get("/security/totp/qr.png").status != http.StatusNotFound {
		t.Fatal("the TOTP QR code is still served after the enrollment")
	}

	// Sign in with the app (in a later time step: each code works once).
	b.post("/logout", nil)
	h.clock.Advance(30 * time.Second)
	b.login("alice", alicePW)
	pg = b.post("/2fa/method", url.Values{"method": {"totp"}})
	if !pg.has("totp-form") {
		t.Fatalf("no TOTP form:\n%s", pg.body)
	}
	code, _ = challenge.TOTP{}.Code(key, h.clock.Now())
	pg = b.post("/2fa/totp", url.Values{"code": {code[:3] + " " + code[3:]}})
	if pg.path() != "/account" {
		t.Fatalf("the TOTP login ended on %s:\n%s", pg.path(), pg.body)
	}

	// Sign in with a recovery code; it works once.
	b.post("/logout", nil)
	b.login("alice", alicePW)
	b.post("/2fa/method", url.Values{"method": {"recovery"}})
	used := strings.ToLower(codes[3][1]) // typed in lower case
	pg = b.post("/2fa/recovery", url.Values{"code": {used}})
	if pg.path() != "/security" {
		t.Fatalf("the recovery login ended on %s:\n%s", pg.path(), pg.body)
	}
	pg.mustContain("notice", "9 left")
	b.post("/logout", nil)
	b.login("alice", alicePW)
	b.post("/2fa/method", url.Values{"method": {"recovery"}})
	pg = b.post("/2fa/recovery", url.Values{"code": {used}})
	pg.mustContain("error", "Wrong recovery code")

	// The proof lapses: changes lock again.
	pg = b.post("/2fa/recovery", url.Values{"code": {codes[4][1]}})
	if !pg.has("unlocked") {
		t.Fatal("a recovery login gives no proof for changes")
	}
	h.clock.Advance(6 * time.Minute)
	pg = b.get("/security")
	if pg.has("unlocked") || !pg.has("stepup") {
		t.Fatal("the security page is still unlocked after the proof expired")
	}
	pg = b.post("/security/totp/remove", nil)
	if pg.path() != "/2fa" {
		t.Fatalf("removing TOTP without a proof led to %s", pg.path())
	}
	pg.mustContain("notice", "Confirm it's you first")
}

// TestReplaceRenameRevoke: a phone is renamed, replaced by a new one
// (the old one revoked when the new one pairs), and revoked.
func TestReplaceRenameRevoke(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	alice := h.p.users["alice"]
	old := h.enrollFirstPhone(b, "alice", alicePW, "Old phone")
	b.post("/logout", nil)
	h.challengeLogin(b, "alice", alicePW, old) // the login's proof unlocks changes

	pg := b.get("/security")
	row := "device-" + old.cred.DeviceID()
	if !pg.has(row) {
		t.Fatalf("no #%s", row)
	}
	pg = b.post("/security/devices/rename", url.Values{"device": {old.cred.DeviceID()}, "name": {"  Work   phone "}})
	pg.mustContain(row, "Work phone")
	pg = b.post("/security/devices/rename", url.Values{"device": {"not-a-device"}, "name": {"X"}})
	if pg.path() != "/security" || !strings.Contains(pg.text("error"), "no longer there") {
		t.Fatalf("renaming an unknown device: on %s, status %d", pg.path(), pg.status)
	}

	pg = b.post("/security/devices/replace", url.Values{"device": {old.cred.DeviceID()}})
	pg.mustContain("title", "Replace a phone")
	// A wrong pairing code first.
	sid := pg.text("session-id")
	nw := h.activate(alice, sid, "New phone")
	wrong := "000000"
	if nw.cred.PairingCode() == wrong {
		wrong = "111111"
	}
	pg = b.post("/security/activate/confirm", url.Values{"code": {wrong}})
	pg.mustContain("error", "Wrong pairing code")
	pg = b.post("/security/activate/confirm", url.Values{"code": {nw.cred.PairingCode()}})
	pg.mustContain("notice", `It replaces "Work phone"`)
	if pg.has(row) || !pg.has("device-"+nw.cred.DeviceID()) {
		t.Fatal("the device list does not show the replacement")
	}

	pg = b.post("/security/devices/revoke", url.Values{"device": {nw.cred.DeviceID()}})
	pg.mustContain("notice", "is revoked")
	if pg.has("devices") {
		t.Fatal("a device is still listed after the revocation")
	}
	// With no factor left, the next login is on trust again.
	b.post("/logout", nil)
	if pg := b.login("alice", alicePW); pg.path() != "/security" {
		t.Fatalf("with no phone left the login went to %s", pg.path())
	}
}

// TestActivationPageExpires: the offer's countdown, then the page says
// it is over.
func TestActivationPageExpires(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.login("alice", alicePW)
	pg := b.post("/security/activate", nil)
	if !regexp.MustCompile(`id="activation-expires" data-remaining="(599|600)"`).MatchString(pg.body) {
		t.Fatalf("no 10-minute countdown on the activation page:\n%s", pg.body)
	}
	if st := b.status("/security/activate/status"); st.State != "waiting" || st.Action != "wait" {
		t.Fatalf("status %+v", st)
	}
	pg = b.post("/security/activate/confirm", url.Values{"code": {"123456"}})
	pg.mustContain("error", "No phone has completed this activation yet")
	h.clock.Advance(11 * time.Minute)
	if st := b.status("/security/activate/status"); st.Action != "reload" {
		t.Fatalf("status after the expiry %+v; want reload", st)
	}
	pg = b.get("/security/activate")
	if pg.path() != "/security" {
		t.Fatalf("the expired activation page led to %s", pg.path())
	}
	pg.mustContain("notice", "Start again")
}

// TestNoticeColours: a notice of a failure or of something to act on is
// a warning (amber), one of a success is not (green); issue 17 found
// every notice green, failures included.
func TestNoticeColours(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	pg := b.login("alice", alicePW) // no factor yet: activate a phone now
	pg.mustContain("notice", "no second factor")
	if !strings.Contains(pg.body, `class="notice warning"`) {
		t.Errorf("the no-second-factor notice is not a warning:\n%s", pg.body)
	}
	b.post("/security/activate", nil)
	pg = b.post("/security/activate/cancel", nil)
	pg.mustContain("notice", "Activation cancelled.")
	if !strings.Contains(pg.body, `class="notice"`) || strings.Contains(pg.body, "notice warning") {
		t.Errorf("the success notice is shown as a warning:\n%s", pg.body)
	}
}
