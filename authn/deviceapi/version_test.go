package deviceapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/deviceapi"
)

// Version negotiation (PROTOCOL.md §10, "Versions"): a phone says its
// protocol version in Keyline-Protocol; the server refuses one it does
// not speak with 400 unsupported_version, before anything else, and every
// answer names the version the server speaks.
func TestProtocolVersionHeader(t *testing.T) {
	e := newEnv(t, deviceapi.Options{})
	body := []byte(`{"sid":"0000-0000-0000-0000-0"}`)
	for _, v := range []string{"2", "0", "01", "1,2", "v1", ""} {
		a := e.raw(t, http.MethodPost, deviceapi.PathOffer, "", body, map[string]string{"Keyline-Protocol": v})
		require.Equal(t, http.StatusBadRequest, a.status, "version %q", v)
		require.Equal(t, "unsupported_version", code(t, a), "version %q", v)
		require.Equal(t, "1", a.header.Get("Keyline-Protocol"))
	}
	// Version 1, or no header (a version 1 phone that does not say so):
	// the request goes on (here, to a session that does not exist).
	for _, hdr := range []map[string]string{{"Keyline-Protocol": "1"}, nil} {
		a := e.raw(t, http.MethodPost, deviceapi.PathOffer, "", body, hdr)
		require.NotEqual(t, "unsupported_version", code(t, a))
		require.Equal(t, "1", a.header.Get("Keyline-Protocol"))
		// The phone learns its clock offset from Date (PROTOCOL.md §11).
		_, err := http.ParseTime(a.header.Get("Date"))
		require.NoError(t, err)
	}
	// Even a path that does not exist is refused for the version first.
	a := e.raw(t, http.MethodGet, "/v2/anything", "", nil, map[string]string{"Keyline-Protocol": "2"})
	require.Equal(t, "unsupported_version", code(t, a))
}
