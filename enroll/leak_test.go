package enroll

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// No exported type prints key material: not with %v, %+v, %#v, %s, %x,
// nor through slog's text and JSON handlers.
func TestNothingPrintsKeys(t *testing.T) {
	p, c, req, e := activate(t)
	require.NoError(t, c.CheckServerConfirm(e.ServerConfirm))
	keys := DeriveKeys(e.Secret, e.Device.Suite)
	secrets := [][]byte{e.Secret, p.priv, keys.OCRA, keys.Push, keys.Server, keys.API, keys.Pair, c.root}

	values := []any{p, c, e, &e, keys, &keys, e.Secret, Secret(keys.OCRA)}
	var out strings.Builder
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", v)
	}
	_ = req
	text := out.String()
	for _, s := range secrets {
		require.NotEmpty(t, s)
		for _, enc := range []string{hex.EncodeToString(s), strings.ToUpper(hex.EncodeToString(s)), string(s)} {
			require.NotContains(t, text, enc)
		}
		// No 8-byte window of any secret, in hex, appears either.
		h := hex.EncodeToString(s)
		for i := 0; i+16 <= len(h); i += 2 {
			require.NotContains(t, text, h[i:i+16])
		}
		// Nor as decimal bytes ([12 34 ...]) as fmt prints []byte with %v.
		require.NotContains(t, text, strings.Trim(fmt.Sprint([]byte(s[:6])), "[]"))
	}
	require.True(t, bytes.Contains([]byte(text), []byte("[redacted]")))
}
