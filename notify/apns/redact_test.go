package apns_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/keyline/keyline/notify/apns"
)

// No way of printing a Config or a Client shows the key or the provider
// token.
func TestNothingPrintsSecrets(t *testing.T) {
	cl, srv, _ := setup(t)
	if err := cl.Send(context.Background(), message(deviceToken())); err != nil {
		t.Fatal(err)
	}
	bearer := srv.Requests()[0].Bearer
	cfg := apns.Config{TeamID: "T", KeyID: "K", Key: srv.Key(), Topic: topic}
	raw, err := srv.Key().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	d := hex.EncodeToString(raw)
	for _, v := range []any{cfg, &cfg, cl} { // a Client is not copied (it holds a mutex: vet refuses)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, d) || strings.Contains(out, bearer) || !strings.Contains(out, "hidden") {
				t.Errorf("%s of %T shows a secret: %s", verb, v, out)
			}
		}
	}
}
