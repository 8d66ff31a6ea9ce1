package deviceapi

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every endpoint the handler routes is in the package documentation's
// list and in PROTOCOL.md §10's endpoint table, with its method.
func TestEndpointsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	proto, err := os.ReadFile("../../PROTOCOL.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(proto), "## 10. Device API (HTTP)")
	require.True(t, ok, "PROTOCOL.md has section 10")
	sec, _, _ = strings.Cut(sec, "\n## ")
	for path, rt := range routes {
		require.Regexp(t, `(?m)^//\t`+rt.method+` +`+regexp.QuoteMeta(path)+`[ ?]`, string(doc), "doc.go lists %s %s", rt.method, path)
		require.Contains(t, sec, "| "+rt.method+" | `"+path, "PROTOCOL.md §10 lists %s %s", rt.method, path)
	}
}
