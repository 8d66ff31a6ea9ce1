package ucdtable

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// ucd writes a small UCD directory: UnicodeData lines and NFC_QC lines.
func ucd(t *testing.T, version string, data, qc []string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "UnicodeData.txt"), []byte(strings.Join(data, "\n")+"\n"), 0o644))
	props := "# DerivedNormalizationProps-" + version + ".txt\n# test\n" + strings.Join(qc, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "DerivedNormalizationProps.txt"), []byte(props), 0o644))
	return dir
}

var base = []string{
	"0041;LATIN CAPITAL LETTER A;Lu;0;L;;;;;N;;;;0061;",
	"0301;COMBINING ACUTE ACCENT;Mn;230;NSM;;;;;N;NON-SPACING ACUTE;;;;",
	"0374;GREEK NUMERAL SIGN;Lm;0;ON;02B9;;;;N;;;;;",
	"1161;HANGUL JUNGSEONG A;Lo;0;L;;;;;N;;;;;",
	"4E00;<CJK Ideograph, First>;Lo;0;L;;;;;N;;;;;",
	"4E05;<CJK Ideograph, Last>;Lo;0;L;;;;;N;;;;;",
	"F900;CJK COMPATIBILITY IDEOGRAPH-F900;Lo;0;L;8C48;;;;N;;;;;",
	"2F800;CJK COMPATIBILITY IDEOGRAPH-2F800;Lo;0;L;4E3D;;;;N;;;;;",
}

var baseQC = []string{
	"0301          ; NFC_QC; M # Mn       COMBINING ACUTE ACCENT",
	"0374          ; NFC_QC; N # Lm       GREEK NUMERAL SIGN",
	"1161          ; NFC_QC; M # Lo       HANGUL JUNGSEONG A",
	"F900          ; NFC_QC; N # Lo       CJK COMPATIBILITY IDEOGRAPH-F900",
	"2F800         ; NFC_QC; N # Lo       CJK COMPATIBILITY IDEOGRAPH-2F800",
}

func TestGenerate(t *testing.T) {
	b, err := Generate(ucd(t, Version, base, baseQC), []rune{' ', 'A', 0x10000})
	require.NoError(t, err)
	src := string(b)
	require.True(t, strings.HasPrefix(src, "// Code generated "), src)
	require.Contains(t, src, "DO NOT EDIT.\n")
	require.Contains(t, src, "{Lo: 0x0374, Hi: 0x0374, Stride: 1}, {Lo: 0xf900, Hi: 0xf900, Stride: 1},")
	require.Contains(t, src, "R32: []unicode.Range32{\n\t\t{Lo: 0x2f800, Hi: 0x2f800, Stride: 1},")
	require.Contains(t, src, "), 3 in Unicode "+Version)
	// The combining mark is Maybe but not of the text categories; the
	// jamo is Maybe and allowed for; neither is in the table.
	require.NotContains(t, src, "0x0301")
	require.NotContains(t, src, "0x1161")
	require.Contains(t, src, "var txnAllowed = &unicode.RangeTable{\n\tR16: []unicode.Range16{\n\t\t{Lo: 0x0020, Hi: 0x0020, Stride: 1}, {Lo: 0x0041, Hi: 0x0041, Stride: 1},\n\t},\n\tR32: []unicode.Range32{\n\t\t{Lo: 0x10000, Hi: 0x10000, Stride: 1},\n\t},\n\tLatinOffset: 2,\n}")
}

func TestGenerateRefuses(t *testing.T) {
	for name, dir := range map[string]string{
		"another version": ucd(t, "16.0.0", base, baseQC),
		"a letter with a combining class": ucd(t, Version,
			append(base[:1:1], "0345;COMBINING GREEK YPOGEGRAMMENI;Lm;240;NSM;;;;;N;;;0399;;0399"), baseQC),
		"a letter that may compose, not a jamo": ucd(t, Version, base,
			append(baseQC[:1:1], "0041          ; NFC_QC; M # Lu       LATIN CAPITAL LETTER A")),
		"a malformed line":      ucd(t, Version, append(base[:1:1], "0042;B;Lu"), baseQC),
		"a range without start": ucd(t, Version, append(base[:1:1], "4E05;<CJK Ideograph, Last>;Lo;0;L;;;;;N;;;;;"), baseQC),
		"no NFC_QC values":      ucd(t, Version, base, nil),
	} {
		_, err := Generate(dir, nil)
		require.Error(t, err, name)
	}
	_, err := Generate(t.TempDir(), nil)
	require.Error(t, err, "no files")
}

// The published file's format round-trips, and its parser refuses what
// is not in order.
func TestAllowedFile(t *testing.T) {
	rs := []rune{' ', '!', '"', 'A', 0xe9, 0x10000, 0x10001}
	b := AllowedFile(rs)
	require.Contains(t, string(b), "\n0020..0022\n0041\n00E9\n10000..10001\n")
	got, err := ParseAllowedFile(b)
	require.NoError(t, err)
	require.Equal(t, rs, got)
	for _, bad := range []string{"0041\n", AllowedHeader + "\n0042\n0041\n", AllowedHeader + "\n0042..0041\n", AllowedHeader + "\nZZ\n", AllowedHeader + "\n110000\n"} {
		_, err := ParseAllowedFile([]byte(bad))
		require.Error(t, err, bad)
	}
}

// Go 1.14's tables parse, and hold what Unicode 12.0 says of a few
// characters.
func TestReadGoTables(t *testing.T) {
	tabs, err := readGoTables(filepath.Join("..", "..", "testdata", "ucd12", "tables.go.txt"), "_L", "_S", "_Other_Default_Ignorable_Code_Point")
	require.NoError(t, err)
	require.True(t, tabs["_L"]['A'])
	require.True(t, tabs["_L"][0x4e00])
	require.False(t, tabs["_L"]['1'])
	require.True(t, tabs["_S"][0x1f600])                                 // 😀, Unicode 6.1
	require.False(t, tabs["_S"][0x1fae0])                                // 🫠, Unicode 14.0
	require.True(t, tabs["_Other_Default_Ignorable_Code_Point"][0x3164]) // Hangul filler
	_, err = readGoTables(filepath.Join("..", "..", "testdata", "ucd12", "tables.go.txt"), "_NoSuchTable")
	require.Error(t, err)
}

// The published file's parser: what it reads, AllowedFile writes back to
// a file it reads the same, and a refused file yields nothing.
func FuzzParseAllowedFile(f *testing.F) {
	f.Add(AllowedFile([]rune{' ', 'A', 'B', 0x10000}))
	f.Add([]byte(AllowedHeader + "\n0041..0040\n"))
	f.Add([]byte(AllowedHeader + "\n0041\n0041\n"))
	f.Add([]byte("0041\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 4096 {
			return // a range line may name a million code points
		}
		rs, err := ParseAllowedFile(b)
		if err != nil {
			if rs != nil {
				t.Fatalf("partial result on error: %d code points", len(rs))
			}
			return
		}
		again, err := ParseAllowedFile(AllowedFile(rs))
		if err != nil || len(again) != len(rs) {
			t.Fatalf("round trip: %v, %d != %d", err, len(again), len(rs))
		}
		for i := range rs {
			if rs[i] != again[i] {
				t.Fatalf("round trip changed U+%04X", rs[i])
			}
		}
	})
}
