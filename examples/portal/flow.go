package main

import (
	"net/http"
	"net/url"
	"strings"
)

// Post/redirect/get. Every form's answer is a redirect (303) to a page
// fetched with GET: reload and Back never send a form again, and the
// page's script, which reloads a page when a phone has acted, reloads a
// GET. What the answer has to tell that page (an error, the fields to
// show again) waits in the session's flash until the page is shown.
//
// A form that comes back with a token the session no longer has (the
// session expired: a sign-in page left open 16 minutes, a form left idle
// 31 minutes; or it was renewed under the form: a double-click on Sign
// in) does nothing, and is shown again with a note: its fields that are
// safe to keep (never a password or a code) are filled in again, and a
// user who must sign in again comes back to it afterwards. Only a form
// from another origin gets a 403: no person's form comes from there.

// flash is what a form's answer leaves for the next page.
type flash struct {
	err    string     // the error the page shows (#error)
	form   url.Values // fields to fill in again, for the page at formPath
	path   string     // the page form belongs to
	resume string     // where to go once signed in again (a local path)
}

// pendingChange is a change posted while its step-up had lapsed: made,
// as posted, once the step-up succeeds.
type pendingChange struct {
	path string     // the POST route
	form url.Values // its fields, without the CSRF token
}

// keptFields are the fields of a form that are shown again when it
// expired, per page: never a password, a code or a response.
var keptFields = map[string][]string{
	"/login":    {"username"},
	"/withdraw": {"amount", "currency", "to", "memo"},
}

// formPage is the page (GET) that shows the form posted to path, and
// where its outcome is read.
func formPage(path string) string {
	switch {
	case path == "/login" || path == "/logout":
		return "/login"
	case strings.HasPrefix(path, "/2fa"):
		return "/2fa"
	case path == "/security/activate/confirm" || path == "/security/activate/cancel":
		return "/security/activate"
	case path == "/security/totp/complete":
		return "/security/totp"
	case path == "/security/password":
		return "/security/password"
	case strings.HasPrefix(path, "/security"):
		return "/security"
	case path == "/withdraw":
		return "/withdraw"
	case strings.HasPrefix(path, "/withdraw/"):
		return "/withdraw/confirm"
	}
	return "/"
}

// again answers a form post that failed with a redirect to the page at
// path, which shows errMsg. It returns false, doing nothing, for a GET:
// the caller renders the page itself.
func (p *portal) again(w http.ResponseWriter, r *http.Request, s *session, path, errMsg string) bool {
	if r.Method != http.MethodPost {
		return false
	}
	s.flash.err = errMsg
	redirect(w, r, path)
	return true
}

// keep keeps the form's fields that the page at path shows again.
func (s *session) keep(path string, form url.Values) {
	kept := url.Values{}
	for _, k := range keptFields[path] {
		if v := form.Get(k); v != "" {
			kept.Set(k, v)
		}
	}
	s.flash.form, s.flash.path = kept, path
}

// kept returns the fields kept for the page at path, once.
func (s *session) kept(path string) url.Values {
	if s.flash.path != path || s.flash.form == nil {
		return nil
	}
	f := s.flash.form
	s.flash.form, s.flash.path = nil, ""
	return f
}

// popError returns the error a form's answer left, and clears it.
func (s *session) popError() string {
	e := s.flash.err
	s.flash.err = ""
	return e
}

// popResume returns where a user who signed in again goes, or def.
func (s *session) popResume(def string) string {
	next := s.flash.resume
	s.flash.resume = ""
	if next == "" {
		return def
	}
	return next
}

// formExpired answers a form from this site whose token the session no
// longer has, or that came without a session: nothing is done, the form
// is shown again with a note and its kept fields, and a signed-out user
// returns to it after signing in. s is nil when the request had no
// session; one is made.
func (p *portal) formExpired(w http.ResponseWriter, r *http.Request, s *session, why string) {
	p.metrics.csrfRefused.Inc()
	p.log.Info("portal: expired form shown again", "event", "portal_form_expired", "reason", why, "path", r.URL.Path,
		"ip", p.clientIP(r).String())
	if s == nil {
		var err error
		if s, err = p.sessions.create(w); err != nil {
			p.fail(w, nil, http.StatusServiceUnavailable, "The service is busy; try again in a moment.")
			return
		}
		defer s.mu.Unlock()
	}
	page := formPage(r.URL.Path)
	if r.URL.Path == "/logout" {
		// Signing out of a session that is over already: done.
		redirect(w, r, "/login")
		return
	}
	s.keep(page, r.PostForm)
	switch {
	case page == "/login":
		s.warn("The sign-in page had been open too long, so nothing was done. Type your password again.")
	case s.signedIn:
		s.warn("This form had expired, so nothing was done. Check it and send it again.")
	default:
		s.warn("Your session had ended, so nothing was done. Sign in again to go back to the page you were on.")
		if page != "/2fa" && page != "/" {
			s.flash.resume = page
		}
	}
	redirect(w, r, page)
}

// pendingFrom keeps the change r posts, for after a step-up.
func pendingFrom(r *http.Request) *pendingChange {
	form := url.Values{}
	for k, v := range r.PostForm {
		if k != "csrf" {
			form[k] = append([]string(nil), v...)
		}
	}
	return &pendingChange{path: r.URL.Path, form: form}
}

// makePending makes the change a step-up was started for, as if posted
// now (the step-up's own post carried the session's CSRF token). It
// returns false when there is none.
func (p *portal) makePending(w http.ResponseWriter, r *http.Request, s *session, pc *pendingChange) bool {
	if pc == nil {
		return false
	}
	h := p.changes[pc.path]
	if h == nil {
		return false
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path, r2.Form, r2.PostForm = pc.path, pc.form, pc.form
	h(w, r2, s)
	return true
}
