package deviceapi

import (
	"net/http"
	"net/netip"

	"github.com/keyline/keyline/authn"
)

// peerAddr is the address of the connection's peer, from r.RemoteAddr
// ("host:port" as net/http sets it, or a bare address as a test or an
// adapter may): IPv4-mapped IPv6 read as IPv4, without a zone. It is the
// zero Addr when RemoteAddr does not parse, which the Service refuses
// while an allowlist applies (authn.Config.Allow fails closed). It is
// the default of Options.ClientAddr; behind a reverse proxy, RemoteAddr
// is the proxy's address.
//
// It is authn.ClientIP trusting no proxy: one reading of RemoteAddr for
// the allowlist, the push context and the portal.
func peerAddr(r *http.Request) netip.Addr {
	return authn.ClientIP(r, authn.TrustedProxies{})
}
