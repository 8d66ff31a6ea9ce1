package fcm_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
)

// PROTOCOL.md §11 shows the message this package sends (the line break
// aside).
func TestMessageAsProtocolSays(t *testing.T) {
	doc, err := os.ReadFile("../../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	cl, srv, _ := setup(t)
	m := message()
	if err := cl.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	body := strings.ReplaceAll(string(srv.Requests()[0].Body), m.RequestID, "<request ID>")
	body = strings.Replace(body, m.Token, "<token>", 1)
	body = regexp.MustCompile(`"ttl":"[0-9]+s"`).ReplaceAllString(body, `"ttl":"<seconds>s"`)
	shown := strings.ReplaceAll(string(doc), "\n   \"android\"", "\"android\"")
	if !strings.Contains(shown, body) {
		t.Errorf("PROTOCOL.md does not show the message %s", body)
	}
}
