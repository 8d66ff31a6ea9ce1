package vault

import (
	"errors"
	"strings"
	"unicode"
)

// ErrWeakPIN reports a PIN that the policy of [CheckPIN] refuses. The
// error is a *[PINError], whose Reason says why; neither the error nor
// its message contains the PIN.
var ErrWeakPIN = errors.New("vault: PIN refused")

// PIN lengths [CheckPIN] accepts, in characters.
const (
	MinPINLen = 4
	MaxPINLen = 6
)

// PINReason says why [CheckPIN] refused a PIN, so that an app can show
// the user a message in their language.
type PINReason uint8

// The reasons [CheckPIN] gives. The zero value is not a reason.
const (
	// PINLength: fewer than MinPINLen or more than MaxPINLen characters.
	PINLength PINReason = iota + 1
	// PINCharacters: a character other than an ASCII letter, an ASCII
	// digit or a printable ASCII symbol (! to ~). Spaces and non-ASCII
	// letters are refused: a space is invisible in a PIN field, and a
	// letter such as "é" has two Unicode spellings that keyboards choose
	// between, which could lock the user out of their own vault.
	PINCharacters
	// PINRepeated: one character repeated ("1111", "aaaa").
	PINRepeated
	// PINSequence: an ascending or descending run of digits or letters
	// ("1234", "9876", "abcd", "DCBA"). Digits run round as on a keypad
	// row, so "7890", "8901" and "0987" are runs too; letters do not run
	// round ("yzab" is accepted). Letter runs ignore case.
	PINSequence
	// PINPattern: a short group repeated ("1212", "123123", "12121") or
	// every character doubled ("1122", "112233").
	PINPattern
	// PINCommon: one of the PINs people pick most after runs and
	// repeats (keypad lines such as "2580", "1397", "147258"; keyboard
	// rows such as "qwerty"; "1004", "5683"), or a year from 1900 to
	// 2099, the commonest choice of all for four digits.
	PINCommon
	// PINUserName: the user name (ignoring case), a part of it, or a PIN
	// that contains a part of it of three characters or more.
	PINUserName
	// PINUnchanged: [Vault.ChangePIN] was given the current PIN as the
	// new one.
	PINUnchanged
)

// String returns the reason as a phrase that completes "the PIN ...".
func (r PINReason) String() string {
	switch r {
	case PINLength:
		return "must have 4 to 6 characters"
	case PINCharacters:
		return "may hold only ASCII letters, digits and symbols"
	case PINRepeated:
		return "is one character repeated"
	case PINSequence:
		return "is a run of consecutive digits or letters"
	case PINPattern:
		return "repeats a short pattern"
	case PINCommon:
		return "is one of the most common PINs"
	case PINUserName:
		return "is or contains the user name"
	case PINUnchanged:
		return "is the current PIN"
	}
	return "is refused"
}

// PINError is the error [CheckPIN] returns: the reason, and nothing of
// the PIN. It matches [ErrWeakPIN]; use [errors.As] for the reason.
type PINError struct {
	Reason PINReason
}

// Error returns "vault: PIN refused: " and the reason.
func (e *PINError) Error() string { return ErrWeakPIN.Error() + ": the PIN " + e.Reason.String() }

// Unwrap returns [ErrWeakPIN].
func (e *PINError) Unwrap() error { return ErrWeakPIN }

func weak(r PINReason) error { return &PINError{Reason: r} }

// CheckPIN applies the PIN policy to pin, the PIN that seals a [Vault],
// for the user user (a user ID or account name; "" when none is known
// yet). It refuses, with a *[PINError] matching [ErrWeakPIN], in this
// order:
//
//   - a PIN of fewer than 4 or more than 6 characters ([PINLength]);
//   - a character other than an ASCII letter, digit or printable symbol
//     ([PINCharacters]);
//   - one character repeated: "0000", "aaaa" ([PINRepeated]);
//   - a run: "1234", "0123", "7890", "9876", "abcd", "FEDC"
//     ([PINSequence]);
//   - a short group repeated or every character doubled: "1212",
//     "123123", "1122" ([PINPattern]);
//   - a common PIN or a year from 1900 to 2099 ([PINCommon]);
//   - the user name or a part of it, ignoring case, or a PIN containing
//     a part of the user name of three characters or more: for
//     "ada@example.com", "ada1" and "exam" are refused ([PINUserName]).
//
// The policy cannot make a short PIN strong: it removes the guesses an
// attacker tries first: of the 10,000 four-digit PINs it refuses 433, of
// the 100,000 five-digit ones 120, of the 1,000,000 six-digit ones 2,121.
// The protection of a stolen vault rests on the platform key (see
// [KeyWrapper]) and on the app limiting attempts, not on the PIN.
func CheckPIN(pin, user string) error {
	// Check the characters before the length, so that a PIN of
	// multi-byte characters is refused for what it is.
	if len(pin) > 4*MaxPINLen {
		return weak(PINLength)
	}
	for i := 0; i < len(pin); i++ {
		if c := pin[i]; c <= ' ' || c > '~' {
			return weak(PINCharacters)
		}
	}
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return weak(PINLength)
	}
	lower := strings.ToLower(pin)
	switch {
	case repeated(lower, 1):
		return weak(PINRepeated)
	case isRun(lower):
		return weak(PINSequence)
	case isPattern(lower):
		return weak(PINPattern)
	case isCommon(lower):
		return weak(PINCommon)
	case matchesUser(lower, user):
		return weak(PINUserName)
	}
	return nil
}

// repeated reports whether s repeats its first p characters throughout
// (the last repetition may be cut short).
func repeated(s string, p int) bool {
	for i := p; i < len(s); i++ {
		if s[i] != s[i-p] {
			return false
		}
	}
	return true
}

// isRun reports an ascending or descending run of digits (round from 9
// to 0) or of lower-case letters.
func isRun(s string) bool {
	digits, letters := true, true
	for i := 0; i < len(s); i++ {
		digits = digits && s[i] >= '0' && s[i] <= '9'
		letters = letters && s[i] >= 'a' && s[i] <= 'z'
	}
	if !digits && !letters {
		return false
	}
	for _, step := range []int{1, -1} {
		ok := true
		for i := 1; i < len(s) && ok; i++ {
			d := int(s[i]) - int(s[i-1])
			if digits {
				ok = (d-step)%10 == 0
			} else {
				ok = d == step
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// isPattern reports a group of at most half the PIN repeated, or every
// character doubled.
func isPattern(s string) bool {
	for p := 2; p <= len(s)/2; p++ {
		if repeated(s, p) {
			return true
		}
	}
	if len(s)%2 == 0 {
		for i := 0; i < len(s); i += 2 {
			if s[i] != s[i+1] {
				return false
			}
		}
		return true
	}
	return false
}

// commonPINs are frequent choices the other rules do not catch: keypad
// lines and shapes, keyboard rows and words. Sources: DataGenetics' study
// of 3.4 million four-digit PINs (2012) and the published leaks of
// six-digit passcodes (Wang et al., "Understanding Human-chosen PINs",
// 2017).
var commonPINs = map[string]bool{
	// keypad columns, diagonals and shapes
	"2580": true, "0852": true, "1470": true, "0741": true, "3690": true, "0963": true,
	"1397": true, "7931": true, "1379": true, "9731": true, "3179": true, "7913": true,
	"1590": true, "3570": true, "1478": true, "3698": true, "2468": true, "8642": true,
	"1357": true, "7531": true, "147258": true, "258369": true, "369258": true,
	"147852": true, "159753": true, "357159": true, "159357": true, "753951": true,
	"789456": true, "456123": true, "741852": true, "963852": true, "123654": true,
	"147369": true, "123789": true, "321654": true,
	// other frequent numbers
	"1004": true, "5683": true, "0007": true, "1231": true, "1225": true,
	"123321": true, "654456": true, "111222": true, "131420": true, "520131": true,
	// keyboard rows and words
	"qwer": true, "asdf": true, "zxcv": true, "qwert": true, "asdfg": true,
	"zxcvb": true, "qwerty": true, "asdfgh": true, "zxcvbn": true, "qazwsx": true,
	"1qaz": true, "1q2w": true, "1q2w3e": true, "q1w2e3": true, "a1b2c3": true,
	"abc123": true, "123abc": true, "pass": true, "passwd": true, "secret": true,
	"admin": true, "love": true, "iloveu": true,
}

// isCommon reports a PIN on the list or a four-digit year 1900..2099.
func isCommon(s string) bool {
	if commonPINs[s] {
		return true
	}
	return len(s) == 4 && (s[:2] == "19" || s[:2] == "20") && s[2] >= '0' && s[2] <= '9' && s[3] >= '0' && s[3] <= '9'
}

// matchesUser reports a PIN (lower case) that is the user name or a part
// of it, or that contains a part of the user name three characters long
// or more. Parts are the whole name and its runs of letters and digits.
func matchesUser(pin, user string) bool {
	if user == "" {
		return false
	}
	u := strings.ToLower(user)
	if strings.Contains(u, pin) {
		return true
	}
	parts := strings.FieldsFunc(u, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, p := range append(parts, u) {
		if len(p) >= 3 && strings.Contains(pin, p) {
			return true
		}
	}
	return false
}
