package authn_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// No value the Service hands out prints a MAC, code, key or session ID,
// with any fmt verb or through slog.
func TestNothingPrintsSecrets(t *testing.T) {
	ctx := context.Background()
	n := authn.NewChanNotifier(8)
	e := newEnv(t, func(c *authn.Config) { c.Notifier = n })
	p, _ := e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp := p.respond(t, ch.Question)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	codes, err := e.svc.NewRecoveryCodes(ctx, "alice", res.Proof)
	require.NoError(t, err)
	tc, err := e.svc.BeginTransaction(ctx, "alice", withdrawal)
	require.NoError(t, err)

	var out strings.Builder
	for _, v := range []any{res, &res, res.Proof, *res.Proof, tc, e.svc, res.KnownClient} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", v)
	}
	text := out.String()
	mac := res.Proof.MAC
	require.NotEmpty(t, res.KnownClient)
	for _, s := range []string{hex.EncodeToString(mac), strings.ToUpper(hex.EncodeToString(mac)), string(mac), fmt.Sprint(mac)[1:12], resp, codes[0], string(res.KnownClient)} {
		require.NotContains(t, text, s)
	}
}
