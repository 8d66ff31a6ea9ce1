package authn_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

var (
	office   = netip.MustParsePrefix("10.0.0.0/8")
	inside   = netip.MustParseAddr("10.1.2.3")
	outside  = netip.MustParseAddr("192.0.2.1")
	svcNet   = netip.MustParsePrefix("203.0.113.0/24")
	svcInner = netip.MustParseAddr("203.0.113.9")
)

// policy admits 10.0.0.0/8 for everyone, and 203.0.113.0/24 only for
// the service account "svc".
func policy() authn.AddressPolicy {
	return authn.AddressPolicy{
		Networks: []netip.Prefix{office},
		ForUser: func(_ context.Context, user string) ([]netip.Prefix, bool) {
			if user == "svc" {
				return []netip.Prefix{svcNet}, true
			}
			return nil, false
		},
	}
}

// loginCalls are every call that takes LoginOptions, each made for user
// with opts; the IDs and codes are well formed but arbitrary.
func loginCalls(svc *authn.Service, user string) map[string]func(opts ...authn.LoginOption) error {
	ctx := context.Background()
	pc := enroll.PushContext{Action: "Login"}
	return map[string]func(opts ...authn.LoginOption) error{
		"BeginChallenge": func(o ...authn.LoginOption) error { _, err := svc.BeginChallenge(ctx, user, o...); return err },
		"FinishChallenge": func(o ...authn.LoginOption) error {
			_, err := svc.FinishChallenge(ctx, user, "0123456789abcdef0123456789abcdef", "12345678", o...)
			return err
		},
		"VerifyTOTP":  func(o ...authn.LoginOption) error { _, err := svc.VerifyTOTP(ctx, user, "123456", o...); return err },
		"ConfirmTOTP": func(o ...authn.LoginOption) error { return svc.ConfirmTOTP(ctx, user, "123456", o...) },
		"VerifyRecoveryCode": func(o ...authn.LoginOption) error {
			_, err := svc.VerifyRecoveryCode(ctx, user, "abcd-efgh-ijkm", o...)
			return err
		},
		"BeginPush": func(o ...authn.LoginOption) error { _, err := svc.BeginPush(ctx, user, pc, o...); return err },
		"FinishPush": func(o ...authn.LoginOption) error {
			_, err := svc.FinishPush(ctx, user, "0123456789abcdef0123456789abcdef", o...)
			return err
		},
		"BeginTransaction": func(o ...authn.LoginOption) error {
			_, err := svc.BeginTransaction(ctx, user, withdrawal, o...)
			return err
		},
		"FinishTransaction": func(o ...authn.LoginOption) error {
			_, err := svc.FinishTransaction(ctx, user, "0123456789abcdef0123456789abcdef", "12345678", o...)
			return err
		},
		"BeginTransactionPush": func(o ...authn.LoginOption) error {
			_, err := svc.BeginTransactionPush(ctx, user, withdrawal, pc, o...)
			return err
		},
	}
}

// noStore is a store every call of which panics: a Service on it shows
// that a refused call reached no store (and so unsealed nothing and
// counted nothing).
type noStore struct{ authn.Store }

func TestAllowlistRefusesBeforeAnyStore(t *testing.T) {
	obs := &counter{}
	svc, err := authn.New(authn.Config{Hot: noStore{}, Records: noStore{}, Keys: newKeyring(t), Issuer: "Example Bank",
		Logger: slog.New(slog.DiscardHandler), Observer: obs, Allow: policy()})
	require.NoError(t, err)
	t.Cleanup(func() { obs.checkDeclared(t) })
	n := 0
	for _, user := range []string{"alice", "svc"} {
		for name, call := range loginCalls(svc, user) {
			for _, opts := range [][]authn.LoginOption{nil, {authn.FromAddr(outside)}, {authn.FromAddr(netip.Addr{})}} {
				err := call(opts...)
				require.ErrorIs(t, err, authn.ErrAddressNotAllowed, "%s of %s with %d options", name, user, len(opts))
				require.ErrorIs(t, err, keyline.ErrAddressNotAllowed)
				n++
			}
			// The service account's network is not the others', nor the reverse.
			other := inside
			if user != "svc" {
				other = svcInner
			}
			require.ErrorIs(t, call(authn.FromAddr(other)), authn.ErrAddressNotAllowed, "%s of %s from %v", name, user, other)
			n++
		}
	}
	require.Equal(t, n, obs.n(string(authn.EventAddressRefused)))
	// The device API: refused before the device is looked up.
	r := enroll.APIRequest{Method: "GET", Path: "/v1/pushes", User: "alice", DeviceID: "0123456789abcdef0123456789abcdef",
		Nonce: make([]byte, enroll.APINonceSize)}
	r.Time = time.Now() // the Service's clock
	for _, opts := range [][]authn.LoginOption{nil, {authn.FromAddr(outside)}} {
		_, err := svc.AuthenticateDevice(context.Background(), r, make([]byte, 32), authn.DeviceLimit{}, opts...)
		require.ErrorIs(t, err, authn.ErrAddressNotAllowed)
	}
}

func TestAllowlistAdmits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *authn.Config) { c.Allow = policy() })
	p, _ := e.enrollPhone(t, "alice", nil)
	svcPhone, _ := e.enrollPhone(t, "svc", nil)

	login := func(user string, p *phone, from netip.Addr) error {
		ch, err := e.svc.BeginChallenge(ctx, user, authn.FromAddr(from))
		if err != nil {
			return err
		}
		_, err = e.svc.FinishChallenge(ctx, user, ch.ID, p.respond(t, ch.Question), authn.FromAddr(from))
		return err
	}
	require.NoError(t, login("alice", p, inside))
	// An IPv4 address mapped into IPv6, or with a zone, is the same address.
	require.NoError(t, login("alice", p, netip.MustParseAddr("::ffff:10.1.2.3")))
	require.NoError(t, login("svc", svcPhone, svcInner))

	// Refusals count no failure: an attacker outside cannot lock the user out.
	for range 2 * authn.DefaultMaxFailures {
		require.ErrorIs(t, login("alice", p, outside), authn.ErrAddressNotAllowed)
	}
	st, err := e.svc.Operator("test").LockState(ctx, "alice")
	require.NoError(t, err)
	require.Zero(t, st.Failures)
	require.NoError(t, login("alice", p, inside))
	require.Equal(t, 2*authn.DefaultMaxFailures, e.obs.n(string(authn.EventAddressRefused)))

	// The device API, with the address of the request.
	r, mac := signed(t, p.cred, "GET", "/v1/pushes", "", nil, e.clock.Now())
	_, err = e.svc.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{})
	require.ErrorIs(t, err, authn.ErrAddressNotAllowed, "no address: refused (fail closed)")
	_, err = e.svc.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{}, authn.FromAddr(outside))
	require.ErrorIs(t, err, authn.ErrAddressNotAllowed)
	d, err := e.svc.AuthenticateDevice(ctx, r, mac, authn.DeviceLimit{}, authn.FromAddr(inside))
	require.NoError(t, err)
	require.Equal(t, "alice", d.Device().User)
}

// Without a policy, a call needs no address; a policy that lists no
// network for a user admits nobody.
func TestAllowlistOff(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(c *authn.Config) {
		c.Allow.ForUser = func(_ context.Context, user string) ([]netip.Prefix, bool) { return nil, user == "frozen" }
	})
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	_, err = e.svc.BeginChallenge(ctx, "frozen", authn.FromAddr(inside))
	require.ErrorIs(t, err, authn.ErrAddressNotAllowed)
}

func TestAllowlistConfig(t *testing.T) {
	_, err := authn.New(authn.Config{Hot: noStore{}, Records: noStore{}, Keys: newKeyring(t), Issuer: "Example Bank",
		Allow: authn.AddressPolicy{Networks: []netip.Prefix{office, {}}}})
	require.ErrorIs(t, err, authn.ErrInvalidConfig)
	require.ErrorContains(t, err, "Allow.Networks")
	require.False(t, errors.Is(err, authn.ErrAddressNotAllowed))
}
