package apns_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/keyline/keyline/notify/apns"
)

// PROTOCOL.md §11 shows the payloads this package sends, byte for byte.
func TestPayloadsAsProtocolSays(t *testing.T) {
	doc, err := os.ReadFile("../../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range []apns.PushType{apns.Alert, apns.Background} {
		cl, srv, _ := setup(t, func(c *apns.Config) { c.PushType = pt })
		m := message(deviceToken())
		if err := cl.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		body := strings.ReplaceAll(string(srv.Requests()[0].Body), m.RequestID, "<request ID>")
		if !strings.Contains(string(doc), body) {
			t.Errorf("PROTOCOL.md does not show the %s payload %s", pt, body)
		}
	}
}
