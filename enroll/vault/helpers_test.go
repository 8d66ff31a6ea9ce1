package vault

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// The activations of these tests, as enroll's own tests make them.
var (
	t0    = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	phone = enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone", Platform: "android", Integrity: enroll.Intact, PushToken: "tok"}
)

// roots remembers the root secret of every credential the helpers make,
// from the server's side of the activation: the phone's credential does
// not show it.
var roots = map[*enroll.Credential]enroll.Secret{}

// activate runs an activation for user-42 at Example Bank; the
// credential is not yet confirmed.
func activate(t *testing.T) (*enroll.Pending, *enroll.Credential, enroll.Request, enroll.Enrollment) {
	t.Helper()
	p, err := enroll.Start("Example Bank", "user-42", enroll.StartOptions{AccountName: "ada@example.com", Now: t0})
	require.NoError(t, err)
	o, err := enroll.ParseOffer(p.Offer().URI()) // as scanned from the QR
	require.NoError(t, err)
	c, req, err := enroll.Activate(o, phone, t0.Add(time.Minute))
	require.NoError(t, err)
	e, err := p.Complete(req, t0.Add(time.Minute))
	require.NoError(t, err)
	roots[c] = e.Secret
	return p, c, req, e
}

// confirmed returns an activated credential the server has confirmed, and
// the server's enrollment.
func confirmed(t testing.TB, issuer, user string) (*enroll.Credential, enroll.Enrollment) {
	t.Helper()
	p, err := enroll.Start(issuer, user, enroll.StartOptions{AccountName: user + "@example.com", Now: t0})
	require.NoError(t, err)
	c, req, err := enroll.Activate(p.Offer(), phone, t0.Add(time.Minute))
	require.NoError(t, err)
	e, err := p.Complete(req, t0.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	roots[c] = e.Secret
	return c, e
}

// rootOf returns the root secret of a credential a helper made.
func rootOf(t *testing.T, c *enroll.Credential) enroll.Secret {
	t.Helper()
	r, ok := roots[c]
	require.True(t, ok, "credential not made by a helper")
	return r
}

// keysOf returns the purpose keys of a credential a helper made.
func keysOf(t *testing.T, c *enroll.Credential) enroll.Keys {
	t.Helper()
	return enroll.DeriveKeys(rootOf(t, c), c.Suite())
}

// cloneCredential returns an independent copy of c, through the encoding
// the vault stores.
func cloneCredential(t *testing.T, c *enroll.Credential) *enroll.Credential {
	t.Helper()
	enc, err := enroll.EncodeCredential(c)
	require.NoError(t, err)
	d, err := enroll.DecodeCredential(enc)
	require.NoError(t, err)
	if r, ok := roots[c]; ok {
		roots[d] = r
	}
	return d
}

// requireSameCredential checks that b works exactly as a does: same
// fields, same encoding (offer, device, device ID, root secret,
// transcript hash, creation time), same answers.
func requireSameCredential(t *testing.T, a, b *enroll.Credential) {
	t.Helper()
	require.Equal(t, a.Issuer(), b.Issuer())
	require.Equal(t, a.User(), b.User())
	require.Equal(t, a.AccountName(), b.AccountName())
	require.Equal(t, a.DeviceID(), b.DeviceID())
	require.Equal(t, a.Suite(), b.Suite())
	require.Equal(t, a.Device(), b.Device())
	require.True(t, a.CreatedAt().Equal(b.CreatedAt()))
	require.Equal(t, a.CreatedAt(), b.CreatedAt())
	require.Equal(t, a.Confirmed(), b.Confirmed())
	require.Equal(t, a.PairingCode(), b.PairingCode())
	require.NotEmpty(t, b.PairingCode())
	ea, err := enroll.EncodeCredential(a)
	require.NoError(t, err)
	eb, err := enroll.EncodeCredential(b)
	require.NoError(t, err)
	require.Equal(t, ea, eb)
	for i, q := range []string{"123456", "000000", "987654", "314159"} {
		at := t0.Add(time.Duration(i) * 17 * time.Minute)
		ra, err := a.Respond(q, at)
		require.NoError(t, err)
		rb, err := b.Respond(q, at)
		require.NoError(t, err)
		require.Equal(t, ra, rb)
	}
}
