package totpkey_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll/totpkey"
)

// The server makes a key, shows its QR code once, keeps the secret
// sealed, and checks the codes the app shows.
func Example() {
	key, err := totpkey.New("Example Bank", "ada@example.com", totpkey.Options{})
	if err != nil {
		panic(err)
	}
	defer key.Zero()

	// Show key.QR(256) (or key.URI()) to the user once; never log it.
	uri := key.URI()
	fmt.Println(uri[:strings.Index(uri, "&secret=")])

	// Store key.Secret() sealed, beside key.TOTP()'s parameters.
	secret := key.Secret()
	defer secret.Zero()
	v, err := key.TOTP().NewVerifier(secret)
	if err != nil {
		panic(err)
	}

	// The app computes the code of the current step from the URI; here
	// the same computation stands in for it.
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	code, err := key.TOTP().Code(secret, now)
	if err != nil {
		panic(err)
	}
	_, err = v.Verify(now, code, challenge.Window{})
	fmt.Println("verifies:", err == nil)
	fmt.Println(key) // no secret
	// Output:
	// otpauth://totp/Example%20Bank:ada@example.com?algorithm=SHA1&digits=6&issuer=Example%20Bank&period=30
	// verifies: true
	// totpkey.Key{Issuer: "Example Bank", AccountName: "ada@example.com", Secret: [redacted]}
}
