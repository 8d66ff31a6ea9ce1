package txn

import (
	"os"
	"path/filepath"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll/txn/internal/ucdtable"
)

// Regenerating the published file of allowed characters and tables.go
// from the pinned Unicode data changes nothing.
func TestTablesUpToDate(t *testing.T) {
	allowed, err := ucdtable.Allowed(filepath.Join("testdata", "ucd"), filepath.Join("testdata", "ucd12", "tables.go.txt"))
	require.NoError(t, err)
	published, err := os.ReadFile(filepath.Join("..", "testdata", "txn_text_v1.txt"))
	require.NoError(t, err)
	require.Equal(t, string(ucdtable.AllowedFile(allowed)), string(published), "../testdata/txn_text_v1.txt is not what gen.go writes: run go generate ./enroll/txn")
	b, err := ucdtable.Generate(filepath.Join("testdata", "ucd"), allowed)
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

// The published file and the Go table hold the same characters, and the
// table is the text rule: a character is allowed exactly when runeClass
// finds nothing wrong with it.
func TestAllowedTableIsPublished(t *testing.T) {
	published, err := ucdtable.ReadAllowed(filepath.Join("..", "testdata", "txn_text_v1.txt"))
	require.NoError(t, err)
	in := map[rune]bool{}
	for _, r := range published {
		in[r] = true
	}
	newer := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		require.Equal(t, in[r], unicode.Is(txnAllowed, r), "U+%04X", r)
		what, class := runeClass(r)
		require.Equal(t, in[r], class == 0, "U+%04X: %s", r, what)
		if what == "character new since Unicode 12.0" {
			newer++
		}
	}
	require.Equal(t, 134019, len(published))
	require.Equal(t, 11067, newer, "characters of Unicode 12.1 to 15.0 the 12.0 rule refuses")
}
