package authn

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUserIDLen is the longest user ID, in bytes.
const MaxUserIDLen = 256

// validUserID is the one rule for user IDs, applied by checkUser at
// every entry point of the Service (login calls, factor changes,
// activation, push, the operator's calls and the device API) before any
// store sees the ID: 1 to MaxUserIDLen bytes of UTF-8 text without a
// NUL, control or bidi character. It is the rule of package enroll for
// the user ID an offer and a device API request carry, so that every
// user the Service accepts can enroll a phone, and no store is handed
// bytes it cannot keep (PostgreSQL refuses NUL and invalid UTF-8 in
// text). Each refusal is ErrInvalidInput and says which rule it broke,
// never the ID itself.
func validUserID(user string) error {
	why := ""
	switch {
	case user == "":
		why = "is empty"
	case len(user) > MaxUserIDLen:
		why = fmt.Sprintf("is longer than %d bytes", MaxUserIDLen)
	case !utf8.ValidString(user):
		why = "is not valid UTF-8"
	case strings.IndexByte(user, 0) >= 0:
		why = "contains a NUL byte"
	case strings.ContainsFunc(user, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }):
		why = "contains a control or bidi character"
	default:
		return nil
	}
	return fmt.Errorf("authn: %w: the user ID %s", ErrInvalidInput, why)
}
