package enroll

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll/internal/qrcode"
)

// Transaction signing: the phone shows, and answers for, exactly the
// transaction the server will execute.
//
//  1. Server: builds a [Transaction] from the order the user placed,
//     [Transaction.Normalize]s it, stores it with a fresh nonce
//     ([NewTransactionNonce]), and shows [TransactionQR] (or sends the
//     canonical bytes in a push prompt).
//  2. Phone: [ParseTransactionQR] (or [ParseTransaction] on the pushed
//     bytes) and shows [Transaction.Display]; if the user confirms,
//     [Credential.RespondTransaction] answers with OCRA under
//     [TransactionSuite] over [TransactionQuestion].
//  3. Server: verifies the response against the transaction and nonce it
//     stored, never against one sent back by a browser, with
//     challenge.NewVerifier(TransactionSuite, TransactionKey(root)); it
//     takes each nonce once, and executes the transaction it stored.
//
// The question is a hash of the canonical bytes, and the lines the phone
// shows are computed from those bytes, so a man in the browser who alters
// the QR code makes the phone show his transaction, not the user's: the
// user refuses it, or the response does not verify for the stored one.
//
// # Canonical form
//
// Every field is a tag byte and a length-prefixed value, in a fixed
// order; optional fields are omitted when empty, and an empty field in the
// bytes is refused, so each transaction has one encoding and no two
// transactions share one (PROTOCOL.md, Transactions, has the bytes).
// Canonical and Question refuse a transaction that is not in normal form
// rather than normalising it silently: the server must hold, and execute,
// the very values that were signed. Normalize gives the normal form.
//
// # Text
//
// golang.org/x/text is not a dependency, so text is not normalised to
// NFC: it is refused unless it is NFC already, which is checked without
// normalisation tables by a stricter rule. Beneficiary and memo take
// letters, numbers, punctuation, symbols and U+0020 (Unicode categories L,
// N, P, S), and refuse:
//   - control characters (Cc): [ErrTxControl];
//   - bidirectional controls (Bidi_Control, all Cf): [ErrTxBidi];
//   - other format characters (Cf: zero-width joiners and spaces, soft
//     hyphen, tags): [ErrTxFormat];
//   - line and paragraph separators (Zl, Zp): [ErrTxSeparator];
//   - combining marks (Mn, Mc, Me): [ErrTxCombining], so that accented
//     letters are written precomposed, as NFC writes them;
//   - and, with [ErrTxText]: other spaces than U+0020, private-use,
//     unassigned (in Go's Unicode tables, 15.0.0) and noncharacters,
//     default-ignorable letters (Hangul fillers), conjoining Hangul jamo
//     (NFC composes them; syllables are precomposed), and the 1,103
//     characters that NFC replaces by another even alone (singletons such
//     as U+212B ANGSTROM SIGN, composition exclusions such as U+0958, CJK
//     compatibility ideographs), listed in txnNotNFC.
//
// Such text is NFC: no accepted character has a combining class other
// than 0 or can compose with a neighbour, and none is changed by NFC on its
// own, so NFC's quick check answers Yes (UAX #15). This was checked, for
// every code point, against golang.org/x/text/unicode/norm 15.0.0 when the
// table was generated. The price: scripts that need combining marks
// (Devanagari, Thai, Hebrew with points, Arabic with harakat) cannot be
// written; Latin, Greek, Cyrillic, CJK, Hangul syllables, Hebrew and
// Arabic letters can. Leading, trailing and doubled spaces are not normal
// (Normalize removes them), since they do not show.
//
// Account identifiers and instruments are printable ASCII, so that no
// homoglyph from another script can stand in the identifier that decides
// where money goes.

// TransactionKind is what a transaction does.
type TransactionKind uint8

// The kinds of transaction a broker confirms.
const (
	// KindWithdrawal moves money from the user's account at the broker
	// (From) to an account outside it (To), such as a bank account.
	KindWithdrawal TransactionKind = 1

	// KindTransfer moves money between two accounts at the broker (From
	// to To), the user's own or another customer's.
	KindTransfer TransactionKind = 2

	// KindTrade places an order to buy or sell Quantity units of
	// Instrument in account From, for at most (buy) or at least (sell)
	// Amount in total.
	KindTrade TransactionKind = 3
)

// String returns "withdrawal", "transfer" or "trade", or
// "TransactionKind(n)" for another value.
func (k TransactionKind) String() string {
	switch k {
	case KindWithdrawal:
		return "withdrawal"
	case KindTransfer:
		return "transfer"
	case KindTrade:
		return "trade"
	}
	return "TransactionKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText returns the kind's name; the zero kind is "" and another
// unknown kind is an error.
func (k TransactionKind) MarshalText() ([]byte, error) {
	if k == 0 {
		return []byte{}, nil
	}
	if k > KindTrade {
		return nil, txnErr(txnFieldKind, "unknown kind", ErrTxKind)
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name, or "" for the zero kind.
func (k *TransactionKind) UnmarshalText(b []byte) error {
	for _, c := range []TransactionKind{0, KindWithdrawal, KindTransfer, KindTrade} {
		if s, _ := c.MarshalText(); string(s) == string(b) {
			*k = c
			return nil
		}
	}
	return txnErr(txnFieldKind, "unknown kind", ErrTxKind)
}

// TradeSide says whether a trade buys or sells.
type TradeSide uint8

// The sides of a trade.
const (
	SideBuy  TradeSide = 1 // buy: Amount is the most the user pays
	SideSell TradeSide = 2 // sell: Amount is the least the user receives
)

// String returns "buy" or "sell", or "TradeSide(n)" for another value.
func (s TradeSide) String() string {
	switch s {
	case SideBuy:
		return "buy"
	case SideSell:
		return "sell"
	}
	return "TradeSide(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns the side's name; the zero side (a transaction that
// is not a trade) is "" and another unknown side is an error.
func (s TradeSide) MarshalText() ([]byte, error) {
	if s == 0 {
		return []byte{}, nil
	}
	if s > SideSell {
		return nil, txnErr(txnFieldSide, "unknown side", ErrTxKind)
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a side's name, or "" for the zero side.
func (s *TradeSide) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*s = 0
	case "buy":
		*s = SideBuy
	case "sell":
		*s = SideSell
	default:
		return txnErr(txnFieldSide, "unknown side", ErrTxKind)
	}
	return nil
}

// Transaction is what the user confirms on the phone. Which fields a
// kind takes:
//
//	field        withdrawal  transfer  trade
//	Amount       required    required  required (the limit)
//	Currency     required    required  required
//	From         required    required  required (the trading account)
//	To           required    required  —
//	Beneficiary  optional    optional  —
//	Instrument   —           —         required
//	Quantity     —           —         required
//	Side         —           —         required
//	Memo         optional    optional  optional
//
// A field a kind does not take must be left at its zero value. An
// optional text field that is "" is absent: the canonical bytes omit it,
// so absent and empty are one value and have one encoding.
type Transaction struct {
	// Kind is what the transaction does.
	Kind TransactionKind `json:"kind"`

	// Amount is in minor units of Currency (cents for EUR, yen for JPY,
	// fils for BHD), 1 to 2^63-1. For a trade it is the limit on the
	// order's total: the most a buy pays, the least a sell receives. A
	// market order is confirmed with its protective limit: the user must
	// see a number that bounds what happens.
	Amount int64 `json:"amount"`

	// Currency is an ISO 4217 alphabetic code of the built-in table (see
	// [CurrencyMinorUnits]), upper case.
	Currency string `json:"currency"`

	// From is the account debited (for a trade, the account the order is
	// placed in), and To the account credited: 1 to 64 bytes of printable
	// ASCII, without leading, trailing or doubled spaces. An identifier
	// that, without spaces and upper-cased, has the shape of an IBAN of a
	// country in the IBAN registry (country code, two check digits, the
	// country's length in letters and digits) is an IBAN: its check
	// digits must verify (ISO 7064 mod 97-10), and its normal form is
	// upper case without spaces. Any other identifier is opaque, and kept
	// as given, case included.
	From string `json:"from"`
	To   string `json:"to,omitempty"`

	// Beneficiary is the name of the holder of To, as the broker has it
	// (optional; 1 to 128 bytes of text as described above).
	Beneficiary string `json:"beneficiary,omitempty"`

	// Instrument is what a trade buys or sells: an ISIN (12 characters,
	// whose check digit must verify) or a symbol, 1 to 32 bytes of upper
	// case letters, digits, '.', '-', '/', ':' and single inner spaces.
	Instrument string `json:"instrument,omitempty"`

	// Quantity is the number of whole units a trade buys or sells, 1 to
	// 2^63-1. Fractional quantities cannot be confirmed in version 1.
	Quantity int64 `json:"quantity,omitempty"`

	// Side says whether a trade buys or sells.
	Side TradeSide `json:"side,omitempty"`

	// Memo is the user's reference or remittance text (optional; 1 to
	// 256 bytes of text as described above).
	Memo string `json:"memo,omitempty"`
}

// Sentinel errors of transactions. Every refusal matches
// [ErrInvalidTransaction] and one or two of the others, with
// [errors.Is]; it is a *[TransactionError] naming the field.
var (
	// ErrInvalidTransaction reports a transaction, canonical bytes or QR
	// payload that is refused, whatever the reason.
	ErrInvalidTransaction = errors.New("enroll: invalid transaction")

	// ErrTxKind reports an unknown kind or side, a field the kind
	// requires that is missing, or one it does not take that is set.
	ErrTxKind = errors.New("enroll: transaction kind or shape")

	// ErrTxAmount reports an amount or quantity that is not positive or
	// out of range.
	ErrTxAmount = errors.New("enroll: transaction amount")

	// ErrTxCurrency reports a currency that is not three upper-case
	// letters of the built-in table.
	ErrTxCurrency = errors.New("enroll: transaction currency")

	// ErrTxAccount reports an account identifier that is missing, too
	// long, not printable ASCII, not in normal form, or an IBAN whose
	// length or check digits are wrong.
	ErrTxAccount = errors.New("enroll: transaction account")

	// ErrTxInstrument reports an instrument that is missing, too long,
	// not in the symbol repertoire or normal form, or an ISIN whose check
	// digit is wrong.
	ErrTxInstrument = errors.New("enroll: transaction instrument")

	// ErrTxText reports free text that is too long, not UTF-8, not in
	// normal form (spaces), or has a character outside the repertoire
	// that none of the more precise sentinels below names.
	ErrTxText = errors.New("enroll: transaction text")

	// ErrTxControl reports a control character (Unicode category Cc).
	ErrTxControl = errors.New("enroll: control character")

	// ErrTxBidi reports a bidirectional control character (Bidi_Control).
	ErrTxBidi = errors.New("enroll: bidirectional control character")

	// ErrTxFormat reports a format character (Cf) other than a bidi
	// control: zero-width space and joiners, soft hyphen, tags.
	ErrTxFormat = errors.New("enroll: format character")

	// ErrTxSeparator reports a line or paragraph separator (Zl, Zp).
	ErrTxSeparator = errors.New("enroll: line or paragraph separator")

	// ErrTxCombining reports a combining mark (Mn, Mc, Me).
	ErrTxCombining = errors.New("enroll: combining mark")

	// ErrTxEncoding reports canonical bytes or a QR payload that are not
	// well formed: header, field tags, order or lengths, an empty field,
	// trailing data, base64.
	ErrTxEncoding = errors.New("enroll: transaction encoding")

	// ErrTxVersion reports canonical bytes or a QR payload of a version
	// this package does not know: the app needs an update.
	ErrTxVersion = errors.New("enroll: unknown transaction version")
)

// TransactionError is a refused transaction: which field, and why. It
// never quotes a field's value, only, for a refused character, its code
// point and byte offset.
type TransactionError struct {
	// Field names the field refused ("kind", "amount", "currency",
	// "from", "to", "beneficiary", "instrument", "quantity", "side",
	// "memo"), or is "" for the bytes or payload as a whole ("nonce" for
	// a payload's nonce).
	Field string

	// Reason says what is wrong, in a few words.
	Reason string

	classes []error
}

// Error returns "enroll: invalid transaction: field: reason".
func (e *TransactionError) Error() string {
	if e.Field == "" {
		return ErrInvalidTransaction.Error() + ": " + e.Reason
	}
	return ErrInvalidTransaction.Error() + ": " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidTransaction] and the error's classes.
func (e *TransactionError) Unwrap() []error {
	return append([]error{ErrInvalidTransaction}, e.classes...)
}

func txnErr(field, reason string, classes ...error) *TransactionError {
	return &TransactionError{Field: field, Reason: reason, classes: classes}
}

// Field names, as TransactionError.Field reports them.
const (
	txnFieldKind        = "kind"
	txnFieldAmount      = "amount"
	txnFieldCurrency    = "currency"
	txnFieldFrom        = "from"
	txnFieldTo          = "to"
	txnFieldBeneficiary = "beneficiary"
	txnFieldInstrument  = "instrument"
	txnFieldQuantity    = "quantity"
	txnFieldSide        = "side"
	txnFieldMemo        = "memo"
)

// Limits, in bytes.
const (
	txnMaxAccount     = 64
	txnMaxBeneficiary = 128
	txnMaxInstrument  = 32
	txnMaxMemo        = 256
)

// TransactionSuite is the OCRA suite of transaction responses: the
// question is the 64 hex digits of [TransactionQuestion], the response 8
// digits, bound to a 30-second time step.
var TransactionSuite = challenge.MustParseSuite("OCRA-1:HOTP-SHA256-8:QH64-T30S")

// LabelTransaction is the HKDF info of the transaction key (see
// [TransactionKey]): responses to transactions never share a key with
// login challenges.
const LabelTransaction = "keyline/v1/tx-ocra"

// TransactionKey derives a device's transaction key from its root secret,
// as [DeriveKeys] derives the others: HKDF-SHA256 with no salt and
// [LabelTransaction] as info, 32 bytes. The server verifies responses with
// challenge.NewVerifier(TransactionSuite, TransactionKey(root)).
func TransactionKey(root Secret) Secret {
	return hkdfKey(root, LabelTransaction, sha256.Size)
}

// RespondTransaction is the phone's answer to a transaction the user
// confirmed, at time now: OCRA under [TransactionSuite] and the
// credential's [TransactionKey], over [TransactionQuestion]. A credential
// not yet confirmed by its server refuses ([ErrUnconfirmed]).
func (c *Credential) RespondTransaction(serverNonce []byte, t Transaction, now time.Time) (string, error) {
	if !c.confirmed {
		return "", ErrUnconfirmed
	}
	q, err := TransactionQuestion(serverNonce, t)
	if err != nil {
		return "", err
	}
	key := TransactionKey(c.root)
	defer key.Zero()
	return TransactionSuite.Respond(key, challenge.Input{Question: q, Time: now})
}

// Transaction nonce sizes, in bytes.
const (
	// TransactionNonceSize is the size of [NewTransactionNonce]'s nonces.
	TransactionNonceSize = 32

	txnMinNonce = 16
	txnMaxNonce = 64
)

// NewTransactionNonce returns 32 random bytes: a server nonce for
// [TransactionQuestion] and [TransactionQR]. The server stores it with the
// transaction and accepts one response per nonce.
func NewTransactionNonce() []byte {
	n := make([]byte, TransactionNonceSize)
	rand.Read(n) // never fails (crypto/rand, Go 1.24+)
	return n
}

// txnLabel is the canonical form's header and the question's prefix.
const txnLabel = "keyline/v1/tx"

// txnVersion is the canonical form's version byte.
const txnVersion = 1

// Field tags of the canonical form, in their order.
const (
	txnTagKind        = 0x01
	txnTagAmount      = 0x02
	txnTagCurrency    = 0x03
	txnTagFrom        = 0x04
	txnTagTo          = 0x05
	txnTagBeneficiary = 0x06
	txnTagInstrument  = 0x07
	txnTagQuantity    = 0x08
	txnTagSide        = 0x09
	txnTagMemo        = 0x0a
)

// txnFieldHead is a field's tag and length.
const txnFieldHead = 1 + 4

// txnMaxCanonical bounds canonical bytes: the header and every field at
// its largest (no kind takes them all).
const txnMaxCanonical = len(txnLabel) + 1 + 10*txnFieldHead + 1 + 8 + 3 +
	2*txnMaxAccount + txnMaxBeneficiary + txnMaxInstrument + 8 + 1 + txnMaxMemo

// Canonical returns the transaction's canonical bytes:
//
//	"keyline/v1/tx" ‖ 0x01 ‖ field ‖ field ‖ …
//	field = tag (1 byte) ‖ lp(value)
//
// with the fields present in tag order: 0x01 kind (1 byte), 0x02 amount
// (u64), 0x03 currency (3 ASCII letters), 0x04 from, 0x05 to, 0x06
// beneficiary, 0x07 instrument, 0x08 quantity (u64), 0x09 side (1 byte),
// 0x0a memo; text as UTF-8. A field the kind does not take, and an empty
// optional field, is omitted. A transaction that is not valid, or not in
// normal form (see [Transaction.Normalize]), is refused with a
// *[TransactionError].
func (t Transaction) Canonical() ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return t.encode(make([]byte, 0, 128)), nil
}

// encode appends the canonical bytes of a checked transaction.
func (t Transaction) encode(b []byte) []byte {
	b = append(b, txnLabel...)
	b = append(b, txnVersion)
	b = txnAppend(b, txnTagKind, []byte{byte(t.Kind)})
	b = txnAppend(b, txnTagAmount, binary.BigEndian.AppendUint64(nil, uint64(t.Amount)))
	b = txnAppend(b, txnTagCurrency, []byte(t.Currency))
	b = txnAppend(b, txnTagFrom, []byte(t.From))
	b = txnAppend(b, txnTagTo, []byte(t.To))
	b = txnAppend(b, txnTagBeneficiary, []byte(t.Beneficiary))
	b = txnAppend(b, txnTagInstrument, []byte(t.Instrument))
	if t.Quantity != 0 {
		b = txnAppend(b, txnTagQuantity, binary.BigEndian.AppendUint64(nil, uint64(t.Quantity)))
	}
	if t.Side != 0 {
		b = txnAppend(b, txnTagSide, []byte{byte(t.Side)})
	}
	return txnAppend(b, txnTagMemo, []byte(t.Memo))
}

// txnAppend appends a field, or nothing for an empty value.
func txnAppend(b []byte, tag byte, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return appendField(append(b, tag), v)
}

// ParseTransaction reads canonical bytes strictly, as the exact inverse of
// [Transaction.Canonical]: the header, version 1 ([ErrTxVersion]
// otherwise), known tags in increasing order, each at most once, values
// of the right length and never empty, no trailing data
// ([ErrTxEncoding]), and a transaction that Canonical would accept and
// encode to the same bytes. A refusal is a *[TransactionError] and yields
// the zero Transaction.
func ParseTransaction(b []byte) (Transaction, error) {
	t, err := parseTransaction(b)
	if err != nil {
		return Transaction{}, err
	}
	return t, nil
}

func parseTransaction(b []byte) (Transaction, error) {
	if len(b) > txnMaxCanonical {
		return Transaction{}, txnErr("", "longer than "+strconv.Itoa(txnMaxCanonical)+" bytes", ErrTxEncoding)
	}
	rest, ok := bytes.CutPrefix(b, []byte(txnLabel))
	if !ok {
		return Transaction{}, txnErr("", "not a keyline transaction", ErrTxEncoding)
	}
	if len(rest) == 0 {
		return Transaction{}, txnErr("", "no version", ErrTxEncoding)
	}
	if rest[0] != txnVersion {
		return Transaction{}, txnErr("", "version "+strconv.Itoa(int(rest[0]))+" is not 1", ErrTxVersion)
	}
	rest = rest[1:]
	var t Transaction
	last := 0
	for len(rest) > 0 {
		if len(rest) < txnFieldHead {
			return Transaction{}, txnErr("", "truncated field header", ErrTxEncoding)
		}
		tag := int(rest[0])
		n := binary.BigEndian.Uint32(rest[1:txnFieldHead])
		rest = rest[txnFieldHead:]
		if tag < txnTagKind || tag > txnTagMemo {
			return Transaction{}, txnErr("", "unknown field tag "+strconv.Itoa(tag), ErrTxEncoding)
		}
		if tag <= last {
			return Transaction{}, txnErr("", "field tag "+strconv.Itoa(tag)+" repeated or out of order", ErrTxEncoding)
		}
		last = tag
		if uint64(n) > uint64(len(rest)) {
			return Transaction{}, txnErr("", "field "+strconv.Itoa(tag)+" runs past the end", ErrTxEncoding)
		}
		if n == 0 {
			return Transaction{}, txnErr("", "field "+strconv.Itoa(tag)+" is empty (absent fields are omitted)", ErrTxEncoding)
		}
		v := rest[:n]
		rest = rest[n:]
		if want := txnFixedLen(tag); want != 0 && len(v) != want {
			return Transaction{}, txnErr("", "field "+strconv.Itoa(tag)+" has the wrong length ("+strconv.Itoa(len(v))+", not "+strconv.Itoa(want)+")", ErrTxEncoding)
		}
		switch tag {
		case txnTagKind:
			t.Kind = TransactionKind(v[0])
		case txnTagAmount:
			u := binary.BigEndian.Uint64(v)
			if u > math.MaxInt64 {
				return Transaction{}, txnErr(txnFieldAmount, "above 2^63-1", ErrTxAmount)
			}
			t.Amount = int64(u)
		case txnTagCurrency:
			t.Currency = string(v)
		case txnTagFrom:
			t.From = string(v)
		case txnTagTo:
			t.To = string(v)
		case txnTagBeneficiary:
			t.Beneficiary = string(v)
		case txnTagInstrument:
			t.Instrument = string(v)
		case txnTagQuantity:
			u := binary.BigEndian.Uint64(v)
			if u > math.MaxInt64 {
				return Transaction{}, txnErr(txnFieldQuantity, "above 2^63-1", ErrTxAmount)
			}
			t.Quantity = int64(u)
		case txnTagSide:
			t.Side = TradeSide(v[0])
		case txnTagMemo:
			t.Memo = string(v)
		}
	}
	if err := t.check(); err != nil {
		return Transaction{}, err
	}
	// By construction the bytes are the encoding; say so rather than
	// trust it.
	if !bytes.Equal(t.encode(nil), b) {
		return Transaction{}, txnErr("", "not the canonical encoding", ErrTxEncoding)
	}
	return t, nil
}

// txnFixedLen is the value length of a fixed-size field, or 0.
func txnFixedLen(tag int) int {
	switch tag {
	case txnTagKind, txnTagSide:
		return 1
	case txnTagAmount, txnTagQuantity:
		return 8
	case txnTagCurrency:
		return 3
	}
	return 0
}

// check validates every field, in canonical order, and the normal form.
func (t Transaction) check() error {
	if t.Kind < KindWithdrawal || t.Kind > KindTrade {
		return txnErr(txnFieldKind, "unknown kind", ErrTxKind)
	}
	trade := t.Kind == KindTrade
	if t.Amount <= 0 {
		return txnErr(txnFieldAmount, "not positive", ErrTxAmount)
	}
	if err := checkCurrency(t.Currency); err != nil {
		return err
	}
	if err := checkNormalAccount(txnFieldFrom, t.From); err != nil {
		return err
	}
	if trade {
		if t.To != "" {
			return txnErr(txnFieldTo, "not taken by a trade", ErrTxKind)
		}
		if t.Beneficiary != "" {
			return txnErr(txnFieldBeneficiary, "not taken by a trade", ErrTxKind)
		}
	} else {
		if err := checkNormalAccount(txnFieldTo, t.To); err != nil {
			return err
		}
		if err := checkNormalText(txnFieldBeneficiary, t.Beneficiary, txnMaxBeneficiary); err != nil {
			return err
		}
	}
	if !trade {
		if t.Instrument != "" {
			return txnErr(txnFieldInstrument, "taken only by a trade", ErrTxKind)
		}
		if t.Quantity != 0 {
			return txnErr(txnFieldQuantity, "taken only by a trade", ErrTxKind)
		}
		if t.Side != 0 {
			return txnErr(txnFieldSide, "taken only by a trade", ErrTxKind)
		}
	} else {
		if t.Instrument == "" {
			return txnErr(txnFieldInstrument, "required", ErrTxInstrument)
		}
		n, err := instrumentForm(t.Instrument)
		if err != nil {
			return err
		}
		if n != t.Instrument {
			return txnErr(txnFieldInstrument, "not in normal form (see Normalize)", ErrTxInstrument)
		}
		if t.Quantity <= 0 {
			return txnErr(txnFieldQuantity, "not positive", ErrTxAmount)
		}
		if t.Side != SideBuy && t.Side != SideSell {
			return txnErr(txnFieldSide, "not buy or sell", ErrTxKind)
		}
	}
	return checkNormalText(txnFieldMemo, t.Memo, txnMaxMemo)
}

// Normalize returns the transaction in normal form, or why it cannot be
// valid: the currency upper-cased; account identifiers without leading,
// trailing or doubled spaces, and IBANs upper-cased without spaces (their
// check digits verified); the instrument upper-cased, without leading,
// trailing or doubled spaces; beneficiary and memo without leading,
// trailing or doubled U+0020. It changes nothing else: text with a
// character outside the repertoire, in particular text not already in
// NFC, is refused, not repaired. Normalize of a normal transaction
// returns it unchanged. A refusal is a *[TransactionError] and yields the
// zero Transaction.
func (t Transaction) Normalize() (Transaction, error) {
	n := t
	n.Currency = asciiUpper(strings.Trim(t.Currency, " "))
	var err error
	if t.From != "" {
		if n.From, err = accountForm(txnFieldFrom, t.From); err != nil {
			return Transaction{}, err
		}
	}
	if t.To != "" {
		if n.To, err = accountForm(txnFieldTo, t.To); err != nil {
			return Transaction{}, err
		}
	}
	if t.Instrument != "" {
		if n.Instrument, err = instrumentForm(t.Instrument); err != nil {
			return Transaction{}, err
		}
	}
	n.Beneficiary = squeezeSpaces(t.Beneficiary)
	n.Memo = squeezeSpaces(t.Memo)
	if err := n.check(); err != nil {
		return Transaction{}, err
	}
	return n, nil
}

// TransactionQuestion returns the OCRA question of [TransactionSuite] for
// a transaction: the 64 lowercase hex digits of
//
//	SHA-256("keyline/v1/tx" ‖ lp(serverNonce) ‖ t.Canonical())
//
// The nonce, 16 to 64 bytes ([ErrInvalidInput] otherwise), is the
// server's: it makes each question new, and the server accepts one
// response per nonce. Its length prefix keeps the boundary between nonce
// and transaction unambiguous. A transaction Canonical refuses is refused
// with the same error.
func TransactionQuestion(serverNonce []byte, t Transaction) (string, error) {
	if err := checkTxnNonce(serverNonce); err != nil {
		return "", err
	}
	c, err := t.Canonical()
	if err != nil {
		return "", err
	}
	return txnQuestion(serverNonce, c), nil
}

func txnQuestion(nonce, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(txnLabel))
	h.Write(appendField(nil, nonce))
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

func checkTxnNonce(n []byte) error {
	if len(n) < txnMinNonce || len(n) > txnMaxNonce {
		return wrap(ErrInvalidInput, "transaction nonce of %d bytes, want %d to %d", len(n), txnMinNonce, txnMaxNonce)
	}
	return nil
}

// QR payload of a transaction.
const (
	txnURIPrefix = "keyline://tx?"
	txnURIHead   = txnURIPrefix + "v=1&n="
	txnURITail   = "&t="
)

// txnMaxURI bounds a transaction URI: the largest nonce and canonical
// bytes in base64url.
var txnMaxURI = len(txnURIHead) + base64.RawURLEncoding.EncodedLen(txnMaxNonce) +
	len(txnURITail) + base64.RawURLEncoding.EncodedLen(txnMaxCanonical)

// TransactionURI returns the QR payload of a transaction:
//
//	keyline://tx?v=1&n=<nonce>&t=<canonical bytes>
//
// both in unpadded base64url, the parameters in this order. It carries the
// canonical bytes themselves, so the phone reads what it will sign with
// the parser that checks it, and no server address. The nonce must be 16
// to 64 bytes ([ErrInvalidInput]); a transaction Canonical refuses is
// refused with the same error.
func TransactionURI(serverNonce []byte, t Transaction) (string, error) {
	if err := checkTxnNonce(serverNonce); err != nil {
		return "", err
	}
	c, err := t.Canonical()
	if err != nil {
		return "", err
	}
	return txnURI(serverNonce, c), nil
}

func txnURI(nonce, canonical []byte) string {
	enc := base64.RawURLEncoding
	return txnURIHead + enc.EncodeToString(nonce) + txnURITail + enc.EncodeToString(canonical)
}

// ParseTransactionQR reads a QR payload as [TransactionURI] writes it, and
// nothing else: the scheme and host, "v=1" ([ErrTxVersion] for another
// version), then n and t, in this order, once each, in unpadded base64url
// without any other character, a nonce of 16 to 64 bytes, and canonical
// bytes that [ParseTransaction] accepts. A refusal is a
// *[TransactionError] matching [ErrInvalidTransaction] and yields a nil
// nonce and the zero Transaction.
func ParseTransactionQR(payload string) (nonce []byte, t Transaction, err error) {
	nonce, t, err = parseTransactionQR(payload)
	if err != nil {
		return nil, Transaction{}, err
	}
	return nonce, t, nil
}

func parseTransactionQR(payload string) ([]byte, Transaction, error) {
	if len(payload) > txnMaxURI {
		return nil, Transaction{}, txnErr("", "payload longer than "+strconv.Itoa(txnMaxURI)+" bytes", ErrTxEncoding)
	}
	query, ok := strings.CutPrefix(payload, txnURIPrefix)
	if !ok {
		return nil, Transaction{}, txnErr("", "not a keyline://tx payload", ErrTxEncoding)
	}
	parts := strings.Split(query, "&")
	if v, ok := strings.CutPrefix(parts[0], "v="); ok && v != "1" {
		return nil, Transaction{}, txnErr("", "payload version is not 1", ErrTxVersion)
	}
	if len(parts) != 3 || parts[0] != "v=1" || !strings.HasPrefix(parts[1], "n=") || !strings.HasPrefix(parts[2], "t=") {
		return nil, Transaction{}, txnErr("", "payload is not v=1&n=…&t=…", ErrTxEncoding)
	}
	enc := base64.RawURLEncoding.Strict()
	nonce, err := enc.DecodeString(parts[1][2:])
	if err != nil {
		return nil, Transaction{}, txnErr("nonce", "not unpadded base64url", ErrTxEncoding)
	}
	if len(nonce) < txnMinNonce || len(nonce) > txnMaxNonce {
		return nil, Transaction{}, txnErr("nonce", "not 16 to 64 bytes", ErrTxEncoding)
	}
	c, err := enc.DecodeString(parts[2][2:])
	if err != nil {
		return nil, Transaction{}, txnErr("", "transaction is not unpadded base64url", ErrTxEncoding)
	}
	t, err := parseTransaction(c)
	if err != nil {
		return nil, Transaction{}, err
	}
	// Strict base64 refuses non-zero padding bits, so this holds; check
	// it rather than trust it.
	if txnURI(nonce, c) != payload {
		return nil, Transaction{}, txnErr("", "payload is not canonical", ErrTxEncoding)
	}
	return nonce, t, nil
}

// TransactionQR returns a PNG of the QR code of [TransactionURI],
// size×size pixels, drawn as [Offer.QR] draws (level M, 4-module quiet
// zone, whole pixels per module). The largest transaction needs 121
// modules with the quiet zone, a typical one 61 to 73: size must be at
// least that and at most [MaxQRSize] ([ErrInvalidInput]); 400 to 600 suits
// a screen. Nonce and transaction are refused as by TransactionURI.
func TransactionQR(serverNonce []byte, t Transaction, size int) ([]byte, error) {
	if err := qrcode.CheckSize(size, ErrInvalidInput); err != nil {
		return nil, err
	}
	uri, err := TransactionURI(serverNonce, t)
	if err != nil {
		return nil, err
	}
	s, err := qrcode.Encode(uri, ErrInvalidTransaction)
	if err != nil {
		return nil, err
	}
	return s.PNG(size, ErrInvalidInput)
}

// Display returns the lines the phone shows for the transaction, each to
// be shown as a line of its own (its own paragraph, so that right-to-left
// text in one cannot reorder another):
//
//	Withdrawal | Transfer | Trade: Buy | Trade: Sell
//	Instrument: US0378331005          (trade)
//	Quantity: 1,000                   (trade)
//	Amount: EUR 1,234.56              (withdrawal, transfer)
//	Pay at most: USD 2,500.00         (buy)
//	Receive at least: USD 2,500.00    (sell)
//	From: U1234567                    (Account: for a trade)
//	To: DE89 3704 0044 0532 0130 00
//	Beneficiary: Ada Lovelace         (when present)
//	Memo: Rent March                  (when present)
//
// Amounts are the currency's code, a space, the integer part with ','
// between groups of three digits, and for a currency with minor units '.'
// and all of them ("EUR 5.00", "JPY 1,500", "BHD 0.250"); quantities are
// grouped the same way. IBANs are shown in groups of four, as printed on
// paper (ISO 13616); other identifiers and text as they are.
//
// The lines are computed from the canonical bytes, parsed back, so that
// what is shown is a function of what is signed: an app in another
// language produces the same lines from the same bytes (the vectors pin
// them); it may translate the labels, never the values. A transaction
// Canonical refuses is refused with the same error.
func (t Transaction) Display() ([]string, error) {
	c, err := t.Canonical()
	if err != nil {
		return nil, err
	}
	u, err := ParseTransaction(c)
	if err != nil {
		return nil, err
	}
	return u.lines(), nil
}

// lines formats a checked transaction.
func (t Transaction) lines() []string {
	amount := t.Currency + " " + groupDigits(t.Amount, currencies[t.Currency])
	var l []string
	switch t.Kind {
	case KindWithdrawal:
		l = append(l, "Withdrawal", "Amount: "+amount, "From: "+showAccount(t.From), "To: "+showAccount(t.To))
	case KindTransfer:
		l = append(l, "Transfer", "Amount: "+amount, "From: "+showAccount(t.From), "To: "+showAccount(t.To))
	case KindTrade:
		side, limit := "Buy", "Pay at most: "
		if t.Side == SideSell {
			side, limit = "Sell", "Receive at least: "
		}
		l = append(l, "Trade: "+side, "Instrument: "+t.Instrument,
			"Quantity: "+groupDigits(t.Quantity, 0), limit+amount, "Account: "+showAccount(t.From))
	}
	if t.Beneficiary != "" {
		l = append(l, "Beneficiary: "+t.Beneficiary)
	}
	if t.Memo != "" {
		l = append(l, "Memo: "+t.Memo)
	}
	return l
}

// groupDigits writes a non-negative v with exp decimal places: ',' between
// groups of three integer digits, '.' before the places.
func groupDigits(v int64, exp int) string {
	d := strconv.FormatInt(v, 10)
	for len(d) <= exp {
		d = "0" + d
	}
	intPart, frac := d[:len(d)-exp], d[len(d)-exp:]
	var b strings.Builder
	for i := range len(intPart) {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(intPart[i])
	}
	if exp > 0 {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// showAccount groups an IBAN in fours; other identifiers show as they are.
func showAccount(a string) string {
	if !ibanShaped(a) {
		return a
	}
	var b strings.Builder
	for i := 0; i < len(a); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a[i:min(i+4, len(a))])
	}
	return b.String()
}

// currencies maps the ISO 4217 codes keyline v1 knows to their minor
// units (ISO 4217's exponent). Entries never change: a transaction's
// meaning must not. Adding a currency is compatible: an older phone
// refuses transactions in it.
var currencies = map[string]int{
	"AED": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2,
	"CLP": 0, "CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2,
	"HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3,
	"JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2, "NZD": 2,
	"OMR": 3, "PHP": 2, "PLN": 2, "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2,
	"THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "USD": 2, "VND": 0, "ZAR": 2,
}

// CurrencyMinorUnits returns the number of decimal places of a currency
// keyline v1 knows (2 for "EUR", 0 for "JPY", 3 for "BHD"), as ISO 4217
// lists them, and whether it knows the code. Amounts are in these units:
// EUR 12.34 is 1234.
func CurrencyMinorUnits(code string) (int, bool) {
	e, ok := currencies[code]
	return e, ok
}

func checkCurrency(c string) error {
	if len(c) != 3 || !isUpperAlpha(c) {
		return txnErr(txnFieldCurrency, "not three upper-case letters", ErrTxCurrency)
	}
	if _, ok := currencies[c]; !ok {
		return txnErr(txnFieldCurrency, "not a currency of keyline v1", ErrTxCurrency)
	}
	return nil
}

// ibanLengths is the IBAN length of each country of the SWIFT IBAN
// registry (release 99, 2025).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16,
	"BG": 22, "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22,
	"CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20,
	"EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22,
	"GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21,
	"HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30,
	"KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
	"PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24,
	"SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26,
	"UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// ibanLike reports whether s (upper case, no spaces) has an IBAN's shape:
// a registry country, two digits, letters and digits, 15 to 34 in all.
// Its length for the country is checked apart, so that a truncated IBAN
// is refused rather than taken as another identifier.
func ibanLike(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if _, ok := ibanLengths[s[:2]]; !ok {
		return false
	}
	if !txnIsDigit(s[2]) || !txnIsDigit(s[3]) {
		return false
	}
	for i := 4; i < len(s); i++ {
		if !txnIsDigit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

// ibanShaped reports whether a normal account identifier is an IBAN.
func ibanShaped(s string) bool { return ibanLike(s) && len(s) == ibanLengths[s[:2]] }

// ibanMod97 is the remainder of ISO 7064 mod 97-10 over an IBAN: the first
// four characters moved to the end, letters as 10..35.
func ibanMod97(s string) int {
	r := 0
	for _, c := range []byte(s[4:] + s[:4]) {
		if txnIsDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r
}

// accountForm returns an account identifier's normal form, or why it
// cannot be valid.
func accountForm(field, s string) (string, error) {
	if err := checkPrintableASCII(field, s, ErrTxAccount); err != nil {
		return "", err
	}
	n := squeezeSpaces(s)
	if compact := asciiUpper(strings.ReplaceAll(n, " ", "")); ibanLike(compact) {
		if len(compact) != ibanLengths[compact[:2]] {
			return "", txnErr(field, "IBAN length is wrong for its country", ErrTxAccount)
		}
		if ibanMod97(compact) != 1 {
			return "", txnErr(field, "IBAN check digits do not verify", ErrTxAccount)
		}
		return compact, nil
	}
	if n == "" {
		return "", txnErr(field, "required", ErrTxAccount)
	}
	if len(n) > txnMaxAccount {
		return "", txnErr(field, "longer than "+strconv.Itoa(txnMaxAccount)+" bytes", ErrTxAccount)
	}
	return n, nil
}

func checkNormalAccount(field, s string) error {
	if s == "" {
		return txnErr(field, "required", ErrTxAccount)
	}
	n, err := accountForm(field, s)
	if err != nil {
		return err
	}
	if n != s {
		return txnErr(field, "not in normal form (see Normalize)", ErrTxAccount)
	}
	return nil
}

// instrumentForm returns an instrument's normal form, or why it cannot be
// valid.
func instrumentForm(s string) (string, error) {
	if err := checkPrintableASCII(txnFieldInstrument, s, ErrTxInstrument); err != nil {
		return "", err
	}
	n := asciiUpper(squeezeSpaces(s))
	if n == "" {
		return "", txnErr(txnFieldInstrument, "required", ErrTxInstrument)
	}
	if len(n) > txnMaxInstrument {
		return "", txnErr(txnFieldInstrument, "longer than "+strconv.Itoa(txnMaxInstrument)+" bytes", ErrTxInstrument)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !txnIsDigit(c) && !(c >= 'A' && c <= 'Z') && !strings.ContainsRune(".-/: ", rune(c)) {
			return "", txnErr(txnFieldInstrument, "character at byte "+strconv.Itoa(i)+" is not a letter, digit, space or .-/:", ErrTxInstrument)
		}
	}
	if isinShaped(n) && !isinValid(n) {
		return "", txnErr(txnFieldInstrument, "ISIN check digit does not verify", ErrTxInstrument)
	}
	return n, nil
}

// isinShaped reports whether s has an ISIN's shape: two letters, nine
// letters or digits, a digit.
func isinShaped(s string) bool {
	if len(s) != 12 || !isUpperAlpha(s[:2]) || !txnIsDigit(s[11]) {
		return false
	}
	for i := 2; i < 11; i++ {
		if !txnIsDigit(s[i]) && !(s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

// isinValid checks an ISIN's check digit: letters become 10..35, and the
// digit string passes Luhn's check.
func isinValid(s string) bool {
	var digits []byte
	for i := 0; i < len(s); i++ {
		if c := s[i]; txnIsDigit(c) {
			digits = append(digits, c-'0')
		} else {
			v := c - 'A' + 10
			digits = append(digits, v/10, v%10)
		}
	}
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i])
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// checkPrintableASCII refuses a byte outside 0x20..0x7e, classing the
// character it starts as text would be.
func checkPrintableASCII(field, s string, class error) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		reason := "character " + codePoint(r) + " at byte " + strconv.Itoa(i) + " is not printable ASCII"
		if !utf8.FullRuneInString(s[i:]) || r == utf8.RuneError {
			reason = "byte " + strconv.Itoa(i) + " is not printable ASCII"
		}
		if _, char := runeClass(r); char != nil && char != ErrTxText {
			return txnErr(field, reason, class, char)
		}
		return txnErr(field, reason, class)
	}
	return nil
}

// checkNormalText checks an optional text field: "" (absent), or 1 to max
// bytes of the repertoire, without leading, trailing or doubled spaces.
func checkNormalText(field, s string, max int) error {
	if s == "" {
		return nil
	}
	if len(s) > max {
		return txnErr(field, "longer than "+strconv.Itoa(max)+" bytes", ErrTxText)
	}
	if !utf8.ValidString(s) {
		return txnErr(field, "not valid UTF-8", ErrTxText)
	}
	for i, r := range s {
		if what, class := runeClass(r); class != nil {
			return txnErr(field, what+" "+codePoint(r)+" at byte "+strconv.Itoa(i), class)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return txnErr(field, "leading or trailing space (see Normalize)", ErrTxText)
	}
	if strings.Contains(s, "  ") {
		return txnErr(field, "doubled space (see Normalize)", ErrTxText)
	}
	return nil
}

// runeClass returns what r is and the sentinel refusing it in text, or
// nil. See the Text section above.
func runeClass(r rune) (string, error) {
	switch {
	case r == ' ':
		return "", nil
	case unicode.Is(unicode.Bidi_Control, r):
		return "bidi control", ErrTxBidi
	case unicode.Is(unicode.Cc, r):
		return "control character", ErrTxControl
	case unicode.Is(unicode.Cf, r):
		return "format character", ErrTxFormat
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "line or paragraph separator", ErrTxSeparator
	case unicode.Is(unicode.M, r):
		return "combining mark", ErrTxCombining
	case unicode.Is(unicode.Zs, r):
		return "space other than U+0020", ErrTxText
	case unicode.Is(unicode.Co, r):
		return "private-use character", ErrTxText
	case !unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
		return "unassigned character or noncharacter", ErrTxText
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return "invisible character", ErrTxText
	case unicode.Is(txnJamo, r):
		return "conjoining Hangul jamo", ErrTxText
	case unicode.Is(txnNotNFC, r):
		return "character that NFC replaces", ErrTxText
	}
	return "", nil
}

func codePoint(r rune) string {
	s := strconv.FormatInt(int64(r), 16)
	for len(s) < 4 {
		s = "0" + s
	}
	return "U+" + strings.ToUpper(s)
}

// squeezeSpaces removes leading and trailing U+0020 and makes each run of
// them inside one.
func squeezeSpaces(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func txnIsDigit(c byte) bool { return c >= '0' && c <= '9' }

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// txnJamo is the conjoining Hangul jamo: Hangul Jamo and its extensions
// A and B. NFC composes L, V and T jamo into syllables, and the blocks
// hold the invisible fillers U+115F and U+1160.
var txnJamo = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x1100, Hi: 0x11ff, Stride: 1},
		{Lo: 0xa960, Hi: 0xa97f, Stride: 1},
		{Lo: 0xd7b0, Hi: 0xd7ff, Stride: 1},
	},
}

// txnNotNFC is every character of categories L, N, P and S that NFC
// replaces even on its own (NFC_Quick_Check=No: singletons, composition
// exclusions, CJK compatibility ideographs), 1,103 in Unicode 15.0.0.
// Generated from golang.org/x/text/unicode/norm (Unicode 15.0.0, as Go
// 1.26's unicode package) by testing norm.NFC.String(string(r)) != string(r)
// for every such code point; the same run found that the only other
// characters of these categories NFC may change, those that compose with
// a preceding character, are conjoining jamo (txnJamo), and that all of
// them have canonical combining class 0.
var txnNotNFC = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x0374, Hi: 0x0374, Stride: 1}, {Lo: 0x037e, Hi: 0x037e, Stride: 1},
		{Lo: 0x0387, Hi: 0x0387, Stride: 1}, {Lo: 0x0958, Hi: 0x095f, Stride: 1},
		{Lo: 0x09dc, Hi: 0x09dd, Stride: 1}, {Lo: 0x09df, Hi: 0x09df, Stride: 1},
		{Lo: 0x0a33, Hi: 0x0a33, Stride: 1}, {Lo: 0x0a36, Hi: 0x0a36, Stride: 1},
		{Lo: 0x0a59, Hi: 0x0a5b, Stride: 1}, {Lo: 0x0a5e, Hi: 0x0a5e, Stride: 1},
		{Lo: 0x0b5c, Hi: 0x0b5d, Stride: 1}, {Lo: 0x0f43, Hi: 0x0f43, Stride: 1},
		{Lo: 0x0f4d, Hi: 0x0f4d, Stride: 1}, {Lo: 0x0f52, Hi: 0x0f52, Stride: 1},
		{Lo: 0x0f57, Hi: 0x0f57, Stride: 1}, {Lo: 0x0f5c, Hi: 0x0f5c, Stride: 1},
		{Lo: 0x0f69, Hi: 0x0f69, Stride: 1}, {Lo: 0x1f71, Hi: 0x1f71, Stride: 1},
		{Lo: 0x1f73, Hi: 0x1f73, Stride: 1}, {Lo: 0x1f75, Hi: 0x1f75, Stride: 1},
		{Lo: 0x1f77, Hi: 0x1f77, Stride: 1}, {Lo: 0x1f79, Hi: 0x1f79, Stride: 1},
		{Lo: 0x1f7b, Hi: 0x1f7b, Stride: 1}, {Lo: 0x1f7d, Hi: 0x1f7d, Stride: 1},
		{Lo: 0x1fbb, Hi: 0x1fbb, Stride: 1}, {Lo: 0x1fbe, Hi: 0x1fbe, Stride: 1},
		{Lo: 0x1fc9, Hi: 0x1fc9, Stride: 1}, {Lo: 0x1fcb, Hi: 0x1fcb, Stride: 1},
		{Lo: 0x1fd3, Hi: 0x1fd3, Stride: 1}, {Lo: 0x1fdb, Hi: 0x1fdb, Stride: 1},
		{Lo: 0x1fe3, Hi: 0x1fe3, Stride: 1}, {Lo: 0x1feb, Hi: 0x1feb, Stride: 1},
		{Lo: 0x1fee, Hi: 0x1fef, Stride: 1}, {Lo: 0x1ff9, Hi: 0x1ff9, Stride: 1},
		{Lo: 0x1ffb, Hi: 0x1ffb, Stride: 1}, {Lo: 0x1ffd, Hi: 0x1ffd, Stride: 1},
		{Lo: 0x2126, Hi: 0x2126, Stride: 1}, {Lo: 0x212a, Hi: 0x212b, Stride: 1},
		{Lo: 0x2329, Hi: 0x232a, Stride: 1}, {Lo: 0x2adc, Hi: 0x2adc, Stride: 1},
		{Lo: 0xf900, Hi: 0xfa0d, Stride: 1}, {Lo: 0xfa10, Hi: 0xfa10, Stride: 1},
		{Lo: 0xfa12, Hi: 0xfa12, Stride: 1}, {Lo: 0xfa15, Hi: 0xfa1e, Stride: 1},
		{Lo: 0xfa20, Hi: 0xfa20, Stride: 1}, {Lo: 0xfa22, Hi: 0xfa22, Stride: 1},
		{Lo: 0xfa25, Hi: 0xfa26, Stride: 1}, {Lo: 0xfa2a, Hi: 0xfa6d, Stride: 1},
		{Lo: 0xfa70, Hi: 0xfad9, Stride: 1}, {Lo: 0xfb1d, Hi: 0xfb1d, Stride: 1},
		{Lo: 0xfb1f, Hi: 0xfb1f, Stride: 1}, {Lo: 0xfb2a, Hi: 0xfb36, Stride: 1},
		{Lo: 0xfb38, Hi: 0xfb3c, Stride: 1}, {Lo: 0xfb3e, Hi: 0xfb3e, Stride: 1},
		{Lo: 0xfb40, Hi: 0xfb41, Stride: 1}, {Lo: 0xfb43, Hi: 0xfb44, Stride: 1},
		{Lo: 0xfb46, Hi: 0xfb4e, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0x1d15e, Hi: 0x1d164, Stride: 1}, {Lo: 0x1d1bb, Hi: 0x1d1c0, Stride: 1},
		{Lo: 0x2f800, Hi: 0x2fa1d, Stride: 1},
	},
}
