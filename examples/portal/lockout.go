package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/keyline/keyline/authn"
)

// Honest lockout. Before the lock, a wrong code says how many tries are
// left. Once locked, the second-factor page says so once, in relative
// time and (by portal.js) in the person's local time, never in UTC; it
// offers no way to sign in, since the lock counts them all (push,
// challenge, authenticator app, recovery code); and it moves on by
// itself when the lock ends (GET /2fa/lock/status, polled).

// lockedView is the data of the locked page.
type lockedView struct {
	factorView
	LockedFor   int    // seconds
	LockedText  string // "1 min 00 s"
	LockedUntil string // RFC 3339, for the local time portal.js writes
}

// showLocked renders the second-factor page of a locked user.
func (p *portal) showLocked(w http.ResponseWriter, s *session, status int, title string, v factorView, d time.Duration) {
	v.Locked = true
	until := p.clock().Add(d).Add(time.Second - 1).Truncate(time.Second)
	p.render(w, s, status, "factor-locked", view{Title: title, D: lockedView{factorView: v,
		LockedFor: int((d + time.Second - 1) / time.Second), LockedText: humanDuration(d), LockedUntil: until.UTC().Format(time.RFC3339)}})
}

// factorLockStatus tells the locked page's script whether the lock
// ended.
func (p *portal) factorLockStatus(w http.ResponseWriter, r *http.Request, s *session) {
	facts, err := p.svc.Factors(r.Context(), s.user.ID, p.knownClient(r))
	if err != nil {
		writeJSON(w, http.StatusOK, statusReply{State: "unknown", Action: "wait"})
		return
	}
	if facts.Locked {
		writeJSON(w, http.StatusOK, statusReply{State: "locked", Action: "wait"})
		return
	}
	writeJSON(w, http.StatusOK, statusReply{State: "unlocked", Action: "reload"})
}

// triesLeft says, after a wrong code that did not lock, how many more
// the lock allows: " 3 tries left before a lock." ("" when the answer
// was no wrong code, or locked).
func (p *portal) triesLeft(r *http.Request, s *session, err error) string {
	var locked *authn.LockedError
	if errors.As(err, &locked) || (!errors.Is(err, authn.ErrInvalidCode) && !errors.Is(err, authn.ErrTooManyAttempts)) {
		return ""
	}
	return p.triesLeftIn(r, s, p.knownClient(r))
}

// wrongNumberTriesLeft is triesLeft after the wrong number was typed on
// the phone, which ends a push or a QR code: keyline counts it in the
// bucket of the browsers it does not know (the phone's answer carries no
// browser's token), so the tries left are that bucket's, even in a
// browser it knows.
func (p *portal) wrongNumberTriesLeft(r *http.Request, s *session) string {
	return p.triesLeftIn(r, s, authn.KnownClient(""))
}

// triesLeftIn says how many failures the lock of client's bucket allows
// now: " 3 tries left before a lock.", or "" once locked.
func (p *portal) triesLeftIn(r *http.Request, s *session, client authn.LoginOption) string {
	facts, ferr := p.svc.Factors(r.Context(), s.user.ID, client)
	if ferr != nil || facts.Locked {
		return ""
	}
	left := 1 // after a lock, each failure locks again
	if facts.LockLevel == 0 {
		left = max(1, p.maxFailures-facts.RecentFail)
	}
	if left == 1 {
		return " 1 try left before a lock."
	}
	return fmt.Sprintf(" %d tries left before a lock.", left)
}
