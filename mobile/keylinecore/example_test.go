package keylinecore_test

import (
	"fmt"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/mobile/keylinecore"
)

// A scanned QR code is read before the user is asked to activate; an
// error crosses the bridge as a code the app branches on.
func ExampleParseOffer() {
	pending, err := enroll.Start("Example Bank", "user-42", enroll.StartOptions{AccountName: "ada@example.com"})
	if err != nil {
		panic(err)
	}
	offer, err := keylinecore.ParseOffer(pending.Offer().URI()) // what the camera read
	if err != nil {
		panic(err)
	}
	fmt.Printf("Activate %s at %s?\n", offer.AccountName, offer.Issuer)

	_, err = keylinecore.ParseOffer("https://bank.example/not-an-offer")
	fmt.Println(keylinecore.ErrorCode(err))
	// Output:
	// Activate ada@example.com at Example Bank?
	// invalid_input
}
