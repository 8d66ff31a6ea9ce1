package txn

import (
	"testing"

	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing txn exports prints a key or code, with any verb or through
// slog.
func TestNoTypePrintsSecrets(t *testing.T) {
	redacttest.Check(t, ".", []any{&Error{}, &Transaction{}}, nil)
}
