package main

import (
	"errors"
	"net/http"

	"github.com/keyline/keyline/authn"
)

// Deny as a signal. A push the user declined on the phone ends what it
// was for: a sign-in ends, saying so and asking whether it was them (if
// not, someone knows their password, and a link leads to the
// change-password page, password.go); a step-up ends with nothing
// changed; a withdrawal ends, with the same question and link, and is
// not offered again for signing by QR code. While push is suspended after a denial, or off, it is not
// offered among the ways to sign in; the security page lifts a
// suspension after a step-up (authn.Service.ResumePush).

// declinedLogin is what the sign-in page says after a denial, before
// the link to the change-password page (password.go).
const declinedLogin = "You declined this sign-in on your phone. If it wasn't you, someone knows your password:"

// changePasswordLink follows the texts of a denial: a user signed out
// by it signs in first and comes back to the page.
var changePasswordLink = &linkNote{Text: "change it", Href: "/security/password"}

// declined ends the second-factor ceremony whose push was denied.
func (p *portal) declined(w http.ResponseWriter, r *http.Request, s *session) {
	f := s.factor
	if f.stepUp {
		s.factor = nil
		s.warn("You declined the confirmation on your phone: nothing was changed.")
		redirect(w, r, f.next)
		return
	}
	p.log.Info("portal: sign-in declined on the phone", "event", "portal_login_declined", "user", s.user.ID)
	p.endCeremonies(r.Context(), s)
	s.user, s.factor = nil, nil
	s.warn(declinedLogin)
	s.noticeLink = changePasswordLink
	redirect(w, r, "/login")
}

// withdrawalDeclined ends a withdrawal the phone declined.
func (p *portal) withdrawalDeclined(w http.ResponseWriter, r *http.Request, s *session) {
	s.warn("You declined this withdrawal on your phone: nothing was sent. If it wasn't you, someone can sign in as you:")
	s.noticeLink = &linkNote{Text: "change your password", Href: changePasswordLink.Href}
	redirect(w, r, "/withdraw")
}

// pushOffered reports whether push may be offered to the user now: it
// is on and not suspended after a denial. A suspension is said once, on
// the page that first leaves push out.
func (p *portal) pushOffered(r *http.Request, s *session) (bool, error) {
	now := p.clock()
	st, err := p.records.User(r.Context(), s.user.ID, now)
	if err != nil {
		return false, authn.ErrStoreUnavailable
	}
	if st.PushOff {
		return false, nil
	}
	if now.Before(st.PushSuspended) {
		if f := s.factor; f != nil && f.method == "" {
			s.addWarning("Push is paused for " + humanDuration(st.PushSuspended.Sub(now)) +
				" after a request was denied on your phone. Answer a challenge instead.")
		}
		return false, nil
	}
	return true, nil
}

// pushResume lifts a suspension of push, after a step-up.
func (p *portal) pushResume(w http.ResponseWriter, r *http.Request, s *session) {
	proof := p.requireProof(w, r, s)
	if proof == nil {
		return
	}
	err := p.svc.ResumePush(r.Context(), s.user.ID, proof)
	switch {
	case errors.Is(err, authn.ErrProofRequired):
		p.proofRefused(w, r, s)
		return
	case err != nil:
		p.internal(w, s, "resume push", err)
		return
	}
	s.tell("Push approval works again.")
	redirect(w, r, "/security")
}
