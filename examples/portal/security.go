package main

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/keyline/keyline/authn"
)

// proofMargin: a step-up proof with less than this left is not used for
// a change, so that it does not expire between the page and the store.
const proofMargin = 15 * time.Second

// qrSize is the side of the QR images, in pixels.
const qrSize = 320

// securityView is the data of the security page.
type securityView struct {
	HasFactor      bool // a factor that logs the user in (authn.Factors.HasFactor): changes need a step-up
	Unlocked       bool // changes can be made now
	ProofRemaining int
	Devices        []authn.Device
	Pending        []authn.Device
	PushOn         bool
	PushSuspended  string // for how long, if push is suspended after a denial
	TOTP           bool
	TOTPEnrolling  bool
	RecoveryLeft   int
	Activating     bool
	Used           lastUses // when each factor was last used (lastused.go)
}

func (p *portal) security(w http.ResponseWriter, r *http.Request, s *session) {
	p.showSecurity(w, r, s, http.StatusOK, "")
}

func (p *portal) showSecurity(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if p.again(w, r, s, "/security", errMsg) {
		return
	}
	ctx := r.Context()
	now := p.clock()
	facts, err := p.svc.Factors(ctx, s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	st, err := p.records.User(ctx, s.user.ID, now)
	if err != nil {
		p.internal(w, s, "user state", fmt.Errorf("%w: %w", authn.ErrStoreUnavailable, err))
		return
	}
	v := securityView{HasFactor: facts.HasFactor(), Devices: facts.Devices, Pending: facts.Pending,
		PushOn: !st.PushOff, TOTP: facts.TOTP, TOTPEnrolling: s.totp != nil, RecoveryLeft: facts.RecoveryCodes,
		Activating: s.activation != nil, Used: p.lastUsesOf(s.user.ID, facts.Devices)}
	if now.Before(st.PushSuspended) {
		v.PushSuspended = humanDuration(st.PushSuspended.Sub(now))
	}
	if proof := s.freshProof(now, p.proofTTL, proofMargin); proof != nil {
		v.Unlocked, v.ProofRemaining = true, remaining(now, proof.At.Add(p.proofTTL))
	}
	if !v.HasFactor {
		v.Unlocked = true // the first factor is enrolled on trust
	}
	p.render(w, s, status, "security", view{Title: "Security settings", Error: errMsg, D: v})
}

// stepUp starts a second-factor ceremony that ends with a fresh proof,
// back on the security page, or on the change-password page when its
// form asks (field "next").
func (p *portal) stepUp(w http.ResponseWriter, r *http.Request, s *session) {
	next := "/security"
	if r.PostFormValue("next") == "/security/password" {
		next = "/security/password"
	}
	s.factor = &factorState{stepUp: true, next: next}
	redirect(w, r, "/2fa")
}

// requireProof returns the session's fresh step-up proof, or starts a
// step-up and returns nil (the user then makes the change again).
func (p *portal) requireProof(w http.ResponseWriter, r *http.Request, s *session) *authn.Proof {
	if proof := s.freshProof(p.clock(), p.proofTTL, proofMargin); proof != nil {
		return proof
	}
	s.proof = nil
	s.factor = &factorState{stepUp: true, next: "/security", pending: pendingFrom(r)}
	s.warn("Confirm it's you first: then your change is made.")
	redirect(w, r, "/2fa")
	return nil
}

// proofIfNeeded is requireProof for the changes that need a proof only
// once the user has a factor (the first one is enrolled on trust). ok is
// false when a step-up was started.
func (p *portal) proofIfNeeded(w http.ResponseWriter, r *http.Request, s *session) (proof *authn.Proof, ok bool) {
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return nil, false
	}
	if !facts.HasFactor() {
		return nil, true
	}
	proof = p.requireProof(w, r, s)
	return proof, proof != nil
}

// proofRefused handles ErrProofRequired from the Service: the proof went
// stale between the check and the change.
func (p *portal) proofRefused(w http.ResponseWriter, r *http.Request, s *session) {
	s.proof = nil
	p.requireProof(w, r, s)
}

func (p *portal) activateStart(w http.ResponseWriter, r *http.Request, s *session) {
	proof, ok := p.proofIfNeeded(w, r, s)
	if !ok {
		return
	}
	p.startActivation(w, r, s, proof, "", "")
}

func (p *portal) deviceReplace(w http.ResponseWriter, r *http.Request, s *session) {
	dev, ok := p.formDevice(w, r, s)
	if !ok {
		return
	}
	proof := p.requireProof(w, r, s)
	if proof == nil {
		return
	}
	p.startActivation(w, r, s, proof, dev.ID, dev.Name)
}

// startActivation starts activating a phone (replacing another, if
// replacing is set) and sends the browser to the activation page.
func (p *portal) startActivation(w http.ResponseWriter, r *http.Request, s *session, proof *authn.Proof, replacing, name string) {
	ctx := r.Context()
	if a := s.activation; a != nil {
		_ = p.svc.CancelActivation(ctx, s.user.ID, a.sessionID)
		s.activation = nil
	}
	opts := []authn.ActivationOption{authn.AccountName(s.user.Username)}
	if replacing != "" {
		opts = append(opts, authn.Replacing(replacing))
	}
	offer, err := p.svc.StartActivation(ctx, s.user.ID, proof, opts...)
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case errors.Is(err, authn.ErrNotFound):
		p.showSecurity(w, r, s, http.StatusNotFound, "That phone is no longer there.")
		return
	case err != nil:
		p.internal(w, s, "start activation", err)
		return
	}
	s.activation = &activationState{sessionID: offer.SessionID, expires: offer.ExpiresAt, replacing: replacing, name: name}
	redirect(w, r, "/security/activate")
}

// activateView is the data of the activation page.
type activateView struct {
	State     string // "waiting" or "completed"
	SessionID string
	Remaining int
	Expires   string // RFC 3339, for the local time portal.js writes
	Replacing string // the name of the phone this one replaces
}

func (p *portal) activatePage(w http.ResponseWriter, r *http.Request, s *session) {
	p.showActivation(w, r, s, http.StatusOK, "")
}

func (p *portal) showActivation(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if p.again(w, r, s, "/security/activate", errMsg) {
		return
	}
	a := s.activation
	if a == nil {
		redirect(w, r, "/security")
		return
	}
	st, err := p.svc.ActivationStatus(r.Context(), s.user.ID, a.sessionID)
	if err != nil && !errors.Is(err, authn.ErrUnknownSession) {
		p.internal(w, s, "activation status", err)
		return
	}
	switch st.State {
	case authn.ActivationWaiting, authn.ActivationCompleted:
	case authn.ActivationActive:
		s.activation = nil
		s.tell("Your phone is active.")
		redirect(w, r, "/security")
		return
	case authn.ActivationDiscarded:
		s.activation = nil
		s.warn("Too many wrong pairing codes: that phone was discarded. Start again.")
		redirect(w, r, "/security")
		return
	default: // expired, cancelled, gone
		s.activation = nil
		s.warn("The activation ended before it was paired (it expired or was cancelled). Start again.")
		redirect(w, r, "/security")
		return
	}
	now := p.clock()
	title := "Activate a phone"
	if a.replacing != "" {
		title = "Replace a phone"
	}
	// Once a phone completed it, the activation ends at its pairing
	// deadline rather than at the offer's expiry.
	expires := a.expires
	if !st.ExpiresAt.IsZero() {
		expires = st.ExpiresAt
	}
	p.render(w, s, status, "activate", view{Title: title, Error: errMsg, D: activateView{State: string(st.State), SessionID: a.sessionID,
		Remaining: remaining(now, expires), Expires: expires.UTC().Format(time.RFC3339), Replacing: a.name}})
}

// activateQR serves the QR code of the session's own activation: the
// route takes no ID, so a page can only show the offer its session made.
func (p *portal) activateQR(w http.ResponseWriter, r *http.Request, s *session) {
	a := s.activation
	if a == nil {
		http.NotFound(w, r)
		return
	}
	offer, err := p.svc.Offer(r.Context(), a.sessionID)
	if err != nil {
		// Completed, expired or cancelled: there is nothing to scan.
		http.NotFound(w, r)
		return
	}
	png, err := offer.QR(qrSize)
	if err != nil {
		p.internal(w, s, "activation QR", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

func (p *portal) activateStatus(w http.ResponseWriter, r *http.Request, s *session) {
	a := s.activation
	if a == nil {
		writeJSON(w, http.StatusOK, statusReply{State: "none", Action: "reload"})
		return
	}
	st, err := p.svc.ActivationStatus(r.Context(), s.user.ID, a.sessionID)
	if err != nil {
		writeJSON(w, http.StatusOK, statusReply{State: "unknown", Action: "reload"})
		return
	}
	reply := statusReply{State: string(st.State), Action: "reload"}
	if st.State == authn.ActivationWaiting {
		reply.Action, reply.Message = "wait", "Waiting for your phone…"
	}
	writeJSON(w, http.StatusOK, reply)
}

// activateConfirm pairs the phone with the code it shows.
func (p *portal) activateConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	ctx := r.Context()
	a := s.activation
	if a == nil {
		p.showSecurity(w, r, s, http.StatusConflict, "There is no activation to pair: start one.")
		return
	}
	dev, err := p.svc.ConfirmActivation(ctx, s.user.ID, a.sessionID, stripSpaces(r.PostFormValue("code")))
	switch {
	case err == nil:
		s.activation = nil
		s.tell(fmt.Sprintf("%q is active.", dev.Name))
		if a.replacing != "" {
			s.notice += fmt.Sprintf(" It replaces %q, which is revoked.", a.name)
		}
		p.log.Info("portal: phone paired", "event", "portal_phone_paired", "user", s.user.ID, "device", dev.ID, "replaced", a.replacing)
		redirect(w, r, p.afterFactorAdded(r, s, a.replacing != ""))
	case errors.Is(err, authn.ErrPairingDiscarded):
		s.activation = nil
		s.warn("Too many wrong pairing codes: that phone was discarded. Start again.")
		redirect(w, r, "/security")
	case errors.Is(err, authn.ErrWrongPairingCode):
		msg := "Wrong pairing code. Type the 6 digits your phone shows after the activation."
		if st, serr := p.svc.ActivationStatus(ctx, s.user.ID, a.sessionID); serr == nil && st.State == authn.ActivationCompleted {
			msg += fmt.Sprintf(" Tries left: %d.", st.TriesLeft)
		}
		p.showActivation(w, r, s, http.StatusOK, msg)
	case errors.Is(err, authn.ErrNotFound):
		p.showActivation(w, r, s, http.StatusOK, "No phone has completed this activation yet: scan the QR code (or type the session ID) in the app first.")
	case errors.Is(err, authn.ErrExpired), errors.Is(err, authn.ErrUnknownSession), errors.Is(err, authn.ErrAlreadyUsed):
		s.activation = nil
		s.warn("This activation is over (it expired, was cancelled or was already paired). Start again if you need to.")
		redirect(w, r, "/security")
	default:
		p.internal(w, s, "confirm activation", err)
	}
}

func (p *portal) activateCancel(w http.ResponseWriter, r *http.Request, s *session) {
	if a := s.activation; a != nil {
		_ = p.svc.CancelActivation(r.Context(), s.user.ID, a.sessionID)
		s.activation = nil
		s.tell("Activation cancelled.")
	}
	redirect(w, r, "/security")
}

// formDevice finds the device the form names among the user's own.
func (p *portal) formDevice(w http.ResponseWriter, r *http.Request, s *session) (authn.Device, bool) {
	id := r.PostFormValue("device")
	devs, err := p.svc.Devices(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "devices", err)
		return authn.Device{}, false
	}
	for _, d := range devs {
		if d.ID == id && id != "" {
			return d, true
		}
	}
	p.showSecurity(w, r, s, http.StatusNotFound, "That phone is no longer there.")
	return authn.Device{}, false
}

// validName reports whether a device name is 1 to 64 bytes of printable
// characters.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return false
		}
	}
	return true
}

func (p *portal) deviceRename(w http.ResponseWriter, r *http.Request, s *session) {
	dev, ok := p.formDevice(w, r, s)
	if !ok {
		return
	}
	name := strings.Join(strings.Fields(r.PostFormValue("name")), " ")
	if !validName(name) {
		p.showSecurity(w, r, s, http.StatusOK, "A phone's name is 1 to 64 printable characters.")
		return
	}
	if err := p.svc.RenameDevice(r.Context(), s.user.ID, dev.ID, name); err != nil {
		p.internal(w, s, "rename device", err)
		return
	}
	s.tell(fmt.Sprintf("Renamed %q to %q.", dev.Name, name))
	redirect(w, r, "/security")
}

func (p *portal) deviceRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	dev, ok := p.formDevice(w, r, s)
	if !ok {
		return
	}
	proof := p.requireProof(w, r, s)
	if proof == nil {
		return
	}
	err := p.svc.RevokeDevice(r.Context(), s.user.ID, dev.ID, proof)
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case errors.Is(err, authn.ErrNotFound):
		p.showSecurity(w, r, s, http.StatusNotFound, "That phone is no longer there.")
		return
	case err != nil:
		p.internal(w, s, "revoke device", err)
		return
	}
	p.log.Info("portal: phone revoked", "event", "portal_phone_revoked", "user", s.user.ID, "device", dev.ID)
	s.tell(fmt.Sprintf("%q is revoked: it answers nothing any more.", dev.Name))
	redirect(w, r, "/security")
}

func (p *portal) pushMode(w http.ResponseWriter, r *http.Request, s *session) {
	on := r.PostFormValue("push") == "on"
	var proof *authn.Proof
	if !on { // turning push off is a factor change
		if proof = p.requireProof(w, r, s); proof == nil {
			return
		}
	}
	err := p.svc.SetPush(r.Context(), s.user.ID, on, proof)
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case err != nil:
		p.internal(w, s, "set push", err)
		return
	}
	if on {
		s.tell("Push approval is on.")
	} else {
		s.tell("Push approval is off: you will answer challenges.")
	}
	redirect(w, r, "/security")
}

func (p *portal) totpStart(w http.ResponseWriter, r *http.Request, s *session) {
	proof, ok := p.proofIfNeeded(w, r, s)
	if !ok {
		return
	}
	key, err := p.svc.StartTOTP(r.Context(), s.user.ID, proof, authn.TOTPOptions{AccountName: s.user.Username})
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case errors.Is(err, authn.ErrAlreadyEnrolled):
		p.showSecurity(w, r, s, http.StatusConflict, "You already have an authenticator app: remove it first.")
		return
	case err != nil:
		p.internal(w, s, "start TOTP", err)
		return
	}
	if s.totp != nil {
		s.totp.Zero()
	}
	s.totp = key
	redirect(w, r, "/security/totp")
}

// totpView is the data of the TOTP enrollment page.
type totpView struct {
	Secret string // base32, for typing into the app
}

func (p *portal) totpPage(w http.ResponseWriter, r *http.Request, s *session) {
	p.showTOTP(w, r, s, http.StatusOK, "")
}

func (p *portal) showTOTP(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if p.again(w, r, s, "/security/totp", errMsg) {
		return
	}
	if s.totp == nil {
		redirect(w, r, "/security")
		return
	}
	sec := s.totp.Secret()
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sec)
	sec.Zero()
	p.render(w, s, status, "totp", view{Title: "Add an authenticator app", Error: errMsg, D: totpView{Secret: secret}})
}

func (p *portal) totpQR(w http.ResponseWriter, r *http.Request, s *session) {
	if s.totp == nil {
		http.NotFound(w, r)
		return
	}
	png, err := s.totp.QR(qrSize)
	if err != nil {
		p.internal(w, s, "TOTP QR", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
}

func (p *portal) totpComplete(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.factorLimit) {
		return
	}
	if s.totp == nil {
		redirect(w, r, "/security")
		return
	}
	err := p.svc.ConfirmTOTP(r.Context(), s.user.ID, stripSpaces(r.PostFormValue("code")), p.from(r), p.knownClient(r))
	if err != nil {
		msg, _ := p.codeError(err, totpTexts)
		p.showTOTP(w, r, s, http.StatusOK, msg)
		return
	}
	s.totp.Zero()
	s.totp = nil
	s.tell("Your authenticator app is set up: you can sign in with its codes.")
	redirect(w, r, p.afterFactorAdded(r, s, false))
}

func (p *portal) totpRemove(w http.ResponseWriter, r *http.Request, s *session) {
	proof := p.requireProof(w, r, s)
	if proof == nil {
		return
	}
	err := p.svc.RemoveTOTP(r.Context(), s.user.ID, proof)
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case err != nil && !errors.Is(err, authn.ErrNotFound):
		p.internal(w, s, "remove TOTP", err)
		return
	}
	p.usage.forget(s.user.ID, usedTOTP) // a new app starts unused
	s.tell("Your authenticator app was removed.")
	redirect(w, r, "/security")
}

// recoveryCodes makes a new set and shows it (recovery.go): the page is
// the only place the codes ever appear (the store keeps MACs of them).
func (p *portal) recoveryCodes(w http.ResponseWriter, r *http.Request, s *session) {
	proof := p.requireProof(w, r, s)
	if proof == nil {
		return
	}
	codes, err := p.svc.NewRecoveryCodes(r.Context(), s.user.ID, proof)
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case err != nil:
		p.internal(w, s, "recovery codes", err)
		return
	}
	p.log.Info("portal: recovery codes issued", "event", "portal_recovery_codes", "user", s.user.ID)
	s.recovery = codes
	redirect(w, r, "/security/recovery")
}
