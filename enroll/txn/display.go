package txn

import (
	"strconv"
	"strings"
)

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
	u, err := Parse(c)
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
