package deviceclient

import (
	"testing"

	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing deviceclient exports prints a key, code or session ID, with any
// verb or through slog.
func TestNoTypePrintsSecrets(t *testing.T) {
	redacttest.Check(t, ".", []any{&Activation{}, &Error{}, &MigrationProgress{}, &DeviceStatus{}}, map[string]string{
		// Its func field cannot be JSON-encoded, and it holds no secret.
		"Client": "a base URL, an http.Client and a clock",
	})
}
