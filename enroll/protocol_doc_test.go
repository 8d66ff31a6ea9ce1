package enroll

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/internal/devicewire"
)

// PROTOCOL.md states constants, tables and vector values that the code
// and the vector files fix. This test reads the document and requires
// each to agree, so that neither drifts (authn/deviceapi checks §10's
// error table the same way).

func readProtocol(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "PROTOCOL.md"))
	require.NoError(t, err)
	return string(b)
}

// docNumber reads a number written with thousands commas.
func docNumber(t *testing.T, s string) int {
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err, s)
	return n
}

func TestProtocolDocConstants(t *testing.T) {
	doc := readProtocol(t)
	has := func(s string) { t.Helper(); require.Contains(t, doc, s) }

	// §6: the purpose-key table lists every label, and only those.
	labels := []string{LabelOCRA, LabelPush, LabelServer, LabelAPI, LabelPair, LabelTransaction}
	rows := regexp.MustCompile("(?m)^\\| `(keyline/v1/[a-z-]+)` \\| [^|]+ \\| [^|]+ \\|$").FindAllStringSubmatch(doc, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[1])
	}
	require.ElementsMatch(t, labels, got, "§6's table")
	has("the six purpose keys of §6")
	require.NotContains(t, doc, "five purpose keys")

	// Primitives: the limit and the activation's HKDF inputs.
	require.Equal(t, 1024, MaxPrimitiveInput)
	has("**1,024 bytes**")
	has(`info = "` + labelActivateInfo + `" ‖ th`)
	has("1,320 bytes at most")

	// §8: the prompt's framing and bounds.
	m := regexp.MustCompile(`A prompt has (\d+) bytes of framing[^;]*; with its fields, a valid one has at least (\d+) bytes, and\s+none has more than ([\d,]+)`).FindStringSubmatch(doc)
	require.NotNil(t, m, "§8's prompt sizes")
	require.Equal(t, minPromptWire, docNumber(t, m[1]))
	require.Equal(t, maxPromptWire, docNumber(t, m[3]))
	has("its length is below " + strconv.Itoa(minPromptWire) + " or above 5,185 bytes")
	require.Equal(t, 30, int(PushStep.Seconds()))

	// §9: the canonical maxima (enroll/txn's TestCanonicalMaxima builds them).
	has("The bytes are at most 573 long")
	has("a trade is at most 427")
	has("anything longer than 573 bytes")
	require.NotContains(t, doc, "629")

	// §9: the published text repertoire (enroll/txn tests the counts).
	pub, err := os.ReadFile(filepath.Join("testdata", "txn_text_v1.txt"))
	require.NoError(t, err)
	has("(134,019 code points)")
	require.Contains(t, string(pub), "# 134,019 code points in")
	has("**Unicode 12.0**")
	has("11,067 of these categories")

	// §10: the time window and the header bound.
	require.Equal(t, 60, int(APIMaxSkew.Seconds()))
	has("`|s − time| ≤ 60`")
	has("remembered until `time` + 61 seconds")
	has("the value is at most " + strconv.Itoa(MaxAPIAuthorization))
	has("Every request carries `" + devicewire.HeaderProtocol + ": " + devicewire.ProtocolVersion + "`")
	has("## 11. Building a phone")
}

// The MACs the document's tables abbreviate are those of the vector files.
func TestProtocolDocVectorTables(t *testing.T) {
	doc := readProtocol(t)
	abbrev := func(h string) string { return "`" + h[:8] + "…" + h[len(h)-8:] + "`" }

	var push struct {
		Vectors []pushVector `json:"vectors"`
	}
	b, err := os.ReadFile(filepath.Join("testdata", "push_v1.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &push))
	for _, v := range push.Vectors {
		row := abbrev(v.Output.PromptMAC) + " | " + abbrev(v.Output.AnswerMAC) + " |"
		require.Contains(t, doc, row, "§8's table, vector %q", v.Name)
	}
	require.Contains(t, doc, "answer_mac   "+push.Vectors[0].Output.AnswerMAC)
	require.Contains(t, doc, "tx response `"+push.Vectors[1].Input.TxResponse+"`")

	var api struct {
		Vectors []apiVector `json:"vectors"`
	}
	b, err = os.ReadFile(filepath.Join("testdata", "api_v1.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &api))
	for _, v := range api.Vectors {
		require.Contains(t, doc, abbrev(v.Output.MAC)+" |", "§10's table, vector %q", v.Name)
	}

	var tx txVectorFile
	b, err = os.ReadFile(filepath.Join("testdata", "transaction_v1.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &tx))
	require.Contains(t, doc, "response = "+tx.Vectors[0].Response)
	require.Contains(t, doc, "= "+tx.Vectors[0].Question+"      (question)")
	require.Contains(t, doc, tx.Vectors[0].URI)
}
