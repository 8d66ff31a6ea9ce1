package authn

import "net/netip"

// LoginOption tells one login call about the client it serves: where
// the client connects from and what it presents. Every call that counts
// toward the lockout or starts a login (BeginChallenge, FinishChallenge,
// VerifyTOTP, ConfirmTOTP, VerifyRecoveryCode, BeginPush, FinishPush,
// BeginTransaction, FinishTransaction, BeginTransactionPush) takes them;
// a call given none serves a client the Service knows nothing about.
// AuthenticateDevice takes them too, for the device's address.
type LoginOption func(*loginOptions)

// loginOptions is what the LoginOptions given to one call set.
type loginOptions struct {
	addr netip.Addr // the client's address; the zero Addr: not given
}

// FromAddr tells the call the client's network address, as the server
// determined it: the connection's peer, or the address a trusted proxy
// forwarded. Config.Allow checks it; while an allowlist applies to the
// user, a call without it is refused (ErrAddressNotAllowed).
func FromAddr(a netip.Addr) LoginOption {
	return func(o *loginOptions) { o.addr = a }
}

// resolveLogin applies opts.
func resolveLogin(opts []LoginOption) loginOptions {
	var o loginOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}
