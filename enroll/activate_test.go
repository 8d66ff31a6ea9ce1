package enroll

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

var phone = DeviceInfo{InstallID: "install-1", Name: "Ada's phone", Platform: "android", Integrity: Intact, PushToken: "tok"}

func activate(t *testing.T) (*Pending, *Credential, Request, Enrollment) {
	t.Helper()
	p, err := Start("Example Bank", "user-42", StartOptions{AccountName: "ada@example.com", Now: t0})
	require.NoError(t, err)
	o, err := ParseOffer(p.Offer().URI()) // as scanned from the QR
	require.NoError(t, err)
	c, req, err := Activate(o, phone, t0.Add(time.Minute))
	require.NoError(t, err)
	e, err := p.Complete(req, t0.Add(time.Minute))
	require.NoError(t, err)
	return p, c, req, e
}

func TestActivationRoundTrip(t *testing.T) {
	_, c, _, e := activate(t)
	require.False(t, c.Confirmed())
	require.Equal(t, "", c.PairingCode())
	_, err := c.Respond("123457", t0)
	require.ErrorIs(t, err, ErrUnconfirmed)

	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	require.True(t, c.Confirmed())
	require.Equal(t, e.Device.ID, c.DeviceID())
	require.Len(t, e.Device.ID, 32)
	require.Equal(t, e.PairingCode(), c.PairingCode())
	require.Len(t, c.PairingCode(), 6)
	require.Equal(t, "user-42", e.Device.User)
	require.Equal(t, "install-1", e.Device.InstallID)
	require.Equal(t, challenge.Default, e.Device.Suite)

	// Both sides hold the same keys: the phone's response verifies with
	// the server's OCRA key.
	keys := DeriveKeys(e.Secret, e.Device.Suite)
	require.True(t, bytes.Equal(c.keys.OCRA, keys.OCRA))
	require.True(t, bytes.Equal(c.root, e.Secret))
	v, err := challenge.NewVerifier(e.Device.Suite, keys.OCRA)
	require.NoError(t, err)
	q := e.Device.Suite.NewQuestion()
	at := t0.Add(2 * time.Minute)
	resp, err := c.Respond(q, at)
	require.NoError(t, err)
	_, err = v.Verify(challenge.Input{Question: q, Time: at}, resp, challenge.Window{Behind: 1, Ahead: 1})
	require.NoError(t, err)
}

func TestPurposeKeysDiffer(t *testing.T) {
	root := Secret(bytes.Repeat([]byte{7}, 32))
	k := DeriveKeys(root, challenge.Default)
	all := []Secret{root, k.OCRA, k.Push, k.Server, k.API, k.Pair}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			require.False(t, bytes.Equal(all[i], all[j]), "keys %d and %d", i, j)
		}
	}
	require.Equal(t, k.OCRA, OCRAKey(root, challenge.Default))
	require.Len(t, DeriveKeys(root, challenge.MustParseSuite("OCRA-1:HOTP-SHA1-8:QN06-T30S")).OCRA, 20)
	require.Len(t, DeriveKeys(root, challenge.MustParseSuite("OCRA-1:HOTP-SHA512-8:QN06-T30S")).OCRA, 64)
}

func TestCompleteErrors(t *testing.T) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	require.NoError(t, err)
	o := p.Offer()
	_, req, err := Activate(o, phone, t0)
	require.NoError(t, err)

	_, err = p.Complete(req, o.ExpiresAt)
	require.ErrorIs(t, err, ErrExpired)

	other, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	require.NoError(t, err)
	_, err = other.Complete(req, t0)
	require.ErrorIs(t, err, ErrWrongSession)

	bad := req
	bad.Confirm = bytes.Clone(req.Confirm)
	bad.Confirm[0] ^= 1
	_, err = p.Complete(bad, t0)
	require.ErrorIs(t, err, ErrBadConfirmation)

	// The phone's self-description is bound: changing it breaks the MAC.
	bad = req
	bad.Device.Name = "Mallory's phone"
	_, err = p.Complete(bad, t0)
	require.ErrorIs(t, err, ErrBadConfirmation)

	bad = req
	bad.DeviceKey = bytes.Clone(req.DeviceKey)
	bad.DeviceKey[3] ^= 0x40
	_, err = p.Complete(bad, t0)
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrBadConfirmation) || errors.Is(err, ErrInvalidRequest))

	rooted := phone
	rooted.Integrity = Rooted
	_, rreq, err := Activate(o, rooted, t0)
	require.NoError(t, err)
	_, err = p.Complete(rreq, t0)
	require.ErrorIs(t, err, ErrDeviceIntegrity)

	bad = req
	bad.OfferHash = make([]byte, 32)
	_, err = p.Complete(bad, t0)
	require.ErrorIs(t, err, ErrOfferMismatch)

	_, err = p.Complete(Request{SessionID: req.SessionID}, t0)
	require.ErrorIs(t, err, ErrInvalidRequest)

	p.Zero()
	_, err = p.Complete(req, t0)
	require.ErrorIs(t, err, ErrAlreadyUsed)
}

// An offer altered on the way (any field) never yields a working
// activation; the server reports it as ErrOfferMismatch.
func TestAlteredOffer(t *testing.T) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	require.NoError(t, err)
	alter := []func(o *Offer){
		func(o *Offer) { o.Issuer = "Evil Bank" },
		func(o *Offer) { o.User = "user-43" },
		func(o *Offer) { o.AccountName = "someone else" },
		func(o *Offer) { o.Suite = challenge.MustParseSuite("OCRA-1:HOTP-SHA1-6:QN06-T30S") },
		func(o *Offer) { o.ExpiresAt = o.ExpiresAt.Add(time.Hour) },
	}
	for i, f := range alter {
		o := p.Offer()
		f(&o)
		_, req, err := Activate(o, phone, t0)
		require.NoError(t, err, "alteration %d", i)
		_, err = p.Complete(req, t0)
		require.ErrorIs(t, err, ErrOfferMismatch, "alteration %d", i)
	}
	// A substituted key no longer hashes to the session ID: the phone
	// refuses it.
	attacker, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	require.NoError(t, err)
	o := p.Offer()
	o.ServerKey = attacker.Offer().ServerKey
	_, _, err = Activate(o, phone, t0)
	require.ErrorIs(t, err, ErrOfferMismatch)
	require.ErrorIs(t, o.Check(p.SessionID()), ErrOfferMismatch)
	require.NoError(t, p.Offer().Check(p.SessionID()))
}

func TestServerConfirmRefused(t *testing.T) {
	_, c, _, e := activate(t)
	bad := bytes.Clone(e.ServerConfirm)
	bad[len(bad)-1] ^= 1
	require.ErrorIs(t, c.CheckServerConfirm(bad), ErrBadServerConfirmation)
	bad = bytes.Clone(e.ServerConfirm)
	bad[0] ^= 1 // another device ID
	require.ErrorIs(t, c.CheckServerConfirm(bad), ErrBadServerConfirmation)
	require.ErrorIs(t, c.CheckServerConfirm(e.ServerConfirm[:10]), ErrBadServerConfirmation)
	require.False(t, c.Confirmed())
	// Another activation's confirmation does not fit this credential.
	_, _, _, e2 := activate(t)
	require.ErrorIs(t, c.CheckServerConfirm(e2.ServerConfirm), ErrBadServerConfirmation)
}

func TestExpiredOfferRefusedBeforeKeys(t *testing.T) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0, TTL: time.Minute})
	require.NoError(t, err)
	_, _, err = Activate(p.Offer(), phone, t0.Add(time.Minute))
	require.ErrorIs(t, err, ErrExpired)
}

func TestPendingMarshal(t *testing.T) {
	p, err := Start("Example Bank", "user-42", StartOptions{Now: t0})
	require.NoError(t, err)
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	q, err := UnmarshalPending(b)
	require.NoError(t, err)
	require.Equal(t, p.Offer(), q.Offer())
	_, req, err := Activate(p.Offer(), phone, t0)
	require.NoError(t, err)
	_, err = q.Complete(req, t0)
	require.NoError(t, err)

	for i := range b {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		_, err := UnmarshalPending(c)
		if err == nil {
			// UnmarshalPending checks structure, not authenticity (the
			// caller seals the record): a flip inside a text field of
			// the offer can still parse. The key and the session ID
			// cannot change unnoticed.
			require.Equal(t, p.Offer().ServerKey, q.Offer().ServerKey)
			continue
		}
		require.ErrorIs(t, err, ErrCorrupt, "byte %d", i)
	}
	for n := range len(b) {
		_, err := UnmarshalPending(b[:n])
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
	}
}

func TestRequestJSON(t *testing.T) {
	_, _, req, _ := activate(t)
	b, err := json.Marshal(req)
	require.NoError(t, err)
	var back Request
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, req, back)
	require.Equal(t, req.Hash(), back.Hash())

	var r Request
	require.ErrorIs(t, json.Unmarshal([]byte(`{"sid":"x"}`), &r), ErrInvalidRequest)
	require.Equal(t, Request{}, r)
	require.Error(t, json.Unmarshal(append(bytes.Clone(b[:len(b)-1]), []byte(`,"extra":1}`)...), &r))
	require.Equal(t, Request{}, r)
	// Called directly, a trailing bracket is trailing data too.
	require.ErrorIs(t, r.UnmarshalJSON(append(bytes.Clone(b), '}')), ErrInvalidRequest)
	require.Equal(t, Request{}, r)
}
