package main

import (
	"net/http"

	"github.com/keyline/keyline/authn"
)

// The known-client cookie holds the token a second-factor success gave
// this browser (authn.Result.KnownClient): presented with every login
// call, it gives the browser a lockout budget of its own, so that someone
// typing wrong codes for the user elsewhere does not lock it out.
const (
	knownClientCookie       = "portal_known"
	knownClientCookieSecure = "__Host-portal_known" // the __Host- prefix: Secure, host-only, path /
)

// knownClientSecure reports whether the cookie is Secure: always, unless
// the portal runs as an -insecure-demo over plain HTTP.
func (p *portal) knownClientSecure() bool { return p.cfg.SecureCookies || !p.cfg.InsecureDemo }

func (p *portal) knownClientName() string {
	if p.knownClientSecure() {
		return knownClientCookieSecure
	}
	return knownClientCookie
}

// knownClient is the login option every login call passes: the browser's
// token, if it has one (a missing or bad one is no token).
func (p *portal) knownClient(r *http.Request) authn.LoginOption {
	c, err := r.Cookie(p.knownClientName())
	if err != nil {
		return authn.KnownClient("")
	}
	return authn.KnownClient(authn.KnownClientToken(c.Value))
}

// setKnownClient keeps the token of a second-factor success in the
// browser until it expires: HttpOnly (no script reads it), Secure (unless
// -insecure-demo), SameSite=Lax, for the whole site.
func (p *portal) setKnownClient(w http.ResponseWriter, res authn.Result) {
	if res.KnownClient == "" {
		return
	}
	maxAge := int(res.KnownClientExpires.Sub(p.clock()).Seconds())
	if maxAge <= 0 {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: p.knownClientName(), Value: string(res.KnownClient), Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: p.knownClientSecure(), SameSite: http.SameSiteLaxMode})
}
