package authn_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
)

// A server's start: keys from the environment (a secret manager puts
// them there), the stores, the Service, and its maintenance, which runs
// until the process is told to stop.
func ExampleService_Maintain() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	keys, err := authn.LoadKeyringEnv("KEYLINE_KEYS") // "k2 BASE64; k1 BASE64": the primary first
	if err != nil {
		fmt.Println(err) // names the variable, never a key
		return
	}
	store := memstore.New()
	svc, err := authn.New(authn.Config{Hot: store, Records: store, Keys: keys, Issuer: "Example Bank"})
	if err != nil {
		fmt.Println(err)
		return
	}
	go svc.Maintain(ctx, time.Minute) // sweeps expired records until ctx ends
	// ... serve the login pages and the device API with svc.
}

// Keys in the keyring text format: the first is the primary, the others
// only open and check what they made.
func ExampleParseKeyring() {
	k2 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("2", authn.MasterKeySize)))
	k1 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("1", authn.MasterKeySize)))
	text := "# rotated in November\n2026-11 " + k2 + "\n2026-05 " + k1 + "\n"
	keys, err := authn.ParseKeyring("the example's text", []byte(text))
	fmt.Println(keys.Primary(), keys.IDs(), err)

	_, err = authn.ParseKeyring("the example's text", []byte("2026-11 "+k2[:20]+"\n"))
	fmt.Println(err)
	// Output:
	// 2026-11 [2026-05 2026-11] <nil>
	// authn: invalid keyring: the example's text, line 1: the key of "2026-11" is not 32 bytes in standard base64
}
