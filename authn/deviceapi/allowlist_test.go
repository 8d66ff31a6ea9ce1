package deviceapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// The Service's allowlist applies to the device API with the
// connection's address (the test server's clients come from 127.0.0.1).
func TestAllowlist(t *testing.T) {
	for _, tc := range []struct {
		allow  string
		status int
		code   string
	}{
		{"10.0.0.0/8", http.StatusForbidden, "address_not_allowed"},
		{"127.0.0.0/8", http.StatusOK, ""},
	} {
		e := newEnv(t, deviceapi.Options{}, authntest.WithConfig(func(c *authn.Config) {
			c.Allow.Networks = []netip.Prefix{netip.MustParsePrefix(tc.allow)}
		}))
		phone := e.kit.Enroll("alice")
		a := e.signed(t, phone.Credential(), http.MethodGet, deviceapi.PathPushes, "", nil)
		require.Equal(t, tc.status, a.status, tc.allow)
		if tc.code != "" {
			require.Equal(t, tc.code, code(t, a))
			_, err := e.client.Pushes(t.Context(), phone.Credential())
			require.ErrorIs(t, err, deviceclient.ErrAddressNotAllowed)
			require.ErrorIs(t, err, authn.ErrAddressNotAllowed)
		}
	}
}

// A RemoteAddr that does not parse gives no address: refused while an
// allowlist applies.
func TestAllowlistUnparsableRemoteAddr(t *testing.T) {
	e := newEnv(t, deviceapi.Options{}, authntest.WithConfig(func(c *authn.Config) {
		c.Allow.Networks = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	}))
	phone := e.kit.Enroll("alice")
	h := deviceapi.NewHandler(e.kit.Service, deviceapi.Options{})
	for remote, want := range map[string]int{"192.0.2.1:443": http.StatusOK, "[::ffff:192.0.2.1]:443": http.StatusOK,
		"192.0.2.1": http.StatusOK, "pipe": http.StatusForbidden, "": http.StatusForbidden} {
		auth, err := phone.Credential().SignAPIRequest(http.MethodGet, deviceapi.PathPushes, "", nil, e.kit.Clock.Now())
		require.NoError(t, err)
		r := httptest.NewRequest(http.MethodGet, deviceapi.PathPushes, nil)
		r.RemoteAddr = remote
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		require.Equal(t, want, w.Code, "RemoteAddr %q", remote)
	}
}
