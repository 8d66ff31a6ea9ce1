package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Second-factor methods, as the pages and forms name them.
const (
	methodPush      = "push"
	methodChallenge = "challenge"
	methodTOTP      = "totp"
	methodRecovery  = "recovery"
)

// wrongLogin is the one message for an unknown user and a wrong password.
const wrongLogin = "Wrong username or password."

func (p *portal) home(w http.ResponseWriter, r *http.Request, s *session) {
	p.notThere(w, r, s, false)
}

type loginView struct{ Username string }

func (p *portal) loginPage(w http.ResponseWriter, r *http.Request, s *session) {
	if s.signedIn {
		redirect(w, r, "/account")
		return
	}
	p.render(w, s, http.StatusOK, "login", view{Title: "Sign in", D: loginView{Username: s.kept("/login").Get("username")}})
}

// loginPost checks the password. An unknown user and a wrong password
// get the same page, after the same Argon2id work.
func (p *portal) loginPost(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.loginLimit) {
		return
	}
	ip := p.clientIP(r).String()
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	u, gen := p.checkPassword(r.Context(), username, r.PostFormValue("password"))
	if u == nil {
		p.metrics.passwords.WithLabelValues("failed").Inc()
		attrs := []any{"event", "portal_password_failed", "ip", ip}
		if known := p.users[username]; known != nil {
			attrs = append(attrs, "user", known.ID) // never the typed name of an unknown user: it may be a password
		}
		p.log.Warn("portal: wrong username or password", attrs...)
		if len(username) > 64 {
			username = ""
		}
		s.keep("/login", url.Values{"username": {username}})
		p.again(w, r, s, "/login", wrongLogin)
		return
	}
	p.metrics.passwords.WithLabelValues("ok").Inc()
	p.endCeremonies(r.Context(), s)
	// A privilege change: the token from before the password is worth
	// nothing after it.
	p.sessions.renew(w, s)
	s.user, s.pwGen, s.signedIn, s.method, s.proof = u, gen, false, "", nil
	s.factor = &factorState{next: s.popResume("/account")}
	p.log.Info("portal: password accepted", "event", "portal_password_ok", "user", u.ID, "ip", ip)
	redirect(w, r, "/2fa")
}

// checkPassword returns the user whose password this is, or nil, and
// the generation of the password it matched (password.go). Unknown
// users hash against a dummy, so that both answers take as long.
func (p *portal) checkPassword(ctx context.Context, username, password string) (*user, uint64) {
	select {
	case p.hashSem <- struct{}{}:
	case <-ctx.Done():
		return nil, 0
	}
	defer func() { <-p.hashSem }()
	u := p.users[username]
	h, gen := p.dummy, uint64(0)
	if u != nil {
		h, gen = u.password()
	}
	ok := h.matches(password)
	if u == nil || !ok {
		return nil, 0
	}
	return u, gen
}

// endCeremonies withdraws what the session had started: a pending push,
// an activation, a TOTP key not confirmed, a withdrawal.
func (p *portal) endCeremonies(ctx context.Context, s *session) {
	if s.user == nil {
		return
	}
	if f := s.factor; f != nil && f.pushID != "" {
		_ = p.svc.CancelPush(ctx, s.user.ID, f.pushID)
	}
	p.leaveQR(ctx, s)
	if a := s.activation; a != nil {
		_ = p.svc.CancelActivation(ctx, s.user.ID, a.sessionID)
	}
	if wd := s.withdrawal; wd != nil && wd.pushID != "" {
		_ = p.svc.CancelPush(ctx, s.user.ID, wd.pushID)
	}
	if s.totp != nil {
		s.totp.Zero()
	}
	s.factor, s.activation, s.totp, s.withdrawal, s.done = nil, nil, nil, nil, nil
}

func (p *portal) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if s.user != nil {
		p.log.Info("portal: signed out", "event", "portal_logout", "user", s.user.ID)
	}
	p.endCeremonies(r.Context(), s)
	p.sessions.destroy(w, s)
	redirect(w, r, "/login")
}

// factorView is the data of the second-factor pages.
type factorView struct {
	StepUp   bool
	Method   string
	Username string

	PushNumber    string
	PushRemaining int

	Question           string
	ChallengeRemaining int
	Locked             bool

	CanPush, CanChallenge, CanTOTP, CanRecovery bool
	CanQR                                       bool       // log in with a QR code (qrlogin.go)
	PushSpent                                   *pushSpent // the push budget is spent (pushspent.go)
	LeavePage                                   string     // the page token its leave beacon carries (leave.go)
}

// factorPage shows the current second-factor method, starting its
// ceremony (a push, a challenge) when none is live.
func (p *portal) factorPage(w http.ResponseWriter, r *http.Request, s *session) {
	p.showFactor(w, r, s, http.StatusOK, "")
}

func (p *portal) showFactor(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if p.again(w, r, s, "/2fa", errMsg) {
		return
	}
	ctx := r.Context()
	f := s.factor
	facts, err := p.svc.Factors(ctx, s.user.ID, p.knownClient(r))
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	if !facts.HasFactor() {
		if f.stepUp {
			// Nothing to step up with: keyline lets a user without a
			// factor enroll the first one on trust.
			s.factor = nil
			redirect(w, r, f.next)
			return
		}
		// Trust on first use: whoever holds the password of a user with
		// no second factor signs in, and is asked to add one at once.
		p.completeLogin(w, r, s, nil, "You have no second factor yet: activate a phone now.")
		return
	}
	v := factorView{StepUp: f.stepUp, Username: s.user.Username, CanPush: len(facts.Devices) > 0,
		CanChallenge: len(facts.Devices) > 0, CanTOTP: facts.TOTP, CanRecovery: facts.RecoveryCodes > 0, CanQR: len(facts.Devices) > 0}
	if v.CanPush {
		// Push off, or suspended after a denial: not offered (deny.go).
		if v.CanPush, err = p.pushOffered(r, s); err != nil {
			p.internal(w, s, "user state", err)
			return
		}
	}
	if (v.CanPush || v.CanQR) && f.pushID == "" {
		// The budget spent: push is not offered, nor a new QR code
		// (which spends from the same budget), and the page says until
		// when. A QR code already shown stays on its page.
		if v.PushSpent, err = p.pushBudgetSpent(ctx, s.user.ID); err != nil {
			p.internal(w, s, "push budget", err)
			return
		}
		if sp := v.PushSpent; sp != nil {
			sp.Push, sp.QR = v.CanPush, v.CanQR && f.qr == nil
			v.CanPush, v.CanQR = false, !sp.QR && v.CanQR
			if !sp.Push && !sp.QR {
				v.PushSpent = nil // nothing was held back
			}
		}
	}
	if f.method == "" || !methodAvailable(v, f.method) {
		switch {
		case v.CanPush && !f.pushTried:
			f.method = methodPush
		case v.CanChallenge:
			f.method = methodChallenge
		case v.CanTOTP:
			f.method = methodTOTP
		default:
			f.method = methodRecovery
		}
	}
	title := "Second factor"
	if f.stepUp {
		title = "Confirm it's you"
	}
	now := p.clock()
	f.leavePage = "" // set again by the push and QR pages (leave.go)
	if facts.Locked && (f.challengeID == "" || !now.Before(f.challengeExpiry)) {
		// Every way is locked (the lockout counts them all): the page
		// says so once, offers none, and moves on when the lock ends.
		f.challengeID = ""
		s.popError()
		s.popNotice()
		p.showLocked(w, s, status, title, v, facts.LockedFor)
		return
	}
	if f.method == methodQR {
		p.showQR(w, r, s, status, title, errMsg, v)
		return
	}
	if f.method == methodPush && f.pushID == "" {
		action := "Login"
		if f.stepUp {
			action = "Confirm a security change"
		}
		f.pushTried = true
		req, err := p.svc.BeginPush(ctx, s.user.ID, p.pushContext(r, action), p.from(r), p.knownClient(r))
		switch {
		case err == nil:
			f.pushID, f.pushNumber, f.pushExpiry = req.ID, req.Number, req.ExpiresAt
		case errors.Is(err, authn.ErrPushUnavailable):
			// Push is off, suspended after a denial, spent, or no phone
			// could be reached: challenge/response is always there.
			f.method = methodChallenge
			s.addWarning("Push is not available right now (" + pushUnavailableReason(err) + "). Answer a challenge instead.")
		default:
			p.internal(w, s, "begin push", err)
			return
		}
	}
	v.Method = f.method
	switch f.method {
	case methodPush:
		v.PushNumber, v.PushRemaining = f.pushNumber, remaining(now, f.pushExpiry)
		v.LeavePage = newLeavePage(f)
		p.render(w, s, status, "factor-push", view{Title: title, Error: errMsg, D: v})
	case methodChallenge:
		if f.challengeID == "" || !now.Before(f.challengeExpiry) {
			ch, err := p.svc.BeginChallenge(ctx, s.user.ID, p.from(r), p.knownClient(r))
			if errors.Is(err, authn.ErrTooManyChallenges) {
				v.Locked = true
				p.render(w, s, http.StatusTooManyRequests, "factor-challenge", view{Title: title,
					Error: "Too many challenges were asked for. Wait a minute, then reload this page.", D: v})
				return
			}
			if err != nil {
				p.internal(w, s, "begin challenge", err)
				return
			}
			f.challengeID, f.question, f.challengeExpiry = ch.ID, ch.Question, ch.ExpiresAt
		}
		v.Question, v.ChallengeRemaining = f.question, remaining(now, f.challengeExpiry)
		p.render(w, s, status, "factor-challenge", view{Title: title, Error: errMsg, D: v})
	case methodTOTP:
		p.render(w, s, status, "factor-totp", view{Title: title, Error: errMsg, D: v})
	default:
		p.render(w, s, status, "factor-recovery", view{Title: title, Error: errMsg, D: v})
	}
}

// HasOthers reports whether the page offers a way other than its own
// (the "Other ways" section has something in it).
func (v factorView) HasOthers() bool {
	for _, m := range []string{methodPush, methodChallenge, methodTOTP, methodRecovery, methodQR} {
		if m != v.Method && methodAvailable(v, m) {
			return true
		}
	}
	return false
}

func methodAvailable(v factorView, m string) bool {
	switch m {
	case methodPush:
		return v.CanPush
	case methodChallenge:
		return v.CanChallenge
	case methodTOTP:
		return v.CanTOTP
	case methodRecovery:
		return v.CanRecovery
	case methodQR:
		return v.CanQR
	}
	return false
}

// pushUnavailableReason is the part of an ErrPushUnavailable that the
// user may read: why push cannot be used (keyline's reasons are safe to
// show once the password is known).
func pushUnavailableReason(err error) string {
	msg := err.Error()
	if _, reason, ok := strings.Cut(msg, authn.ErrPushUnavailable.Error()+": "); ok {
		if reason == "no device could be notified" {
			return "your phone could not be reached"
		}
		return reason
	}
	return "it could not be started"
}

// factorMethod switches to another method. A push still pending is
// cancelled; the note shown says what became of it, as the server sees
// it (the page's script posts here when the push is denied or expires).
func (p *portal) factorMethod(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	f := s.factor
	m := r.PostFormValue("method")
	switch m {
	case methodPush, methodChallenge, methodTOTP, methodRecovery, methodQR:
	default:
		p.fail(w, s, http.StatusBadRequest, "There is no such second factor.")
		return
	}
	if p.leaveQR(ctx, s) == authn.PushDenied {
		p.declined(w, r, s)
		return
	}
	if f.pushID != "" {
		st, err := p.svc.PushStatus(ctx, s.user.ID, f.pushID, 0)
		if err == nil && st == authn.PushPending {
			if err := p.svc.CancelPush(ctx, s.user.ID, f.pushID); err == nil {
				st = authn.PushCancelled
			}
		}
		if st == authn.PushDenied {
			p.declined(w, r, s)
			return
		}
		s.warn(pushOutcomeNote(st))
		if st == authn.PushFailed {
			s.notice += p.wrongNumberTriesLeft(r, s)
		}
		f.pushID = ""
	}
	if m == methodPush {
		f.pushTried = false // asked for again: a new push
	}
	f.method = m
	redirect(w, r, "/2fa")
}

// wrongNumberNote is what a page says of a push or a QR code answered
// with the wrong number (the tries left follow it: lockout.go).
const wrongNumberNote = "The number typed on the phone was not the one shown here; that counted as a failed attempt."

// pushOutcomeNote says why the page left a push.
func pushOutcomeNote(st authn.PushState) string {
	switch st {
	case authn.PushDenied:
		return "The request was denied on your phone. Answer a challenge instead."
	case authn.PushExpired:
		return "The request on your phone expired. Answer a challenge instead."
	case authn.PushFailed:
		return wrongNumberNote
	case authn.PushUndelivered:
		return "Your phone could not be reached. Answer a challenge instead."
	}
	return ""
}

// factorPushStatus tells the page's script where the push is.
func (p *portal) factorPushStatus(w http.ResponseWriter, r *http.Request, s *session) {
	f := s.factor
	if f.pushID == "" {
		writeJSON(w, http.StatusOK, statusReply{State: "none", Action: "reload"})
		return
	}
	st, err := p.svc.PushStatus(r.Context(), s.user.ID, f.pushID, 0)
	if err != nil {
		writeJSON(w, http.StatusOK, statusReply{State: "unknown", Action: "fallback"})
		return
	}
	writeJSON(w, http.StatusOK, pushReply(st))
}

func pushReply(st authn.PushState) statusReply {
	switch st {
	case authn.PushPending:
		return statusReply{State: string(st), Action: "wait", Message: "Waiting for your approval on the phone…"}
	case authn.PushApproved:
		return statusReply{State: string(st), Action: "finish", Message: "Approved. Signing you in…"}
	case authn.PushFinished:
		return statusReply{State: string(st), Action: "reload"}
	}
	return statusReply{State: string(st), Action: "fallback", Message: pushOutcomeNote(st)}
}

// pushWait is how long finishing a push waits for an answer on its way.
const pushWait = 5 * time.Second

func (p *portal) factorPushFinish(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	ctx := r.Context()
	f := s.factor
	if f.pushID == "" {
		redirect(w, r, "/2fa")
		return
	}
	_, _ = p.svc.PushStatus(ctx, s.user.ID, f.pushID, pushWait)
	res, err := p.svc.FinishPush(ctx, s.user.ID, f.pushID, p.from(r), p.knownClient(r))
	var locked *authn.LockedError
	switch {
	case err == nil:
		f.pushID = ""
		p.completeFactor(w, r, s, res)
		return
	case errors.Is(err, authn.ErrPushPending):
		s.warn("Not approved yet: type the number on your phone and approve, then continue.")
	case errors.As(err, &locked):
		f.pushID, f.method = "", methodChallenge
		s.warn(p.lockedMessage(locked.RetryAfter))
	case errors.Is(err, authn.ErrStoreUnavailable):
		p.internal(w, s, "finish push", err)
		return
	default:
		st, _ := p.svc.PushStatus(ctx, s.user.ID, f.pushID, 0)
		if st == authn.PushDenied {
			p.declined(w, r, s)
			return
		}
		f.pushID, f.method = "", methodChallenge
		s.warn(pushOutcomeNote(st))
		if st == authn.PushFailed {
			s.notice += p.wrongNumberTriesLeft(r, s)
		}
		if s.notice == "" {
			s.warn("The push did not sign you in. Answer a challenge instead.")
		}
	}
	redirect(w, r, "/2fa")
}

// codeTexts are the words a code's error messages use.
type codeTexts struct {
	wrong     string // "Wrong response."
	malformed string // what a well-formed one looks like
	renewed   string // what happens to a challenge that is void
}

var (
	challengeTexts = codeTexts{
		wrong:     "Wrong response. Check the challenge you typed into the phone, and try again.",
		malformed: "Type the 8 digits your phone shows, such as 1234 5678.",
		renewed:   "Here is a new challenge.",
	}
	transactionTexts = codeTexts{
		wrong:     "Wrong response. Scan the code again and type the 8 digits your phone shows.",
		malformed: "Type the 8 digits your phone shows, such as 1234 5678.",
		renewed:   "Start the withdrawal again.",
	}
	totpTexts = codeTexts{
		wrong:     "Wrong code. Type the code your authenticator app shows now.",
		malformed: "Type the 6 digits your authenticator app shows.",
	}
	recoveryTexts = codeTexts{
		wrong:     "Wrong recovery code, or one used before.",
		malformed: "A recovery code is 16 letters and digits, such as ABCD-EFGH-JKMN-PQRS.",
	}
)

// codeError turns an error of FinishChallenge (and of the other checks of
// a code) into the message for the page, following the table of package
// authn: whether the challenge is still live (keep), and what is safe to
// say. A replay reads as a wrong code.
func (p *portal) codeError(err error, t codeTexts) (msg string, keep bool) {
	var locked *authn.LockedError
	switch {
	case errors.As(err, &locked):
		msg = p.lockedMessage(locked.RetryAfter)
		if errors.Is(err, authn.ErrInvalidCode) || errors.Is(err, authn.ErrMalformed) || errors.Is(err, authn.ErrTooManyAttempts) {
			msg = t.wrong + " " + msg
		}
		return msg, false
	case errors.Is(err, authn.ErrMalformed):
		return "That is not a valid code (" + malformedReason(err) + "). " + t.malformed, true
	case errors.Is(err, authn.ErrTooManyAttempts):
		return strings.TrimSpace("Too many tries for this challenge. " + t.renewed), false
	case errors.Is(err, authn.ErrExpired):
		return strings.TrimSpace("The challenge expired. " + t.renewed), false
	case errors.Is(err, authn.ErrInvalidCode):
		return t.wrong, true
	case errors.Is(err, authn.ErrStoreUnavailable):
		return "The service is unavailable right now; try again in a moment.", true
	case errors.Is(err, authn.ErrAddressNotAllowed):
		return addressNotAllowed, false
	}
	p.log.Error("portal: unexpected error checking a code", "event", "portal_error", "error", err.Error())
	return "Something went wrong on our side. " + t.renewed, false
}

// malformedReason is what keyline says is wrong with a malformed code
// (it never repeats the code).
func malformedReason(err error) string {
	_, reason, ok := strings.Cut(err.Error(), challenge.ErrMalformed.Error()+": ")
	if !ok || reason == "" {
		return "not the right shape"
	}
	return reason
}

// lockedMessage says when the user may try again: in relative time,
// which needs no time zone (the second-factor page adds the local time,
// lockout.go).
func (p *portal) lockedMessage(d time.Duration) string {
	return fmt.Sprintf("Too many failed attempts: you can try again in %s.", humanDuration(d))
}

func (p *portal) factorChallenge(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	f := s.factor
	if f.method != methodChallenge || f.challengeID == "" {
		redirect(w, r, "/2fa")
		return
	}
	res, err := p.svc.FinishChallenge(r.Context(), s.user.ID, f.challengeID, stripSpaces(r.PostFormValue("response")), p.from(r), p.knownClient(r))
	if err == nil {
		f.challengeID = ""
		p.completeFactor(w, r, s, res)
		return
	}
	msg, keep := p.codeError(err, challengeTexts)
	msg += p.triesLeft(r, s, err)
	var rs *authn.ResyncError
	switch {
	case errors.As(err, &rs):
		// The phone's clock has drifted: its answer matched far from
		// now. The next challenge, answered exactly, logs in and records
		// the drift.
		f.challengeID, f.question, f.challengeExpiry = rs.Next.ID, rs.Next.Question, rs.Next.ExpiresAt
		msg = "Your phone's clock seems to be off. Once more, with the new challenge below."
		if rs.RetryAfter > 0 {
			msg += " " + p.lockedMessage(rs.RetryAfter)
		}
	case !keep:
		f.challengeID = ""
	}
	p.showFactor(w, r, s, http.StatusOK, msg)
}

func (p *portal) factorTOTP(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	s.factor.method = methodTOTP
	res, err := p.svc.VerifyTOTP(r.Context(), s.user.ID, stripSpaces(r.PostFormValue("code")), p.from(r), p.knownClient(r))
	if err == nil {
		p.completeFactor(w, r, s, res)
		return
	}
	msg, _ := p.codeError(err, totpTexts)
	p.showFactor(w, r, s, http.StatusOK, msg+p.triesLeft(r, s, err))
}

func (p *portal) factorRecovery(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	s.factor.method = methodRecovery
	res, err := p.svc.VerifyRecoveryCode(r.Context(), s.user.ID, r.PostFormValue("code"), p.from(r), p.knownClient(r))
	if err == nil {
		p.completeFactor(w, r, s, res)
		return
	}
	msg, _ := p.codeError(err, recoveryTexts)
	p.showFactor(w, r, s, http.StatusOK, msg+p.triesLeft(r, s, err))
}

// completeFactor ends a second-factor ceremony that succeeded: the login
// is complete, or the step-up proof is fresh.
func (p *portal) completeFactor(w http.ResponseWriter, r *http.Request, s *session, res authn.Result) {
	p.setKnownClient(w, res)
	p.usage.record(res)
	f := s.factor
	if f.stepUp {
		p.sessions.renew(w, s) // a privilege change
		s.factor, s.proof = nil, res.Proof
		p.log.Info("portal: step-up", "event", "portal_step_up", "user", s.user.ID, "method", string(res.Method), "device", res.DeviceID)
		s.tell(fmt.Sprintf("Confirmed. You can change your security settings for the next %s.", humanDuration(p.proofTTL)))
		if p.makePending(w, r, s, f.pending) {
			return
		}
		redirect(w, r, f.next)
		return
	}
	note := ""
	if res.Method == authn.MethodRecovery {
		left := 0
		if facts, err := p.svc.Factors(r.Context(), s.user.ID); err == nil {
			left = facts.RecoveryCodes
		}
		note = fmt.Sprintf("You signed in with a recovery code; %d left. If you lost your phone, replace it below.", left)
	}
	p.completeLogin(w, r, s, &res, note)
}

// completeLogin signs the session in: with a second factor (res), or
// without one for a user who has none yet.
func (p *portal) completeLogin(w http.ResponseWriter, r *http.Request, s *session, res *authn.Result, note string) {
	next, chosen := s.factor.next, s.factor.method
	p.sessions.renew(w, s) // a privilege change
	s.factor, s.signedIn = nil, true
	factor := "none"
	if res != nil {
		s.method, s.proof = res.Method, res.Proof
		factor = string(res.Method)
		if chosen == methodQR && res.Method == authn.MethodPush {
			// keyline finishes a QR login as a push; the portal counts
			// the way the user chose.
			factor = methodQR
		}
	}
	if res == nil || (res.Method == authn.MethodRecovery && next == "/account") {
		next = "/security"
	}
	p.metrics.portalLogins.WithLabelValues(factor).Inc()
	attrs := []any{"event", "portal_login", "user", s.user.ID, "factor", factor, "ip", p.clientIP(r).String()}
	if res != nil && res.DeviceID != "" {
		attrs = append(attrs, "device", res.DeviceID)
	}
	p.log.Info("portal: signed in", attrs...)
	s.warn(note)
	redirect(w, r, next)
}

// pushContext is what the phone shows of the request it is asked to
// approve: the action, the address the server saw (through the trusted
// proxies), and the browser and system in a few words.
func (p *portal) pushContext(r *http.Request, action string) enroll.PushContext {
	return authn.PushContextFrom(r, action, authn.TrustedProxies{Prefixes: p.cfg.TrustedProxies})
}
