package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyline/keyline/notify/apns/apnstest"
	"github.com/keyline/keyline/notify/fcm/fcmtest"
)

// TestPushThroughAPNs: a push delivered end to end through a local APNs
// (TLS, HTTP/2), the portal configured by its flags as for Apple's: the
// app registers its device token over the device API, the login sends a
// push whose payload is the request ID alone, the phone fetches the
// prompt by that ID, approves with the number on the page, and the login
// completes.
func TestPushThroughAPNs(t *testing.T) {
	const topic = "com.example.portal"
	var h *harness
	srv := apnstest.NewServer(topic, func() time.Time { return h.clock.Now() })
	defer srv.Close()
	dir := t.TempDir()
	keyFile, caFile := filepath.Join(dir, "AuthKey.p8"), filepath.Join(dir, "apns-ca.pem")
	if err := os.WriteFile(keyFile, srv.KeyPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	flags, err := parseFlags([]string{"-apns-key", keyFile, "-apns-key-id", apnstest.KeyID, "-apns-team", apnstest.TeamID,
		"-apns-topic", topic, "-apns-endpoint", srv.URL, "-push-ca", caFile}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, func(c *config) { c.Push = flags.Push })
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)

	// The app registers its APNs device token (POST /v1/push-token).
	tok := make([]byte, 32)
	rand.Read(tok)
	deviceToken := hex.EncodeToString(tok)
	body, _ := json.Marshal(map[string]string{"push_token": deviceToken})
	if err := ph.device(http.MethodPost, "/v1/push-token", body).SetPushToken(context.Background(), deviceToken); err != nil {
		t.Fatal(err)
	}

	pg := b.login("alice", alicePW)
	number := pg.text("push-number")
	s := h.sessionOf(b)
	pushID := s.factor.pushID
	s.mu.Unlock()
	got := srv.Delivered()
	if len(got) != 1 || got[0].Token != deviceToken || got[0].Header.Get("apns-collapse-id") != pushID {
		t.Fatalf("APNs saw %d notifications; want one for the device and request %s", len(got), pushID)
	}
	if want := `{"aps":{"alert":{"body":"Login request"},"sound":"default","mutable-content":1},"id":"` + pushID + `"}`; string(got[0].Body) != want {
		t.Fatalf("payload %s; want %s", got[0].Body, want)
	}

	// The app wakes, fetches the prompt the notification names, approves.
	var payload struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(got[0].Body, &payload); err != nil {
		t.Fatal(err)
	}
	if _, err := ph.answerPrompt(ph.promptByID(payload.ID), true, number); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/push/finish", nil); pg.path() != "/account" {
		t.Fatalf("after the approval on %s; want /account", pg.path())
	}
	if !strings.Contains(h.logs.String(), `"event":"portal_push","outcome":"sent"`) {
		t.Error("the delivery is not in the log")
	}
}

// TestPushFlags: the push flags that do not go together are refused.
func TestPushFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-apns-key", "k.p8"},
		{"-apns-key", "k.p8", "-apns-key-id", "K", "-apns-team", "T"},
		{"-apns-topic", "com.example"},
		{"-push-ca", "ca.pem"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	cfg, err := parseFlags([]string{"-fcm-credentials", "sa.json", "-push-ca", "ca.pem"}, io.Discard)
	if err != nil || cfg.Push.FCMCredentials != "sa.json" {
		t.Fatalf("%v", err)
	}
}

// TestPushThroughFCM: the same login through a local FCM and its token
// endpoint, the portal given the service account's key file by its flag:
// the data message names the request alone and the phone approves it.
func TestPushThroughFCM(t *testing.T) {
	var h *harness
	srv := fcmtest.NewServer("keyline-portal", func() time.Time { return h.clock.Now() })
	defer srv.Close()
	dir := t.TempDir()
	credFile, caFile := filepath.Join(dir, "service-account.json"), filepath.Join(dir, "fcm-ca.pem")
	if err := os.WriteFile(credFile, srv.Credentials(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	flags, err := parseFlags([]string{"-fcm-credentials", credFile, "-fcm-endpoint", srv.URL, "-push-ca", caFile}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, func(c *config) { c.Push = flags.Push })
	b := h.browser()
	ph := h.enrollFirstPhone(b, "alice", alicePW, "Alice's phone")
	b.post("/logout", nil)
	const token = "fGx1Yk9mQ2Vz:APA91bFportalTestRegistrationToken"
	body, _ := json.Marshal(map[string]string{"push_token": token})
	if err := ph.device(http.MethodPost, "/v1/push-token", body).SetPushToken(context.Background(), token); err != nil {
		t.Fatal(err)
	}

	pg := b.login("alice", alicePW)
	number := pg.text("push-number")
	s := h.sessionOf(b)
	pushID := s.factor.pushID
	s.mu.Unlock()
	sends := srv.Requests()
	if len(sends) != 1 || sends[0].Status != http.StatusOK || sends[0].Message.Token != token ||
		len(sends[0].Message.Data) != 1 || sends[0].Message.Data["id"] != pushID || sends[0].Message.Android.CollapseKey != pushID {
		t.Fatalf("FCM saw %d sends; want one data message for the device and request %s", len(sends), pushID)
	}
	if g := srv.Grants(); len(g) != 1 || g[0].Refused != "" {
		t.Fatalf("grants %+v", g)
	}
	if _, err := ph.answerPrompt(ph.promptByID(sends[0].Message.Data["id"]), true, number); err != nil {
		t.Fatal(err)
	}
	if pg = b.post("/2fa/push/finish", nil); pg.path() != "/account" {
		t.Fatalf("after the approval on %s; want /account", pg.path())
	}
}
