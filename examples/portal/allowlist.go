package main

import (
	"net/http"

	"github.com/keyline/keyline/authn"
)

// addressNotAllowed is what a page says when the Service's allowlist
// (-allow) refused the client's address.
const addressNotAllowed = "Signing in from your network address is not allowed."

// from is the client's address as every login call of the portal passes
// it: the connection's peer, or the address a trusted proxy forwarded
// (-trusted-proxy). With -allow, the Service refuses a call from outside
// the networks listed (authn.ErrAddressNotAllowed), before any other
// work, and audits it.
func (p *portal) from(r *http.Request) authn.LoginOption {
	return authn.FromAddr(p.clientIP(r))
}
