package notify_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/notify"
	"github.com/keyline/keyline/notify/apns"
	"github.com/keyline/keyline/notify/apns/apnstest"
)

// A Service delivering its pushes through APNs: here a local APNs
// (package apnstest) stands in for Apple's, its test key for the team's
// .p8 key. The notification names the request and nothing else.
func Example() {
	ctx := context.Background()
	apple := apnstest.NewServer("com.example.bank", nil) // a real service: apns.Production
	defer apple.Close()

	// DO NOT hardcode the APNs key: read it from a secret store
	// (apns.ParseKey reads the .p8 file).
	ios, err := apns.New(apns.Config{TeamID: apnstest.TeamID, KeyID: apnstest.KeyID, Key: apple.Key(),
		Topic: "com.example.bank", Endpoint: apple.URL, RootCAs: apple.RootCAs()})
	if err != nil {
		panic(err)
	}
	pushes, err := notify.New(notify.Config{Senders: map[string]notify.Sender{"ios": ios}})
	if err != nil {
		panic(err)
	}
	master := make([]byte, 32)
	rand.Read(master)
	keys, _ := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	ms := memstore.New()
	svc, err := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Notifier: pushes, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	pushes.Attach(svc) // gone tokens are removed from their devices

	// An iPhone activates, with its APNs device token.
	offer, _ := svc.StartActivation(ctx, "user-42", nil)
	token := "8e0c0ab5d5b74ffd9c1d4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192"
	phone, req, _ := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-1", Platform: "ios", PushToken: token}, time.Now())
	act, err := svc.CompleteActivation(ctx, req)
	if err != nil {
		panic(err)
	}
	if err := phone.CheckServerConfirm(act.ServerConfirm); err != nil {
		panic(err)
	}
	if _, err := svc.ConfirmActivation(ctx, "user-42", offer.SessionID, phone.PairingCode()); err != nil {
		panic(err)
	}

	push, err := svc.BeginPush(ctx, "user-42", enroll.PushContext{Action: "Login", IP: "203.0.113.7"})
	if err != nil {
		panic(err)
	}
	seen := apple.Delivered()[0]
	fmt.Println("to the device:", seen.Token == token)
	fmt.Println("collapses by the request:", seen.Header.Get("apns-collapse-id") == push.ID)
	fmt.Println("payload names only the request:", string(seen.Body) ==
		`{"aps":{"alert":{"body":"Login request"},"sound":"default","mutable-content":1},"id":"`+push.ID+`"}`)
	// Output:
	// to the device: true
	// collapses by the request: true
	// payload names only the request: true
}
