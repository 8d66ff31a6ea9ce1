package ucdtable

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// OldVersion is the oldest Unicode version transaction text must be
// checkable with: a character is allowed only if a phone whose Unicode
// tables are of this version classifies it as the current version does.
const OldVersion = "12.0.0"

// AllowedHeader starts the published file of allowed characters.
const AllowedHeader = "# keyline transaction text v1: allowed characters"

// Allowed returns the characters transaction text allows (PROTOCOL.md §9,
// "Text"), U+0020 included: those of general category L, N, P or S both
// in the UCD of Version in dir and in Go 1.14's tables (OldVersion) in
// oldTables, that are Other_Default_Ignorable_Code_Point in neither, are
// not conjoining jamo, and that NFC leaves unchanged on their own
// (NFC_Quick_Check Yes in Version; by Unicode's normalization stability
// policy the same holds in OldVersion for a character assigned there).
// It checks, as Generate does, the claims the rule rests on.
func Allowed(dir, oldTables string) ([]rune, error) {
	if unicode.Version != Version {
		// Other_Default_Ignorable_Code_Point comes from the running Go's
		// tables, which must be of the pinned UCD's version.
		return nil, fmt.Errorf("ucdtable: Go's unicode tables are %s, want %s", unicode.Version, Version)
	}
	cats, ccc, err := readUnicodeData(filepath.Join(dir, "UnicodeData.txt"))
	if err != nil {
		return nil, err
	}
	no, maybe, err := readNFCQC(filepath.Join(dir, "DerivedNormalizationProps.txt"))
	if err != nil {
		return nil, err
	}
	old, err := readGoTables(oldTables, "_L", "_N", "_P", "_S", "_Other_Default_Ignorable_Code_Point")
	if err != nil {
		return nil, err
	}
	oldText := func(r rune) bool {
		return (old["_L"][r] || old["_N"][r] || old["_P"][r] || old["_S"][r]) && !old["_Other_Default_Ignorable_Code_Point"][r]
	}
	allowed := []rune{' '}
	for r := rune(0x21); r <= 0x10ffff; r++ {
		c, ok := cats[r]
		if !ok || !strings.ContainsRune("LNPS", rune(c[0])) {
			continue
		}
		if ccc[r] != 0 {
			return nil, fmt.Errorf("ucdtable: U+%04X (%s) has combining class %d: the text rule assumes 0", r, c, ccc[r])
		}
		if maybe[r] && !inJamo(r) {
			return nil, fmt.Errorf("ucdtable: U+%04X (%s) may compose with a preceding character and is not a conjoining jamo", r, c)
		}
		if no[r] || inJamo(r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) || !oldText(r) {
			continue
		}
		allowed = append(allowed, r)
	}
	return allowed, nil
}

// readGoTables reads the named RangeTable variables of a Go unicode
// tables.go: the code points of each.
func readGoTables(path string, names ...string) (map[string]map[rune]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("ucdtable: %w", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]map[rune]bool{}
	var bad error
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || !want[vs.Names[0].Name] || len(vs.Values) != 1 {
			return true
		}
		set := map[rune]bool{}
		ast.Inspect(vs.Values[0], func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok || cl.Type != nil || len(cl.Elts) != 3 {
				return true
			}
			var v [3]int64
			for i, e := range cl.Elts {
				lit, ok := e.(*ast.BasicLit)
				if !ok || lit.Kind != token.INT {
					return true
				}
				x, err := strconv.ParseInt(lit.Value, 0, 32)
				if err != nil || x < 0 {
					bad = fmt.Errorf("ucdtable: %s: %s: bad range value %s", path, vs.Names[0].Name, lit.Value)
					return false
				}
				v[i] = x
			}
			if v[2] < 1 || v[0] > v[1] {
				bad = fmt.Errorf("ucdtable: %s: %s: bad range", path, vs.Names[0].Name)
				return false
			}
			for r := v[0]; r <= v[1]; r += v[2] {
				set[rune(r)] = true
			}
			return false
		})
		out[vs.Names[0].Name] = set
		return false
	})
	if bad != nil {
		return nil, bad
	}
	for _, n := range names {
		if len(out[n]) == 0 {
			return nil, fmt.Errorf("ucdtable: %s has no table %s", path, n)
		}
	}
	return out, nil
}

// AllowedFile renders the allowed characters as the published file:
// comment lines starting with '#', then one range per line, "XXXX..YYYY"
// or a single "XXXX", in hex, ascending.
func AllowedFile(allowed []rune) []byte {
	spans := spansOf(allowed)
	var b bytes.Buffer
	fmt.Fprintf(&b, `%s (PROTOCOL.md §9, "Text").
# A character may appear in a text field (beneficiary, memo) if and only
# if it is listed here; the field's other rules (no space at either end,
# no two in a row, length) apply as well. Listed: U+0020, and each
# character of general category L, N, P or S in Unicode %s and in
# Unicode %s that is Other_Default_Ignorable_Code_Point in neither, is
# not a conjoining Hangul jamo, and that NFC leaves unchanged on its own.
# A phone whose Unicode tables are of version %s or later can check
# every one of them.
# Generated by enroll/txn/internal/ucdtable (go generate ./enroll/txn)
# from enroll/txn/testdata/ucd (UCD %s) and enroll/txn/testdata/ucd12
# (Unicode %s, Go 1.14's tables). DO NOT EDIT.
# Format: one range per line, first..last in hex, or one code point.
# %s code points in %s ranges.
`, AllowedHeader, OldVersion, Version, OldVersion, Version, OldVersion, thousands(len(allowed)), thousands(len(spans)))
	for _, s := range spans {
		if s.lo == s.hi {
			fmt.Fprintf(&b, "%04X\n", s.lo)
		} else {
			fmt.Fprintf(&b, "%04X..%04X\n", s.lo, s.hi)
		}
	}
	return b.Bytes()
}

// ParseAllowedFile reads what AllowedFile wrote: the code points, in
// ascending order.
func ParseAllowedFile(b []byte) ([]rune, error) {
	if !bytes.HasPrefix(b, []byte(AllowedHeader)) {
		return nil, fmt.Errorf("ucdtable: not a file of allowed characters")
	}
	var rs []rune
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		lo, hi, found := strings.Cut(line, "..")
		if !found {
			hi = lo
		}
		l, err1 := strconv.ParseUint(lo, 16, 32)
		h, err2 := strconv.ParseUint(hi, 16, 32)
		if err1 != nil || err2 != nil || l > h || h > unicode.MaxRune || (len(rs) > 0 && rune(l) <= rs[len(rs)-1]) {
			return nil, fmt.Errorf("ucdtable: line %d: bad range %q", n, line)
		}
		for c := l; c <= h; c++ {
			rs = append(rs, rune(c))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rs, nil
}

type span struct{ lo, hi rune }

func spansOf(rs []rune) []span {
	var spans []span
	for _, r := range rs {
		if n := len(spans); n > 0 && spans[n-1].hi+1 == r {
			spans[n-1].hi = r
			continue
		}
		spans = append(spans, span{r, r})
	}
	return spans
}

// ReadAllowed reads the published file at path.
func ReadAllowed(path string) ([]rune, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseAllowedFile(b)
}
