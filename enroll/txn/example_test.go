package txn_test

import (
	"errors"
	"fmt"

	"github.com/keyline/keyline/enroll/txn"
)

// The server normalises the order the user placed; the phone shows the
// lines computed from its canonical bytes.
func Example() {
	tx, err := txn.Transaction{
		Kind:        txn.KindWithdrawal,
		Amount:      123456, // minor units: EUR 1,234.56
		Currency:    "eur",
		From:        "U1234567",
		To:          "de89 3704 0044 0532 0130 00",
		Beneficiary: "Ada  Lovelace",
	}.Normalize()
	if err != nil {
		panic(err)
	}
	lines, err := tx.Display()
	if err != nil {
		panic(err)
	}
	for _, l := range lines {
		fmt.Println(l)
	}

	// A wrong IBAN check digit is refused, naming the field only.
	tx.To = "DE88370400440532013000"
	_, err = tx.Canonical()
	var e *txn.Error
	fmt.Println(errors.Is(err, txn.ErrInvalid), errors.As(err, &e) && e.Field == "to")
	// Output:
	// Withdrawal
	// Amount: EUR 1,234.56
	// From: U1234567
	// To: DE89 3704 0044 0532 0130 00
	// Beneficiary: Ada Lovelace
	// true true
}
