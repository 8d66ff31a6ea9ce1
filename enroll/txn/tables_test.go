package txn

import (
	"os"
	"path/filepath"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll/txn/internal/ucdtable"
)

// Regenerating tables.go from the pinned UCD files changes nothing.
func TestTablesUpToDate(t *testing.T) {
	b, err := ucdtable.Generate(filepath.Join("testdata", "ucd"))
	require.NoError(t, err)
	tmp := filepath.Join(t.TempDir(), "tables.go")
	require.NoError(t, os.WriteFile(tmp, b, 0o644))
	got, err := os.ReadFile(tmp)
	require.NoError(t, err)
	want, err := os.ReadFile("tables.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "tables.go is not what gen.go writes: run go generate ./enroll/txn")
}

// The categories come from Go's unicode tables and txnNotNFC from the
// pinned UCD: they must be of one version. A Go release with newer tables
// fails here; regenerate from that version's UCD files and review what
// changed before accepting it.
func TestUnicodeVersion(t *testing.T) {
	require.Equal(t, ucdtable.Version, ucdVersion)
	require.Equal(t, ucdVersion, unicode.Version, "Go's unicode tables are not of the version txnNotNFC was generated from")
}

// The table holds 1,103 characters, each one refused as NFC would
// replace it, and none refused for another reason first.
func TestNotNFCTable(t *testing.T) {
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.Is(txnNotNFC, r) {
			continue
		}
		n++
		what, class := runeClass(r)
		require.Equal(t, "character that NFC replaces", what, "U+%04X", r)
		require.Equal(t, ClassText, class, "U+%04X", r)
	}
	require.Equal(t, 1103, n)
}
