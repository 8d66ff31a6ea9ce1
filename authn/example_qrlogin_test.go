package authn_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
)

// fetchPrompt is the phone fetching a request's prompt from the device
// API (GET /v1/push?id=), in process, as postAnswer posts an answer.
func fetchPrompt(ctx context.Context, svc *authn.Service, cred *enroll.Credential, requestID string) ([]byte, error) {
	query := "id=" + requestID
	header, err := cred.SignAPIRequest("GET", "/v1/push", query, nil, time.Now()) // the phone
	if err != nil {
		return nil, err
	}
	r, mac, err := enroll.ParseAPIAuthorization(header) // the server
	if err != nil {
		return nil, err
	}
	r.Method, r.Path, r.Query, r.BodyHash = "GET", "/v1/push", query, sha256.Sum256(nil)
	dev, err := svc.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	if err != nil {
		return nil, err
	}
	return dev.PushPrompt(ctx, requestID)
}

// Log in with a QR code: the page shows the code and a number, the phone
// scans it and approves with the number, and the session that began the
// login — the one holding the handle — finishes it. No Notifier is
// needed.
func ExampleService_BeginQRLogin() {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master)
	keys, _ := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	ms := memstore.New()
	svc, _ := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Logger: slog.New(slog.DiscardHandler)})
	offer, _ := svc.StartActivation(ctx, "user-42", nil)
	cred, req, _ := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "i-1", Name: "Ada's phone"}, time.Now())
	act, _ := svc.CompleteActivation(ctx, req)
	_ = cred.CheckServerConfirm(act.ServerConfirm)
	_, _ = svc.ConfirmActivation(ctx, "user-42", offer.SessionID, cred.PairingCode())

	// The login page, after the password: draw q.Text as a QR code, show
	// q.Number beside it, and keep q.Handle in the server-side session.
	seen := enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}
	q, err := svc.BeginQRLogin(ctx, "user-42", seen)
	if err != nil {
		fmt.Println("fall back to challenge/response:", err)
		return
	}

	// The phone scans the code, fetches the prompt, shows it and sends
	// the number the user typed.
	code, _ := enroll.ParseQRLogin(q.Text)
	wire, _ := fetchPrompt(ctx, svc, cred, code.RequestID)
	prompt, _ := cred.OpenPrompt(wire, time.Now())
	fmt.Println("phone shows:", prompt.Context.Action, "from", prompt.Context.Browser, "in", prompt.Context.Place)
	answer, _ := cred.AnswerPush(prompt, true, q.Number, time.Now())
	fmt.Println("answer:", postAnswer(ctx, svc, cred, answer))

	// The page's poll, then the finish, with the session's handle.
	st, _ := svc.QRLoginStatus(ctx, "user-42", q.Handle, 0)
	fmt.Println("status:", st)
	_, err = svc.FinishPush(ctx, "user-42", code.RequestID)
	fmt.Println("finish with the ID on the screen:", err)
	res, err := svc.FinishQRLogin(ctx, "user-42", q.Handle)
	fmt.Println("finish with the handle:", res.User, res.DeviceName, err)
	// Output:
	// phone shows: Login from Firefox on macOS in Zürich, CH
	// answer: <nil>
	// status: approved
	// finish with the ID on the screen: push request not found
	// finish with the handle: user-42 Ada's phone <nil>
}
