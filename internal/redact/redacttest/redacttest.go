// Package redacttest checks that no exported type of a package prints a
// secret: it fills values of every type with markers, formats them with
// every fmt verb and through slog's text and JSON handlers, and looks
// for the markers of secret fields in what came out.
package redacttest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// SecretFields are the fields that hold a session ID, MAC, code, nonce,
// push token or key in keyline's types, or a value derived from one (a
// sealed key, an offer's public key from which the session ID is
// derived), by field name in any type or as Type.Field. Every marker put
// in such a field, and in anything nested in it, must not be printed.
var SecretFields = []string{
	"SessionID", "ServerKey", "Confirm", "ServerConfirm", "Secret", "RequestHash",
	"Nonce", "TypedNumber", "TxResponse", "MAC", "PushToken", "Number", "Tags", "RecoveryCodes",
	"PINHash", "ActivationRecord.Pending", "SecretSwap.Old", "SecretSwap.New", "Input.Session",
	"Keys.OCRA", "Keys.Push", "Keys.Server", "Keys.API", "Keys.Pair",
}

// Check fills each of values (pointers to zero values of the types of the
// package in dir) with markers and formats it, and the value it points
// to, with %v, %+v, %#v, %s, %q, %x and through slog's text and JSON
// handlers. It fails if a marker of a field in SecretFields, or nested in
// one, appears in any encoding (raw, hex, base64, decimal bytes), or if
// what a value printed holds none of its other markers (a String that
// says nothing). It also fails for an exported struct type declared in
// dir that is neither in values nor in skip (type name → why it needs no
// check), so a new type is not forgotten.
func Check(t *testing.T, dir string, values []any, skip map[string]string) {
	t.Helper()
	covered := map[string]bool{}
	for _, v := range values {
		covered[reflect.TypeOf(v).Elem().Name()] = true
	}
	for _, name := range exportedStructs(t, dir) {
		if !covered[name] && skip[name] == "" {
			t.Errorf("type %s of %s is not checked: add it to the values, or to skip with a reason", name, dir)
		}
	}
	for _, v := range values {
		f := &filler{}
		f.fill(reflect.ValueOf(v).Elem(), false)
		var out strings.Builder
		for _, x := range []any{v, reflect.ValueOf(v).Elem().Interface()} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
				fmt.Fprintf(&out, verb+"\n", x)
			}
			slog.New(slog.NewTextHandler(&out, nil)).Info("probe", "v", x)
			slog.New(slog.NewJSONHandler(&out, nil)).Info("probe", "v", x)
		}
		text := out.String()
		name := reflect.TypeOf(v).Elem().String()
		if strings.Contains(text, "!ERROR") {
			// An encoding that failed hides what it would have printed.
			t.Errorf("slog could not encode %s (give the value a valid field where the filler cannot):\n%s", name, text)
		}
		for _, m := range f.secret {
			for _, enc := range encodings(m) {
				if strings.Contains(text, enc) {
					t.Errorf("%s prints the secret marker %q (as %q)", name, m, enc)
					break
				}
			}
		}
		if len(f.public) > 0 && !slices.ContainsFunc(f.public, func(m string) bool { return strings.Contains(text, m) }) {
			t.Errorf("%s prints none of its non-secret fields:\n%s", name, text)
		}
	}
}

// encodings are the forms a marker may take in printed output.
func encodings(m string) []string {
	b := []byte(m)
	return []string{m, hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
		strings.TrimRight(base64.StdEncoding.EncodeToString(b[:9]), "="),
		strings.Trim(fmt.Sprint(b[:6]), "[]")}
}

// exportedStructs lists the exported struct types declared in dir's
// non-test files.
func exportedStructs(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				if _, ok := ts.Type.(*ast.StructType); ok && ts.Name.IsExported() {
					names = append(names, ts.Name.Name)
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// filler puts a distinct marker in every settable field it can.
type filler struct {
	n      int
	secret []string // markers in secret fields
	public []string // the others
}

func (f *filler) marker(field string, secret bool) string {
	f.n++
	m := fmt.Sprintf("MK%03dZ%sZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ", f.n, field)[:16+min(len(field), 8)]
	if secret {
		f.secret = append(f.secret, m)
	} else {
		f.public = append(f.public, m)
	}
	return m
}

var timeType = reflect.TypeFor[time.Time]()

func (f *filler) fill(v reflect.Value, secret bool) {
	f.fillNamed(v, "", secret)
}

func (f *filler) fillNamed(v reflect.Value, field string, secret bool) {
	if !v.CanSet() {
		return
	}
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			s := secret || slices.Contains(SecretFields, sf.Name) || slices.Contains(SecretFields, v.Type().Name()+"."+sf.Name)
			f.fillNamed(v.Field(i), sf.Name, s)
		}
	case reflect.String:
		v.SetString(f.marker(field, secret))
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte(f.marker(field, secret)))
			return
		}
		s := reflect.MakeSlice(v.Type(), 1, 1)
		f.fillNamed(s.Index(0), field, secret)
		v.Set(s)
	case reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			m := f.marker(field, secret)
			for len(m) < v.Len() {
				m += "Q"
			}
			reflect.Copy(v, reflect.ValueOf([]byte(m[:min(len(m), v.Len())])))
			if v.Len() < len(m) {
				// The marker was cut: look for what fits.
				f.cut(m, v.Len(), secret)
			}
			return
		}
		for i := range v.Len() {
			f.fillNamed(v.Index(i), field, secret)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		f.fillNamed(k, field, secret)
		e := reflect.New(v.Type().Elem()).Elem()
		f.fillNamed(e, field, secret)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fillNamed(p.Elem(), field, secret)
		v.Set(p)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Uint8:
		v.SetUint(1)
	}
}

// cut records, instead of the last marker, its first n bytes.
func (f *filler) cut(m string, n int, secret bool) {
	list := &f.public
	if secret {
		list = &f.secret
	}
	(*list)[len(*list)-1] = m[:n]
}
