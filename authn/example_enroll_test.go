package authn_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Activating a phone, both sides: the portal starts an activation and
// shows its offer; the phone scans it, activates and sends its request;
// the server completes the activation and the phone checks the server's
// confirmation; the user types the pairing code the phone shows into the
// portal page that started it. Only a paired device answers challenges.
func Example_activation() {
	ctx := context.Background()
	master := make([]byte, 32)
	rand.Read(master) // in production: from a secret manager, never generated at start-up
	keys, _ := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	ms := memstore.New() // the hot state and the records, in memory
	svc, err := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The portal, after the password: the user's first device needs no
	// step-up proof. It shows the offer as a QR code and, for typing,
	// its session ID.
	offer, err := svc.StartActivation(ctx, "user-42", nil, authn.AccountName("ada@example.com"))
	if err != nil {
		fmt.Println(err)
		return
	}
	png, _ := offer.QR(256)
	fmt.Println("portal shows a QR code:", bytes.HasPrefix(png, []byte("\x89PNG")))
	status, _ := svc.ActivationStatus(ctx, "user-42", offer.SessionID)
	fmt.Println("portal:", status.State)

	// The phone scans the QR code, activates, and sends its request
	// through the device API, whose handler calls CompleteActivation.
	scanned, err := enroll.ParseOffer(offer.URI())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("phone adds", scanned.AccountName, "at", scanned.Issuer)
	cred, req, err := enroll.Activate(scanned, enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone"}, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}
	act, err := svc.CompleteActivation(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("server:", act.Device.Name, "is", act.Device.State)

	// The phone checks that it spoke with the server that made the offer
	// (a real phone then seals cred in its PIN vault) and shows the
	// pairing code.
	if err := cred.CheckServerConfirm(act.ServerConfirm); err != nil {
		fmt.Println(err)
		return
	}
	code := cred.PairingCode()
	fmt.Println("phone shows a", len(code), "digit pairing code")
	status, _ = svc.ActivationStatus(ctx, "user-42", offer.SessionID)
	fmt.Println("portal:", status.State)

	// The user types the code into the portal. Every try counts: three
	// wrong ones discard the device.
	wrong := code[:len(code)-1] + string('0'+(code[len(code)-1]-'0'+1)%10)
	_, err = svc.ConfirmActivation(ctx, "user-42", offer.SessionID, wrong)
	fmt.Println("a mistyped code:", errors.Is(err, authn.ErrWrongPairingCode))
	dev, err := svc.ConfirmActivation(ctx, "user-42", offer.SessionID, code)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("portal:", dev.Name, "is", dev.State)

	// The device now answers challenges.
	ch, _ := svc.BeginChallenge(ctx, "user-42")
	answer, _ := cred.Respond(ch.Question, time.Now())
	res, err := svc.FinishChallenge(ctx, "user-42", ch.ID, answer)
	fmt.Println("login:", res.Method, res.DeviceName, err)
	// Output:
	// portal shows a QR code: true
	// portal: waiting
	// phone adds ada@example.com at Example Bank
	// server: Ada's phone is pending
	// phone shows a 6 digit pairing code
	// portal: completed
	// a mistyped code: true
	// portal: Ada's phone is active
	// login: challenge Ada's phone <nil>
}

// authenticatorApp is what an authenticator app does with the otpauth
// URI it scans (the Key URI Format): it keeps the secret and computes a
// code for any time. Apps differ; this one takes SHA-1, 6 digits and 30
// seconds, as StartTOTP's defaults give.
type authenticatorApp struct {
	label  string
	secret []byte
}

func scan(uri string) (authenticatorApp, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return authenticatorApp{}, err
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(u.Query().Get("secret")))
	if err != nil {
		return authenticatorApp{}, err
	}
	return authenticatorApp{label: strings.TrimPrefix(u.Path, "/"), secret: secret}, nil
}

func (a authenticatorApp) code(at time.Time) string {
	c, _ := challenge.TOTP{}.Code(a.secret, at)
	return c
}

// Enrolling an authenticator app (TOTP): StartTOTP makes the key and
// returns it to show once; the app scans it; ConfirmTOTP activates the
// key with a code from the app; from then on VerifyTOTP checks the app's
// codes, each once. (The server's clock is a variable here, so that the
// example can move it.)
func Example_totpEnrollment() {
	ctx := context.Background()
	now := time.Date(2026, time.November, 2, 9, 0, 15, 0, time.UTC)
	master := make([]byte, 32)
	rand.Read(master)
	keys, _ := authn.NewKeyring("k1", map[string][]byte{"k1": master})
	ms := memstore.New() // the hot state and the records, in memory
	svc, err := authn.New(authn.Config{Hot: ms, Records: ms, Keys: keys, Issuer: "Example Bank",
		Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The portal: a user with no factor yet needs no step-up proof. The
	// key is shown once, as a QR code of its otpauth URI, and then
	// dropped: the Service keeps it, sealed.
	key, err := svc.StartTOTP(ctx, "user-42", nil, authn.TOTPOptions{AccountName: "ada@example.com"})
	if err != nil {
		fmt.Println(err)
		return
	}
	uri := key.URI() // the QR code's content; key.QR(256) draws it
	fmt.Println("portal shows a QR code for", key.AccountName())
	key.Zero()

	// The app scans the QR code.
	app, err := scan(uri)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("app shows:", app.label)

	// Until a code from the app completes it, the key answers nothing.
	_, err = svc.VerifyTOTP(ctx, "user-42", app.code(now))
	fmt.Println("before ConfirmTOTP:", errors.Is(err, authn.ErrInvalidCode))
	err = svc.ConfirmTOTP(ctx, "user-42", app.code(now))
	fmt.Println("ConfirmTOTP:", err)

	// The code that completed it does not log in: each code counts once.
	_, err = svc.VerifyTOTP(ctx, "user-42", app.code(now))
	fmt.Println("the same code again:", errors.Is(err, authn.ErrReplay))

	// At the next login, half a minute on, the app's new code does.
	now = now.Add(30 * time.Second)
	res, err := svc.VerifyTOTP(ctx, "user-42", app.code(now))
	fmt.Println("login:", res.Method, err, res.Proof != nil)
	// Output:
	// portal shows a QR code for ada@example.com
	// app shows: Example Bank:ada@example.com
	// before ConfirmTOTP: true
	// ConfirmTOTP: <nil>
	// the same code again: true
	// login: totp <nil> true
}
