package deviceclient

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

func TestScanLogin(t *testing.T) {
	ctx := t.Context()
	cred, e, _ := enrolled(t)
	const id = "qr-MXnilCprvRiyzW3n-v9PUg"
	seal := func(requestID string) []byte {
		wire, err := enroll.SealPrompt(enroll.DeriveKeys(e.Secret, e.Device.Suite), enroll.PushPrompt{RequestID: requestID,
			Nonce: make([]byte, 16), Issuer: "Example Bank", User: "user-42", DeviceID: cred.DeviceID(),
			Context: enroll.PushContext{Action: "Login", Browser: "Firefox on macOS"}, ExpiresAt: t0.Add(time.Minute)})
		require.NoError(t, err)
		return wire
	}
	text := enroll.QRLogin{Issuer: "Example Bank", User: "user-42", RequestID: id}.Text()

	c, f := newFake(func(r recorded) *http.Response {
		return jsonAnswer(200, devicewire.PromptAnswer{Prompt: seal(id)})
	})
	p, err := c.ScanLogin(ctx, cred, text)
	require.NoError(t, err)
	require.Equal(t, id, p.RequestID)
	require.Equal(t, "Firefox on macOS", p.Context.Browser)
	require.Equal(t, 1, f.count())
	require.Equal(t, "GET", f.reqs[0].method)
	require.Equal(t, "/device"+devicewire.PathPush, f.reqs[0].path)
	require.Equal(t, "id="+url.QueryEscape(id), f.reqs[0].query)

	for name, tc := range map[string]struct {
		text string
		want error
	}{
		"not a login code":  {"keyline://tx?v=1&n=AA&t=AA", enroll.ErrInvalidQRLogin},
		"a newer version":   {"keyline://login?v=2&iss=Example+Bank&user=user-42&id=" + id, enroll.ErrInvalidQRLogin},
		"another issuer":    {enroll.QRLogin{Issuer: "Other Bank", User: "user-42", RequestID: id}.Text(), ErrOtherAccount},
		"another user":      {enroll.QRLogin{Issuer: "Example Bank", User: "user-43", RequestID: id}.Text(), ErrOtherAccount},
		"not canonical hex": {"keyline://login?v=1&iss=Example%20Bank&user=user-42&id=" + id, enroll.ErrInvalidQRLogin},
	} {
		t.Run(name, func(t *testing.T) {
			c, f := newFake(func(recorded) *http.Response { return jsonAnswer(200, devicewire.PromptAnswer{Prompt: seal(id)}) })
			p, err := c.ScanLogin(ctx, cred, tc.text)
			require.ErrorIs(t, err, tc.want)
			require.Zero(t, p)
			require.Zero(t, f.count(), "nothing sent")
		})
	}

	t.Run("the server's prompt is for another request", func(t *testing.T) {
		c, _ := newFake(func(recorded) *http.Response {
			return jsonAnswer(200, devicewire.PromptAnswer{Prompt: seal("qr-other")})
		})
		_, err := c.ScanLogin(ctx, cred, text)
		require.ErrorIs(t, err, ErrBadAnswer)
	})
	t.Run("expired", func(t *testing.T) {
		c, _ := newFake(func(recorded) *http.Response {
			return jsonAnswer(410, devicewire.ErrorBody{Error: "expired", Message: "the push request expired"})
		})
		_, err := c.ScanLogin(ctx, cred, text)
		require.ErrorIs(t, err, enroll.ErrExpired)
	})
}
