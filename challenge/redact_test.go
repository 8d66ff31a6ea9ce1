package challenge

import (
	"testing"

	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing challenge exports prints a key, PIN hash or session
// information, with any verb or through slog.
func TestNoTypePrintsSecrets(t *testing.T) {
	s := Default // the filler cannot make a valid suite
	redacttest.Check(t, ".", []any{&SuiteError{}, &Input{}, &Window{}, &Match{}, &Verifier{}, &HOTP{},
		&TOTP{}, &HOTPVerifier{}, &TOTPVerifier{}, &s}, nil)
}
