package totpkey

import (
	"testing"

	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing totpkey exports prints a key, with any verb or through slog.
func TestNoTypePrintsSecrets(t *testing.T) {
	redacttest.Check(t, ".", []any{&Key{}, &Options{}}, nil)
}
