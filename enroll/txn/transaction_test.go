package txn

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll/internal/qrcode"
	"github.com/keyline/keyline/enroll/internal/qrcode/qrtest"
)

// Sample transactions, in normal form: the vectors of
// testdata/transaction_v1.json.
var (
	txWithdrawal = Transaction{Kind: KindWithdrawal, Amount: 123456, Currency: "EUR",
		From: "U1234567", To: "DE89370400440532013000", Beneficiary: "Ada Lovelace", Memo: "Rent March"}
	txTransfer = Transaction{Kind: KindTransfer, Amount: 1500000, Currency: "JPY",
		From: "U1234567", To: "U7654321"}
	txBuy = Transaction{Kind: KindTrade, Amount: 250000, Currency: "USD",
		From: "U1234567", Instrument: "US0378331005", Quantity: 10, Side: SideBuy}
	txSell = Transaction{Kind: KindTrade, Amount: 21000000, Currency: "EUR",
		From: "DU998877", Instrument: "DE0007164600", Quantity: 1200, Side: SideSell, Memo: "Verkauf für Jürgen Ø"}
	txSeparators = Transaction{Kind: KindWithdrawal, Amount: 250, Currency: "BHD",
		From: "ACC-1", To: "12-34-56 87654321", Beneficiary: "Børsen | Ltd, «Ω»", Memo: "a|b,c=d;e&f"}
)

var txNonce = []byte("0123456789abcdef0123456789abcdef")[:32]

// requireTxErr checks a refusal: it matches ErrInvalid and
// every class given, is a *Error for field, and its message
// contains reason.
func requireTxErr(t *testing.T, err error, field, reason string, classes ...Class) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, ErrInvalid)
	for _, c := range classes {
		require.True(t, hasClass(err, c), "%v is not of class %v", err, c)
	}
	var te *Error
	require.True(t, errors.As(err, &te), "%T", err)
	require.Equal(t, field, te.Field, "%v", err)
	require.Contains(t, err.Error(), reason)
}

// hasClass reports whether err is a refusal of class c, in its Class or
// its Char field: what errors.Is(err, ErrTxC) reported when each class
// was a sentinel of its own.
func hasClass(err error, c Class) bool {
	var te *Error
	return errors.As(err, &te) && (te.Class == c || te.Char == c)
}

// requireClass checks that err is a refusal of class c.
func requireClass(t *testing.T, err error, c Class) {
	t.Helper()
	require.ErrorIs(t, err, ErrInvalid)
	require.True(t, hasClass(err, c), "%v is not of class %v", err, c)
}

func TestTransactionRoundTrip(t *testing.T) {
	for _, tx := range []Transaction{txWithdrawal, txTransfer, txBuy, txSell, txSeparators} {
		c, err := tx.Canonical()
		require.NoError(t, err)
		got, err := Parse(c)
		require.NoError(t, err)
		require.Equal(t, tx, got)

		n, err := tx.Normalize()
		require.NoError(t, err)
		require.Equal(t, tx, n, "a normal transaction normalises to itself")

		// JSON, for servers that store it so.
		j, err := json.Marshal(tx)
		require.NoError(t, err)
		var back Transaction
		require.NoError(t, json.Unmarshal(j, &back))
		require.Equal(t, tx, back, "%s", j)
	}
	j, err := json.Marshal(txBuy)
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"trade","amount":250000,"currency":"USD","from":"U1234567","instrument":"US0378331005","quantity":10,"side":"buy"}`, string(j))
}

func TestTransactionKindAndSideText(t *testing.T) {
	for k, s := range map[Kind]string{0: "", KindWithdrawal: "withdrawal", KindTransfer: "transfer", KindTrade: "trade"} {
		b, err := k.MarshalText()
		require.NoError(t, err)
		require.Equal(t, s, string(b))
		var back Kind
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, k, back)
	}
	for sd, s := range map[Side]string{0: "", SideBuy: "buy", SideSell: "sell"} {
		b, err := sd.MarshalText()
		require.NoError(t, err)
		require.Equal(t, s, string(b))
		var back Side
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, sd, back)
	}
	_, err := Kind(4).MarshalText()
	requireTxErr(t, err, "kind", "unknown kind", ClassKind)
	_, err = Side(3).MarshalText()
	requireTxErr(t, err, "side", "unknown side", ClassKind)
	var k Kind
	requireTxErr(t, k.UnmarshalText([]byte("Trade")), "kind", "unknown kind", ClassKind)
	var s Side
	requireTxErr(t, s.UnmarshalText([]byte("short")), "side", "unknown side", ClassKind)
	require.Equal(t, "Kind(9)", Kind(9).String())
	require.Equal(t, "Side(9)", Side(9).String())
}

func TestTransactionNormalize(t *testing.T) {
	messy := Transaction{Kind: KindWithdrawal, Amount: 5, Currency: " eur",
		From: "  u1234567 ", To: "de89 3704 0044 0532 0130 00", Beneficiary: "  Ada   Lovelace ", Memo: " a  b "}
	n, err := messy.Normalize()
	require.NoError(t, err)
	require.Equal(t, Transaction{Kind: KindWithdrawal, Amount: 5, Currency: "EUR",
		From: "u1234567", To: "DE89370400440532013000", Beneficiary: "Ada Lovelace", Memo: "a b"}, n,
		"opaque identifiers keep their case; IBANs are upper-cased and compacted")
	again, err := n.Normalize()
	require.NoError(t, err)
	require.Equal(t, n, again)

	// Canonical does not normalise: the server must hold what it signs.
	_, err = messy.Canonical()
	requireTxErr(t, err, "currency", "not three upper-case letters", ClassCurrency)
	m := n
	m.To = "DE89 3704 0044 0532 0130 00"
	_, err = m.Canonical()
	requireTxErr(t, err, "to", "not in normal form", ClassAccount)
	m = n
	m.From = "ACC  1"
	_, err = m.Canonical()
	requireTxErr(t, err, "from", "not in normal form", ClassAccount)
	m.From = "ACC 1"
	_, err = m.Canonical()
	require.NoError(t, err, "single inner spaces are kept")

	trade, err := Transaction{Kind: KindTrade, Amount: 1, Currency: "usd", From: "U1", Instrument: " brk.b ", Quantity: 1, Side: SideBuy}.Normalize()
	require.NoError(t, err)
	require.Equal(t, "BRK.B", trade.Instrument)
	require.Equal(t, "USD", trade.Currency)

	// Normalize repairs spacing and case, nothing else.
	_, err = Transaction{Kind: KindTransfer, Amount: 1, Currency: "EUR", From: "A", To: "B", Memo: "Cafe\u0301"}.Normalize()
	requireTxErr(t, err, "memo", "combining mark U+0301 at byte 4", ClassCombining)
	z, err := Transaction{Kind: KindTransfer, Amount: 1, Currency: "EUR", From: "A", To: "DE89 3704 0044 0532 0130 01"}.Normalize()
	requireTxErr(t, err, "to", "IBAN check digits do not verify", ClassAccount)
	require.Equal(t, Transaction{}, z)
}

func TestTransactionRefusals(t *testing.T) {
	type mut func(*Transaction)
	wd := func(f mut) Transaction { x := txWithdrawal; f(&x); return x }
	tr := func(f mut) Transaction { x := txBuy; f(&x); return x }
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name    string
		tx      Transaction
		field   string
		reason  string
		classes []Class
	}{
		{"zero kind", wd(func(x *Transaction) { x.Kind = 0 }), "kind", "unknown kind", []Class{ClassKind}},
		{"unknown kind", wd(func(x *Transaction) { x.Kind = 4 }), "kind", "unknown kind", []Class{ClassKind}},
		{"zero amount", wd(func(x *Transaction) { x.Amount = 0 }), "amount", "not positive", []Class{ClassAmount}},
		{"negative amount", wd(func(x *Transaction) { x.Amount = -1 }), "amount", "not positive", []Class{ClassAmount}},
		{"no currency", wd(func(x *Transaction) { x.Currency = "" }), "currency", "not three upper-case letters", []Class{ClassCurrency}},
		{"lower-case currency", wd(func(x *Transaction) { x.Currency = "eur" }), "currency", "not three upper-case letters", []Class{ClassCurrency}},
		{"two-letter currency", wd(func(x *Transaction) { x.Currency = "EU" }), "currency", "not three upper-case letters", []Class{ClassCurrency}},
		{"unknown currency", wd(func(x *Transaction) { x.Currency = "XXX" }), "currency", "not a currency of keyline v1", []Class{ClassCurrency}},
		{"no from", wd(func(x *Transaction) { x.From = "" }), "from", "required", []Class{ClassAccount}},
		{"control in from", wd(func(x *Transaction) { x.From = "U1\n" }), "from", "character U+000A at byte 2 is not printable ASCII", []Class{ClassAccount, ClassControl}},
		{"bidi in from", wd(func(x *Transaction) { x.From = "U1\u202e7" }), "from", "character U+202E at byte 2", []Class{ClassAccount, ClassBidi}},
		{"non-ASCII from", wd(func(x *Transaction) { x.From = "Müller" }), "from", "character U+00FC at byte 1", []Class{ClassAccount}},
		{"invalid UTF-8 from", wd(func(x *Transaction) { x.From = "U\xff" }), "from", "byte 1 is not printable ASCII", []Class{ClassAccount}},
		{"long from", wd(func(x *Transaction) { x.From = long(65) }), "from", "longer than 64 bytes", []Class{ClassAccount}},
		{"untrimmed from", wd(func(x *Transaction) { x.From = " U1" }), "from", "not in normal form", []Class{ClassAccount}},
		{"no to", wd(func(x *Transaction) { x.To = "" }), "to", "required", []Class{ClassAccount}},
		{"lower-case IBAN", wd(func(x *Transaction) { x.To = "de89370400440532013000" }), "to", "not in normal form", []Class{ClassAccount}},
		{"IBAN checksum", wd(func(x *Transaction) { x.To = "DE89370400440532013001" }), "to", "IBAN check digits do not verify", []Class{ClassAccount}},
		{"IBAN truncated", wd(func(x *Transaction) { x.To = "DE8937040044053201300" }), "to", "IBAN length is wrong for its country", []Class{ClassAccount}},
		{"trade with to", tr(func(x *Transaction) { x.To = "U2" }), "to", "not taken by a trade", []Class{ClassKind}},
		{"trade with beneficiary", tr(func(x *Transaction) { x.Beneficiary = "Bob" }), "beneficiary", "not taken by a trade", []Class{ClassKind}},
		{"withdrawal with instrument", wd(func(x *Transaction) { x.Instrument = "AAPL" }), "instrument", "taken only by a trade", []Class{ClassKind}},
		{"withdrawal with quantity", wd(func(x *Transaction) { x.Quantity = 1 }), "quantity", "taken only by a trade", []Class{ClassKind}},
		{"withdrawal with side", wd(func(x *Transaction) { x.Side = SideSell }), "side", "taken only by a trade", []Class{ClassKind}},
		{"no instrument", tr(func(x *Transaction) { x.Instrument = "" }), "instrument", "required", []Class{ClassInstrument}},
		{"ISIN check digit", tr(func(x *Transaction) { x.Instrument = "US0378331006" }), "instrument", "ISIN check digit does not verify", []Class{ClassInstrument}},
		{"lower-case instrument", tr(func(x *Transaction) { x.Instrument = "aapl" }), "instrument", "not in normal form", []Class{ClassInstrument}},
		{"instrument symbol", tr(func(x *Transaction) { x.Instrument = "AAPL$" }), "instrument", "character at byte 4 is not a letter", []Class{ClassInstrument}},
		{"instrument control", tr(func(x *Transaction) { x.Instrument = "AAPL\x00" }), "instrument", "character U+0000 at byte 4", []Class{ClassInstrument, ClassControl}},
		{"long instrument", tr(func(x *Transaction) { x.Instrument = strings.Repeat("A", 33) }), "instrument", "longer than 32 bytes", []Class{ClassInstrument}},
		{"zero quantity", tr(func(x *Transaction) { x.Quantity = 0 }), "quantity", "not positive", []Class{ClassAmount}},
		{"negative quantity", tr(func(x *Transaction) { x.Quantity = -5 }), "quantity", "not positive", []Class{ClassAmount}},
		{"no side", tr(func(x *Transaction) { x.Side = 0 }), "side", "not buy or sell", []Class{ClassKind}},
		{"unknown side", tr(func(x *Transaction) { x.Side = 3 }), "side", "not buy or sell", []Class{ClassKind}},
		{"memo tab", wd(func(x *Transaction) { x.Memo = "a\tb" }), "memo", "control character U+0009 at byte 1", []Class{ClassControl}},
		{"memo DEL", wd(func(x *Transaction) { x.Memo = "a\x7f" }), "memo", "control character U+007F", []Class{ClassControl}},
		{"memo NEL", wd(func(x *Transaction) { x.Memo = "a\u0085" }), "memo", "control character U+0085", []Class{ClassControl}},
		{"memo RLO", wd(func(x *Transaction) { x.Memo = "a\u202eb" }), "memo", "bidi control U+202E at byte 1", []Class{ClassBidi}},
		{"memo RLI", wd(func(x *Transaction) { x.Memo = "a\u2067b" }), "memo", "bidi control U+2067", []Class{ClassBidi}},
		{"memo RLM", wd(func(x *Transaction) { x.Memo = "\u200fa" }), "memo", "bidi control U+200F at byte 0", []Class{ClassBidi}},
		{"memo ALM", wd(func(x *Transaction) { x.Memo = "a\u061c" }), "memo", "bidi control U+061C", []Class{ClassBidi}},
		{"memo zero-width space", wd(func(x *Transaction) { x.Memo = "a\u200bb" }), "memo", "format character U+200B", []Class{ClassFormat}},
		{"memo soft hyphen", wd(func(x *Transaction) { x.Memo = "a\u00adb" }), "memo", "format character U+00AD", []Class{ClassFormat}},
		{"memo BOM", wd(func(x *Transaction) { x.Memo = "\ufeffa" }), "memo", "format character U+FEFF", []Class{ClassFormat}},
		{"memo tag", wd(func(x *Transaction) { x.Memo = "a\U000e0041" }), "memo", "format character U+E0041", []Class{ClassFormat}},
		{"memo line separator", wd(func(x *Transaction) { x.Memo = "a\u2028b" }), "memo", "line or paragraph separator U+2028", []Class{ClassSeparator}},
		{"memo paragraph separator", wd(func(x *Transaction) { x.Memo = "a\u2029b" }), "memo", "line or paragraph separator U+2029", []Class{ClassSeparator}},
		{"memo combining acute", wd(func(x *Transaction) { x.Memo = "e\u0301" }), "memo", "combining mark U+0301 at byte 1", []Class{ClassCombining}},
		{"memo enclosing mark", wd(func(x *Transaction) { x.Memo = "1\u20dd" }), "memo", "combining mark U+20DD", []Class{ClassCombining}},
		{"memo spacing mark", wd(func(x *Transaction) { x.Memo = "\u0915\u093e" }), "memo", "combining mark U+093E", []Class{ClassCombining}},
		{"memo no-break space", wd(func(x *Transaction) { x.Memo = "a\u00a0b" }), "memo", "space other than U+0020", []Class{ClassText}},
		{"memo ideographic space", wd(func(x *Transaction) { x.Memo = "a\u3000b" }), "memo", "space other than U+0020", []Class{ClassText}},
		{"memo private use", wd(func(x *Transaction) { x.Memo = "\ue000" }), "memo", "private-use character U+E000", []Class{ClassText}},
		{"memo unassigned", wd(func(x *Transaction) { x.Memo = "\u0378" }), "memo", "unassigned character or noncharacter U+0378", []Class{ClassText}},
		{"memo noncharacter", wd(func(x *Transaction) { x.Memo = "\uffff" }), "memo", "unassigned character or noncharacter U+FFFF", []Class{ClassText}},
		{"memo Hangul filler", wd(func(x *Transaction) { x.Memo = "a\u3164" }), "memo", "invisible character U+3164", []Class{ClassText}},
		{"memo conjoining jamo", wd(func(x *Transaction) { x.Memo = "\u1100\u1161" }), "memo", "conjoining Hangul jamo U+1100", []Class{ClassText}},
		{"memo Angstrom sign", wd(func(x *Transaction) { x.Memo = "\u212b" }), "memo", "character that NFC replaces U+212B", []Class{ClassText}},
		{"memo CJK compatibility", wd(func(x *Transaction) { x.Memo = "\uf900" }), "memo", "character that NFC replaces U+F900", []Class{ClassText}},
		{"memo invalid UTF-8", wd(func(x *Transaction) { x.Memo = "a\xffb" }), "memo", "not valid UTF-8", []Class{ClassText}},
		{"memo too long", wd(func(x *Transaction) { x.Memo = long(257) }), "memo", "longer than 256 bytes", []Class{ClassText}},
		{"memo untrimmed", wd(func(x *Transaction) { x.Memo = "a " }), "memo", "leading or trailing space", []Class{ClassText}},
		{"memo doubled space", wd(func(x *Transaction) { x.Memo = "a  b" }), "memo", "doubled space", []Class{ClassText}},
		{"beneficiary too long", wd(func(x *Transaction) { x.Beneficiary = long(129) }), "beneficiary", "longer than 128 bytes", []Class{ClassText}},
		{"beneficiary newline", wd(func(x *Transaction) { x.Beneficiary = "Ada\nAmount: EUR 1.00" }), "beneficiary", "control character U+000A", []Class{ClassControl}},
		{"beneficiary bidi isolate", wd(func(x *Transaction) { x.Beneficiary = "\u2066Ada" }), "beneficiary", "bidi control U+2066", []Class{ClassBidi}},
	}
	allClasses := []Class{ClassKind, ClassAmount, ClassCurrency, ClassAccount, ClassInstrument, ClassText,
		ClassControl, ClassBidi, ClassFormat, ClassSeparator, ClassCombining, ClassEncoding, ClassVersion}
	seen := map[string]string{}
	for _, c := range cases {
		_, err := c.tx.Canonical()
		requireTxErr(t, err, c.field, c.reason, c.classes...)
		// It matches its classes and no other.
		for _, other := range allClasses {
			want := false
			for _, cl := range c.classes {
				want = want || cl == other
			}
			require.Equal(t, want, hasClass(err, other), "%s: %v vs %v", c.name, err, other)
		}
		// Every entry point refuses it the same way.
		for _, f := range []func() error{
			func() error { _, err := Question(txNonce, c.tx); return err },
			func() error { _, err := URI(txNonce, c.tx); return err },
			func() error { _, err := QR(txNonce, c.tx, 512); return err },
			func() error { _, err := c.tx.Display(); return err },
		} {
			require.Equal(t, err.Error(), f().Error(), c.name)
		}
		if prev, dup := seen[err.Error()]; dup {
			// Cases that test one reason twice share a message.
			require.Contains(t, []string{"zero amount/negative amount", "no currency/lower-case currency", "lower-case currency/two-letter currency", "zero kind/unknown kind", "zero quantity/negative quantity", "no side/unknown side"}, prev+"/"+c.name, "%s and %s: %v", prev, c.name, err)
		}
		seen[err.Error()] = c.name
	}
}

// field encodes one canonical field, for hand-made bytes.
func field(tag byte, v []byte) []byte {
	return binary.BigEndian.AppendUint32([]byte{tag}, uint32(len(v))) // then v
}

func withField(b []byte, tag byte, v []byte) []byte {
	return append(append(b, field(tag, v)...), v...)
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func TestParseTransactionRefusals(t *testing.T) {
	good, err := txWithdrawal.Canonical()
	require.NoError(t, err)
	head := []byte("keyline/v1/tx\x01")
	// the withdrawal's fields up to currency, then From, To.
	prefix := withField(withField(withField(bytes.Clone(head), 1, []byte{1}), 2, u64(5)), 3, []byte("EUR"))
	smallest := withField(withField(bytes.Clone(prefix), 4, []byte("A")), 5, []byte("B"))
	_, err = Parse(smallest)
	require.NoError(t, err, "the smallest withdrawal")

	cases := []struct {
		name    string
		b       []byte
		field   string
		reason  string
		classes []Class
	}{
		{"empty", nil, "", "not a keyline transaction", []Class{ClassEncoding}},
		{"other header", append([]byte("keyline/v1/tX\x01"), good[14:]...), "", "not a keyline transaction", []Class{ClassEncoding}},
		{"no version", []byte("keyline/v1/tx"), "", "no version", []Class{ClassEncoding}},
		{"version 2", append([]byte("keyline/v1/tx\x02"), good[14:]...), "", "version 2 is not 1", []Class{ClassVersion}},
		{"version 0", append([]byte("keyline/v1/tx\x00"), good[14:]...), "", "version 0 is not 1", []Class{ClassVersion}},
		{"header only", head, "kind", "unknown kind", []Class{ClassKind}},
		{"no kind", withField(bytes.Clone(head), 2, u64(5)), "kind", "unknown kind", []Class{ClassKind}},
		{"trailing byte", append(bytes.Clone(good), 0), "", "truncated field header", []Class{ClassEncoding}},
		{"trailing field", withField(bytes.Clone(smallest), 11, []byte("x")), "", "unknown field tag 11", []Class{ClassEncoding}},
		{"tag 0", withField(bytes.Clone(head), 0, []byte("x")), "", "unknown field tag 0", []Class{ClassEncoding}},
		{"repeated field", withField(bytes.Clone(smallest), 5, []byte("C")), "", "field tag 5 repeated or out of order", []Class{ClassEncoding}},
		{"out of order", withField(withField(bytes.Clone(prefix), 5, []byte("B")), 4, []byte("A")), "", "field tag 4 repeated or out of order", []Class{ClassEncoding}},
		{"truncated", good[:len(good)-1], "", "field 10 runs past the end", []Class{ClassEncoding}},
		{"length past the end", append(append(bytes.Clone(prefix), 4, 0xff, 0xff, 0xff, 0xff), 'A'), "", "field 4 runs past the end", []Class{ClassEncoding}},
		{"empty memo", withField(bytes.Clone(smallest), 10, nil), "", "field 10 is empty (absent fields are omitted)", []Class{ClassEncoding}},
		{"empty beneficiary", withField(withField(bytes.Clone(smallest), 6, nil), 10, []byte("m")), "", "field 6 is empty", []Class{ClassEncoding}},
		{"long kind", withField(bytes.Clone(head), 1, []byte{1, 0}), "", "field 1 has the wrong length (2, not 1)", []Class{ClassEncoding}},
		{"short amount", withField(withField(bytes.Clone(head), 1, []byte{1}), 2, []byte{5}), "", "field 2 has the wrong length (1, not 8)", []Class{ClassEncoding}},
		{"long currency", withField(withField(withField(bytes.Clone(head), 1, []byte{1}), 2, u64(5)), 3, []byte("EURO")), "", "field 3 has the wrong length (4, not 3)", []Class{ClassEncoding}},
		{"amount above int64", withField(withField(bytes.Clone(head), 1, []byte{1}), 2, u64(1<<63)), "amount", "above 2^63-1", []Class{ClassAmount}},
		{"amount zero", withField(withField(withField(withField(withField(bytes.Clone(head), 1, []byte{1}), 2, u64(0)), 3, []byte("EUR")), 4, []byte("A")), 5, []byte("B")), "amount", "not positive", []Class{ClassAmount}},
		{"quantity above int64", withField(bytes.Clone(smallest), 8, u64(math.MaxUint64)), "quantity", "above 2^63-1", []Class{ClassAmount}},
		{"withdrawal with side", withField(bytes.Clone(smallest), 9, []byte{1}), "side", "taken only by a trade", []Class{ClassKind}},
		{"lower-case IBAN", withField(withField(bytes.Clone(prefix), 4, []byte("A")), 5, []byte("de89370400440532013000")), "to", "not in normal form", []Class{ClassAccount}},
		{"untrimmed memo", withField(bytes.Clone(smallest), 10, []byte(" m")), "memo", "leading or trailing space", []Class{ClassText}},
		{"too long", append(bytes.Clone(good), make([]byte, txnMaxCanonical)...), "", "longer than", []Class{ClassEncoding}},
	}
	for _, c := range cases {
		got, err := Parse(c.b)
		requireTxErr(t, err, c.field, c.reason, c.classes...)
		require.Equal(t, Transaction{}, got, c.name)
	}
}

// Moving a separator-like character, or a whole value, from one field to
// the next changes the bytes: each field carries its own length and tag,
// so no split of the same characters between fields encodes alike. A
// naive join would not tell them apart.
func TestTransactionSplitsAreUnambiguous(t *testing.T) {
	seen := map[string]string{}
	add := func(name string, tx Transaction) {
		t.Helper()
		c, err := tx.Canonical()
		require.NoError(t, err, name)
		if prev, dup := seen[string(c)]; dup {
			t.Fatalf("%s and %s encode alike", prev, name)
		}
		seen[string(c)] = name
		q, err := Question(txNonce, tx)
		require.NoError(t, err)
		if prev, dup := seen[q]; dup {
			t.Fatalf("%s and %s have one question", prev, name)
		}
		seen[q] = name
	}
	// Values that a naive join cannot tell apart encode apart.
	for _, p := range []struct {
		sep  string
		x, y [2]string
	}{
		{"|", [2]string{"a|b", "c"}, [2]string{"a", "b|c"}},
		{",", [2]string{"a,b", "c"}, [2]string{"a", "b,c"}},
		{"|", [2]string{"a|b,c", ""}, [2]string{"a", "b,c"}},
		{",", [2]string{"a|b,c", ""}, [2]string{"a|b", "c"}},
	} {
		if p.x[1] != "" {
			require.Equal(t, p.x[0]+p.sep+p.x[1], p.y[0]+p.sep+p.y[1])
		}
		tx1, tx2 := txWithdrawal, txWithdrawal
		tx1.Beneficiary, tx1.Memo = p.x[0], p.x[1]
		tx2.Beneficiary, tx2.Memo = p.y[0], p.y[1]
		c1, err := tx1.Canonical()
		require.NoError(t, err)
		c2, err := tx2.Canonical()
		require.NoError(t, err)
		require.NotEqual(t, c1, c2, "%q vs %q", p.x, p.y)
	}

	// Every split of these strings between two adjacent fields encodes
	// differently, from every other split and every other field pair.
	for _, s := range []string{"a|b,c", "a,b|c", "a|b|c", "1|2", "U1 U2"} {
		for i := 1; i < len(s); i++ {
			x, y := s[:i], s[i:]
			if strings.HasPrefix(y, " ") || strings.HasSuffix(x, " ") {
				continue // not normal: Canonical refuses it
			}
			tx := txWithdrawal
			tx.Beneficiary, tx.Memo = x, y
			add("beneficiary/memo "+x+"/"+y, tx)
			tx = txWithdrawal
			tx.From, tx.To = x, y
			add("from/to "+x+"/"+y, tx)
			tx = txWithdrawal
			tx.To, tx.Beneficiary = x, y
			add("to/beneficiary "+x+"/"+y, tx)
		}
		// Absent is not empty: the same text in one optional field or
		// the other.
		tx := txWithdrawal
		tx.Beneficiary, tx.Memo = s, ""
		add("beneficiary only "+s, tx)
		tx.Beneficiary, tx.Memo = "", s
		add("memo only "+s, tx)
	}

	// The nonce is length-prefixed in the question: moving bytes between
	// nonce and transaction changes it too.
	c, err := txWithdrawal.Canonical()
	require.NoError(t, err)
	n2 := append(bytes.Clone(txNonce), c[0])
	require.NotEqual(t, txnQuestion(txNonce, c), txnQuestion(n2, c[1:]))
	naiveQ := func(n, c []byte) [32]byte {
		return sha256.Sum256(append(append([]byte(txnLabel), n...), c...))
	}
	require.Equal(t, naiveQ(txNonce, c), naiveQ(n2, c[1:]), "without the prefix they would collide")
}

func TestCurrencyMinorUnits(t *testing.T) {
	for code, want := range map[string]int{"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "TND": 3} {
		got, ok := CurrencyMinorUnits(code)
		require.True(t, ok, code)
		require.Equal(t, want, got, code)
	}
	for _, code := range []string{"", "eur", "XXX", "XAU", "EURO"} {
		_, ok := CurrencyMinorUnits(code)
		require.False(t, ok, code)
	}
	for code := range currencies {
		require.Len(t, code, 3)
		require.True(t, isUpperAlpha(code))
	}

	amount := func(a int64, cur string) string {
		t.Helper()
		tx := txTransfer
		tx.Amount, tx.Currency = a, cur
		l, err := tx.Display()
		require.NoError(t, err)
		return strings.TrimPrefix(l[1], "Amount: ")
	}
	require.Equal(t, "EUR 1,234.56", amount(123456, "EUR"))
	require.Equal(t, "EUR 0.01", amount(1, "EUR"))
	require.Equal(t, "EUR 0.10", amount(10, "EUR"))
	require.Equal(t, "EUR 1.00", amount(100, "EUR"))
	require.Equal(t, "EUR 999.99", amount(99999, "EUR"))
	require.Equal(t, "EUR 1,000.00", amount(100000, "EUR"))
	require.Equal(t, "JPY 1", amount(1, "JPY"))
	require.Equal(t, "JPY 1,500,000", amount(1500000, "JPY"))
	require.Equal(t, "JPY 100,000", amount(100000, "JPY"))
	require.Equal(t, "BHD 0.001", amount(1, "BHD"))
	require.Equal(t, "BHD 1,234.567", amount(1234567, "BHD"))
	require.Equal(t, "EUR 92,233,720,368,547,758.07", amount(math.MaxInt64, "EUR"))
	require.Equal(t, "JPY 9,223,372,036,854,775,807", amount(math.MaxInt64, "JPY"))
}

func TestIBAN(t *testing.T) {
	// The IBAN registry's examples, as printed.
	for _, printed := range []string{
		"GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00", "FR14 2004 1010 0505 0001 3M02 606",
		"NL91 ABNA 0417 1643 00", "CH93 0076 2011 6238 5295 7", "BE68 5390 0754 7034", "NO93 8601 1117 947",
		"MT84 MALT 0110 0001 2345 MTLC AST0 01S",
	} {
		compact := strings.ReplaceAll(printed, " ", "")
		for _, typed := range []string{printed, compact, strings.ToLower(printed), " " + printed + " "} {
			got, err := accountForm("to", typed)
			require.NoError(t, err, typed)
			require.Equal(t, compact, got, typed)
		}
		require.Equal(t, printed, showAccount(compact))
		require.True(t, ibanShaped(compact))

		// Every substitution of a digit for a digit, or a letter for a
		// letter, breaks the checksum (mod 97 catches all of them: the
		// value changes by d·10^k with 0 < |d| < 97) or the shape. (A
		// letter for a digit changes the number's length, and mod 97
		// misses 1 in 97 of those; the registry's per-country formats,
		// which this package does not check, would catch most.)
		for i := 0; i < len(compact); i++ {
			for _, c := range []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
				if c == compact[i] || txnIsDigit(c) != txnIsDigit(compact[i]) {
					continue
				}
				bad := compact[:i] + string(c) + compact[i+1:]
				n, err := accountForm("to", bad)
				if err == nil {
					require.False(t, ibanLike(n), "%s accepted as an IBAN", bad)
					continue
				}
				requireClass(t, err, ClassAccount)
			}
		}
		// Swapping two adjacent different digits, or letters, of the
		// account part too.
		for i := 4; i+1 < len(compact); i++ {
			if compact[i] == compact[i+1] || txnIsDigit(compact[i]) != txnIsDigit(compact[i+1]) {
				continue
			}
			b := []byte(compact)
			b[i], b[i+1] = b[i+1], b[i]
			if n, err := accountForm("to", string(b)); err == nil {
				require.False(t, ibanLike(n), "%s accepted as an IBAN", b)
			}
		}
	}
	// Not IBANs: kept as given, case and all.
	for _, id := range []string{"U1234567", "u1234567", "12-34-56 87654321", "XX89370400440532013000", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "DE8937"} {
		got, err := accountForm("to", id)
		require.NoError(t, err, id)
		require.Equal(t, id, got)
		require.Equal(t, id, showAccount(id))
	}
	_, err := accountForm("to", "DE89 3704 0044 0532 0130 0")
	requireTxErr(t, err, "to", "IBAN length is wrong for its country", ClassAccount)
	for c, n := range ibanLengths {
		require.Len(t, c, 2)
		require.True(t, n >= 15 && n <= 34, c)
	}
}

func TestISIN(t *testing.T) {
	for _, isin := range []string{"US0378331005", "US5949181045", "DE0007164600", "IE00B4L5Y983", "GB0002634946"} {
		require.True(t, isinShaped(isin))
		require.True(t, isinValid(isin), isin)
		got, err := instrumentForm(strings.ToLower(isin))
		require.NoError(t, err)
		require.Equal(t, isin, got)
		for d := byte('0'); d <= '9'; d++ {
			if d == isin[11] {
				continue
			}
			_, err := instrumentForm(isin[:11] + string(d))
			requireTxErr(t, err, "instrument", "ISIN check digit does not verify", ClassInstrument)
		}
	}
	for _, sym := range []string{"AAPL", "BRK.B", "BRK/B", "RDS-A", "VOD:LN", "AAPL US EQUITY", "ESZ5"} {
		got, err := instrumentForm(sym)
		require.NoError(t, err, sym)
		require.Equal(t, sym, got)
	}
}

func TestTransactionDisplay(t *testing.T) {
	for _, c := range []struct {
		tx   Transaction
		want []string
	}{
		{txWithdrawal, []string{"Withdrawal", "Amount: EUR 1,234.56", "From: U1234567", "To: DE89 3704 0044 0532 0130 00", "Beneficiary: Ada Lovelace", "Memo: Rent March"}},
		{txTransfer, []string{"Transfer", "Amount: JPY 1,500,000", "From: U1234567", "To: U7654321"}},
		{txBuy, []string{"Trade: Buy", "Instrument: US0378331005", "Quantity: 10", "Pay at most: USD 2,500.00", "Account: U1234567"}},
		{txSell, []string{"Trade: Sell", "Instrument: DE0007164600", "Quantity: 1,200", "Receive at least: EUR 210,000.00", "Account: DU998877", "Memo: Verkauf für Jürgen Ø"}},
		{txSeparators, []string{"Withdrawal", "Amount: BHD 0.250", "From: ACC-1", "To: 12-34-56 87654321", "Beneficiary: Børsen | Ltd, «Ω»", "Memo: a|b,c=d;e&f"}},
	} {
		got, err := c.tx.Display()
		require.NoError(t, err)
		require.Equal(t, c.want, got)
		for _, l := range got {
			require.NotContains(t, l, "\n")
		}
	}
	// What is shown changes with what is signed: every field a display
	// shows changes a line.
	base, _ := txWithdrawal.Display()
	for _, f := range []func(*Transaction){
		func(x *Transaction) { x.Kind = KindTransfer },
		func(x *Transaction) { x.Amount++ },
		func(x *Transaction) { x.Currency = "USD" },
		func(x *Transaction) { x.From = "U1234568" },
		func(x *Transaction) { x.To = "GB82WEST12345698765432" },
		func(x *Transaction) { x.Beneficiary = "" },
		func(x *Transaction) { x.Memo = "Rent April" },
	} {
		x := txWithdrawal
		f(&x)
		got, err := x.Display()
		require.NoError(t, err)
		require.NotEqual(t, base, got)
	}
}

func TestTransactionQuestion(t *testing.T) {
	q, err := Question(txNonce, txWithdrawal)
	require.NoError(t, err)
	require.Len(t, q, 64)
	require.Equal(t, strings.ToLower(q), q)

	// Recomputed from PROTOCOL.md (Transactions) directly.
	c, err := txWithdrawal.Canonical()
	require.NoError(t, err)
	in := append([]byte("keyline/v1/tx"), 0, 0, 0, byte(len(txNonce)))
	in = append(append(in, txNonce...), c...)
	sum := sha256.Sum256(in)
	require.Equal(t, hex.EncodeToString(sum[:]), q)

	// The question is one the suite takes.
	_, err = Suite.Respond(make([]byte, 32), challenge.Input{Question: q, Time: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, challenge.QuestionHex, Suite.QuestionFormat())
	require.Equal(t, 64, Suite.QuestionLength())

	for _, n := range []int{16, 32, 64} {
		q2, err := Question(make([]byte, n), txWithdrawal)
		require.NoError(t, err)
		require.NotEqual(t, q, q2)
	}
	for _, n := range []int{0, 1, 15, 65, 1024} {
		_, err := Question(make([]byte, n), txWithdrawal)
		require.ErrorIs(t, err, ErrInvalidInput, "nonce of %d bytes", n)
		_, err = URI(make([]byte, n), txWithdrawal)
		require.ErrorIs(t, err, ErrInvalidInput, "nonce of %d bytes", n)
		_, err = QR(make([]byte, n), txWithdrawal, 512)
		require.ErrorIs(t, err, ErrInvalidInput, "nonce of %d bytes", n)
	}

	a, b := NewNonce(), NewNonce()
	require.Len(t, a, NonceSize)
	require.NotEqual(t, a, b)
}

func TestTransactionQR(t *testing.T) {
	for _, tx := range []Transaction{txWithdrawal, txTransfer, txBuy, txSell, txSeparators} {
		uri, err := URI(txNonce, tx)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(uri, "keyline://tx?v=1&n="))
		n, got, err := ParseQR(uri)
		require.NoError(t, err)
		require.Equal(t, txNonce, n)
		require.Equal(t, tx, got)

		// The PNG is the QR helper's drawing of this payload.
		s, err := qrcode.Encode(uri, ErrInvalid)
		require.NoError(t, err)
		require.Equal(t, uri, s.Code.Content())
		b, err := QR(txNonce, tx, 512)
		require.NoError(t, err)
		want, err := s.PNG(512, ErrInvalidInput)
		require.NoError(t, err)
		require.Equal(t, want, b)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err)
		require.Equal(t, 512, img.Bounds().Dx())
	}

	// The largest transaction fits, at level M, in a screen-sized PNG.
	big := Transaction{Kind: KindWithdrawal, Amount: math.MaxInt64, Currency: "EUR",
		From: strings.Repeat("F", txnMaxAccount), To: strings.Repeat("T", txnMaxAccount),
		Beneficiary: strings.Repeat("é", txnMaxBeneficiary/2), Memo: strings.Repeat("m", txnMaxMemo)}
	nonce := make([]byte, txnMaxNonce)
	uri, err := URI(nonce, big)
	require.NoError(t, err)
	require.LessOrEqual(t, len(uri), txnMaxURI)
	s, err := qrcode.Encode(uri, ErrInvalid)
	require.NoError(t, err)
	require.Equal(t, "M", qrtest.FormatLevel(t, qrtest.GridOf(t, s.Code)))
	_, err = QR(nonce, big, 2*s.N)
	require.NoError(t, err)
	small, err := qrcode.Encode(mustURI(t, txTransfer), ErrInvalid)
	require.NoError(t, err)
	t.Logf("largest transaction URI: %d bytes, %d modules with the quiet zone; a transfer: %d modules", len(uri), s.N, small.N)
	for _, tx := range []Transaction{txWithdrawal, txTransfer, txBuy, txSell, txSeparators} {
		s, err := qrcode.Encode(mustURI(t, tx), ErrInvalid)
		require.NoError(t, err)
		require.LessOrEqual(t, s.N, 73)
	}
	require.LessOrEqual(t, s.N, 121)

	// Sizes.
	for _, size := range []int{-1, 0, 28, qrcode.MaxSize + 1} {
		_, err := QR(txNonce, txWithdrawal, size)
		require.ErrorIs(t, err, ErrInvalidInput, "size %d", size)
	}
	_, err = QR(nonce, big, s.N-1)
	require.ErrorIs(t, err, ErrInvalidInput)
}

func mustURI(t *testing.T, tx Transaction) string {
	t.Helper()
	u, err := URI(txNonce, tx)
	require.NoError(t, err)
	return u
}

func TestParseTransactionQRRefusals(t *testing.T) {
	good := mustURI(t, txWithdrawal)
	enc := base64.RawURLEncoding
	c, err := txWithdrawal.Canonical()
	require.NoError(t, err)
	nb, tb := enc.EncodeToString(txNonce), enc.EncodeToString(c)
	badTx := append(bytes.Clone(c), 0)
	cases := []struct {
		name, payload, field, reason string
		classes                      []Class
	}{
		{"empty", "", "", "not a keyline://tx payload", []Class{ClassEncoding}},
		{"other scheme", strings.Replace(good, "keyline://", "https://", 1), "", "not a keyline://tx payload", []Class{ClassEncoding}},
		{"other host", strings.Replace(good, "://tx?", "://activate?", 1), "", "not a keyline://tx payload", []Class{ClassEncoding}},
		{"version 2", strings.Replace(good, "v=1", "v=2", 1), "", "payload version is not 1", []Class{ClassVersion}},
		{"reordered", "keyline://tx?n=" + nb + "&v=1&t=" + tb, "", "payload is not v=1&n=…&t=…", []Class{ClassEncoding}},
		{"extra parameter", good + "&x=1", "", "payload is not", []Class{ClassEncoding}},
		{"repeated parameter", good + "&t=" + tb, "", "payload is not", []Class{ClassEncoding}},
		{"fragment", good + "#x", "", "transaction is not unpadded base64url", []Class{ClassEncoding}},
		{"padding", good + "=", "", "transaction is not unpadded base64url", []Class{ClassEncoding}},
		{"standard base64", "keyline://tx?v=1&n=" + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)) + "&t=" + tb, "nonce", "not unpadded base64url", []Class{ClassEncoding}},
		{"percent-encoded", "keyline://tx?v=1&n=%41" + nb[1:] + "&t=" + tb, "nonce", "not unpadded base64url", []Class{ClassEncoding}},
		{"short nonce", "keyline://tx?v=1&n=" + enc.EncodeToString(txNonce[:15]) + "&t=" + tb, "nonce", "not 16 to 64 bytes", []Class{ClassEncoding}},
		{"long nonce", "keyline://tx?v=1&n=" + enc.EncodeToString(make([]byte, 65)) + "&t=" + tb, "nonce", "not 16 to 64 bytes", []Class{ClassEncoding}},
		{"bad transaction", "keyline://tx?v=1&n=" + nb + "&t=" + enc.EncodeToString(badTx), "", "truncated field header", []Class{ClassEncoding}},
		{"transaction v2", "keyline://tx?v=1&n=" + nb + "&t=" + enc.EncodeToString(append([]byte("keyline/v1/tx\x02"), c[14:]...)), "", "version 2 is not 1", []Class{ClassVersion}},
		{"too long", good + strings.Repeat("A", txnMaxURI), "", "payload longer than", []Class{ClassEncoding}},
	}
	for _, c := range cases {
		n, tx, err := ParseQR(c.payload)
		requireTxErr(t, err, c.field, c.reason, c.classes...)
		require.Nil(t, n, c.name)
		require.Equal(t, Transaction{}, tx, c.name)
	}
	// Non-zero padding bits in the last base64 character.
	last := tb[len(tb)-1]
	alt := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last) ^ 1
	if len(c)%3 != 0 {
		p := strings.Replace(good, tb, tb[:len(tb)-1]+string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[alt]), 1)
		_, _, err := ParseQR(p)
		requireClass(t, err, ClassEncoding)
	}
}

// Errors name the field and the reason, never the value, and stay short.
func TestTransactionErrorsDoNotEchoValues(t *testing.T) {
	for _, tx := range []Transaction{
		{Kind: KindWithdrawal, Amount: 1, Currency: "SECRETCUR", From: "A", To: "B"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "SECRETFROM\n", To: "B"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "SECRETFROM" + strings.Repeat("x", 60), To: "B"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "A", To: "DE00SECRET000000000000"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "A", To: "de89 3704 0044 0532 0130 00"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "A", To: "B", Beneficiary: "SECRETBEN\u0301"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "A", To: "B", Memo: "SECRETMEMO\u202e"},
		{Kind: KindWithdrawal, Amount: 1, Currency: "EUR", From: "A", To: "B", Memo: "SECRETMEMO "},
		{Kind: KindTrade, Amount: 1, Currency: "EUR", From: "A", Instrument: "SECRETINST$", Quantity: 1, Side: SideBuy},
		{Kind: KindTrade, Amount: 1, Currency: "EUR", From: "A", Instrument: "XS0000000001", Quantity: 1, Side: SideBuy},
	} {
		for _, f := range []func() error{
			func() error { _, err := tx.Canonical(); return err },
			func() error { _, err := tx.Normalize(); return err },
		} {
			err := f()
			if err == nil {
				continue // Normalize repairs the untrimmed ones
			}
			msg := err.Error()
			require.NotContains(t, msg, "SECRET")
			require.NotContains(t, msg, "3704")
			require.NotContains(t, msg, "0000000001")
			require.Less(t, len(msg), 120, msg)
		}
	}
}

// Every class prints its name; others print their number.
func TestClassNames(t *testing.T) {
	want := []string{"kind", "amount", "currency", "account", "instrument", "text", "control", "bidi",
		"format", "separator", "combining", "encoding", "version"}
	for i, name := range want {
		require.Equal(t, name, Class(i+1).String())
	}
	require.Equal(t, ClassVersion, Class(len(want)))
	require.Equal(t, "Class(0)", Class(0).String())
	require.Equal(t, "Class(14)", Class(14).String())
}
