// Package redact prints structs that hold secrets without them: the
// String, GoString, Format and LogValue methods of the exported types of
// enroll, authn and challenge that hold a session ID, MAC, code, nonce,
// push token or key are written with it.
//
// A type lists the fields it hides by name; every other exported field
// prints with %v, so that a nested value's own redaction holds, and
// unexported fields are left out.
package redact

import (
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Hidden is what a hidden field prints as.
const Hidden = "[redacted]"

// String formats v, a struct or a pointer to one, as
// name{Field: value, Hidden: [redacted], ...}, in field order: the fields
// named in hide print Hidden, the other exported fields %v of their value.
// A nil pointer prints name(nil).
func String(name string, v any, hide ...string) string {
	rv, ok := structOf(v)
	if !ok {
		return name + "(nil)"
	}
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('{')
	first := true
	t := rv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(f.Name)
		b.WriteString(": ")
		if slices.Contains(hide, f.Name) {
			b.WriteString(Hidden)
			continue
		}
		fv := rv.Field(i)
		if fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Elem().Kind() != reflect.Struct {
			// A pointer to a plain value (an optional field) prints
			// what it points to, not its address.
			b.WriteByte('&')
			fv = fv.Elem()
		}
		switch fv.Kind() {
		case reflect.String:
			fmt.Fprintf(&b, "%q", fv.String())
		default:
			fmt.Fprintf(&b, "%v", fv.Interface())
		}
	}
	b.WriteByte('}')
	return b.String()
}

// LogValue returns v's exported fields, without those named in hide, as
// a slog group. Strings, booleans, numbers, times and durations keep
// their kind; a field that is a [slog.LogValuer] gives its own value;
// any other field is given as its %v text, so that slog's JSON handler,
// which would encode a nested struct field by field, never reaches a
// nested secret.
func LogValue(v any, hide ...string) slog.Value {
	rv, ok := structOf(v)
	if !ok {
		return slog.StringValue("nil")
	}
	t := rv.Type()
	attrs := make([]slog.Attr, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || slices.Contains(hide, f.Name) {
			continue
		}
		attrs = append(attrs, slog.Attr{Key: f.Name, Value: value(rv.Field(i))})
	}
	return slog.GroupValue(attrs...)
}

func value(fv reflect.Value) slog.Value {
	if fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Elem().Kind() != reflect.Struct {
		fv = fv.Elem()
	}
	x := fv.Interface()
	switch x := x.(type) {
	case slog.LogValuer:
		return x.LogValue()
	case time.Time:
		return slog.TimeValue(x)
	case time.Duration:
		return slog.DurationValue(x)
	case fmt.Stringer, fmt.Formatter:
		return slog.StringValue(fmt.Sprintf("%v", x))
	}
	switch fv.Kind() {
	case reflect.String:
		return slog.StringValue(fv.String())
	case reflect.Bool:
		return slog.BoolValue(fv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return slog.Int64Value(fv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return slog.Uint64Value(fv.Uint())
	}
	return slog.StringValue(fmt.Sprintf("%v", x))
}

// structOf returns the struct v is or points to; ok is false for a nil
// pointer.
func structOf(v any) (reflect.Value, bool) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return reflect.Value{}, false
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		panic("redact: not a struct: " + rv.Type().String())
	}
	return rv, true
}
