// Package ucdtable writes enroll/txn's tables.go from files of the
// Unicode Character Database (UCD): the characters that transaction text
// refuses because NFC replaces them even on their own.
//
// It reads UnicodeData.txt (general category, canonical combining class)
// and DerivedNormalizationProps.txt (NFC_Quick_Check) from a directory,
// so that the table follows the pinned data in txn's testdata, not the
// Unicode version of whichever Go toolchain runs it. Besides writing the
// table it checks the claims txn's text rule rests on, and refuses to
// write when one fails:
//
//   - every character of categories L, N, P and S has canonical
//     combining class 0;
//   - the only characters of these categories whose NFC_Quick_Check is
//     Maybe (they may compose with a preceding character) are conjoining
//     Hangul jamo, which txn refuses by block.
package ucdtable

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Version is the UCD version Generate expects: the version line of
// DerivedNormalizationProps.txt must name it.
const Version = "15.0.0"

// jamo are the blocks of conjoining Hangul jamo (Hangul Jamo, Extended-A,
// Extended-B), as txn's text rule refuses them.
var jamo = [][2]rune{{0x1100, 0x11ff}, {0xa960, 0xa97f}, {0xd7b0, 0xd7ff}}

// Generate reads the UCD files in dir and returns the source of
// tables.go: txnNotNFC from the UCD, and txnAllowed, the characters of
// allowed (the published file that [Allowed] made; see [ReadAllowed]).
func Generate(dir string, allowed []rune) ([]byte, error) {
	cats, ccc, err := readUnicodeData(filepath.Join(dir, "UnicodeData.txt"))
	if err != nil {
		return nil, err
	}
	no, maybe, err := readNFCQC(filepath.Join(dir, "DerivedNormalizationProps.txt"))
	if err != nil {
		return nil, err
	}
	text := func(r rune) bool {
		c, ok := cats[r]
		return ok && strings.ContainsRune("LNPS", rune(c[0]))
	}
	var refused []rune
	for r := rune(0); r <= 0x10ffff; r++ {
		if !text(r) {
			continue
		}
		if ccc[r] != 0 {
			return nil, fmt.Errorf("ucdtable: U+%04X (%s) has combining class %d: the text rule assumes 0", r, cats[r], ccc[r])
		}
		if maybe[r] && !inJamo(r) {
			return nil, fmt.Errorf("ucdtable: U+%04X (%s) may compose with a preceding character and is not a conjoining jamo", r, cats[r])
		}
		if no[r] {
			refused = append(refused, r)
		}
	}
	return render(refused, allowed)
}

func inJamo(r rune) bool {
	for _, b := range jamo {
		if b[0] <= r && r <= b[1] {
			return true
		}
	}
	return false
}

// readUnicodeData returns the general category and the canonical
// combining class of every assigned code point, ranges ("<…, First>" and
// "<…, Last>") included.
func readUnicodeData(path string) (cats map[rune]string, ccc map[rune]int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cats, ccc = map[rune]string{}, map[rune]int{}
	var first rune = -1
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Split(sc.Text(), ";")
		if len(fields) != 15 {
			return nil, nil, fmt.Errorf("ucdtable: %s:%d: %d fields, want 15", path, n, len(fields))
		}
		cp, err := strconv.ParseUint(fields[0], 16, 32)
		if err != nil {
			return nil, nil, fmt.Errorf("ucdtable: %s:%d: code point: %w", path, n, err)
		}
		class, err := strconv.Atoi(fields[3])
		if err != nil {
			return nil, nil, fmt.Errorf("ucdtable: %s:%d: combining class: %w", path, n, err)
		}
		r, cat := rune(cp), fields[2]
		switch {
		case strings.HasSuffix(fields[1], ", First>"):
			first = r
			continue
		case strings.HasSuffix(fields[1], ", Last>"):
			if first < 0 {
				return nil, nil, fmt.Errorf("ucdtable: %s:%d: range end without a start", path, n)
			}
			for c := first; c <= r; c++ {
				cats[c], ccc[c] = cat, class
			}
			first = -1
			continue
		}
		cats[r], ccc[r] = cat, class
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	if len(cats) == 0 {
		return nil, nil, errors.New("ucdtable: " + path + " holds no code point")
	}
	return cats, ccc, nil
}

var (
	versionLine = regexp.MustCompile(`^# DerivedNormalizationProps-(\d+\.\d+\.\d+)\.txt$`)
	nfcqcLine   = regexp.MustCompile(`^([0-9A-F]{4,6})(?:\.\.([0-9A-F]{4,6}))?\s*;\s*NFC_QC\s*;\s*([NM])\b`)
)

// readNFCQC returns the code points whose NFC_Quick_Check is No and
// those whose is Maybe; the file must be of Version.
func readNFCQC(path string) (no, maybe map[rune]bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	lines := strings.Split(string(b), "\n")
	if m := versionLine.FindStringSubmatch(strings.TrimSpace(lines[0])); m == nil || m[1] != Version {
		return nil, nil, fmt.Errorf("ucdtable: %s is not DerivedNormalizationProps %s", path, Version)
	}
	no, maybe = map[rune]bool{}, map[rune]bool{}
	for _, line := range lines {
		m := nfcqcLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		lo, _ := strconv.ParseUint(m[1], 16, 32)
		hi := lo
		if m[2] != "" {
			hi, _ = strconv.ParseUint(m[2], 16, 32)
		}
		set := no
		if m[3] == "M" {
			set = maybe
		}
		for c := lo; c <= hi; c++ {
			set[rune(c)] = true
		}
	}
	if len(no) == 0 || len(maybe) == 0 {
		return nil, nil, errors.New("ucdtable: " + path + " holds no NFC_QC value")
	}
	return no, maybe, nil
}

// render writes the tables as ranges of consecutive code points, two to
// a line, 16-bit ones apart from 32-bit ones as unicode.RangeTable wants.
func render(refused, allowed []rune) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `// Code generated by "go run gen.go" from the Unicode Character Database %s (testdata/ucd) and ../testdata/txn_text_v1.txt. DO NOT EDIT.

package txn

import "unicode"

// ucdVersion is the Unicode version of the data txnNotNFC was generated
// from; Go's unicode tables, which the rest of the text rule uses, must
// be of the same version.
const ucdVersion = %q

// oldUnicodeVersion is the oldest Unicode version whose phones can check
// every character of txnAllowed.
const oldUnicodeVersion = %q

// txnNotNFC is every character of categories L, N, P and S that NFC
// replaces even on its own (NFC_Quick_Check=No: singletons, composition
// exclusions, CJK compatibility ideographs), %s in Unicode %s.
// The generator (internal/ucdtable) also checked that every character of
// these categories has canonical combining class 0, and that the only
// ones NFC may change otherwise, those that may compose with a preceding
// character (NFC_Quick_Check=Maybe), are conjoining jamo (txnJamo).
var txnNotNFC = `, Version, Version, OldVersion, thousands(len(refused)), Version)
	writeTable(&b, refused)
	fmt.Fprintf(&b, `
// txnAllowed is every character text may hold, %s of them: the
// published file enroll/testdata/txn_text_v1.txt, which lists U+0020 and
// the characters of categories L, N, P and S in Unicode %s and in %s
// that neither version makes invisible, that are not conjoining jamo,
// and that NFC leaves alone.
var txnAllowed = `, thousands(len(allowed)), OldVersion, Version)
	writeTable(&b, allowed)
	return format.Source(b.Bytes())
}

// writeTable writes a *unicode.RangeTable literal of rs.
func writeTable(b *bytes.Buffer, rs []rune) {
	b.WriteString("&unicode.RangeTable{\n")
	write := func(kind string, ss []span) {
		if len(ss) == 0 {
			return
		}
		fmt.Fprintf(b, "\t%s: []unicode.Range%s{\n", map[string]string{"16": "R16", "32": "R32"}[kind], kind)
		for i, s := range ss {
			if i%2 == 0 {
				b.WriteString("\t\t")
			} else {
				b.WriteString(" ")
			}
			fmt.Fprintf(b, "{Lo: 0x%04x, Hi: 0x%04x, Stride: 1},", s.lo, s.hi)
			if i%2 == 1 || i == len(ss)-1 {
				b.WriteString("\n")
			}
		}
		b.WriteString("\t},\n")
	}
	var r16, r32 []span
	latin := 0
	for _, s := range spansOf(rs) {
		switch {
		case s.hi <= 0xffff:
			r16 = append(r16, s)
			if s.hi <= unicode.MaxLatin1 {
				latin++
			}
		case s.lo > 0xffff:
			r32 = append(r32, s)
		default: // a span across U+FFFF: split it
			r16 = append(r16, span{s.lo, 0xffff})
			r32 = append(r32, span{0x10000, s.hi})
		}
	}
	write("16", r16)
	write("32", r32)
	if latin > 0 {
		fmt.Fprintf(b, "\tLatinOffset: %d,\n", latin)
	}
	b.WriteString("}\n")
}

// thousands writes n with ',' between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
