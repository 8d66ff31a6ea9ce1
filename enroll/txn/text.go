package txn

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkNormalText checks an optional text field: "" (absent), or 1 to max
// bytes of the repertoire, without leading, trailing or doubled spaces.
func checkNormalText(field, s string, max int) error {
	if s == "" {
		return nil
	}
	if len(s) > max {
		return txnErr(field, "longer than "+strconv.Itoa(max)+" bytes", ClassText)
	}
	if !utf8.ValidString(s) {
		return txnErr(field, "not valid UTF-8", ClassText)
	}
	for i, r := range s {
		if what, class := runeClass(r); class != 0 {
			return txnErr(field, what+" "+codePoint(r)+" at byte "+strconv.Itoa(i), class)
		}
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return txnErr(field, "leading or trailing space (see Normalize)", ClassText)
	}
	if strings.Contains(s, "  ") {
		return txnErr(field, "doubled space (see Normalize)", ClassText)
	}
	return nil
}

// runeClass returns what r is and the class refusing it in text, or
// zero. See the package documentation, Text.
func runeClass(r rune) (string, Class) {
	switch {
	case r == ' ':
		return "", 0
	case unicode.Is(unicode.Bidi_Control, r):
		return "bidi control", ClassBidi
	case unicode.Is(unicode.Cc, r):
		return "control character", ClassControl
	case unicode.Is(unicode.Cf, r):
		return "format character", ClassFormat
	case unicode.In(r, unicode.Zl, unicode.Zp):
		return "line or paragraph separator", ClassSeparator
	case unicode.Is(unicode.M, r):
		return "combining mark", ClassCombining
	case unicode.Is(unicode.Zs, r):
		return "space other than U+0020", ClassText
	case unicode.Is(unicode.Co, r):
		return "private-use character", ClassText
	case !unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
		return "unassigned character or noncharacter", ClassText
	case unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return "invisible character", ClassText
	case unicode.Is(txnJamo, r):
		return "conjoining Hangul jamo", ClassText
	case unicode.Is(txnNotNFC, r):
		return "character that NFC replaces", ClassText
	case !unicode.Is(txnAllowed, r):
		// Every other rule above holds in Unicode 15.0, but a phone on
		// an older version could not check the character.
		return "character new since Unicode " + oldUnicodeVersion[:len(oldUnicodeVersion)-2], ClassText
	}
	return "", 0
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
