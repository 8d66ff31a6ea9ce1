package authn_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// Audit lines have stable names and attributes and never carry a code, a
// question, a MAC, a session ID or a secret.
func TestAuditLog(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	// Without the wall-clock time, whose digits could hold a question by
	// chance.
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	e := newEnv(t, func(c *authn.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: noTime}))
	})
	offer, err := e.svc.StartActivation(ctx, "alice", nil)
	require.NoError(t, err)
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp := p.respond(t, ch.Question)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)

	events := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		name, _ := rec["event"].(string)
		require.NotEmpty(t, name, line)
		require.Equal(t, "alice", rec["user"], line)
		events[name] = true
	}
	for _, want := range []string{"activation_started", "activation_completed", "activation_paired", "challenge_issued", "login_failed", "login_succeeded"} {
		require.True(t, events[want], want)
	}
	out := buf.String()
	for _, secret := range []string{resp, ch.Question, ch.ID, offer.SessionID, string(res.Proof.MAC)} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, `"reason":"mismatch"`)
}
