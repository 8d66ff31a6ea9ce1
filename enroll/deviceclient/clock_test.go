package deviceclient

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// apiAnswer is an answer of the device API (naming the protocol version)
// written at the server time at.
func apiAnswer(status int, v any, at time.Time) *http.Response {
	r := jsonAnswer(status, v)
	r.Header.Set("Keyline-Protocol", "1")
	r.Header.Set("Date", at.UTC().Format(http.TimeFormat))
	return r
}

// signedAt is the time a recorded request was signed at.
func signedAt(t *testing.T, r recorded) time.Time {
	t.Helper()
	req, _, err := enroll.ParseAPIAuthorization(r.auth)
	require.NoError(t, err)
	return req.Time
}

// The offset is learned from the Date of the device API's answers, and
// every later request is signed at the corrected time (PROTOCOL.md §11).
func TestClockOffsetLearnedFromDate(t *testing.T) {
	ctx := context.Background()
	cred, _, _ := enrolled(t)
	for _, off := range []time.Duration{-5 * time.Minute, 0, 5 * time.Minute, -23 * time.Hour} {
		server := t0.Add(off)
		c, f := newFake(func(recorded) *http.Response { return apiAnswer(200, map[string]any{"prompts": []string{}}, server) })
		require.Zero(t, c.ClockOffset())
		_, err := c.Pushes(ctx, cred)
		require.NoError(t, err)
		require.Equal(t, off, c.ClockOffset())
		require.Equal(t, server, c.ServerNow())
		_, err = c.Pushes(ctx, cred)
		require.NoError(t, err)
		require.Equal(t, t0, signedAt(t, f.reqs[0]), "before any answer, the phone's own time")
		require.Equal(t, server, signedAt(t, f.reqs[1]), "then the server's")
	}
}

// What is not learned: an answer that is not the device API's (a proxy's
// page has a Date too), a slow round trip, an answer beyond the bound.
func TestClockOffsetNotLearned(t *testing.T) {
	ctx := context.Background()
	cred, _, _ := enrolled(t)
	server := t0.Add(time.Hour)

	c, _ := newFake(func(recorded) *http.Response {
		return answer(502, "text/html", "<html>", "Date", server.Format(http.TimeFormat))
	})
	_, err := c.Pushes(ctx, cred)
	require.ErrorIs(t, err, ErrUnreachable)
	require.Zero(t, c.ClockOffset(), "a proxy's Date")

	phone := t0
	c, _ = newFake(func(recorded) *http.Response {
		phone = phone.Add(5 * time.Second) // the answer took 5 seconds
		return apiAnswer(200, map[string]any{"prompts": []string{}}, server)
	})
	c.Now = func() time.Time { return phone }
	_, err = c.Pushes(ctx, cred)
	require.NoError(t, err)
	require.Zero(t, c.ClockOffset(), "a slow answer")

	c, _ = newFake(func(recorded) *http.Response {
		return apiAnswer(200, map[string]any{"prompts": []string{}}, t0.Add(MaxClockOffset+time.Second))
	})
	require.NoError(t, c.SetClockOffset(time.Minute))
	_, err = c.Pushes(ctx, cred)
	require.NoError(t, err)
	require.Equal(t, time.Minute, c.ClockOffset(), "beyond the bound, the offset stays")
}

func TestSetClockOffset(t *testing.T) {
	c := New("https://bank.example/device", nil)
	c.Now = func() time.Time { return t0 }
	require.NoError(t, c.SetClockOffset(MaxClockOffset))
	require.NoError(t, c.SetClockOffset(-MaxClockOffset))
	require.Equal(t, -MaxClockOffset, c.ClockOffset())
	require.ErrorIs(t, c.SetClockOffset(MaxClockOffset+time.Second), ErrClockOffset)
	require.ErrorIs(t, c.SetClockOffset(-MaxClockOffset-time.Second), ErrClockOffset)
	require.Equal(t, -MaxClockOffset, c.ClockOffset(), "a refused offset changes nothing")
	require.NoError(t, c.SetClockOffset(1500*time.Millisecond))
	require.Equal(t, time.Second, c.ClockOffset(), "whole seconds")
	require.Equal(t, t0.Add(time.Second), c.ServerNow())
}

// A request refused as clock_skew is sent once more, signed afresh at
// the offset its answer taught; a second clock_skew is the caller's.
func TestClockSkewRetriedOnce(t *testing.T) {
	ctx := context.Background()
	cred, _, _ := enrolled(t)
	server := t0.Add(-5 * time.Minute)
	skew := map[string]string{"error": "clock_skew", "message": "the request's time is off the server's clock"}

	var n int
	c, f := newFake(func(recorded) *http.Response {
		n++
		if n == 1 {
			return apiAnswer(401, skew, server)
		}
		return apiAnswer(204, nil, server)
	})
	require.NoError(t, c.SetPushToken(ctx, cred, "apns:1"))
	require.Equal(t, 2, f.count())
	require.Equal(t, t0, signedAt(t, f.reqs[0]))
	require.Equal(t, server, signedAt(t, f.reqs[1]))
	require.NotEqual(t, f.reqs[0].auth, f.reqs[1].auth, "signed afresh")
	require.Equal(t, f.reqs[0].body, f.reqs[1].body)

	c, f = newFake(func(recorded) *http.Response { return apiAnswer(401, skew, server) })
	err := c.SetPushToken(ctx, cred, "apns:1")
	require.ErrorIs(t, err, enroll.ErrAPIRequestTime)
	require.NotErrorIs(t, err, ErrClockOffset)
	require.Equal(t, 2, f.count(), "once")

	// A server more than a day away: no correction, no retry.
	c, f = newFake(func(recorded) *http.Response { return apiAnswer(401, skew, t0.Add(-MaxClockOffset-time.Minute)) })
	err = c.SetPushToken(ctx, cred, "apns:1")
	require.ErrorIs(t, err, ErrClockOffset)
	require.ErrorIs(t, err, enroll.ErrAPIRequestTime)
	require.Equal(t, 1, f.count())
	require.Zero(t, c.ClockOffset())

}

// A push answer refused as clock_off is made again at the corrected time
// (a new step and MAC) and sent once more.
func TestClockOffAnswerRemade(t *testing.T) {
	ctx := context.Background()
	cred, e, _ := enrolled(t)
	server := t0.Add(5 * time.Minute)
	wire, err := enroll.SealPrompt(enroll.DeriveKeys(e.Secret, e.Device.Suite), enroll.PushPrompt{RequestID: "r1",
		Nonce: make([]byte, 16), Issuer: "Example Bank", User: "user-42", DeviceID: cred.DeviceID(),
		Context: enroll.PushContext{Action: "Login"}, ExpiresAt: server.Add(2 * time.Minute)})
	require.NoError(t, err)
	prompt, err := cred.OpenPrompt(wire, t0)
	require.NoError(t, err)
	off := map[string]any{"error": "clock_off", "message": "the answer's time is off", "server_time": server.Unix()}

	var n int
	c, f := newFake(func(recorded) *http.Response {
		n++
		if n == 1 {
			return jsonAnswer(422, off) // no Date: server_time alone corrects
		}
		return apiAnswer(200, map[string]string{"result": "approved"}, server)
	})
	require.NoError(t, c.AnswerPush(ctx, cred, prompt, true, "42"))
	require.Equal(t, 2, f.count())
	var a1, a2 enroll.PushAnswer
	require.NoError(t, json.Unmarshal(f.reqs[0].body, &a1))
	require.NoError(t, json.Unmarshal(f.reqs[1].body, &a2))
	require.Equal(t, uint64(t0.Unix()/30), a1.Step)
	require.Equal(t, uint64(server.Unix()/30), a2.Step)
	require.Equal(t, 5*time.Minute, c.ClockOffset())

	c, f = newFake(func(recorded) *http.Response { return jsonAnswer(422, off) })
	require.ErrorIs(t, c.AnswerPush(ctx, cred, prompt, true, "42"), enroll.ErrPushClock)
	require.Equal(t, 2, f.count(), "once")
}
