package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"
)

// Changing the password (GET and POST /security/password), linked from
// the security page and from the texts of a declined sign-in and a
// declined withdrawal (deny.go): a user who did not ask for what the
// phone was shown learns that someone knows their password.
//
// The change is a security change like the others: with a second
// factor, it takes a fresh step-up. The form is then shown; a form that
// comes back after the step-up lapsed starts a new step-up, which
// returns to the empty form: unlike the other changes, a password is
// never kept in the session to be made later. The current password is
// checked as at sign-in (the same Argon2id work, under the per-address
// sign-in rate limit); the new one is typed twice and must be 12 to 256
// bytes long and differ from the current one. A change signs out every
// other session of the user and renews this one's ID.
//
// A changed password's hash is kept in the data directory, in the file
// "passwords" (mode 0600; the users file's format, username:hash lines),
// which the portal reads at start: its hashes replace those of the users
// file and of the demo users. Removing a user's line there returns to
// the users file's hash. Portals sharing a store do not share the file:
// a password changed at one is changed at the others after a restart
// with a copy of it. A service keeps its accounts in its own database.

// The bounds of a new password, in bytes.
const (
	minPassword = 12
	maxPassword = 256
)

// credentials is a user's password hash, and how many times it changed
// since the portal started.
type credentials struct {
	mu  sync.Mutex
	h   phc
	gen uint64
}

// password returns the user's hash and its generation.
func (u *user) password() (phc, uint64) {
	u.cred.mu.Lock()
	defer u.cred.mu.Unlock()
	return u.cred.h, u.cred.gen
}

// setPassword replaces the hash of generation was by h, and returns the
// new generation; false if it changed meanwhile.
func (u *user) setPassword(h phc, was uint64) (uint64, bool) {
	u.cred.mu.Lock()
	defer u.cred.mu.Unlock()
	if u.cred.gen != was {
		return 0, false
	}
	u.cred.h = h
	u.cred.gen++
	return u.cred.gen, true
}

// passwordView is the data of the change-password page.
type passwordView struct {
	Unlocked       bool // the form is shown: a fresh step-up, or no factor to step up with
	ProofRemaining int
	Min            int
}

func (p *portal) passwordPage(w http.ResponseWriter, r *http.Request, s *session) {
	p.showPassword(w, r, s, http.StatusOK, "")
}

func (p *portal) showPassword(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	if p.again(w, r, s, "/security/password", errMsg) {
		return
	}
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	now := p.clock()
	v := passwordView{Unlocked: !facts.HasFactor(), Min: minPassword}
	if proof := s.freshProof(now, p.proofTTL, proofMargin); proof != nil && facts.HasFactor() {
		v.Unlocked, v.ProofRemaining = true, remaining(now, proof.At.Add(p.proofTTL))
	}
	p.render(w, s, status, "password", view{Title: "Change your password", Error: errMsg, D: v})
}

// passwordChange changes the password, after the checks above.
func (p *portal) passwordChange(w http.ResponseWriter, r *http.Request, s *session) {
	if !p.allow(w, r, s, p.loginLimit) {
		return
	}
	facts, err := p.svc.Factors(r.Context(), s.user.ID)
	if err != nil {
		p.internal(w, s, "factors", err)
		return
	}
	if facts.HasFactor() && s.freshProof(p.clock(), p.proofTTL, proofMargin) == nil {
		// The step-up lapsed under the form: confirm again, then type the
		// passwords again (they are not kept for after the step-up).
		s.proof = nil
		s.factor = &factorState{stepUp: true, next: "/security/password"}
		s.warn("Confirm it's you first, then type your passwords again: nothing was changed.")
		redirect(w, r, "/2fa")
		return
	}
	current, next := r.PostFormValue("current"), r.PostFormValue("new")
	switch {
	case next != r.PostFormValue("again"):
		p.showPassword(w, r, s, http.StatusOK, "The two new passwords are not the same: nothing was changed. Type the new one twice.")
		return
	case utf8.RuneCountInString(next) < minPassword || len(next) > maxPassword:
		p.showPassword(w, r, s, http.StatusOK, "A new password must be at least 12 characters long (and at most 256 bytes): nothing was changed.")
		return
	case next == current:
		p.showPassword(w, r, s, http.StatusOK, "The new password must differ from the current one: nothing was changed.")
		return
	}
	u, gen := p.checkPassword(r.Context(), s.user.Username, current)
	if u != s.user {
		p.log.Warn("portal: password change refused", "event", "portal_password_change_refused", "user", s.user.ID,
			"ip", p.clientIP(r).String())
		p.showPassword(w, r, s, http.StatusOK, "Your current password is wrong: nothing was changed.")
		return
	}
	encoded, h, ok := p.hashNew(r, next)
	if !ok {
		p.fail(w, s, http.StatusServiceUnavailable, "The service is busy; try again in a moment.")
		return
	}
	newGen, err := p.savePassword(u, gen, encoded, h)
	switch {
	case errors.Is(err, errPasswordChanged):
		p.showPassword(w, r, s, http.StatusConflict, "Your password was changed elsewhere meanwhile: nothing was changed here.")
		return
	case err != nil:
		p.log.Error("portal: password not saved", "event", "portal_error", "during", "save password", "user", u.ID, "error", err.Error())
		p.showPassword(w, r, s, http.StatusInternalServerError, "Your new password could not be saved: nothing was changed. Try again later.")
		return
	}
	// A privilege change: the other sessions end (route checks the
	// generation), this one gets a new ID.
	s.pwGen = newGen
	p.sessions.renew(w, s)
	p.log.Info("portal: password changed", "event", "portal_password_changed", "user", u.ID, "ip", p.clientIP(r).String())
	s.tell("Your password was changed. Your other sessions are signed out.")
	redirect(w, r, "/security")
}

// hashNew hashes a new password, bounded as the checks are (each hash
// takes 64 MiB): the PHC string, and the hash parsed.
func (p *portal) hashNew(r *http.Request, password string) (string, phc, bool) {
	select {
	case p.hashSem <- struct{}{}:
	case <-r.Context().Done():
		return "", phc{}, false
	}
	defer func() { <-p.hashSem }()
	encoded := hashPassword(password, p.cfg.Argon)
	h, err := parsePHC(encoded)
	return encoded, h, err == nil
}

// errPasswordChanged reports a password changed by another session
// between the check of the current one and the change.
var errPasswordChanged = errors.New("portal: the password changed meanwhile")

// passwordsFileName is the file of changed passwords, in the data
// directory.
const passwordsFileName = "passwords"

// savePassword makes encoded (h parsed) u's password, if it is still of
// generation was: in the passwords file first, then in memory. It
// returns the new generation.
func (p *portal) savePassword(u *user, was uint64, encoded string, h phc) (uint64, error) {
	p.passwordsMu.Lock()
	defer p.passwordsMu.Unlock()
	if u.passwordGen() != was {
		return 0, errPasswordChanged
	}
	if p.cfg.DataDir != "" {
		if err := writePasswordLine(filepath.Join(p.cfg.DataDir, passwordsFileName), u.Username, encoded); err != nil {
			return 0, err
		}
	}
	gen, ok := u.setPassword(h, was)
	if !ok {
		return 0, errPasswordChanged
	}
	return gen, nil
}

// writePasswordLine sets username's line of the passwords file at path
// to username:encoded, keeping the other lines: the new file is written
// beside it (mode 0600) and renamed over it.
func writePasswordLine(path, username, encoded string) error {
	raw, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if name, _, _ := strings.Cut(strings.TrimSpace(line), ":"); name == username {
			continue
		}
		out.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(&out, "%s:%s\n", username, encoded)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, passwordsFileName+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // once renamed, there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(out.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// loadPasswords gives the users the hashes of the passwords file in
// dir, if there is one. A line for a user the portal does not have (one
// removed from the users file) is ignored.
func loadPasswords(dir string, users map[string]*user) error {
	if dir == "" {
		return nil
	}
	path := filepath.Join(dir, passwordsFileName)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	changed := map[string]*user{}
	if err := parseUsers(raw, changed); err != nil {
		return fmt.Errorf("passwords file %s: %w", path, err)
	}
	for name, c := range changed {
		if u := users[name]; u != nil {
			u.cred.h = c.cred.h
		}
	}
	return nil
}

// passwordGen is the generation of the user's password.
func (u *user) passwordGen() uint64 {
	_, gen := u.password()
	return gen
}
