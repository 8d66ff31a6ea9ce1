package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// Log in with a QR code (authn.Service.BeginQRLogin), as IB Key offers
// when no notification arrives: a choice of the second-factor page. The
// page shows the QR code (GET /2fa/qr.png) and the number to type on the
// phone; the phone scans the code, shows what it approves and asks for
// the number, and answers over the device API. The page's script polls
// GET /2fa/qr/status and, once the phone answered, posts
// /2fa/qr/finish, which finishes the login with the handle; without the
// script, the Continue button posts the same form.
//
// The handle, which alone finishes the login, stays in the server-side
// session: no page, image or status reply carries it. A code that ended
// (expired, the wrong number typed, withdrawn) is said in plain words,
// amber, with a button for a new one; a denial ends the sign-in as a
// denied push does (deny.go). Leaving the code for another way, or
// signing out, withdraws it, which gives its unit of the push budget
// back. A locked user gets the locked page, as for every other way.

// methodQR is the second-factor method "Log in with QR code".
const methodQR = "qr"

// qrLoginState is the QR login shown to this session.
type qrLoginState struct {
	handle  string    // secret: finishes the login; never sent to the browser
	text    string    // the QR code's text (public)
	number  string    // the number to type on the phone
	expires time.Time // when the code stops working
	ended   string    // "" while it may be answered; else qrExpired, qrFailed or qrWithdrawn
}

// Why a QR code ended, as qrLoginState.ended says it.
const (
	qrExpired   = "expired"
	qrFailed    = "failed"
	qrWithdrawn = "withdrawn"
)

// qrEndedText is what the page says of a QR code that ended (of one
// answered with the wrong number, showQR says it, with the tries left).
var qrEndedText = map[string]string{
	qrExpired:   "Expired — get a new one.",
	qrWithdrawn: "This QR code can no longer sign you in. Get a new one.",
}

// qrView is the data of the QR login page.
type qrView struct {
	factorView
	Number    string
	Text      string // the code's text, for a phone without a camera ("Can't scan?")
	Remaining int    // seconds
	Ended     string // what the page says of a code that ended; "" while it is live
}

// showQR renders the second-factor page with a QR code, beginning a
// QR login when the session has none (or its code expired unanswered).
func (p *portal) showQR(w http.ResponseWriter, r *http.Request, s *session, status int, title, errMsg string, v factorView) {
	f := s.factor
	now := p.clock()
	if q := f.qr; q != nil && q.ended == "" && !now.Before(q.expires) {
		// "Expired — get a new one": the page was fetched again.
		p.leaveQR(r.Context(), s)
	}
	if f.qr == nil {
		action := "Login"
		if f.stepUp {
			action = "Confirm a security change"
		}
		q, err := p.svc.BeginQRLogin(r.Context(), s.user.ID, p.pushContext(r, action), p.from(r), p.knownClient(r))
		var locked *authn.LockedError
		switch {
		case errors.As(err, &locked):
			s.popNotice()
			p.showLocked(w, s, status, title, v, locked.RetryAfter)
			return
		case errors.Is(err, authn.ErrQRLoginUnavailable):
			f.method = methodChallenge
			s.addWarning("A QR code cannot be shown right now (" + qrUnavailableReason(err) + "). Answer a challenge instead.")
			p.showFactor(w, r, s, status, errMsg)
			return
		case err != nil:
			p.internal(w, s, "begin QR login", err)
			return
		}
		f.qr = &qrLoginState{handle: q.Handle, text: q.Text, number: q.Number, expires: q.ExpiresAt}
	}
	v.Method = methodQR
	qv := qrView{factorView: v, Ended: qrEndedText[f.qr.ended]}
	if f.qr.ended == qrFailed {
		// The same words as for a push: the failure, then the tries left.
		qv.Ended = wrongNumberNote + p.wrongNumberTriesLeft(r, s) + " Get a new code to try again."
	}
	if f.qr.ended == "" {
		qv.Number, qv.Text, qv.Remaining = f.qr.number, f.qr.text, remaining(now, f.qr.expires)
		qv.LeavePage = newLeavePage(f)
	}
	p.render(w, s, status, "factor-qr", view{Title: title, Error: errMsg, D: qv})
}

// qrUnavailableReason is the part of an ErrQRLoginUnavailable the user
// may read (keyline's reasons are safe to show once the password is
// known).
func qrUnavailableReason(err error) string {
	if _, reason, ok := strings.Cut(err.Error(), authn.ErrQRLoginUnavailable.Error()+": "); ok && reason != "" {
		return reason
	}
	return "it could not be started"
}

// leaveQR withdraws the session's QR login, if any (the user chose
// another way, asked for a new code, or signed out), and returns where
// it was: a code still pending is cancelled, which gives its unit of the
// push budget back.
func (p *portal) leaveQR(ctx context.Context, s *session) authn.PushState {
	f := s.factor
	if f == nil || f.qr == nil || s.user == nil {
		return ""
	}
	q := f.qr
	f.qr = nil
	if q.ended != "" {
		return ""
	}
	st, err := p.svc.QRLoginStatus(ctx, s.user.ID, q.handle, 0)
	if err == nil && st == authn.PushPending {
		if err := p.svc.CancelQRLogin(ctx, s.user.ID, q.handle); err == nil {
			st = authn.PushCancelled
		}
	}
	return st
}

// qrImage is the QR code of the session's QR login, while it is live.
func (p *portal) qrImage(w http.ResponseWriter, r *http.Request, s *session) {
	q := s.factor.qr
	if q == nil || q.ended != "" {
		http.NotFound(w, r)
		return
	}
	login, err := enroll.ParseQRLogin(q.text)
	if err != nil {
		p.internal(w, s, "QR login text", err)
		return
	}
	png, err := login.QR(qrSize)
	if err != nil {
		p.internal(w, s, "QR login image", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

// qrStatus tells the page's script where the QR login is: "finish" once
// the phone answered (approved, denied, or the wrong number), or the
// code expired; the finish form says what became of it.
func (p *portal) qrStatus(w http.ResponseWriter, r *http.Request, s *session) {
	q := s.factor.qr
	if q == nil || q.ended != "" {
		writeJSON(w, http.StatusOK, statusReply{State: "none", Action: "reload"})
		return
	}
	st, err := p.svc.QRLoginStatus(r.Context(), s.user.ID, q.handle, 0)
	switch {
	case err != nil:
		writeJSON(w, http.StatusOK, statusReply{State: "unknown", Action: "wait"})
	case st == authn.PushPending:
		writeJSON(w, http.StatusOK, statusReply{State: string(st), Action: "wait", Message: "Waiting for you to scan the code and approve on your phone…"})
	case st == authn.PushApproved:
		writeJSON(w, http.StatusOK, statusReply{State: string(st), Action: "finish", Message: "Approved. Signing you in…"})
	case st == authn.PushFinished:
		writeJSON(w, http.StatusOK, statusReply{State: string(st), Action: "reload"})
	default:
		writeJSON(w, http.StatusOK, statusReply{State: string(st), Action: "finish"})
	}
}

// qrFinish finishes the QR login with the session's handle (posted by
// the page's script once the phone answered, or by Continue).
func (p *portal) qrFinish(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	ctx := r.Context()
	f := s.factor
	q := f.qr
	if q == nil || q.ended != "" {
		redirect(w, r, "/2fa")
		return
	}
	_, _ = p.svc.QRLoginStatus(ctx, s.user.ID, q.handle, pushWait)
	res, err := p.svc.FinishQRLogin(ctx, s.user.ID, q.handle, p.from(r), p.knownClient(r))
	var locked *authn.LockedError
	switch {
	case err == nil:
		f.qr = nil
		p.completeFactor(w, r, s, res)
		return
	case errors.Is(err, authn.ErrPushPending):
		s.warn("Not approved yet: scan the code with the app on your phone, type the number and approve, then continue.")
	case errors.As(err, &locked):
		f.qr = nil // the page says the lock (lockout.go)
	case errors.Is(err, authn.ErrPushDenied):
		f.qr = nil
		p.declined(w, r, s)
		return
	case errors.Is(err, authn.ErrStoreUnavailable):
		p.internal(w, s, "finish QR login", err)
		return
	case errors.Is(err, authn.ErrWrongNumber):
		q.ended = qrFailed
	case errors.Is(err, authn.ErrExpired):
		q.ended = qrExpired
	default:
		q.ended = qrWithdrawn
	}
	redirect(w, r, "/2fa")
}
