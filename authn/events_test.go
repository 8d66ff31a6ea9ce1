package authn_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/keyline/keyline/authn"
)

// declared holds the constants of events.go: every EventName and Reason
// the package declares, by value.
type declared struct {
	names   map[authn.EventName]string // value -> constant
	reasons map[authn.Reason]string
	docs    map[string]bool // constant -> has a comment
}

var (
	declaredOnce sync.Once
	declaredSet  declared
	declaredErr  error
)

// declaredEvents parses events.go once.
func declaredEvents(t testing.TB) declared {
	t.Helper()
	declaredOnce.Do(func() {
		d := declared{names: map[authn.EventName]string{}, reasons: map[authn.Reason]string{}, docs: map[string]bool{}}
		f, err := parser.ParseFile(token.NewFileSet(), "events.go", nil, parser.ParseComments)
		if err != nil {
			declaredErr = err
			return
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				typ, ok := vs.Type.(*ast.Ident)
				if !ok || len(vs.Values) != len(vs.Names) {
					continue
				}
				for i, id := range vs.Names {
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					switch typ.Name {
					case "EventName":
						if _, dup := d.names[authn.EventName(v)]; dup {
							declaredErr = &dupError{v}
						}
						d.names[authn.EventName(v)] = id.Name
					case "Reason":
						if _, dup := d.reasons[authn.Reason(v)]; dup {
							declaredErr = &dupError{v}
						}
						d.reasons[authn.Reason(v)] = id.Name
					}
					d.docs[id.Name] = vs.Doc.Text() != "" || vs.Comment.Text() != ""
				}
			}
		}
		declaredSet = d
	})
	if declaredErr != nil {
		t.Fatal(declaredErr)
	}
	return declaredSet
}

type dupError struct{ v string }

func (e *dupError) Error() string { return "events.go declares " + strconv.Quote(e.v) + " twice" }

// checkDeclared fails t if c saw an event whose name, method or reason is
// outside the declared sets: every event the test suite makes comes from
// a constant.
func (c *counter) checkDeclared(t testing.TB) {
	t.Helper()
	d := declaredEvents(t)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.all {
		if _, ok := d.names[e.Name]; !ok {
			t.Errorf("event %q is not a declared EventName", e.Name)
		}
		if _, ok := d.reasons[e.Reason]; !ok && e.Reason != "" {
			t.Errorf("event %q: reason %q is not a declared Reason", e.Name, e.Reason)
		}
		switch e.Method {
		case "", authn.MethodChallenge, authn.MethodTOTP, authn.MethodRecovery, authn.MethodPush, authn.MethodOperator:
		default:
			t.Errorf("event %q: method %q is not a declared Method", e.Name, e.Method)
		}
	}
}

var snake = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)

// TestEventVocabulary: the names and reasons are distinct, snake_case and
// documented, one constant each.
func TestEventVocabulary(t *testing.T) {
	d := declaredEvents(t)
	if len(d.names) != 59 {
		t.Errorf("%d event names; the documentation of EventName and this count go together", len(d.names))
	}
	for v, c := range d.names {
		if !snake.MatchString(string(v)) || !strings.HasPrefix(c, "Event") || !d.docs[c] {
			t.Errorf("%s = %q: want Event..., snake_case, documented", c, v)
		}
	}
	for v, c := range d.reasons {
		if !snake.MatchString(string(v)) || !strings.HasPrefix(c, "Reason") || !d.docs[c] {
			t.Errorf("%s = %q: want Reason..., snake_case, documented", c, v)
		}
	}
}

// TestEventsUseConstants walks the package's source: every audit call
// (event, observe, emit, an Event literal) names its event and reason
// with a declared constant or a variable of the type (or "" for no
// reason), never a string literal or a conversion of one, so that no event escapes the declared
// sets.
func TestEventsUseConstants(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		literal := func(e ast.Expr) bool {
			switch e := e.(type) {
			case *ast.BasicLit:
				return e.Value != `""` // "" is no reason
			case *ast.BinaryExpr:
				return true // a string built at the call
			case *ast.CallExpr:
				if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "EventName" || id.Name == "Reason") {
					return true
				}
				if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" {
					return true
				}
			}
			return false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				switch sel.Sel.Name {
				case "event": // (ctx, name, method, user, device, reason)
					if len(n.Args) == 6 {
						calls++
						for _, i := range []int{1, 5} {
							if literal(n.Args[i]) {
								t.Errorf("%s: audit event with a literal %s", fset.Position(n.Pos()), []string{1: "name", 5: "reason"}[i])
							}
						}
					}
				case "observe": // (ctx, name, method, user, device)
					if len(n.Args) == 5 {
						calls++
						if literal(n.Args[1]) {
							t.Errorf("%s: audit event with a literal name", fset.Position(n.Pos()))
						}
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "Event" {
					calls++
					for _, el := range n.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							t.Errorf("%s: an Event literal names its fields", fset.Position(n.Pos()))
							continue
						}
						if k, _ := kv.Key.(*ast.Ident); k != nil && (k.Name == "Name" || k.Name == "Reason") && literal(kv.Value) {
							t.Errorf("%s: Event literal with a literal %s", fset.Position(kv.Pos()), k.Name)
						}
					}
				}
			}
			return true
		})
	}
	if calls < 70 {
		t.Errorf("found %d audit calls; the walk misses some", calls)
	}
}
