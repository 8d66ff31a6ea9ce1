package main

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"

	"github.com/keyline/keyline/authn"
)

// No push spent on a page the user is leaving. A push or a QR code is
// started when its page is shown; switching to another way withdraws it
// (factorMethod, leaveQR), and so does leaving the page by other means:
// closing the tab, typing another address. Then portal.js, on the
// page's "pagehide", sends a beacon (navigator.sendBeacon) to POST
// /2fa/leave with the form's CSRF token and the page's own token,
// data-leave-page. keyline gives the cancelled request's unit of the
// push budget back.
//
// Every showing of the push or QR page gets a new page token, and only
// the page shown last may withdraw what it shows. pagehide also fires
// when the page goes on by itself and on a reload, and the beacon is
// sent then too:
//
//   - The page moved on after the phone approved: the finish renewed the
//     session, so the beacon's CSRF token is refused, and a request that
//     was approved is never withdrawn anyway.
//   - A reload: the browser fetches the page again before the old one is
//     hidden, so the beacon names a page that is no longer the last one
//     shown and does nothing: the reloaded page shows the same push, and
//     it still works. Should the beacon arrive first, the push is
//     withdrawn and the page fetched next starts a new one, with its
//     unit back first.
//
// Without the script nothing is sent; the push then waits on the phone
// until it expires, as before.

// newLeavePage gives the push or QR code the page shows a page token:
// the one showing that may withdraw it.
func newLeavePage(f *factorState) string {
	f.leavePage = rand.Text()
	return f.leavePage
}

// leaveBeacon is POST /2fa/leave: the push or QR code of the page being
// left is withdrawn, when it is the page shown last and the request is
// still pending. It answers 204 whether anything was withdrawn or not
// (nobody reads the answer), and 403, doing nothing, to a request
// without the session's CSRF token. It is not a page route: a stale
// token (the page moved on and renewed the session) is quietly refused,
// not shown again as an expired form.
func (p *portal) leaveBeacon(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if !sameOrigin(r) {
		p.csrfRefused(w, r, nil, "origin")
		return
	}
	s := p.sessions.load(r)
	if s == nil {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	defer s.mu.Unlock()
	if !s.checkCSRF(r) {
		p.log.Debug("portal: leave beacon refused", "event", "portal_leave_refused", "ip", p.clientIP(r).String())
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	f := s.factor
	page := r.PostFormValue("page")
	if s.user == nil || f == nil || f.leavePage == "" || subtle.ConstantTimeCompare([]byte(page), []byte(f.leavePage)) != 1 {
		return
	}
	f.leavePage = ""
	ctx := r.Context()
	switch {
	case f.method == methodPush && f.pushID != "":
		st, err := p.svc.PushStatus(ctx, s.user.ID, f.pushID, 0)
		if err != nil || st != authn.PushPending {
			return // answered, or over: nothing to give back
		}
		if err := p.svc.CancelPush(ctx, s.user.ID, f.pushID); err != nil {
			return
		}
		// The page fetched next (a reload that lost the race) starts a
		// new push.
		f.pushID, f.pushTried = "", false
		p.log.Info("portal: push withdrawn, its page left", "event", "portal_page_left", "user", s.user.ID, "method", methodPush)
	case f.method == methodQR && f.qr != nil && f.qr.ended == "":
		st, err := p.svc.QRLoginStatus(ctx, s.user.ID, f.qr.handle, 0)
		if err != nil || st != authn.PushPending {
			return
		}
		if err := p.svc.CancelQRLogin(ctx, s.user.ID, f.qr.handle); err != nil {
			return
		}
		f.qr = nil // the page fetched next shows a new code
		p.log.Info("portal: QR code withdrawn, its page left", "event", "portal_page_left", "user", s.user.ID, "method", methodQR)
	}
}
