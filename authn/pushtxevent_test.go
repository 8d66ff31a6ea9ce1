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
	"github.com/keyline/keyline/enroll"
)

// A withdrawal approved and signed by push is audited as a signed
// transaction, as one signed by a typed code is, and never as a login.
func TestTransactionPushAudited(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	n := authn.NewChanNotifier(16)
	e := newEnv(t, func(c *authn.Config) {
		c.Notifier = n
		c.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	})
	p, dev := e.enrollPhone(t, "alice", nil)
	req, err := e.svc.BeginTransactionPush(ctx, "alice", withdrawal, enroll.PushContext{Action: "Withdrawal"})
	require.NoError(t, err)
	pr := receive(t, n, p, e.clock.Now())
	a, err := p.cred.AnswerPush(pr, true, req.Number, e.clock.Now())
	require.NoError(t, err)
	require.NoError(t, e.device(t, p).AnswerPush(ctx, a))
	buf.Reset()
	_, err = e.svc.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)

	var got []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		got = append(got, rec)
	}
	require.Len(t, got, 1, buf.String())
	require.Equal(t, string(authn.EventTransactionSigned), got[0]["event"])
	require.Equal(t, string(authn.MethodPush), got[0]["method"])
	require.Equal(t, dev.ID, got[0]["device"])
}
