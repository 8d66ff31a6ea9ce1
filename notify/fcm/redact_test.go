package fcm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/keyline/keyline/notify/fcm"
)

// No way of printing a Config or a Client shows the service account's
// key or the access token.
func TestNothingPrintsSecrets(t *testing.T) {
	cl, srv, _ := setup(t)
	if err := cl.Send(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	access := srv.Requests()[0].AccessToken
	cfg := fcm.Config{Credentials: srv.Credentials(), ProjectID: project}
	for _, v := range []any{cfg, &cfg, cl} { // a Client is not copied (it holds a mutex: vet refuses)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, access) || strings.Contains(out, "private_key") {
				t.Errorf("%s of %T shows a secret: %s", verb, v, out)
			}
		}
	}
}
