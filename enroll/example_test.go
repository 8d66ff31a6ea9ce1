package enroll_test

import (
	"fmt"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// An activation from both sides, in one process. In a real deployment the
// offer reaches the phone as a QR code, the request and the server
// confirmation cross the network, and the server keeps the Pending in a
// store between the steps.
func Example() {
	now := time.Now()

	// Server: start the activation and show the offer.
	pending, err := enroll.Start("Example Bank", "user-42", enroll.StartOptions{AccountName: "ada@example.com", Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	qr := pending.Offer().URI() // the QR code's payload

	// Phone: scan, activate, send the request.
	offer, err := enroll.ParseOffer(qr)
	if err != nil {
		fmt.Println(err)
		return
	}
	cred, req, err := enroll.Activate(offer, enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone", Platform: "android", Integrity: enroll.Intact}, now)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Server: complete, keep the device and its (sealed) secret, answer.
	enrollment, err := pending.Complete(req, now)
	if err != nil {
		fmt.Println(err)
		return
	}

	// Phone: keep the credential only if the server's confirmation holds.
	if err := cred.CheckServerConfirm(enrollment.ServerConfirm); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pairing code matches:", cred.PairingCode() == enrollment.PairingCode())

	// Later, at login: the phone answers the server's question.
	question := challenge.Default.NewQuestion()
	resp, _ := cred.Respond(question, now)
	keys := enroll.DeriveKeys(enrollment.Secret, enrollment.Device.Suite)
	verifier, _ := challenge.NewVerifier(enrollment.Device.Suite, keys.OCRA)
	_, err = verifier.Verify(challenge.Input{Question: question, Time: now}, resp, challenge.Window{Behind: 1, Ahead: 1})
	fmt.Println("response verifies:", err == nil)
	// Output:
	// pairing code matches: true
	// response verifies: true
}

// A phone whose camera failed: the user types the session ID shown on the
// portal, the app fetches the offer from its own server, and checks that
// the offer's key hashes to the ID typed.
func ExampleOffer_Check() {
	pending, _ := enroll.Start("Example Bank", "user-42", enroll.StartOptions{})
	shown := pending.SessionID() // on the portal page

	typed := "  " + shown + " " // as the user typed it
	fetched := pending.Offer()  // from the app's server, by that ID
	fmt.Println(fetched.Check(typed))

	// One character mistyped is caught by the check character.
	wrong := []byte(shown)
	if wrong[0] == 'A' {
		wrong[0] = 'B'
	} else {
		wrong[0] = 'A'
	}
	_, err := enroll.ParseSessionID(string(wrong))
	fmt.Println(err != nil)
	// Output:
	// <nil>
	// true
}
