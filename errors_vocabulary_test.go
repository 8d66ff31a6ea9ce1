package keyline_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// The vocabulary test reads the source of every package of this module
// (found by walking the tree, so a new package is covered the day it is
// added) and evaluates each package-level error value: errors.New of a
// literal, fmt.Errorf of a literal with %w, %v or %s of other error
// values, or a re-export of another package's value. It then checks what
// issue 11 asks of the vocabulary:
//
//   - an exported error value is named Err...; an exported error type is
//     named ...Error and has an Unwrap method (errors.Is-friendly);
//   - a text is lowercase;
//   - a text starts with its package's name and ": ", except the shared
//     values of package keyline (neutral: no prefix) and the values whose
//     doc comment calls their text "safe to show" (no prefix either, and
//     nothing quoted after a colon);
//   - one name, one value: two exported names that are the same word
//     (authn.ErrNotFound, deviceclient.ErrNotFound) are the same value,
//     and a re-export keeps its value's name;
//   - no two distinct values share a text.
//
// An exported error value the evaluator cannot read fails the test: write
// it in one of the forms above.

// errDecl is one package-level error value as the source declares it.
type errDecl struct {
	pkgPath, pkgName, name string
	pos                    string
	doc                    string
	expr                   ast.Expr
	imports                map[string]string // local name -> import path

	// Filled by resolve.
	done, busy bool
	origin     *errDecl // the declaration that made the value: itself unless a re-export
	text       string
	err        error // why it could not be evaluated
}

func (d *errDecl) qual() string { return path.Base(d.pkgPath) + "." + d.name }

// vocabulary is what the walk found.
type vocabulary struct {
	module string
	decls  map[string]*errDecl // "import/path.Name" -> declaration
	types  []errType
}

// errType is an exported type with an Error method.
type errType struct {
	pkgPath, name, pos string
	unwrap             bool
}

func readModule(t *testing.T) string {
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(m), `"`)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

// walkVocabulary parses every non-test Go file of the module's packages.
func walkVocabulary(t *testing.T) *vocabulary {
	t.Helper()
	v := &vocabulary{module: readModule(t), decls: map[string]*errDecl{}}
	fset := token.NewFileSet()
	type method struct{ error, unwrap bool }
	err := filepath.WalkDir(".", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !de.IsDir() {
			return nil
		}
		base := de.Name()
		if p != "." && (base == "testdata" || base == "vendor" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
			return filepath.SkipDir
		}
		if p != "." {
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return err
		}
		pkgPath := v.module
		if p != "." {
			pkgPath += "/" + filepath.ToSlash(p)
		}
		methods := map[string]*method{} // type name -> its methods
		typePos := map[string]string{}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			if ok, err := build.Default.MatchFile(p, name); err != nil || !ok {
				continue // a generator behind "ignore", another platform's file
			}
			f, err := parser.ParseFile(fset, filepath.Join(p, name), nil, parser.ParseComments)
			if err != nil {
				return err
			}
			if f.Name.Name == "main" {
				break // a command: its errors are no one's API
			}
			imports := map[string]string{}
			for _, is := range f.Imports {
				ip, _ := strconv.Unquote(is.Path.Value)
				local := path.Base(ip)
				if is.Name != nil {
					local = is.Name.Name
				}
				imports[local] = ip
			}
			for _, decl := range f.Decls {
				switch decl := decl.(type) {
				case *ast.GenDecl:
					for _, spec := range decl.Specs {
						switch spec := spec.(type) {
						case *ast.ValueSpec:
							if decl.Tok != token.VAR || len(spec.Values) != len(spec.Names) {
								continue
							}
							doc := spec.Doc.Text()
							if !decl.Lparen.IsValid() {
								doc = decl.Doc.Text()
							}
							for i, id := range spec.Names {
								d := &errDecl{pkgPath: pkgPath, pkgName: f.Name.Name, name: id.Name,
									pos: fset.Position(id.Pos()).String(), doc: doc, expr: spec.Values[i], imports: imports}
								v.decls[pkgPath+"."+id.Name] = d
							}
						case *ast.TypeSpec:
							if spec.Name.IsExported() {
								typePos[spec.Name.Name] = fset.Position(spec.Name.Pos()).String()
							}
						}
					}
				case *ast.FuncDecl:
					if decl.Recv == nil || len(decl.Recv.List) != 1 {
						continue
					}
					recv := decl.Recv.List[0].Type
					if s, ok := recv.(*ast.StarExpr); ok {
						recv = s.X
					}
					id, ok := recv.(*ast.Ident)
					if !ok {
						continue
					}
					m := methods[id.Name]
					if m == nil {
						m = &method{}
						methods[id.Name] = m
					}
					switch decl.Name.Name {
					case "Error":
						r := decl.Type.Results
						m.error = len(decl.Type.Params.List) == 0 && r != nil && len(r.List) == 1 && isIdent(r.List[0].Type, "string")
					case "Unwrap":
						m.unwrap = true
					}
				}
			}
		}
		for name, pos := range typePos {
			if m := methods[name]; m != nil && m.error {
				v.types = append(v.types, errType{pkgPath: pkgPath, name: name, pos: pos, unwrap: m.unwrap})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range v.decls {
		v.resolve(d)
	}
	return v
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// referent returns the declaration an identifier or a selector of this
// module's package names, or nil.
func (v *vocabulary) referent(d *errDecl, e ast.Expr) *errDecl {
	switch e := e.(type) {
	case *ast.Ident:
		return v.decls[d.pkgPath+"."+e.Name]
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			if ip, ok := d.imports[x.Name]; ok {
				return v.decls[ip+"."+e.Sel.Name]
			}
		}
	}
	return nil
}

// call returns the import path and name of the function a call calls
// ("errors", "New"), or "" for anything else.
func call(d *errDecl, e ast.Expr) (*ast.CallExpr, string) {
	c, ok := e.(*ast.CallExpr)
	if !ok {
		return nil, ""
	}
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil, ""
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return nil, ""
	}
	return c, d.imports[x.Name] + "." + sel.Sel.Name
}

// resolve evaluates d: its origin and its text; d.err says why it could
// not. A value that is not an error (a number, a map) stays with neither.
func (v *vocabulary) resolve(d *errDecl) {
	if d.done {
		return
	}
	if d.busy {
		d.err = errors.New("refers to itself")
		return
	}
	d.busy = true
	defer func() { d.busy, d.done = false, true }()
	if r := v.referent(d, d.expr); r != nil {
		v.resolve(r)
		d.origin, d.text, d.err = r.origin, r.text, r.err
		return
	}
	c, fn := call(d, d.expr)
	switch fn {
	case "errors.New":
		if len(c.Args) != 1 {
			d.err = errors.New("errors.New with other than one argument")
			return
		}
		s, err := literal(c.Args[0])
		if err != nil {
			d.err = err
			return
		}
		d.origin, d.text = d, s
	case "fmt.Errorf":
		format, err := literal(c.Args[0])
		if err != nil {
			d.err = err
			return
		}
		var args []any
		for _, a := range c.Args[1:] {
			r := v.referent(d, a)
			if r == nil {
				d.err = fmt.Errorf("fmt.Errorf argument %s is not an error value of this module", exprKind(a))
				return
			}
			v.resolve(r)
			if r.err != nil || r.origin == nil {
				d.err = fmt.Errorf("fmt.Errorf argument %s: not an error value", r.qual())
				return
			}
			args = append(args, r.text)
		}
		for _, verb := range []string{"%w", "%v"} {
			format = strings.ReplaceAll(format, verb, "%s")
		}
		text := fmt.Sprintf(format, args...)
		if strings.Contains(text, "%!") {
			d.err = fmt.Errorf("fmt.Errorf format %q takes verbs other than %%w, %%v and %%s", format)
			return
		}
		d.origin, d.text = d, text
	default:
		if ast.IsExported(d.name) && strings.HasPrefix(d.name, "Err") {
			d.err = errors.New("an Err value that is not errors.New, fmt.Errorf or a re-export")
		}
	}
}

func exprKind(e ast.Expr) string { return fmt.Sprintf("%T", e) }

func literal(e ast.Expr) (string, error) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", errors.New("the text is not a string literal")
	}
	return strconv.Unquote(lit.Value)
}

// exported returns the exported error values, sorted by name.
func (v *vocabulary) exported() []*errDecl {
	var out []*errDecl
	for _, d := range v.decls {
		if ast.IsExported(d.name) && (d.origin != nil || d.err != nil) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *errDecl) int { return strings.Compare(a.pkgPath+"."+a.name, b.pkgPath+"."+b.name) })
	return out
}

func TestErrorVocabulary(t *testing.T) {
	v := walkVocabulary(t)
	all := v.exported()
	if len(all) < 20 {
		t.Fatalf("found only %d exported error values: the walk is broken", len(all))
	}
	byName := map[string]map[*errDecl][]string{} // name -> origin -> who
	byText := map[string]map[*errDecl][]string{}
	for _, d := range all {
		if d.err != nil {
			t.Errorf("%s %s: cannot read it: %v", d.pos, d.qual(), d.err)
			continue
		}
		if !strings.HasPrefix(d.name, "Err") {
			t.Errorf("%s %s: an exported error value's name starts with Err", d.pos, d.qual())
		}
		if r, _ := utf8.DecodeRuneInString(d.text); unicode.IsUpper(r) {
			t.Errorf("%s %s: text %q is not lowercase", d.pos, d.qual(), d.text)
		}
		if d.origin != d {
			if d.origin.name != d.name {
				t.Errorf("%s %s re-exports %s under another name: one value, one name", d.pos, d.qual(), d.origin.qual())
			}
		} else {
			checkPrefix(t, v, d)
		}
		add := func(m map[string]map[*errDecl][]string, k string) {
			if m[k] == nil {
				m[k] = map[*errDecl][]string{}
			}
			m[k][d.origin] = append(m[k][d.origin], d.qual())
		}
		add(byName, d.name)
		add(byText, d.text)
	}
	for name, origins := range byName {
		if len(origins) > 1 {
			t.Errorf("%s names %d distinct values: %v", name, len(origins), whos(origins))
		}
	}
	for text, origins := range byText {
		if len(origins) > 1 {
			t.Errorf("text %q belongs to %d distinct values: %v", text, len(origins), whos(origins))
		}
	}
	for _, ty := range v.types {
		if !strings.HasSuffix(ty.name, "Error") {
			t.Errorf("%s %s.%s: an exported error type's name ends in Error", ty.pos, path.Base(ty.pkgPath), ty.name)
		}
		if !ty.unwrap {
			t.Errorf("%s %s.%s: an exported error type unwraps to the sentinel it reports", ty.pos, path.Base(ty.pkgPath), ty.name)
		}
	}
}

// checkPrefix checks the text of a value d made.
func checkPrefix(t *testing.T, v *vocabulary, d *errDecl) {
	t.Helper()
	prefix := d.pkgName + ": "
	switch {
	case d.pkgPath == v.module:
		if strings.Contains(d.text, ": ") {
			t.Errorf("%s %s: a shared value's text %q is neutral: no prefix", d.pos, d.qual(), d.text)
		}
	case strings.Contains(d.doc, "safe to show"):
		if strings.Contains(d.text, ": ") {
			t.Errorf("%s %s: text %q is documented as safe to show: no package prefix, nothing after it", d.pos, d.qual(), d.text)
		}
	default:
		if !strings.HasPrefix(d.text, prefix) {
			t.Errorf("%s %s: text %q does not start with %q (or document it as safe to show)", d.pos, d.qual(), d.text, prefix)
		}
	}
}

func whos(origins map[*errDecl][]string) [][]string {
	var out [][]string
	for _, w := range origins {
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// TestErrorVocabularyReadsTheValues holds the source reading to the values
// the program has: the texts it computes are the values' texts, and what
// it calls one value is one value.
func TestErrorVocabularyReadsTheValues(t *testing.T) {
	v := walkVocabulary(t)
	m := v.module
	for key, val := range map[string]error{
		m + ".ErrExpired":                           keyline.ErrExpired,
		m + "/authn.ErrExpired":                     authn.ErrExpired,
		m + "/enroll.ErrExpired":                    enroll.ErrExpired,
		m + "/authn.ErrReplay":                      authn.ErrReplay,
		m + "/authn.ErrMalformed":                   authn.ErrMalformed,
		m + "/authn.ErrInvalidPushAnswer":           authn.ErrInvalidPushAnswer,
		m + "/challenge.ErrInvalidInput":            challenge.ErrInvalidInput,
		m + "/enroll/deviceclient.ErrNotFound":      deviceclient.ErrNotFound,
		m + "/enroll/deviceclient.ErrBadAnswer":     deviceclient.ErrBadAnswer,
		m + "/authn.ErrDeviceAuth":                  authn.ErrDeviceAuth,
		m + "/enroll/deviceclient.ErrProofRequired": deviceclient.ErrProofRequired,
	} {
		d := v.decls[key]
		if d == nil || d.err != nil {
			t.Errorf("%s: not read (%v)", key, d)
			continue
		}
		if d.text != val.Error() {
			t.Errorf("%s: read %q, the value says %q", key, d.text, val.Error())
		}
	}
	same := func(a, b string, want bool) {
		t.Helper()
		da, db := v.decls[m+a], v.decls[m+b]
		if da == nil || db == nil {
			t.Fatalf("%s or %s not found", a, b)
		}
		if (da.origin == db.origin) != want {
			t.Errorf("%s and %s: same value %v, want %v", a, b, da.origin == db.origin, want)
		}
	}
	same("/authn.ErrNotFound", "/enroll/deviceclient.ErrNotFound", authn.ErrNotFound == deviceclient.ErrNotFound)
	same("/authn.ErrInvalidPushAnswer", "/enroll.ErrInvalidPushAnswer", authn.ErrInvalidPushAnswer == enroll.ErrInvalidPushAnswer)
	same("/authn.ErrReplay", "/authn.ErrInvalidCode", authn.ErrReplay == authn.ErrInvalidCode)
	same("/challenge.ErrMalformed", "/challenge.ErrMismatch", challenge.ErrMalformed == challenge.ErrMismatch)
}
