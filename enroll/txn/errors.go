package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sentinel errors of transactions. Every refusal matches
// [ErrInvalid] and one or two of the others, with
// [errors.Is]; it is a *[Error] naming the field.
var (
	// ErrInvalid reports a transaction, canonical bytes or QR
	// payload that is refused, whatever the reason.
	ErrInvalid = errors.New("txn: invalid transaction")

	// ErrTxKind reports an unknown kind or side, a field the kind
	// requires that is missing, or one it does not take that is set.
	ErrTxKind = errors.New("txn: transaction kind or shape")

	// ErrTxAmount reports an amount or quantity that is not positive or
	// out of range.
	ErrTxAmount = errors.New("txn: transaction amount")

	// ErrTxCurrency reports a currency that is not three upper-case
	// letters of the built-in table.
	ErrTxCurrency = errors.New("txn: transaction currency")

	// ErrTxAccount reports an account identifier that is missing, too
	// long, not printable ASCII, not in normal form, or an IBAN whose
	// length or check digits are wrong.
	ErrTxAccount = errors.New("txn: transaction account")

	// ErrTxInstrument reports an instrument that is missing, too long,
	// not in the symbol repertoire or normal form, or an ISIN whose check
	// digit is wrong.
	ErrTxInstrument = errors.New("txn: transaction instrument")

	// ErrTxText reports free text that is too long, not UTF-8, not in
	// normal form (spaces), or has a character outside the repertoire
	// that none of the more precise sentinels below names.
	ErrTxText = errors.New("txn: transaction text")

	// ErrTxControl reports a control character (Unicode category Cc).
	ErrTxControl = errors.New("txn: control character")

	// ErrTxBidi reports a bidirectional control character (Bidi_Control).
	ErrTxBidi = errors.New("txn: bidirectional control character")

	// ErrTxFormat reports a format character (Cf) other than a bidi
	// control: zero-width space and joiners, soft hyphen, tags.
	ErrTxFormat = errors.New("txn: format character")

	// ErrTxSeparator reports a line or paragraph separator (Zl, Zp).
	ErrTxSeparator = errors.New("txn: line or paragraph separator")

	// ErrTxCombining reports a combining mark (Mn, Mc, Me).
	ErrTxCombining = errors.New("txn: combining mark")

	// ErrTxEncoding reports canonical bytes or a QR payload that are not
	// well formed: header, field tags, order or lengths, an empty field,
	// trailing data, base64.
	ErrTxEncoding = errors.New("txn: transaction encoding")

	// ErrTxVersion reports canonical bytes or a QR payload of a version
	// this package does not know: the app needs an update.
	ErrTxVersion = errors.New("txn: unknown transaction version")
)

// Error is a refused transaction: which field, and why. It
// never quotes a field's value, only, for a refused character, its code
// point and byte offset.
type Error struct {
	// Field names the field refused ("kind", "amount", "currency",
	// "from", "to", "beneficiary", "instrument", "quantity", "side",
	// "memo"), or is "" for the bytes or payload as a whole ("nonce" for
	// a payload's nonce).
	Field string

	// Reason says what is wrong, in a few words.
	Reason string

	classes []error
}

// Error returns "txn: invalid transaction: field: reason".
func (e *Error) Error() string {
	if e.Field == "" {
		return ErrInvalid.Error() + ": " + e.Reason
	}
	return ErrInvalid.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalid] and the error's classes.
func (e *Error) Unwrap() []error {
	return append([]error{ErrInvalid}, e.classes...)
}

func txnErr(field, reason string, classes ...error) *Error {
	return &Error{Field: field, Reason: reason, classes: classes}
}

// ErrInvalidInput reports an argument out of range that is not a
// transaction: a server nonce of the wrong length, a QR size.
var ErrInvalidInput = errors.New("txn: invalid input")

func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// appendField appends a 4-byte big-endian length and the bytes.
func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}
