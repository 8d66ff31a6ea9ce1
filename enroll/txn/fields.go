package txn

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

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
		return txnErr(txnFieldCurrency, "not three upper-case letters", ClassCurrency)
	}
	if _, ok := currencies[c]; !ok {
		return txnErr(txnFieldCurrency, "not a currency of keyline v1", ClassCurrency)
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
	if err := checkPrintableASCII(field, s, ClassAccount); err != nil {
		return "", err
	}
	n := squeezeSpaces(s)
	if compact := asciiUpper(strings.ReplaceAll(n, " ", "")); ibanLike(compact) {
		if len(compact) != ibanLengths[compact[:2]] {
			return "", txnErr(field, "IBAN length is wrong for its country", ClassAccount)
		}
		if ibanMod97(compact) != 1 {
			return "", txnErr(field, "IBAN check digits do not verify", ClassAccount)
		}
		return compact, nil
	}
	if n == "" {
		return "", txnErr(field, "required", ClassAccount)
	}
	if len(n) > txnMaxAccount {
		return "", txnErr(field, "longer than "+strconv.Itoa(txnMaxAccount)+" bytes", ClassAccount)
	}
	return n, nil
}

func checkNormalAccount(field, s string) error {
	if s == "" {
		return txnErr(field, "required", ClassAccount)
	}
	n, err := accountForm(field, s)
	if err != nil {
		return err
	}
	if n != s {
		return txnErr(field, "not in normal form (see Normalize)", ClassAccount)
	}
	return nil
}

// instrumentForm returns an instrument's normal form, or why it cannot be
// valid.
func instrumentForm(s string) (string, error) {
	if err := checkPrintableASCII(txnFieldInstrument, s, ClassInstrument); err != nil {
		return "", err
	}
	n := asciiUpper(squeezeSpaces(s))
	if n == "" {
		return "", txnErr(txnFieldInstrument, "required", ClassInstrument)
	}
	if len(n) > txnMaxInstrument {
		return "", txnErr(txnFieldInstrument, "longer than "+strconv.Itoa(txnMaxInstrument)+" bytes", ClassInstrument)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !txnIsDigit(c) && !(c >= 'A' && c <= 'Z') && !strings.ContainsRune(".-/: ", rune(c)) {
			return "", txnErr(txnFieldInstrument, "character at byte "+strconv.Itoa(i)+" is not a letter, digit, space or .-/:", ClassInstrument)
		}
	}
	if isinShaped(n) && !isinValid(n) {
		return "", txnErr(txnFieldInstrument, "ISIN check digit does not verify", ClassInstrument)
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
func checkPrintableASCII(field, s string, class Class) error {
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
		if _, char := runeClass(r); char != 0 && char != ClassText {
			return &Error{Field: field, Reason: reason, Class: class, Char: char}
		}
		return txnErr(field, reason, class)
	}
	return nil
}
