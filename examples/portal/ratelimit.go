package main

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
)

// rate is a token bucket's shape: burst requests at once, refilled at
// perMinute.
type rate struct {
	burst     int
	perMinute int
}

// Default per-IP limits. Lockout (per user, in keyline) is what bounds
// guessing; these keep one address from hammering the password hash or
// trying many users.
var (
	defaultLoginRate  = rate{burst: 10, perMinute: 10}
	defaultFactorRate = rate{burst: 20, perMinute: 20}
)

// maxBuckets bounds the memory of a limiter; beyond it, after a sweep,
// new addresses are refused.
const maxBuckets = 100_000

// limiter is a per-key token bucket.
type limiter struct {
	name  string
	rate  rate
	clock func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(name string, r rate, clock func() time.Time) *limiter {
	return &limiter{name: name, rate: r, clock: clock, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when none is left it returns false and
// how long until one is.
func (l *limiter) allow(key string) (bool, time.Duration) {
	now := l.clock()
	perSec := float64(l.rate.perMinute) / 60
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now)
			if len(l.buckets) >= maxBuckets {
				return false, time.Minute
			}
		}
		b = &bucket{tokens: float64(l.rate.burst), last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(float64(l.rate.burst), b.tokens+el*perSec)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / perSec * float64(time.Second))
	return false, wait.Round(time.Second) + time.Second
}

// sweep drops buckets that have refilled: they hold no information.
func (l *limiter) sweep() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(l.clock())
}

func (l *limiter) sweepLocked(now time.Time) {
	full := time.Duration(float64(l.rate.burst) / (float64(l.rate.perMinute) / 60) * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
}

// ipKey is the rate-limit key of an address: IPv4 addresses alone, IPv6
// by their /64, which one subscriber usually holds whole.
func ipKey(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return a.Unmap().String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// clientIP returns the client's address: the connection's peer, unless
// that is a trusted proxy, in which case the right-most address of
// X-Forwarded-For that is not itself a trusted proxy (authn.ClientIP).
// Addresses a client put further left are not believed: it can write
// anything there.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	return authn.ClientIP(r, authn.TrustedProxies{Prefixes: trusted})
}
