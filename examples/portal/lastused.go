package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
)

// Last used. The security page says when each phone, the authenticator
// app and the recovery codes were last used to sign in or to confirm
// something: a challenge answered, a push or a QR code approved, a
// step-up, a withdrawal signed. keyline keeps no such time (a device's
// last accepted OCRA step says nothing of pushes), so the portal records
// it from the Result of each success, which names the phone (DeviceID)
// or the method. It keeps it in memory, as it keeps the ledger: a
// restart forgets it, and portals sharing a store each know the uses
// they saw. A service of its own keeps it with its accounts.
//
// The page says it in words that need no time zone ("3 days ago",
// "never"), and portal.js adds the local clock time from data-local-time,
// as on the lockout page ("3 days ago (at 14:05)").

// Keys of the factors that are not a phone, in the usage map.
const (
	usedTOTP     = "totp"
	usedRecovery = "recovery"
)

// usage records when each of a user's factors was last used.
type usage struct {
	mu sync.Mutex
	m  map[string]map[string]time.Time // user ID → device ID, usedTOTP or usedRecovery → when
}

func newUsage() *usage { return &usage{m: map[string]map[string]time.Time{}} }

// record notes the factor a success used, at its time.
func (u *usage) record(res authn.Result) {
	key := res.DeviceID
	switch {
	case key != "":
	case res.Method == authn.MethodTOTP:
		key = usedTOTP
	case res.Method == authn.MethodRecovery:
		key = usedRecovery
	default:
		return // no factor of the user's (an operator's proof)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	byKey := u.m[res.User]
	if byKey == nil {
		byKey = map[string]time.Time{}
		u.m[res.User] = byKey
	}
	if res.At.After(byKey[key]) {
		byKey[key] = res.At
	}
}

// of returns when each of user's factors was last used, by key.
func (u *usage) of(user string) map[string]time.Time {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make(map[string]time.Time, len(u.m[user]))
	for k, t := range u.m[user] {
		out[k] = t
	}
	return out
}

// lastUse is a "last used" cell: Words for people, At (RFC 3339, UTC)
// for the local time portal.js writes after them; At is "" for never.
type lastUse struct {
	Words string
	At    string
}

// lastUseOf says when t was, seen at now: "never" for the zero time,
// "just now" within a minute (or a little ahead, from another clock),
// then whole minutes, hours or days ago.
func lastUseOf(now, t time.Time) lastUse {
	if t.IsZero() {
		return lastUse{Words: "never"}
	}
	at := t.UTC().Format(time.RFC3339)
	ago := now.Sub(t)
	switch {
	case ago < time.Minute:
		return lastUse{Words: "just now", At: at}
	case ago < time.Hour:
		return lastUse{Words: countAgo(int(ago/time.Minute), "minute"), At: at}
	case ago < 24*time.Hour:
		return lastUse{Words: countAgo(int(ago/time.Hour), "hour"), At: at}
	}
	return lastUse{Words: countAgo(int(ago/(24*time.Hour)), "day"), At: at}
}

func countAgo(n int, unit string) string {
	if n == 1 {
		return "1 " + unit + " ago"
	}
	return fmt.Sprintf("%d %ss ago", n, unit)
}

// lastUses is what the security page shows of the user's uses: each
// listed phone's, by device ID, and the authenticator app's and the
// recovery codes' (nil when never used).
type lastUses struct {
	Devices  map[string]lastUse
	TOTP     *lastUse
	Recovery *lastUse
}

// lastUsesOf reads the uses of user's factors for the security page.
func (p *portal) lastUsesOf(user string, devices []authn.Device) lastUses {
	now := p.clock()
	seen := p.usage.of(user)
	out := lastUses{Devices: make(map[string]lastUse, len(devices))}
	for _, d := range devices {
		out.Devices[d.ID] = lastUseOf(now, seen[d.ID])
	}
	if t, ok := seen[usedTOTP]; ok {
		lu := lastUseOf(now, t)
		out.TOTP = &lu
	}
	if t, ok := seen[usedRecovery]; ok {
		lu := lastUseOf(now, t)
		out.Recovery = &lu
	}
	return out
}

// forget drops what is known of one of user's factors (one removed).
func (u *usage) forget(user, key string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m[user], key)
}
