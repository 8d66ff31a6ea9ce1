package txn

import (
	"strings"
	"testing"
)

// PROTOCOL.md §9 says canonical bytes are at most 573 long (a withdrawal
// or transfer with every field at its maximum) and a trade at most 427.
// Build both and check that Parse takes them and refuses one byte more.
func TestCanonicalMaxima(t *testing.T) {
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	payment := Transaction{Kind: KindTransfer, Amount: 1, Currency: "USD", From: long("A", txnMaxAccount),
		To: long("B", txnMaxAccount), Beneficiary: long("b", txnMaxBeneficiary), Memo: long("m", txnMaxMemo)}
	trade := Transaction{Kind: KindTrade, Amount: 1, Currency: "USD", From: long("A", txnMaxAccount),
		Instrument: long("B", txnMaxInstrument), Quantity: 1, Side: SideBuy, Memo: long("m", txnMaxMemo)}
	for _, c := range []struct {
		tx   Transaction
		want int
	}{{payment, 573}, {trade, 427}} {
		b, err := c.tx.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != c.want {
			t.Fatalf("%v: %d bytes, PROTOCOL.md says %d", c.tx.Kind, len(b), c.want)
		}
		if _, err := Parse(b); err != nil {
			t.Fatalf("%v: %v", c.tx.Kind, err)
		}
	}
	if txnMaxCanonical != 573 {
		t.Fatalf("txnMaxCanonical = %d, want 573", txnMaxCanonical)
	}
}
