package keylinecore_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tool finds a program the binding test needs: the path in env, or the
// name on PATH. Missing, the test fails under CI (scripts/test installs
// both) and is skipped elsewhere.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (set %s): scripts/test installs it", name, env)
	}
	t.Skipf("%s is missing (set %s, or run scripts/test)", name, env)
	return ""
}

// api is the package's exported surface, from its source.
type api struct {
	funcs   []string            // package functions
	methods map[string][]string // by type: methods, interface methods included
	fields  map[string][]string // by struct type: exported fields
	types   []string
	consts  int
}

func readAPI(t *testing.T) api {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	a := api{methods: map[string][]string{}, fields: map[string][]string{}}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				if d.Recv == nil {
					a.funcs = append(a.funcs, d.Name.Name)
					continue
				}
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if id := recv.(*ast.Ident); id.IsExported() {
					a.methods[id.Name] = append(a.methods[id.Name], d.Name.Name)
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						a.types = append(a.types, s.Name.Name)
						switch ty := s.Type.(type) {
						case *ast.StructType:
							for _, fl := range ty.Fields.List {
								for _, n := range fl.Names {
									if n.IsExported() {
										a.fields[s.Name.Name] = append(a.fields[s.Name.Name], n.Name)
									}
								}
							}
						case *ast.InterfaceType:
							for _, m := range ty.Methods.List {
								for _, n := range m.Names {
									a.methods[s.Name.Name] = append(a.methods[s.Name.Name], n.Name)
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() && d.Tok == token.CONST {
								a.consts++
							}
						}
					}
				}
			}
		}
	}
	return a
}

var ident = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// idents returns the identifiers of a file, lower-cased: gobind's
// names are the Go names with the leading capitals lowered
// (CheckPIN → checkPIN, QRPNG → qrpng).
func idents(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, id := range ident.FindAll(b, -1) {
		out[strings.ToLower(string(id))] = true
	}
	return out
}

// The package binds whole (issue 14): gobind generates Java and
// Objective-C without skipping anything, every exported function, method
// and field has its Java (and Objective-C) counterpart, and the Java,
// with a sample app's use of it (testdata/java), compiles.
func TestBindings(t *testing.T) {
	gobind := tool(t, "KEYLINE_GOBIND", "gobind")
	javac := tool(t, "KEYLINE_JAVAC", "javac")
	out := t.TempDir()

	start := time.Now()
	cmd := exec.Command(gobind, "-lang=java,objc", "-outdir", out, "github.com/keyline/keyline/mobile/keylinecore")
	log, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gobind: %v\n%s", err, log)
	}
	genTime := time.Since(start)
	if bytes.Contains(log, []byte("skipped")) {
		t.Errorf("gobind skipped symbols:\n%s", log)
	}
	var javaFiles []string
	err = filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "skipped") {
				t.Errorf("%s:%d: %s", strings.TrimPrefix(path, out), i+1, strings.TrimSpace(line))
			}
		}
		if strings.HasSuffix(path, ".java") {
			javaFiles = append(javaFiles, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	a := readAPI(t)
	java := filepath.Join(out, "java", "keylinecore")
	pkgJava := idents(t, filepath.Join(java, "Keylinecore.java"))
	objc := idents(t, filepath.Join(out, "src", "gobind", "Keylinecore.objc.h"))
	for _, f := range a.funcs {
		if !pkgJava[strings.ToLower(f)] {
			t.Errorf("function %s is not in the Java binding", f)
		}
		if !objc["keylinecore"+strings.ToLower(f)] {
			t.Errorf("function %s is not in the Objective-C binding", f)
		}
	}
	nMethods, nFields := 0, 0
	for _, ty := range a.types {
		cls := idents(t, filepath.Join(java, ty+".java"))
		for _, m := range a.methods[ty] {
			nMethods++
			if !cls[strings.ToLower(m)] {
				t.Errorf("method %s.%s is not in the Java binding", ty, m)
			}
			if !objc[strings.ToLower(m)] {
				t.Errorf("method %s.%s is not in the Objective-C binding", ty, m)
			}
		}
		for _, f := range a.fields[ty] {
			nFields++
			if !cls["get"+strings.ToLower(f)] || !cls["set"+strings.ToLower(f)] {
				t.Errorf("field %s.%s has no Java getter and setter", ty, f)
			}
		}
	}

	// javac: the generated classes, gobind's support classes (package
	// go), the sample app, and a stand-in for the one Android SDK class
	// the support classes name (android.content.Context, passed through
	// as an Object), since the SDK is not a Debian package.
	stub := filepath.Join(out, "android", "content", "Context.java")
	if err := os.MkdirAll(filepath.Dir(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stub, []byte("package android.content;\n\npublic abstract class Context {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sample, err := filepath.Abs(filepath.Join("testdata", "java", "UsePhone.java"))
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	args := append([]string{"-Xlint:none", "-nowarn", "-d", filepath.Join(out, "classes"), stub, sample}, javaFiles...)
	if log, err := exec.Command(javac, args...).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, log)
	}
	t.Logf("bound: %d types, %d functions, %d methods (interface methods included), %d fields, %d constants; "+
		"gobind (Java and Objective-C) took %v, javac of %d files %v",
		len(a.types), len(a.funcs), nMethods, nFields, a.consts, genTime.Round(time.Millisecond), len(javaFiles)+2,
		time.Since(start).Round(time.Millisecond))
}
