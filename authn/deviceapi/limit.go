package deviceapi

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// ipLimiter counts requests per client address in fixed windows, in this
// process's memory: each Handler has its own, so with N instances behind
// a load balancer an address gets up to N times the limit, and a restart
// forgets the counts. That is acceptable for its purpose — keeping one
// address from flooding the unauthenticated endpoints and the MAC checks
// — because the limits that must hold across instances (per device, and
// everything per user) are kept in the store.
//
// Memory is bounded: at most max addresses are tracked. When the table is
// full, expired windows are swept (at most once per window); if it is
// still full, every untracked address shares one overflow window, so a
// flood from many addresses is still limited, as a whole.
type ipLimiter struct {
	limit  int
	window time.Duration
	max    int
	now    func() time.Time

	mu        sync.Mutex
	windows   map[string]*ipWindow
	lastSweep time.Time
}

type ipWindow struct {
	ends time.Time
	used int
}

// overflow is the key of the window shared by untracked addresses; no
// address has a NUL in it.
const overflow = "\x00overflow"

func newIPLimiter(limit int, window time.Duration, max int, now func() time.Time) *ipLimiter {
	return &ipLimiter{limit: limit, window: window, max: max, now: now, windows: map[string]*ipWindow{}}
}

// allow counts one request from addr; it returns false, with how long
// until the window ends, when the limit is reached (and counts nothing).
func (l *ipLimiter) allow(addr string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.windows[addr]
	if !ok && len(l.windows) >= l.max {
		if now.Sub(l.lastSweep) >= l.window {
			l.lastSweep = now
			for k, v := range l.windows {
				if !now.Before(v.ends) {
					delete(l.windows, k)
				}
			}
		}
		if len(l.windows) >= l.max {
			addr = overflow
			w, ok = l.windows[addr]
		}
	}
	if !ok || !now.Before(w.ends) {
		w = &ipWindow{ends: now.Add(l.window)}
		l.windows[addr] = w
	}
	if w.used >= l.limit {
		return false, w.ends.Sub(now)
	}
	w.used++
	return true, 0
}

// remoteIP is the default Options.ClientIP: the host of r.RemoteAddr, an
// IPv6 address reduced to its /64 (one subscriber's usual allocation, so
// that rotating through it buys nothing). Behind a proxy, every request
// comes from the proxy: set Options.ClientIP to read the address it
// forwards, from a header only it can set.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
