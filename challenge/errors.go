package challenge

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/keyline/keyline"
)

// Sentinel errors. Every error this package returns matches exactly one of
// them under [errors.Is]; the message adds the reason, never a key, an
// expected response or the response that was given.
var (
	// ErrInvalidSuite reports a suite string outside the RFC 6287 grammar,
	// or a zero [Suite]. The concrete error is a *[SuiteError].
	ErrInvalidSuite = errors.New("challenge: invalid ocra suite")

	// ErrInvalidKey reports a key that is too short for the algorithm.
	ErrInvalidKey = errors.New("challenge: invalid key")

	// ErrInvalidInput reports an [Input], [Window], time or parameter that
	// the suite does not accept: a required field missing, a field given
	// that the suite does not take, a question of the wrong format or
	// length, a window out of range. It is [keyline.ErrInvalidInput],
	// the value packages enroll and authn return for their arguments too;
	// this package's errors read "challenge: invalid input: ...".
	ErrInvalidInput = keyline.ErrInvalidInput

	// ErrMalformed reports a response that is not a well-formed response
	// of the suite's length: a wrong number of digits, a character that is
	// not an ASCII digit, a misplaced separator. It is never returned for a
	// well-formed wrong response; that is [ErrMismatch]. Its text, and
	// the reason wrapped after it, are safe to show to the person who
	// typed the response: they say what is wrong with what was typed and
	// quote nothing.
	ErrMalformed = errors.New("malformed response")

	// ErrMismatch reports a well-formed response that matches no step of
	// the window.
	ErrMismatch = errors.New("challenge: response does not match")
)

// SuiteError describes why a suite string was refused. It matches
// [ErrInvalidSuite] under [errors.Is].
type SuiteError struct {
	// Suite is the string that was parsed (cut to 64 bytes for display).
	Suite string
	// Reason names the part that is wrong.
	Reason string
}

// Error returns the message, naming the suite and the part that is wrong.
func (e *SuiteError) Error() string {
	return fmt.Sprintf("ocra suite %q: %s", e.Suite, e.Reason)
}

// Unwrap returns [ErrInvalidSuite].
func (e *SuiteError) Unwrap() error { return ErrInvalidSuite }

func suiteErr(s, format string, args ...any) error {
	const maxShown = 64
	if len(s) > maxShown {
		cut := maxShown
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // do not split a multi-byte character
		}
		s = s[:cut] + "..."
	}
	return &SuiteError{Suite: s, Reason: fmt.Sprintf(format, args...)}
}

func inputErr(format string, args ...any) error {
	return fmt.Errorf("challenge: %w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}

func inputKeyErr(n, minLen int) error {
	return fmt.Errorf("%w: key has %d bytes, at least %d required", ErrInvalidKey, n, minLen)
}
