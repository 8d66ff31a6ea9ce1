package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/keyline/keyline"
)

// ErrInvalid reports a transaction, canonical bytes or QR payload that
// is refused, whatever the reason. Every refusal matches it with
// [errors.Is] and is a *[Error], whose fields say which field was
// refused and the class of fault.
var ErrInvalid = errors.New("txn: invalid transaction")

// ErrInvalidInput reports an argument out of range that is not a
// transaction: a server nonce of the wrong length, a QR size. It is
// [keyline.ErrInvalidInput], the value every package of keyline returns
// for its arguments; this package's errors read "txn: invalid input: ...".
var ErrInvalidInput = keyline.ErrInvalidInput

// Class is the kind of fault that refused a transaction, as [Error]
// reports it: an app branches on it to say what to fix. The zero value
// is not a class.
type Class uint8

// The classes of fault.
const (
	// ClassKind: an unknown kind or side, a field the kind requires that
	// is missing, or one it does not take that is set.
	ClassKind Class = iota + 1

	// ClassAmount: an amount or quantity that is not positive or out of
	// range.
	ClassAmount

	// ClassCurrency: a currency that is not three upper-case letters of
	// the built-in table.
	ClassCurrency

	// ClassAccount: an account identifier that is missing, too long, not
	// printable ASCII, not in normal form, or an IBAN whose length or
	// check digits are wrong.
	ClassAccount

	// ClassInstrument: an instrument that is missing, too long, not in
	// the symbol repertoire or normal form, or an ISIN whose check digit
	// is wrong.
	ClassInstrument

	// ClassText: free text that is too long, not UTF-8, not in normal
	// form (spaces), or has a character outside the repertoire that none
	// of the more precise classes below names.
	ClassText

	// ClassControl: a control character (Unicode category Cc).
	ClassControl

	// ClassBidi: a bidirectional control character (Bidi_Control).
	ClassBidi

	// ClassFormat: a format character (Cf) other than a bidi control:
	// zero-width space and joiners, soft hyphen, tags.
	ClassFormat

	// ClassSeparator: a line or paragraph separator (Zl, Zp).
	ClassSeparator

	// ClassCombining: a combining mark (Mn, Mc, Me).
	ClassCombining

	// ClassEncoding: canonical bytes or a QR payload that are not well
	// formed: header, field tags, order or lengths, an empty field,
	// trailing data, base64.
	ClassEncoding

	// ClassVersion: canonical bytes or a QR payload of a version this
	// package does not know: the app needs an update.
	ClassVersion
)

var classNames = [...]string{
	ClassKind: "kind", ClassAmount: "amount", ClassCurrency: "currency", ClassAccount: "account",
	ClassInstrument: "instrument", ClassText: "text", ClassControl: "control", ClassBidi: "bidi",
	ClassFormat: "format", ClassSeparator: "separator", ClassCombining: "combining",
	ClassEncoding: "encoding", ClassVersion: "version",
}

// String returns the class's name ("kind", "amount", "currency",
// "account", "instrument", "text", "control", "bidi", "format",
// "separator", "combining", "encoding", "version"), or "Class(n)" for
// another value.
func (c Class) String() string {
	if c > 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Error is a refused transaction: which field, and why. It never quotes
// a field's value, only, for a refused character, its code point and
// byte offset. It matches [ErrInvalid].
type Error struct {
	// Field names the field refused ("kind", "amount", "currency",
	// "from", "to", "beneficiary", "instrument", "quantity", "side",
	// "memo"), or is "" for the bytes or payload as a whole ("nonce" for
	// a payload's nonce).
	Field string

	// Class is the kind of fault. For a character refused in a text
	// field (beneficiary, memo) it is the character's class
	// (ClassControl, ClassBidi, ClassFormat, ClassSeparator,
	// ClassCombining, or ClassText for the others).
	Class Class

	// Char is, for an account identifier or instrument refused for a
	// character that is not printable ASCII, the class that character
	// has in text when it is one of the precise ones (ClassControl,
	// ClassBidi, ClassFormat, ClassSeparator, ClassCombining), so that an
	// app can warn of the same hazards; otherwise zero.
	Char Class

	// Reason says what is wrong, in a few words.
	Reason string
}

// Error returns "txn: invalid transaction: field: reason".
func (e *Error) Error() string {
	if e.Field == "" {
		return ErrInvalid.Error() + ": " + e.Reason
	}
	return ErrInvalid.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }

func txnErr(field, reason string, class Class) *Error {
	return &Error{Field: field, Reason: reason, Class: class}
}

// wrap returns sentinel with a reason. A shared value of package keyline,
// whose text names no package, is said to come from this package.
func wrap(sentinel error, format string, args ...any) error {
	if !strings.Contains(sentinel.Error(), ": ") {
		format = "%s: %w: " + format
		return fmt.Errorf(format, append([]any{"txn", sentinel}, args...)...)
	}
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// appendField appends a 4-byte big-endian length and the bytes.
func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}
