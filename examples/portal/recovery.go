package main

import (
	"fmt"
	"net/http"
	"strings"
)

// Recovery codes are shown once: POST /security/recovery makes a set and
// keeps it in the session, GET /security/recovery shows it (a reload
// shows the same set, never a new one), with copy, print and a download
// (GET /security/recovery/codes.txt), until the user says they saved them
// (POST /security/recovery/saved), which forgets them. Without a set in
// the session the page offers to make one: the portal sends a user there
// right after their first factor is added.

// recoveryView is the data of the recovery codes page.
type recoveryView struct {
	Codes []string // the set just made; none: the page offers to make one
	Left  int      // unused codes of the set in the store
}

func (p *portal) recoveryPage(w http.ResponseWriter, r *http.Request, s *session) {
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	if !facts.HasFactor() {
		redirect(w, r, "/security") // recovery codes stand in for a factor there is none of
		return
	}
	p.render(w, s, http.StatusOK, "recovery-codes", view{Title: "Your recovery codes",
		D: recoveryView{Codes: s.recovery, Left: facts.RecoveryCodes}})
}

// recoveryFile serves the set just made as a text file to keep.
func (p *portal) recoveryFile(w http.ResponseWriter, r *http.Request, s *session) {
	if s.recovery == nil {
		http.NotFound(w, r)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s recovery codes for %s\n", p.cfg.Issuer, s.user.Username)
	b.WriteString("Each signs you in once, without your phone. Keep them somewhere safe.\n\n")
	for _, c := range s.recovery {
		b.WriteString(c + "\n")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="recovery-codes.txt"`)
	_, _ = w.Write([]byte(b.String()))
}

// recoverySaved forgets the set just made: the user saved it.
func (p *portal) recoverySaved(w http.ResponseWriter, r *http.Request, s *session) {
	if s.recovery != nil {
		s.recovery = nil
		s.tell("Your recovery codes are saved. Each works once; make new ones when few are left.")
	}
	redirect(w, r, "/security")
}

// afterFactorAdded is where a user goes once a factor is added (one
// that replaces another when replacing is set): to the offer of recovery
// codes when it is their first factor and they have no codes, else to
// the security page.
func (p *portal) afterFactorAdded(r *http.Request, s *session, replacing bool) string {
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	factors := len(facts.Devices)
	if facts.TOTP {
		factors++
	}
	if err == nil && !replacing && factors == 1 && facts.RecoveryCodes == 0 && s.recovery == nil {
		return "/security/recovery"
	}
	return "/security"
}
