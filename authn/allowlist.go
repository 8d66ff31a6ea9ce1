package authn

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/keyline/keyline"
)

// ErrAddressNotAllowed reports a login call or a device API request from
// a network address that Config.Allow does not admit for the user, or
// one that gave no address (FromAddr) while an allowlist applies. It is
// [keyline.ErrAddressNotAllowed]; its text is safe to show.
var ErrAddressNotAllowed = keyline.ErrAddressNotAllowed

// AddressPolicy is an IP allowlist: the networks a user's logins and
// device API requests may come from, the habit of brokerages for
// server-to-server access (an account used by a trading system may log
// in from its data centre only). The zero value allows every address.
//
// The check runs first in every login call (BeginChallenge,
// FinishChallenge, VerifyTOTP, ConfirmTOTP, VerifyRecoveryCode,
// BeginPush, FinishPush, BeginTransaction, FinishTransaction,
// BeginTransactionPush) and in AuthenticateDevice, after the user ID is
// validated and before any secret work: no store is read, no secret
// unsealed and no MAC computed for a refused call, and nothing is
// counted (a refusal is not a failure toward the lockout, so an attacker
// outside the allowed networks cannot lock the user out either). A
// refusal is audited (EventAddressRefused, with the address) and
// answered with ErrAddressNotAllowed.
//
// It fails closed: while a policy applies to the user, a call that does
// not give the client's address (FromAddr) is refused, with the reason
// ReasonNoAddress, so that a handler that forgets the address is noticed
// at its first test rather than letting every address in.
//
// The Service believes the address it is given: behind a reverse proxy,
// the caller must take it from the proxy's header only when the
// connection comes from a proxy it trusts.
type AddressPolicy struct {
	// Networks, when not empty, are the networks every user may come
	// from, unless ForUser gives the user networks of their own.
	Networks []netip.Prefix
	// ForUser, when set, returns the networks of one user (a service
	// account, say) and whether the user has a policy of their own: if
	// so it replaces Networks for that user (an empty list then admits no
	// address at all). It is called on every login call and device API
	// request, before the store is read: keep it quick and in memory. A
	// policy per user tells who has one; Networks alone tells nothing.
	ForUser func(ctx context.Context, user string) (networks []netip.Prefix, ok bool)
}

// resolve validates the policy's networks and masks them.
func (p AddressPolicy) resolve() (AddressPolicy, error) {
	nets := make([]netip.Prefix, 0, len(p.Networks))
	for i, n := range p.Networks {
		if !n.IsValid() {
			return p, invalid("Allow.Networks", "entry %d is not a valid prefix", i)
		}
		nets = append(nets, n.Masked())
	}
	p.Networks = nets
	return p, nil
}

// networks returns the networks that apply to user, and whether any
// policy applies at all.
func (p AddressPolicy) networks(ctx context.Context, user string) ([]netip.Prefix, bool) {
	if p.ForUser != nil {
		if nets, ok := p.ForUser(ctx, user); ok {
			return nets, true
		}
	}
	return p.Networks, len(p.Networks) > 0
}

// allowed reports whether a is in one of nets (a prefix that is not
// valid matches nothing). IPv4-mapped IPv6 addresses are read as IPv4,
// and zones are dropped.
func allowed(nets []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, n := range nets {
		if n.IsValid() && n.Masked().Contains(a) {
			return true
		}
	}
	return false
}

// admit is the gate of every login call: the user ID is valid, and the
// client's address (opts) is allowed for the user. It does no secret
// work and reads no store.
func (s *Service) admit(ctx context.Context, m Method, user string, opts []LoginOption) error {
	if err := checkUser(user); err != nil {
		return err
	}
	return s.admitAddress(ctx, m, user, "", resolveLogin(opts).addr)
}

// admitAddress applies Config.Allow to a call of user's (of the device
// deviceID, for the device API) from addr (the zero Addr: not given).
func (s *Service) admitAddress(ctx context.Context, m Method, user, deviceID string, addr netip.Addr) error {
	nets, on := s.cfg.Allow.networks(ctx, user)
	if !on {
		return nil
	}
	e := Event{Name: EventAddressRefused, Method: m, User: user, Device: deviceID}
	if !addr.IsValid() {
		e.Reason = ReasonNoAddress
		s.emit(ctx, e)
		return fmt.Errorf("authn: %w: the call gave no client address (FromAddr) and an allowlist applies", ErrAddressNotAllowed)
	}
	if allowed(nets, addr) {
		return nil
	}
	e.Reason, e.Addr = ReasonAddressNotAllowed, addr.Unmap().WithZone("")
	s.emit(ctx, e)
	return ErrAddressNotAllowed
}
