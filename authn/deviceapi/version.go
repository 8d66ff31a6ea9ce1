package deviceapi

import (
	"errors"
	"net/http"

	"github.com/keyline/keyline/internal/devicewire"
)

// errUnsupportedVersion refuses a request of a protocol version this
// server does not speak.
var errUnsupportedVersion = errors.New("deviceapi: unsupported protocol version")

// checkVersion names the server's protocol version on the answer and
// refuses a request that names another: one Keyline-Protocol header whose
// value is exactly "1", or none (a phone of version 1 that does not say
// so), is accepted (PROTOCOL.md §10, "Versions").
func checkVersion(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set(devicewire.HeaderProtocol, devicewire.ProtocolVersion)
	v, named := r.Header[http.CanonicalHeaderKey(devicewire.HeaderProtocol)]
	if named && (len(v) != 1 || v[0] != devicewire.ProtocolVersion) {
		return errUnsupportedVersion
	}
	return nil
}
