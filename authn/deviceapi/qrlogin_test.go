package deviceapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// A QR login over the device API (PROTOCOL.md §8, "Log in with a QR
// code"): the phone scans the page's code, fetches the prompt with
// GET /v1/push?id= and answers with POST /v1/push/answer; each outcome
// has its code, read back by the client as its own error, and only the
// browser session's handle finishes the login.
func TestQRLoginAnswerCodes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, deviceapi.Options{})
	alice := e.kit.Enroll("alice")
	bob := e.kit.Enroll("bob").Credential()
	second := e.kit.EnrollWithProof("alice", e.kit.Login("alice", alice).Proof).Credential()
	pc := enroll.PushContext{Action: "Login", IP: "203.0.113.7", Place: "Zürich, CH", Browser: "Firefox on macOS"}
	var de *deviceclient.Error
	status := func(t *testing.T, err error, want int, code string) {
		t.Helper()
		require.ErrorAs(t, err, &de)
		require.Equal(t, want, de.Status)
		require.Equal(t, code, de.Code)
	}

	q, err := e.kit.Service.BeginQRLogin(ctx, "alice", pc)
	require.NoError(t, err)

	// Another user's phone: the code names another account (nothing
	// sent), and the request ID typed in by hand is 404 not_found.
	_, err = e.client.ScanLogin(ctx, bob, q.Text)
	require.ErrorIs(t, err, deviceclient.ErrOtherAccount)
	_, err = e.client.Push(ctx, bob, q.RequestID)
	status(t, err, http.StatusNotFound, "not_found")

	// 200: the prompt, with what the server saw of the browser.
	p, err := e.client.ScanLogin(ctx, alice.Credential(), q.Text)
	require.NoError(t, err)
	require.Equal(t, pc, p.Context)

	// 403 not_yours: bob posts alice's answer.
	a, err := alice.Credential().AnswerPush(p, true, q.Number, e.kit.Clock.Now())
	require.NoError(t, err)
	status(t, e.client.SendPushAnswer(ctx, bob, a), http.StatusForbidden, "not_yours")

	// 200 approved, and the very same answer again.
	require.NoError(t, e.client.SendPushAnswer(ctx, alice.Credential(), a))
	require.NoError(t, e.client.SendPushAnswer(ctx, alice.Credential(), a), "a lost answer retried")
	// Alice's second phone, too late: the request is over (409
	// already_used); another answer of the first is 409 answered.
	p2, err := e.client.Push(ctx, second, q.RequestID)
	status(t, err, http.StatusConflict, "already_used")
	require.Zero(t, p2)
	deny, err := alice.Credential().AnswerPush(p, false, "", e.kit.Clock.Now())
	require.NoError(t, err)
	status(t, e.client.SendPushAnswer(ctx, alice.Credential(), deny), http.StatusConflict, "answered")

	_, err = e.kit.Service.FinishPush(ctx, "alice", q.RequestID)
	require.ErrorIs(t, err, authn.ErrNotFound, "the ID on the screen finishes nothing")
	res, err := e.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.NoError(t, err)
	require.Equal(t, alice.Credential().DeviceID(), res.DeviceID)

	// 422 wrong_number: the request is over.
	q, err = e.kit.Service.BeginQRLogin(ctx, "alice", pc)
	require.NoError(t, err)
	p, err = e.client.ScanLogin(ctx, second, q.Text)
	require.NoError(t, err)
	wrong := map[bool]string{true: "01", false: "00"}[q.Number == "00"]
	err = e.client.AnswerPush(ctx, second, p, true, wrong)
	require.ErrorIs(t, err, deviceclient.ErrWrongNumber)
	status(t, err, http.StatusUnprocessableEntity, "wrong_number")
	_, err = e.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.ErrorIs(t, err, authn.ErrWrongNumber)

	// 200 denied.
	q, err = e.kit.Service.BeginQRLogin(ctx, "alice", pc)
	require.NoError(t, err)
	p, err = e.client.ScanLogin(ctx, alice.Credential(), q.Text)
	require.NoError(t, err)
	require.NoError(t, e.client.AnswerPush(ctx, alice.Credential(), p, false, ""))
	_, err = e.kit.Service.FinishQRLogin(ctx, "alice", q.Handle)
	require.ErrorIs(t, err, authn.ErrPushDenied)

	// 410 expired: the fetch and the answer.
	e.kit.Clock.Advance(15 * time.Minute) // three answered logins spent the push budget's window
	q, err = e.kit.Service.BeginQRLogin(ctx, "alice", pc)
	require.NoError(t, err)
	p, err = e.client.ScanLogin(ctx, alice.Credential(), q.Text)
	require.NoError(t, err)
	a, err = alice.Credential().AnswerPush(p, true, q.Number, e.kit.Clock.Now())
	require.NoError(t, err)
	e.kit.Clock.Advance(enroll.DefaultPushTTL)
	_, err = e.client.ScanLogin(ctx, alice.Credential(), q.Text)
	status(t, err, http.StatusGone, "expired")
	status(t, e.client.SendPushAnswer(ctx, alice.Credential(), a), http.StatusGone, "expired")
}
