package enroll

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// confirmed returns an activated credential the server has confirmed, and
// the server's enrollment.
func confirmed(t testing.TB, issuer, user string) (*Credential, Enrollment) {
	t.Helper()
	p, err := Start(issuer, user, StartOptions{AccountName: user + "@example.com", Now: t0})
	require.NoError(t, err)
	c, req, err := Activate(p.Offer(), phone, t0.Add(time.Minute))
	require.NoError(t, err)
	e, err := p.Complete(req, t0.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	return c, e
}

// requireSameCredential checks that b works exactly as a does: same
// fields, same keys, same answers.
func requireSameCredential(t *testing.T, a, b *Credential) {
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
	require.Equal(t, a.offer, b.offer)
	require.Equal(t, a.th, b.th)
	require.True(t, bytes.Equal(a.root, b.root))
	require.Equal(t, a.keys, b.keys)
	for i, q := range []string{"123456", "000000", "987654", "314159"} {
		at := t0.Add(time.Duration(i) * 17 * time.Minute)
		ra, err := a.Respond(q, at)
		require.NoError(t, err)
		rb, err := b.Respond(q, at)
		require.NoError(t, err)
		require.Equal(t, ra, rb)
	}
}

func TestCredentialCodecRoundTrip(t *testing.T) {
	c, _ := confirmed(t, "Example Bank", "user-42")
	enc := appendCredential(nil, c)
	d, err := decodeCredential(enc)
	require.NoError(t, err)
	requireSameCredential(t, c, d)

	// The decoded credential shares no memory with the encoding.
	clear(enc)
	requireSameCredential(t, c, d)

	// A credential with an attestation and a creation time with
	// nanoseconds keeps them.
	dev := phone
	dev.Attestation = []byte("attestation-token")
	p, err := Start("Example Bank", "user-7", StartOptions{Now: t0})
	require.NoError(t, err)
	at := t0.Add(1234567891 * time.Nanosecond)
	c2, req, err := Activate(p.Offer(), dev, at)
	require.NoError(t, err)
	e2, err := p.Complete(req, at)
	require.NoError(t, err)
	require.NoError(t, c2.CheckServerConfirm(e2.ServerConfirm))
	d2, err := decodeCredential(appendCredential(nil, c2))
	require.NoError(t, err)
	requireSameCredential(t, c2, d2)
	require.Equal(t, []byte("attestation-token"), d2.Device().Attestation)
	require.Equal(t, 234567891, d2.CreatedAt().Nanosecond())
}

// The codec lists Credential's fields one by one: a field added to
// Credential, Offer or DeviceInfo must be added to it too, or a vault
// would drop it silently. This test fails first.
func TestCredentialCodecCoversEveryField(t *testing.T) {
	require.Equal(t, 8, reflect.TypeFor[Credential]().NumField(), "Credential changed: update credential_codec.go")
	require.Equal(t, 7, reflect.TypeFor[Offer]().NumField(), "Offer changed: update credential_codec.go")
	require.Equal(t, 6, reflect.TypeFor[DeviceInfo]().NumField(), "DeviceInfo changed: update credential_codec.go")
	require.Equal(t, 5, reflect.TypeFor[Keys]().NumField(), "Keys changed: update cloneCredential")
}

func TestCredentialCodecRefusesDamage(t *testing.T) {
	c, _ := confirmed(t, "Example Bank", "user-42")
	enc := appendCredential(nil, c)
	for n := range len(enc) {
		_, err := decodeCredential(enc[:n])
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
	}
	_, err := decodeCredential(append(bytes.Clone(enc), 0))
	require.ErrorIs(t, err, ErrCorrupt)
	for i := range enc {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(enc)
			b[i] ^= bit
			d, err := decodeCredential(b)
			if err != nil {
				require.ErrorIs(t, err, ErrCorrupt, "byte %d", i)
				continue
			}
			// The codec checks structure; authenticity is the vault's
			// AEAD. What decodes is still a valid credential.
			require.NoError(t, d.offer.validate())
			require.NoError(t, d.device.validate())
			require.True(t, isDeviceID(d.deviceID))
		}
	}
	// The session ID and server key are tied: a credential cannot be
	// given another server key.
	b := bytes.Clone(enc)
	i := bytes.Index(b, c.offer.ServerKey)
	require.Positive(t, i)
	b[i] ^= 1
	_, err = decodeCredential(b)
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestCredentialCodecRefusesBadFields(t *testing.T) {
	c, _ := confirmed(t, "Example Bank", "user-42")
	for name, alter := range map[string]func(*Credential){
		"upper-case device ID": func(c *Credential) { c.deviceID = strings.ToUpper(c.deviceID) },
		"short device ID":      func(c *Credential) { c.deviceID = c.deviceID[:30] },
		"short root":           func(c *Credential) { c.root = c.root[:31] },
		"bad integrity":        func(c *Credential) { c.device.Integrity = 9 },
		"no install ID":        func(c *Credential) { c.device.InstallID = "" },
		"control in issuer":    func(c *Credential) { c.offer.Issuer = "Bank\n" },
	} {
		d := cloneCredential(c)
		alter(d)
		_, err := decodeCredential(appendCredential(nil, d))
		require.ErrorIs(t, err, ErrCorrupt, name)
	}
	enc := appendCredential(nil, c)
	enc[0] = 2
	_, err := decodeCredential(enc)
	require.ErrorIs(t, err, ErrCorrupt)
	require.Contains(t, err.Error(), "version")
}

// The largest credential Activate accepts fits MaxCredentialSize, so that a
// vault full of them still opens.
func TestCredentialCodecLargest(t *testing.T) {
	long := strings.Repeat("x", maxTextLen)
	p, err := Start(long, long, StartOptions{AccountName: long, Now: t0})
	require.NoError(t, err)
	dev := DeviceInfo{
		InstallID:   strings.Repeat("i", 128),
		Name:        strings.Repeat("n", 128),
		Platform:    strings.Repeat("p", 64),
		Integrity:   Intact,
		Attestation: bytes.Repeat([]byte{0xa5}, 64<<10),
		PushToken:   strings.Repeat("t", 4096),
	}
	c, req, err := Activate(p.Offer(), dev, t0)
	require.NoError(t, err)
	e, err := p.Complete(req, t0)
	require.NoError(t, err)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	enc := appendCredential(nil, c)
	require.LessOrEqual(t, len(enc), MaxCredentialSize)
	d, err := decodeCredential(enc)
	require.NoError(t, err)
	requireSameCredential(t, c, d)
}

func TestCloneCredentialIsIndependent(t *testing.T) {
	c, _ := confirmed(t, "Example Bank", "user-42")
	d := cloneCredential(c)
	requireSameCredential(t, c, d)
	d.Zero()
	_, err := d.Respond("123456", t0)
	require.ErrorIs(t, err, ErrUnconfirmed)
	require.NotEqual(t, make([]byte, 32), []byte(c.root))
	_, err = c.Respond("123456", t0)
	require.NoError(t, err)
}

func FuzzDecodeCredential(f *testing.F) {
	c, _ := confirmed(f, "Example Bank", "user-42")
	enc := appendCredential(nil, c)
	f.Add(enc)
	f.Add(enc[:len(enc)/2])
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeCredential(b)
		if err != nil {
			require.Nil(t, d)
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		// What decodes encodes back to the same bytes.
		require.Equal(t, b, appendCredential(nil, d))
	})
}

// EncodeCredential is the codec's exported face: a confirmed credential
// only, and DecodeCredential reads it back whole.
func TestEncodeCredential(t *testing.T) {
	_, unconfirmed, _, _ := activate(t)
	_, err := EncodeCredential(unconfirmed)
	require.ErrorIs(t, err, ErrUnconfirmed)
	_, err = EncodeCredential(nil)
	require.ErrorIs(t, err, ErrUnconfirmed)

	c, _ := confirmed(t, "Example Bank", "user-42")
	enc, err := EncodeCredential(c)
	require.NoError(t, err)
	require.Equal(t, appendCredential(nil, c), enc)
	require.LessOrEqual(t, len(enc), MaxCredentialSize)
	d, err := DecodeCredential(enc)
	require.NoError(t, err)
	requireSameCredential(t, c, d)
	_, err = DecodeCredential(enc[:len(enc)-1])
	require.ErrorIs(t, err, ErrCorrupt)

	c.Zero()
	_, err = EncodeCredential(c)
	require.ErrorIs(t, err, ErrUnconfirmed)
}
