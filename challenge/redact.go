package challenge

import (
	"fmt"
	"log/slog"

	"github.com/keyline/keyline/internal/redact"
)

// inputHidden are the fields of an Input that are secret: the PIN's hash
// and the session information.
var inputHidden = []string{"PINHash", "Session"}

// String describes the input without its PIN hash and session
// information.
func (in Input) String() string { return redact.String("challenge.Input", in, inputHidden...) }

// GoString is String.
func (in Input) GoString() string { return in.String() }

// Format prints String for every verb.
func (in Input) Format(f fmt.State, _ rune) { fmt.Fprint(f, in.String()) }

// LogValue describes the input to slog without its PIN hash and session
// information.
func (in Input) LogValue() slog.Value { return redact.LogValue(in, inputHidden...) }
