package deviceapi

import (
	"net/http"
	"net/netip"
)

// peerAddr is the address of the connection's peer, from r.RemoteAddr
// ("host:port" as net/http sets it, or a bare address as a test or an
// adapter may): IPv4-mapped IPv6 read as IPv4, without a zone. It is the
// zero Addr when RemoteAddr does not parse, which the Service refuses
// while an allowlist applies (authn.Config.Allow fails closed). It is
// the default of Options.ClientAddr; behind a reverse proxy, RemoteAddr
// is the proxy's address.
func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}
