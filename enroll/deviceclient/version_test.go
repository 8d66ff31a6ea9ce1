package deviceclient

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// versionTransport records the Keyline-Protocol headers of the requests
// and answers each with resp.
type versionTransport struct {
	got  [][]string
	resp func() *http.Response
}

func (v *versionTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	v.got = append(v.got, r.Header.Values("Keyline-Protocol"))
	resp := v.resp()
	resp.Request = r
	return resp, nil
}

// The client names its protocol version on every request, and a server
// that refuses it is ErrUnsupportedVersion, an error the app can show
// ("update the app").
func TestProtocolVersion(t *testing.T) {
	tr := &versionTransport{resp: func() *http.Response {
		return jsonAnswer(http.StatusBadRequest, map[string]string{"error": "unsupported_version", "message": "update the app"})
	}}
	c := New("https://bank.example/device/", &http.Client{Transport: tr})
	c.Now = func() time.Time { return t0 }
	_, err := c.FetchOffer(context.Background(), "ZVXR-C7WR-8QH3-QEZ7-7")
	require.ErrorIs(t, err, ErrUnsupportedVersion)
	cred, _, _ := enrolled(t)
	_, err = c.Pushes(context.Background(), cred)
	require.ErrorIs(t, err, ErrUnsupportedVersion)
	require.Equal(t, [][]string{{"1"}, {"1"}}, tr.got)
}
