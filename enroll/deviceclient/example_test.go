package deviceclient_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// A user moves to a new phone: the old phone asks for an offer that
// replaces it and shows it; the new phone types its session ID and
// activates; the user types the new phone's pairing code on the old one,
// and the old device is revoked.
func Example_migration() {
	ctx := context.Background()
	srv, svc := server()
	defer srv.Close()
	client := deviceclient.New(srv.URL+"/device", srv.Client())

	// The old phone, enrolled earlier.
	offer, _ := svc.StartActivation(ctx, "user-42", nil)
	act, err := client.Activate(ctx, offer, enroll.DeviceInfo{InstallID: "old-install", Name: "old phone", Integrity: enroll.Intact})
	if err != nil {
		fmt.Println(err)
		return
	}
	oldPhone := act.Credential
	if _, err := svc.ConfirmActivation(ctx, "user-42", offer.SessionID, oldPhone.PairingCode()); err != nil {
		fmt.Println(err)
		return
	}

	// Old phone: start the migration, show the session ID.
	migration, err := client.StartMigration(ctx, oldPhone)
	if err != nil {
		fmt.Println(err)
		return
	}
	shown := migration.SessionID

	// New phone: type it, check the offer, activate.
	fetched, err := client.FetchOffer(ctx, shown)
	if err != nil {
		fmt.Println(err)
		return
	}
	act, err = client.Activate(ctx, fetched, enroll.DeviceInfo{InstallID: "new-install", Name: "new phone", Integrity: enroll.Intact})
	if err != nil {
		fmt.Println(err)
		return
	}
	newPhone := act.Credential

	// Old phone: the new one has activated; the user types its code.
	status, _ := client.MigrationStatus(ctx, oldPhone, shown)
	fmt.Println("migration:", status)
	if _, err := client.ConfirmMigration(ctx, oldPhone, shown, newPhone.PairingCode()); err != nil {
		fmt.Println(err)
		return
	}

	// The old device is gone; the new one works.
	_, err = client.Pushes(ctx, oldPhone)
	fmt.Println("old phone revoked:", errors.Is(err, enroll.ErrDeviceAuth))
	_, err = client.Pushes(ctx, newPhone)
	fmt.Println("new phone works:", err == nil)
	// Output:
	// migration: completed
	// old phone revoked: true
	// new phone works: true
}

// server is a keyline service with the device API mounted at /device/.
func server() (*httptest.Server, *authn.Service) {
	master := make([]byte, authn.MasterKeySize)
	rand.Read(master) // DO NOT do this in production: load the master key from your secret store
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	if err != nil {
		panic(err)
	}
	audit := slog.New(slog.DiscardHandler) // your audit log
	store := memstore.New()                // the hot state and the records, in memory
	svc, err := authn.New(authn.Config{Hot: store, Records: store, Keys: keys, Issuer: "Example Bank", Logger: audit})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/device/", http.StripPrefix("/device", deviceapi.NewHandler(svc, deviceapi.Options{})))
	return httptest.NewTLSServer(mux), svc
}
