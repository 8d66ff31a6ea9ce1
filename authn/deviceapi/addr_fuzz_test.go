package deviceapi

import (
	"net/http"
	"net/netip"
	"testing"
)

// FuzzPeerAddr: any RemoteAddr gives either no address or one that is
// valid, unmapped and without a zone, and the host of a host:port that
// parses is that host.
func FuzzPeerAddr(f *testing.F) {
	for _, s := range []string{"192.0.2.1:443", "[2001:db8::1]:8080", "[::ffff:10.0.0.1]:1", "[fe80::1%eth0]:22", "10.0.0.1", "::1", "", "pipe", "@", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, remote string) {
		a := peerAddr(&http.Request{RemoteAddr: remote})
		if !a.IsValid() {
			if _, err := netip.ParseAddrPort(remote); err == nil {
				t.Fatalf("%q parses as host:port but gave no address", remote)
			}
			return
		}
		if a.Is4In6() || a.Zone() != "" {
			t.Fatalf("%q gave %v: mapped or zoned", remote, a)
		}
		if ap, err := netip.ParseAddrPort(remote); err == nil && ap.Addr().Unmap().WithZone("") != a {
			t.Fatalf("%q gave %v, want %v", remote, a, ap.Addr())
		}
	})
}
