package vault

import (
	"testing"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing vault exports prints a key or code, with any verb or through
// slog.
func TestNoTypePrintsSecrets(t *testing.T) {
	redacttest.Check(t, ".", []any{&PINError{}, &Options{}, &Entry{Suite: challenge.Default}, &Vault{}, &Argon2Params{}}, nil)
}
