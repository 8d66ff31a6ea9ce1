package redact

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

type inner struct{ A string }

func (in inner) String() string { return "inner(" + in.A + ")" }

type sample struct {
	Name   string
	Token  string
	Opt    *string
	None   *string
	Nested inner
	Bytes  []byte
	hidden string
}

// String and LogValue print every exported field but the hidden ones,
// what an optional field points to, nested values through their own
// methods, and no unexported field.
func TestStringAndLogValue(t *testing.T) {
	opt := "opt-value"
	v := sample{Name: "n", Token: "tok-secret", Opt: &opt, Nested: inner{A: "a"}, Bytes: []byte{1, 2}, hidden: "unexported"}
	got := String("pkg.sample", v, "Token")
	want := `pkg.sample{Name: "n", Token: [redacted], Opt: &"opt-value", None: <nil>, Nested: inner(a), Bytes: [1 2]}`
	if got != want {
		t.Fatalf("String:\n got %s\nwant %s", got, want)
	}
	if got := String("pkg.sample", (*sample)(nil)); got != "pkg.sample(nil)" {
		t.Fatalf("a nil pointer prints %s", got)
	}
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("m", "v", LogValue(&v, "Token"))
	out := b.String()
	for _, s := range []string{`"Name":"n"`, `"Opt":"opt-value"`, `"Nested":"inner(a)"`} {
		if !strings.Contains(out, s) {
			t.Errorf("LogValue lacks %s: %s", s, out)
		}
	}
	for _, s := range []string{"tok-secret", "unexported", "Token"} {
		if strings.Contains(out, s) {
			t.Errorf("LogValue shows %s: %s", s, out)
		}
	}
}
