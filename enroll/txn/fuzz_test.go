package txn

import (
	"bytes"
	"errors"
	"testing"
)

// txSeeds returns the canonical bytes of the sample transactions.
func txSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, tx := range []Transaction{txWithdrawal, txTransfer, txBuy, txSell, txSeparators} {
		c, err := tx.Canonical()
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, c)
	}
	return seeds
}

// requireRefusal checks what every refusal must be: a *Error matching
// ErrInvalid, with a class.
func requireRefusal(t *testing.T, err error) {
	t.Helper()
	var te *Error
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &te) {
		t.Fatalf("refusal is not a *Error matching ErrInvalid: %T %v", err, err)
	}
	if te.Class < ClassKind || te.Class > ClassVersion || te.Char > ClassVersion {
		t.Fatalf("refusal names no class: %v", err)
	}
}

// FuzzParse: parsing never panics; whatever parses is valid,
// normal, and encodes back to exactly the bytes it came from; whatever is
// refused is refused with the zero Transaction.
func FuzzParse(f *testing.F) {
	for _, c := range txSeeds(f) {
		f.Add(c)
		f.Add(c[:len(c)-1])
		f.Add(append(bytes.Clone(c), 0))
	}
	f.Add([]byte("keyline/v1/tx\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := Parse(b)
		if err != nil {
			requireRefusal(t, err)
			if tx != (Transaction{}) {
				t.Fatalf("partial transaction on error: %+v", tx)
			}
			return
		}
		c, err := tx.Canonical()
		if err != nil {
			t.Fatalf("parsed transaction does not encode: %v", err)
		}
		if !bytes.Equal(c, b) {
			t.Fatalf("Canonical(Parse(b)) != b:\n%x\n%x", c, b)
		}
		n, err := tx.Normalize()
		if err != nil || n != tx {
			t.Fatalf("parsed transaction is not normal: %v", err)
		}
		lines, err := tx.Display()
		if err != nil || len(lines) < 4 {
			t.Fatalf("display: %v %q", err, lines)
		}
		uri, err := URI(txNonce, tx)
		if err != nil {
			t.Fatalf("URI: %v", err)
		}
		nonce, back, err := ParseQR(uri)
		if err != nil || back != tx || !bytes.Equal(nonce, txNonce) {
			t.Fatalf("QR payload round trip: %v", err)
		}
	})
}

// FuzzParseQR: whatever payload parses is the one
// URI writes for its nonce and transaction.
func FuzzParseQR(f *testing.F) {
	for _, c := range txSeeds(f) {
		uri := txnURI(txNonce, c)
		f.Add(uri)
		f.Add(uri + "=")
		f.Add(uri[:len(uri)-1])
	}
	f.Add("keyline://tx?v=2&n=AAAAAAAAAAAAAAAAAAAAAA&t=")
	f.Add("")
	f.Fuzz(func(t *testing.T, payload string) {
		nonce, tx, err := ParseQR(payload)
		if err != nil {
			requireRefusal(t, err)
			if nonce != nil || tx != (Transaction{}) {
				t.Fatalf("partial result on error")
			}
			return
		}
		uri, err := URI(nonce, tx)
		if err != nil {
			t.Fatalf("parsed payload does not encode: %v", err)
		}
		if uri != payload {
			t.Fatalf("payload does not round-trip:\n%s\n%s", payload, uri)
		}
	})
}

// FuzzNormalize: Normalize either refuses, or returns a
// transaction that is valid, normal (Normalize leaves it alone) and
// round-trips through its canonical bytes.
func FuzzNormalize(f *testing.F) {
	for _, tx := range []Transaction{txWithdrawal, txTransfer, txBuy, txSell, txSeparators} {
		f.Add(uint8(tx.Kind), tx.Amount, tx.Currency, tx.From, tx.To, tx.Beneficiary, tx.Instrument, tx.Quantity, uint8(tx.Side), tx.Memo)
	}
	f.Add(uint8(1), int64(5), " eur", " de89 3704 0044 0532 0130 00 ", "u1  2", " Ada  L ", "", int64(0), uint8(0), "e\u0301")
	f.Add(uint8(3), int64(1), "usd", "U1", "", "", " us0378331005", int64(3), uint8(2), "\u202e")
	f.Fuzz(func(t *testing.T, kind uint8, amount int64, cur, from, to, ben, instr string, qty int64, side uint8, memo string) {
		in := Transaction{Kind: Kind(kind), Amount: amount, Currency: cur, From: from, To: to,
			Beneficiary: ben, Instrument: instr, Quantity: qty, Side: Side(side), Memo: memo}
		n, err := in.Normalize()
		if err != nil {
			requireRefusal(t, err)
			if n != (Transaction{}) {
				t.Fatalf("partial transaction on error")
			}
			if _, cerr := in.Canonical(); cerr == nil {
				t.Fatalf("Canonical accepts what Normalize refuses: %v", err)
			}
			return
		}
		again, err := n.Normalize()
		if err != nil || again != n {
			t.Fatalf("Normalize is not idempotent: %v", err)
		}
		c, err := n.Canonical()
		if err != nil {
			t.Fatalf("normal transaction does not encode: %v", err)
		}
		back, err := Parse(c)
		if err != nil || back != n {
			t.Fatalf("round trip: %v", err)
		}
		if _, err := in.Canonical(); err == nil && in != n {
			t.Fatalf("Canonical accepts a transaction that is not normal")
		}
	})
}
