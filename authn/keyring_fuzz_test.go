package authn

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/enroll"
)

// krFuzzRing is the keyring of the fuzz target and its seed corpus: "2024"
// retired from sealing, "2025" the primary.
func krFuzzRing(t testing.TB) *Keyring { return krRing(t, "2025", "2024", "2025") }

// Whatever the input, Open neither panics nor returns bytes with an
// error; it fails only with the documented errors, each for its reason;
// and SealedKeyID and NeedsReseal agree with it.
func FuzzKeyringOpen(f *testing.F) {
	k := krFuzzRing(f)
	old := krRing(f, "2024", "2024")
	for _, ring := range []*Keyring{k, old} {
		sealed, err := ring.Seal(krKind, krUser, krRecord, krSecret)
		require.NoError(f, err)
		f.Add(sealed, krKind, krUser, krRecord)
		f.Add(sealed[:len(sealed)-1], krKind, krUser, krRecord)
		f.Add(sealed, krKind, krUser, "dev-2")
	}
	empty, err := k.Seal("pending-activation", "", "", nil)
	require.NoError(f, err)
	f.Add(empty, "pending-activation", "", "")
	f.Add([]byte{}, krKind, krUser, krRecord)
	f.Add([]byte{0x01, 4, '2', '0', '2', '3'}, krKind, krUser, krRecord)

	f.Fuzz(func(t *testing.T, sealed []byte, kind, user, recordID string) {
		keep := bytes.Clone(sealed)
		got, err := k.Open(kind, user, recordID, sealed)
		require.Equal(t, keep, sealed, "Open does not write to its input")
		id, idErr := SealedKeyID(sealed)
		require.Equal(t, idErr == nil && id != "2025", k.NeedsReseal(sealed))
		if idErr != nil {
			require.Equal(t, ErrSealed, idErr)
			require.Empty(t, id)
		} else {
			require.True(t, keyringValidName(id), "SealedKeyID returns only well-formed IDs")
		}

		if err != nil {
			require.Nil(t, got)
			switch {
			case kind == "":
				require.ErrorIs(t, err, enroll.ErrInvalidInput)
			case errors.Is(err, ErrUnknownKey):
				require.NoError(t, idErr)
				require.NotContains(t, k.IDs(), id)
				require.Equal(t, ErrUnknownKey.Error()+": "+strconv.Quote(id), err.Error())
			default:
				require.Equal(t, ErrSealed, err)
			}
			return
		}
		require.NotNil(t, got)
		require.NoError(t, idErr)
		require.Contains(t, k.IDs(), id)

		// What opened seals and opens again, under the primary.
		again, err := k.Seal(kind, user, recordID, got)
		require.NoError(t, err)
		require.False(t, k.NeedsReseal(again))
		back, err := k.Open(kind, user, recordID, again)
		require.NoError(t, err)
		require.Equal(t, got, back)
	})
}

// krCorpusArgs reads the arguments of a seed corpus file of
// FuzzKeyringOpen.
func krCorpusArgs(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzKeyringOpen", name))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Equal(t, "go test fuzz v1", lines[0])
	var args []string
	for _, l := range lines[1:] {
		open := strings.IndexByte(l, '(')
		require.True(t, open > 0 && strings.HasSuffix(l, ")"), l)
		v, err := strconv.Unquote(l[open+1 : len(l)-1])
		require.NoError(t, err, l)
		args = append(args, v)
	}
	require.Len(t, args, 4)
	return args
}

// The seed corpus says what each of its files is: the valid ones open
// (so the sealed format stays readable), the others fail as named.
func TestKeyringFuzzCorpus(t *testing.T) {
	k := krFuzzRing(t)
	for _, c := range []struct {
		name string
		want error // nil: opens to krSecret
	}{
		{"valid-primary", nil},
		{"valid-old-key", nil},
		{"truncated", ErrSealed},
		{"flipped-tag", ErrSealed},
		{"wrong-version", ErrSealed},
		{"wrong-record", ErrSealed},
		{"unknown-key", ErrUnknownKey},
	} {
		a := krCorpusArgs(t, c.name)
		got, err := k.Open(a[1], a[2], a[3], []byte(a[0]))
		if c.want == nil {
			require.NoError(t, err, c.name)
			require.Equal(t, krSecret, got, c.name)
			continue
		}
		require.ErrorIs(t, err, c.want, c.name)
	}
}
