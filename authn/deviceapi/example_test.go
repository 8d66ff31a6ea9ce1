package deviceapi_test

import (
	"context"
	"crypto/rand"
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

// A portal mounts the device API under /device/; a phone activates by
// typing the session ID the portal shows, the portal pairs it with the
// code the phone shows, and the phone then answers a push through the
// API.
func ExampleNewHandler() {
	ctx := context.Background()
	master := make([]byte, authn.MasterKeySize)
	rand.Read(master) // DO NOT do this in production: load the master key from your secret store
	keys, _ := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	inbox := authn.NewChanNotifier(8)
	audit := slog.New(slog.DiscardHandler) // your audit log
	store := memstore.New()                // the hot state and the records, in memory
	svc, err := authn.New(authn.Config{Hot: store, Records: store, Keys: keys, Issuer: "Example Bank", Logger: audit, Notifier: inbox})
	if err != nil {
		fmt.Println(err)
		return
	}

	mux := http.NewServeMux()
	mux.Handle("/device/", http.StripPrefix("/device", deviceapi.NewHandler(svc, deviceapi.Options{})))
	srv := httptest.NewTLSServer(mux) // a portal serves the API over TLS only
	defer srv.Close()

	// Portal: the user (logged in with a password) starts an activation.
	offer, _ := svc.StartActivation(ctx, "user-42", nil, authn.AccountName("ada@example.com"))

	// Phone: the user types the session ID shown.
	phone := deviceclient.New(srv.URL+"/device", srv.Client())
	fetched, err := phone.FetchOffer(ctx, offer.SessionID)
	if err != nil {
		fmt.Println(err)
		return
	}
	act, err := phone.Activate(ctx, fetched, enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone", Platform: "android", Integrity: enroll.Intact, PushToken: "fcm:token"})
	if err != nil {
		fmt.Println(err)
		return
	}
	cred := act.Credential // keep it in the vault

	// Portal: the user types the code the phone shows.
	if _, err := svc.ConfirmActivation(ctx, "user-42", offer.SessionID, cred.PairingCode()); err != nil {
		fmt.Println(err)
		return
	}

	// Later, at login: a push; the phone lists its prompts and approves
	// with the number the login page shows.
	req, _ := svc.BeginPush(ctx, "user-42", enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH"})
	prompts, _ := phone.Pushes(ctx, cred)
	fmt.Println("phone shows:", prompts[0].Context.Action, "from", prompts[0].Context.Place)
	if err := phone.AnswerPush(ctx, cred, prompts[0], true, req.Number); err != nil {
		fmt.Println(err)
		return
	}
	res, err := svc.FinishPush(ctx, "user-42", req.ID)
	fmt.Println("logged in:", err == nil, res.Method)
	// Output:
	// phone shows: Login from Zürich, CH
	// logged in: true push
}
