package sqlstore_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEngineDependencies: a program that opens one engine links that
// engine's driver only, and the shared package neither (as `go list
// -deps` sees the packages, tests excluded).
func TestEngineDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	const mod = "github.com/keyline/keyline/authn/sqlstore"
	for pkg, want := range map[string]struct{ own, banned []string }{
		mod:               {nil, []string{"modernc.org/sqlite", "github.com/jackc/pgx"}},
		mod + "/sqlite":   {[]string{"modernc.org/sqlite"}, []string{"github.com/jackc/pgx"}},
		mod + "/postgres": {[]string{"github.com/jackc/pgx/v5"}, []string{"modernc.org/sqlite"}},
	} {
		out, err := exec.Command(goBin, "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, "go list -deps %s: %s", pkg, out)
		for dep := range strings.Lines(string(out)) {
			for _, b := range want.banned {
				require.False(t, strings.HasPrefix(strings.TrimSpace(dep), b), "%s links %s", pkg, strings.TrimSpace(dep))
			}
		}
		require.Contains(t, string(out), mod+"\n", "the listing of %s is there", pkg)
		for _, d := range want.own {
			require.Contains(t, string(out), d+"\n", "%s links its own driver", pkg)
		}
	}
}
