package enroll

import (
	"fmt"
	"log/slog"
)

// Secret is key material: a root secret, a purpose key, a MAC key. Its
// String, GoString, Format and LogValue redact it, so a Secret printed by
// mistake, with any verb or through slog, shows no byte of it. Use the
// bytes themselves only where a key is consumed.
type Secret []byte

const redacted = "[redacted]"

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "enroll.Secret([redacted])".
func (s Secret) GoString() string { return "enroll.Secret(" + redacted + ")" }

// Format prints "[redacted]" for every verb, so that %x, %v and %#v show
// nothing either.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// LogValue returns "[redacted]" for slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Zero overwrites the secret with zeros. Copies made earlier are not
// reached.
func (s Secret) Zero() { clear(s) }

// clone returns an independent copy.
func (s Secret) clone() Secret {
	if s == nil {
		return nil
	}
	return append(Secret(nil), s...)
}

// MarshalJSON writes "[redacted]": a Secret inside a struct logged as JSON
// (slog's JSON handler, say) shows nothing either. Secrets are stored only
// through explicit, sealed encodings.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
