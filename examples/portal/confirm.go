package main

import (
	"fmt"
	"net/http"
)

// Confirmations. Revoking a phone and removing the authenticator app
// ask first, on a page of their own (GET, so it works without the
// script): it names what goes, and warns when it is the user's last
// factor (a phone or an authenticator app), after which anyone with the
// password signs in. The page's form posts the change, which takes a
// step-up as before.

// confirmChange is the data of a confirmation page.
type confirmChange struct {
	Text    string // what the change does, naming what goes
	LastOne bool   // the last factor goes
	Action  string // the POST route
	Device  string // the device field, if any
	Button  string
	Back    string
}

func (p *portal) revokeConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	id := r.URL.Query().Get("device")
	for _, d := range facts.Devices {
		if d.ID == id && id != "" {
			p.render(w, s, http.StatusOK, "confirm", view{Title: "Revoke a phone", D: confirmChange{
				Text:    fmt.Sprintf("Revoke “%s”? It will answer nothing any more: no sign-in, no push, no signature.", d.Name),
				LastOne: len(facts.Devices) == 1 && !facts.TOTP, Action: "/security/devices/revoke", Device: d.ID,
				Button: fmt.Sprintf("Revoke “%s”", d.Name), Back: "/security"}})
			return
		}
	}
	s.warn("That phone is no longer there.")
	redirect(w, r, "/security")
}

func (p *portal) totpRemoveConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	if !facts.TOTP {
		redirect(w, r, "/security")
		return
	}
	p.render(w, s, http.StatusOK, "confirm", view{Title: "Remove the authenticator app", D: confirmChange{
		Text:    "Remove the authenticator app? Its codes will sign you in no more.",
		LastOne: len(facts.Devices) == 0, Action: "/security/totp/remove",
		Button: "Remove the authenticator app", Back: "/security"}})
}
