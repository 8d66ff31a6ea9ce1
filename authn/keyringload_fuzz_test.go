package authn

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Whatever the text, ParseKeyring does not panic, returns a keyring or
// an error (never both), fails only with its documented errors, never
// puts an entry's key text in an error, and makes the first entry's ID
// the primary.
func FuzzParseKeyring(f *testing.F) {
	f.Add([]byte("k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	f.Add([]byte("b AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=; a ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="))
	f.Add([]byte("insecure-demo\nk1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"))
	f.Add([]byte("# c\n\nk1\tAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		for _, opts := range [][]LoadOption{nil, {AllowDemoKeys()}} {
			k, err := ParseKeyring("fuzz", text, opts...)
			if err != nil {
				if k != nil {
					t.Fatal("a keyring with an error")
				}
				if !errors.Is(err, ErrInvalidKeyring) && !errors.Is(err, ErrDemoKeyring) {
					t.Fatalf("undocumented error %v", err)
				}
				if !strings.HasPrefix(err.Error(), "authn: ") || !strings.Contains(err.Error(), "fuzz") {
					t.Fatalf("error %q does not start with the package or name the source", err)
				}
				var ids []string
				var keyTexts []string
				for line := range bytes.SplitSeq(text, []byte("\n")) {
					for e := range bytes.SplitSeq(line, []byte(";")) {
						fields := strings.FieldsFunc(string(e), func(r rune) bool { return r == ' ' || r == '\t' })
						if len(fields) > 0 {
							ids = append(ids, fields[0])
						}
						keyTexts = append(keyTexts, fields[min(1, len(fields)):]...)
					}
				}
				// What is left of the error once the IDs it may quote are
				// cut out must not hold a key text.
				rest := err.Error()
				for _, id := range ids {
					rest = strings.ReplaceAll(rest, strconv.Quote(id), "")
				}
				for _, kt := range keyTexts {
					inID := func(id string) bool { return strings.Contains(id, kt) }
					if len(kt) >= 12 && !slices.ContainsFunc(ids, inID) && !strings.Contains("fuzz"+ErrInvalidKeyring.Error()+ErrDemoKeyring.Error(), kt) && strings.Contains(rest, kt) {
						t.Fatalf("error %q shows the key text %q", err, kt)
					}
				}
				continue
			}
			if k == nil {
				t.Fatal("neither a keyring nor an error")
			}
			first := ""
			for line := range bytes.SplitSeq(text, []byte("\n")) {
				for e := range bytes.SplitSeq(line, []byte(";")) {
					s := strings.TrimSpace(string(e))
					if first == "" && s != "" && !strings.HasPrefix(s, "#") && s != demoMark {
						first = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })[0]
					}
				}
			}
			if k.Primary() != first {
				t.Fatalf("primary %q, want the first entry's %q", k.Primary(), first)
			}
		}
	})
}
