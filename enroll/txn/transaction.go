package txn

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/keyline/keyline/challenge"
)

// Kind is what a transaction does.
type Kind uint8

// The kinds of transaction a broker confirms.
const (
	// KindWithdrawal moves money from the user's account at the broker
	// (From) to an account outside it (To), such as a bank account.
	KindWithdrawal Kind = 1

	// KindTransfer moves money between two accounts at the broker (From
	// to To), the user's own or another customer's.
	KindTransfer Kind = 2

	// KindTrade places an order to buy or sell Quantity units of
	// Instrument in account From, for at most (buy) or at least (sell)
	// Amount in total.
	KindTrade Kind = 3
)

// String returns "withdrawal", "transfer" or "trade", or
// "Kind(n)" for another value.
func (k Kind) String() string {
	switch k {
	case KindWithdrawal:
		return "withdrawal"
	case KindTransfer:
		return "transfer"
	case KindTrade:
		return "trade"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText returns the kind's name; the zero kind is "" and another
// unknown kind is an error.
func (k Kind) MarshalText() ([]byte, error) {
	if k == 0 {
		return []byte{}, nil
	}
	if k > KindTrade {
		return nil, txnErr(txnFieldKind, "unknown kind", ClassKind)
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name, or "" for the zero kind.
func (k *Kind) UnmarshalText(b []byte) error {
	for _, c := range []Kind{0, KindWithdrawal, KindTransfer, KindTrade} {
		if s, _ := c.MarshalText(); string(s) == string(b) {
			*k = c
			return nil
		}
	}
	return txnErr(txnFieldKind, "unknown kind", ClassKind)
}

// Side says whether a trade buys or sells.
type Side uint8

// The sides of a trade.
const (
	SideBuy  Side = 1 // buy: Amount is the most the user pays
	SideSell Side = 2 // sell: Amount is the least the user receives
)

// String returns "buy" or "sell", or "Side(n)" for another value.
func (s Side) String() string {
	switch s {
	case SideBuy:
		return "buy"
	case SideSell:
		return "sell"
	}
	return "Side(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns the side's name; the zero side (a transaction that
// is not a trade) is "" and another unknown side is an error.
func (s Side) MarshalText() ([]byte, error) {
	if s == 0 {
		return []byte{}, nil
	}
	if s > SideSell {
		return nil, txnErr(txnFieldSide, "unknown side", ClassKind)
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a side's name, or "" for the zero side.
func (s *Side) UnmarshalText(b []byte) error {
	switch string(b) {
	case "":
		*s = 0
	case "buy":
		*s = SideBuy
	case "sell":
		*s = SideSell
	default:
		return txnErr(txnFieldSide, "unknown side", ClassKind)
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
	Kind Kind `json:"kind"`

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
	Side Side `json:"side,omitempty"`

	// Memo is the user's reference or remittance text (optional; 1 to
	// 256 bytes of text as described above).
	Memo string `json:"memo,omitempty"`
}

// Field names, as Error.Field reports them.
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

// Suite is the OCRA suite of transaction responses: the
// question is the 64 hex digits of [Question], the response 8
// digits, bound to a 30-second time step.
var Suite = challenge.MustParseSuite("OCRA-1:HOTP-SHA256-8:QH64-T30S")

// Transaction nonce sizes, in bytes.
const (
	// NonceSize is the size of [NewNonce]'s nonces.
	NonceSize = 32

	txnMinNonce = 16
	txnMaxNonce = 64
)

// NewNonce returns 32 random bytes: a server nonce for
// [Question] and [QR]. The server stores it with the
// transaction and accepts one response per nonce.
func NewNonce() []byte {
	n := make([]byte, NonceSize)
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

// The longest canonical bytes of each kind: the header and every field
// the kind takes at its largest. A withdrawal or a transfer takes kind,
// amount, currency, from, to, beneficiary and memo (573 bytes); a trade
// kind, amount, currency, from, instrument, quantity, side and memo (427).
const (
	txnMaxPayment = len(txnLabel) + 1 + 7*txnFieldHead + 1 + 8 + 3 + 2*txnMaxAccount + txnMaxBeneficiary + txnMaxMemo
	txnMaxTrade   = len(txnLabel) + 1 + 8*txnFieldHead + 1 + 8 + 3 + txnMaxAccount + txnMaxInstrument + 8 + 1 + txnMaxMemo
)

// txnMaxCanonical bounds canonical bytes: the longest of any kind.
const txnMaxCanonical = max(txnMaxPayment, txnMaxTrade)

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
// *[Error].
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

// Parse reads canonical bytes strictly, as the exact inverse of
// [Transaction.Canonical]: the header, version 1 ([ClassVersion]
// otherwise), known tags in increasing order, each at most once, values
// of the right length and never empty, no trailing data
// ([ClassEncoding]), and a transaction that Canonical would accept and
// encode to the same bytes. A refusal is a *[Error] and yields
// the zero Transaction.
func Parse(b []byte) (Transaction, error) {
	t, err := parse(b)
	if err != nil {
		return Transaction{}, err
	}
	return t, nil
}

func parse(b []byte) (Transaction, error) {
	if len(b) > txnMaxCanonical {
		return Transaction{}, txnErr("", "longer than "+strconv.Itoa(txnMaxCanonical)+" bytes", ClassEncoding)
	}
	rest, ok := bytes.CutPrefix(b, []byte(txnLabel))
	if !ok {
		return Transaction{}, txnErr("", "not a keyline transaction", ClassEncoding)
	}
	if len(rest) == 0 {
		return Transaction{}, txnErr("", "no version", ClassEncoding)
	}
	if rest[0] != txnVersion {
		return Transaction{}, txnErr("", "version "+strconv.Itoa(int(rest[0]))+" is not 1", ClassVersion)
	}
	rest = rest[1:]
	var t Transaction
	last := 0
	for len(rest) > 0 {
		if len(rest) < txnFieldHead {
			return Transaction{}, txnErr("", "truncated field header", ClassEncoding)
		}
		tag := int(rest[0])
		n := binary.BigEndian.Uint32(rest[1:txnFieldHead])
		rest = rest[txnFieldHead:]
		if tag < txnTagKind || tag > txnTagMemo {
			return Transaction{}, txnErr("", "unknown field tag "+strconv.Itoa(tag), ClassEncoding)
		}
		if tag <= last {
			return Transaction{}, txnErr("", "field tag "+strconv.Itoa(tag)+" repeated or out of order", ClassEncoding)
		}
		last = tag
		if uint64(n) > uint64(len(rest)) {
			return Transaction{}, txnErr("", "field "+strconv.Itoa(tag)+" runs past the end", ClassEncoding)
		}
		if n == 0 {
			return Transaction{}, txnErr("", "field "+strconv.Itoa(tag)+" is empty (absent fields are omitted)", ClassEncoding)
		}
		v := rest[:n]
		rest = rest[n:]
		if want := txnFixedLen(tag); want != 0 && len(v) != want {
			return Transaction{}, txnErr("", "field "+strconv.Itoa(tag)+" has the wrong length ("+strconv.Itoa(len(v))+", not "+strconv.Itoa(want)+")", ClassEncoding)
		}
		switch tag {
		case txnTagKind:
			t.Kind = Kind(v[0])
		case txnTagAmount:
			u := binary.BigEndian.Uint64(v)
			if u > math.MaxInt64 {
				return Transaction{}, txnErr(txnFieldAmount, "above 2^63-1", ClassAmount)
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
				return Transaction{}, txnErr(txnFieldQuantity, "above 2^63-1", ClassAmount)
			}
			t.Quantity = int64(u)
		case txnTagSide:
			t.Side = Side(v[0])
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
		return Transaction{}, txnErr("", "not the canonical encoding", ClassEncoding)
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
		return txnErr(txnFieldKind, "unknown kind", ClassKind)
	}
	trade := t.Kind == KindTrade
	if t.Amount <= 0 {
		return txnErr(txnFieldAmount, "not positive", ClassAmount)
	}
	if err := checkCurrency(t.Currency); err != nil {
		return err
	}
	if err := checkNormalAccount(txnFieldFrom, t.From); err != nil {
		return err
	}
	if trade {
		if t.To != "" {
			return txnErr(txnFieldTo, "not taken by a trade", ClassKind)
		}
		if t.Beneficiary != "" {
			return txnErr(txnFieldBeneficiary, "not taken by a trade", ClassKind)
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
			return txnErr(txnFieldInstrument, "taken only by a trade", ClassKind)
		}
		if t.Quantity != 0 {
			return txnErr(txnFieldQuantity, "taken only by a trade", ClassKind)
		}
		if t.Side != 0 {
			return txnErr(txnFieldSide, "taken only by a trade", ClassKind)
		}
	} else {
		if t.Instrument == "" {
			return txnErr(txnFieldInstrument, "required", ClassInstrument)
		}
		n, err := instrumentForm(t.Instrument)
		if err != nil {
			return err
		}
		if n != t.Instrument {
			return txnErr(txnFieldInstrument, "not in normal form (see Normalize)", ClassInstrument)
		}
		if t.Quantity <= 0 {
			return txnErr(txnFieldQuantity, "not positive", ClassAmount)
		}
		if t.Side != SideBuy && t.Side != SideSell {
			return txnErr(txnFieldSide, "not buy or sell", ClassKind)
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
// returns it unchanged. A refusal is a *[Error] and yields the
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
