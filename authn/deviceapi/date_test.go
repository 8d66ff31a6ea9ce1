package deviceapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/deviceapi"
)

// Every answer's Date is the Service's clock, not the host's: the phone
// learns its clock offset from it (PROTOCOL.md §11, "Clock offset"), and
// the offset must be to the clock that checks its requests. The kit's
// clock is months away from the host's.
func TestDateIsTheServiceClock(t *testing.T) {
	e := newEnv(t, deviceapi.Options{})
	alice := e.kit.Enroll("alice")
	e.kit.Clock.Advance(7 * time.Second)
	want := e.kit.Clock.Now().UTC().Truncate(time.Second)
	require.Greater(t, time.Since(want).Abs(), time.Hour, "the test needs a clock far from the host's")
	for _, a := range []answer{
		e.signed(t, alice.Credential(), http.MethodGet, deviceapi.PathPushes, "", nil),                      // 200
		e.raw(t, http.MethodGet, deviceapi.PathPushes, "", nil, nil),                                        // 401 bad_authorization
		e.raw(t, http.MethodPost, deviceapi.PathOffer, "", []byte(`{"sid":"x"}`), nil),                      // 400
		e.raw(t, http.MethodGet, deviceapi.PathPushes, "", nil, map[string]string{"Keyline-Protocol": "2"}), // unsupported_version
	} {
		got, err := http.ParseTime(a.header.Get("Date"))
		require.NoError(t, err, "status %d", a.status)
		require.True(t, got.Equal(want), "Date %v, the Service's clock %v (status %d)", got, want, a.status)
	}
}
