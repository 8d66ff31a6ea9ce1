package authn_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// TestResumePush: a push denied suspends push; ResumePush lifts the
// suspension, with a step-up proof only, and leaves push off when the
// user had turned it off.
func TestResumePush(t *testing.T) {
	ctx := context.Background()
	e, n := pushEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	_, err := e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err)
	a, err := p.cred.AnswerPush(receive(t, n, p, e.clock.Now()), false, "", e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable, "suspended after the denial")

	require.ErrorIs(t, e.svc.ResumePush(ctx, "alice", nil), authn.ErrProofRequired)
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable, "a refused resume changes nothing")

	res := e.login(t, p, "alice")
	require.NoError(t, e.svc.ResumePush(ctx, "alice", res.Proof))
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.NoError(t, err, "resumed")

	// Push turned off stays off: resuming lifts a suspension only.
	require.NoError(t, e.svc.SetPush(ctx, "alice", false, res.Proof))
	require.NoError(t, e.svc.ResumePush(ctx, "alice", res.Proof))
	_, err = e.svc.BeginPush(ctx, "alice", loginCtx)
	require.ErrorIs(t, err, authn.ErrPushUnavailable)
	require.ErrorIs(t, e.svc.ResumePush(ctx, "", res.Proof), authn.ErrInvalidInput)
}
