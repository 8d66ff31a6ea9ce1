package challenge

import (
	"crypto"
	"crypto/rand"
	"strings"
	"time"
)

// A Suite is a parsed OCRA suite (RFC 6287 §6): the hash, the response
// length and the data inputs that enter the HMAC. The zero Suite is not
// valid; obtain one from [ParseSuite], [MustParseSuite] or [Default].
//
// Suites are comparable with ==: two suites are equal exactly when their
// strings are.
type Suite struct {
	s        string
	hash     crypto.Hash
	digits   uint8 // 0 means no truncation
	counter  bool
	qfmt     QuestionFormat
	qlen     uint8
	pin      crypto.Hash // 0 when the suite takes no PIN hash
	session  uint16      // 0 when the suite takes no session information
	stepSecs uint32      // 0 when the suite takes no time step
}

// QuestionFormat is the format of a suite's question: 'A' (alphanumeric),
// 'N' (numeric) or 'H' (hexadecimal), as in RFC 6287 §6.3.
type QuestionFormat byte

// The question formats of RFC 6287 §6.3.
const (
	QuestionAlphanumeric QuestionFormat = 'A'
	QuestionNumeric      QuestionFormat = 'N'
	QuestionHex          QuestionFormat = 'H'
)

// String returns the format's name: "alphanumeric", "numeric" or "hex".
func (f QuestionFormat) String() string {
	switch f {
	case QuestionAlphanumeric:
		return "alphanumeric"
	case QuestionNumeric:
		return "numeric"
	case QuestionHex:
		return "hex"
	}
	return "invalid"
}

// Default is the IB Key-style suite: a 6-digit numeric question and the
// current 30-second time step, answered with 8 digits of HMAC-SHA256.
var Default = MustParseSuite("OCRA-1:HOTP-SHA256-8:QN06-T30S")

// Limits of the RFC 6287 grammar as this package reads it.
const (
	minQuestionLen = 4
	maxQuestionLen = 64
	maxSessionLen  = 999
	maxSuiteLen    = 64 // the longest valid suite is 46 bytes
)

// ParseSuite parses an OCRA suite string such as
// "OCRA-1:HOTP-SHA256-8:QN06-T30S".
//
// Parsing is strict because the suite's bytes enter the HMAC: two
// spellings of one suite would give two different responses. Only the
// canonical spelling is accepted: upper case, a two-digit question length
// (QN08, not QN8), a three-digit session length (S064), no leading zeros
// in the truncation length or time step, and the data inputs in the
// RFC's order C, Q, P, S, T, each at most once.
//
// The whole grammar is accepted: HOTP-SHA1, -SHA256 and -SHA512; 4 to 10
// digits, or 0 for the untruncated HMAC; C; QA, QN and QH with lengths 04
// to 64; PSHA1, PSHA256 and PSHA512; S001 to S999; T1S to T59S, T1M to
// T59M and T1H to T48H. RFC 6287's text allows a 0-hour step, which would
// divide by zero; we follow the errata that narrows it to 1..48.
//
// A refused string yields a *[SuiteError] naming the part that is wrong.
func ParseSuite(s string) (Suite, error) {
	if len(s) > maxSuiteLen {
		return Suite{}, suiteErr(s, "longer than %d bytes", maxSuiteLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			return Suite{}, suiteErr(s, "must be upper case")
		case c < 0x21 || c > 0x7e:
			return Suite{}, suiteErr(s, "invalid character at byte %d", i)
		}
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Suite{}, suiteErr(s, "want three parts separated by ':', got %d", len(parts))
	}
	if parts[0] != "OCRA-1" {
		return Suite{}, suiteErr(s, "version %q is not OCRA-1", parts[0])
	}
	st := Suite{s: s}

	// CryptoFunction, RFC 6287 §6.2: HOTP-SHAx-t.
	fn, ok := strings.CutPrefix(parts[1], "HOTP-")
	if !ok {
		return Suite{}, suiteErr(s, "crypto function %q does not start with HOTP-", parts[1])
	}
	hashName, digits, ok := strings.Cut(fn, "-")
	if !ok {
		return Suite{}, suiteErr(s, "crypto function %q has no truncation length", parts[1])
	}
	if st.hash, ok = hashByName(hashName); !ok {
		return Suite{}, suiteErr(s, "hash %q is not SHA1, SHA256 or SHA512", hashName)
	}
	d, ok := canonicalUint(digits)
	if !ok {
		return Suite{}, suiteErr(s, "truncation length %q is not a number without leading zeros", digits)
	}
	if d != 0 && (d < 4 || d > 10) {
		return Suite{}, suiteErr(s, "truncation length %d out of range (0, or 4..10)", d)
	}
	st.digits = uint8(d)

	// DataInput, RFC 6287 §6.3: [C] | QFxx | [PH | Snnn | TG], in that order.
	tokens := strings.Split(parts[2], "-")
	const (
		posC = iota
		posQ
		posP
		posS
		posT
	)
	next := posC // the first position the next token may take
	for _, tok := range tokens {
		var pos int
		switch {
		case tok == "C":
			pos = posC
		case strings.HasPrefix(tok, "Q"):
			pos = posQ
		case strings.HasPrefix(tok, "P"):
			pos = posP
		case strings.HasPrefix(tok, "S"):
			pos = posS
		case strings.HasPrefix(tok, "T"):
			pos = posT
		default:
			return Suite{}, suiteErr(s, "unknown data input %q", tok)
		}
		if pos < next {
			return Suite{}, suiteErr(s, "data input %q repeated or out of order (want C, Q, P, S, T)", tok)
		}
		if pos > posQ && next <= posQ {
			return Suite{}, suiteErr(s, "data input %q before the question (Q)", tok)
		}
		next = pos + 1
		switch pos {
		case posC:
			st.counter = true
		case posQ:
			if len(tok) < 2 {
				return Suite{}, suiteErr(s, "question %q has no format", tok)
			}
			switch f := QuestionFormat(tok[1]); f {
			case QuestionAlphanumeric, QuestionNumeric, QuestionHex:
				st.qfmt = f
			default:
				return Suite{}, suiteErr(s, "question format %q is not A, N or H", tok[1:2])
			}
			l := tok[2:]
			if len(l) != 2 || !allDigits(l) {
				return Suite{}, suiteErr(s, "question length %q is not two digits", l)
			}
			n := int(l[0]-'0')*10 + int(l[1]-'0')
			if n < minQuestionLen || n > maxQuestionLen {
				return Suite{}, suiteErr(s, "question length %d out of range %d..%d", n, minQuestionLen, maxQuestionLen)
			}
			st.qlen = uint8(n)
		case posP:
			h, ok := hashByName(tok[1:])
			if !ok {
				return Suite{}, suiteErr(s, "PIN hash %q is not SHA1, SHA256 or SHA512", tok[1:])
			}
			st.pin = h
		case posS:
			l := tok[1:]
			if len(l) != 3 || !allDigits(l) {
				return Suite{}, suiteErr(s, "session length %q is not three digits", l)
			}
			n := int(l[0]-'0')*100 + int(l[1]-'0')*10 + int(l[2]-'0')
			if n < 1 {
				return Suite{}, suiteErr(s, "session length %d out of range 1..%d", n, maxSessionLen)
			}
			st.session = uint16(n)
		case posT:
			if len(tok) < 3 {
				return Suite{}, suiteErr(s, "time step %q has no length and unit", tok)
			}
			num, unit := tok[1:len(tok)-1], tok[len(tok)-1]
			n, ok := canonicalUint(num)
			if !ok {
				return Suite{}, suiteErr(s, "time step %q is not a number without leading zeros", num)
			}
			var mult, maxN int
			switch unit {
			case 'S':
				mult, maxN = 1, 59
			case 'M':
				mult, maxN = 60, 59
			case 'H':
				mult, maxN = 3600, 48
			default:
				return Suite{}, suiteErr(s, "time step unit %q is not S, M or H", string(unit))
			}
			if n < 1 || n > maxN {
				return Suite{}, suiteErr(s, "time step %d%c out of range 1..%d", n, unit, maxN)
			}
			st.stepSecs = uint32(n * mult)
		}
	}
	if st.qfmt == 0 {
		return Suite{}, suiteErr(s, "no question (Q) data input")
	}
	return st, nil
}

// MustParseSuite is like [ParseSuite] but panics on an invalid suite. It
// is meant for package-level variables holding constant suites.
func MustParseSuite(s string) Suite {
	st, err := ParseSuite(s)
	if err != nil {
		panic(err)
	}
	return st
}

// String returns the suite string exactly as it was parsed.
func (s Suite) String() string { return s.s }

// MarshalText returns the suite string. A zero Suite is an error.
func (s Suite) MarshalText() ([]byte, error) {
	if s.s == "" {
		return nil, zeroSuite()
	}
	return []byte(s.s), nil
}

// UnmarshalText parses a suite string with [ParseSuite].
func (s *Suite) UnmarshalText(b []byte) error {
	st, err := ParseSuite(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// IsZero reports whether s is the zero Suite, which is not valid.
func (s Suite) IsZero() bool { return s.s == "" }

// Hash returns the HMAC's hash function: crypto.SHA1, crypto.SHA256 or
// crypto.SHA512.
func (s Suite) Hash() crypto.Hash { return s.hash }

// Digits returns the response length in decimal digits, or 0 when the
// suite asks for the untruncated HMAC (rendered as lowercase hex; see
// [Suite.ResponseLen]).
func (s Suite) Digits() int { return int(s.digits) }

// ResponseLen returns the length in bytes of a response as [Suite.Respond]
// renders it: Digits(), or twice the hash size for a suite with 0 digits.
func (s Suite) ResponseLen() int {
	if s.digits == 0 && s.hash != 0 {
		return 2 * s.hash.Size()
	}
	return int(s.digits)
}

// QuestionFormat returns the question's format.
func (s Suite) QuestionFormat() QuestionFormat { return s.qfmt }

// QuestionLength returns the question's maximum (and [Suite.NewQuestion]'s
// exact) length in characters, 4 to 64.
func (s Suite) QuestionLength() int { return int(s.qlen) }

// TakesCounter reports whether the suite takes a counter (C).
func (s Suite) TakesCounter() bool { return s.counter }

// TakesPIN reports whether the suite takes a PIN hash (P).
func (s Suite) TakesPIN() bool { return s.pin != 0 }

// PINHash returns the hash the suite expects of the PIN, or 0 when it
// takes none.
func (s Suite) PINHash() crypto.Hash { return s.pin }

// SessionLength returns the length in bytes of the session information
// (S), or 0 when the suite takes none.
func (s Suite) SessionLength() int { return int(s.session) }

// TakesTime reports whether the suite takes a time step (T).
func (s Suite) TakesTime() bool { return s.stepSecs != 0 }

// TimeStep returns the suite's time step, or 0 when it takes none.
func (s Suite) TimeStep() time.Duration { return time.Duration(s.stepSecs) * time.Second }

// HashPIN returns the PIN hash the suite takes, for [Input.PINHash]. It
// returns nil when the suite takes no PIN.
func (s Suite) HashPIN(pin string) []byte {
	if s.pin == 0 {
		return nil
	}
	h := s.pin.New()
	h.Write([]byte(pin))
	return h.Sum(nil)
}

// NewQuestion returns a uniformly random question of the suite's full
// length and format, drawn from crypto/rand. It returns "" for the zero
// Suite.
//
// Numeric questions are drawn only among values that are neither 0 nor a
// multiple of 16. RFC 6287 encodes a numeric question as its hexadecimal
// digits, left-aligned and zero-padded, so v, 16·v, 256·v, ... give the
// same bytes (000001, 000016, 000256, 004096 and 065536 are one question
// to the HMAC). On the values drawn the encoding is one-to-one, so every
// question NewQuestion returns is distinct to the HMAC; for six digits
// they are 937,500 of the 10^6. Alphanumeric questions are drawn from
// [0-9A-Za-z], hexadecimal ones from [0-9a-f].
func (s Suite) NewQuestion() string {
	n := int(s.qlen)
	if n == 0 {
		return ""
	}
	var alphabet string
	switch s.qfmt {
	case QuestionNumeric:
		alphabet = "0123456789"
	case QuestionHex:
		alphabet = "0123456789abcdef"
	default:
		alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	}
	q := make([]byte, n)
	for {
		randomString(q, alphabet)
		if s.qfmt != QuestionNumeric || numericOneToOne(q) {
			return string(q)
		}
	}
}

// numericOneToOne reports whether the decimal value of q is neither 0 nor
// a multiple of 16. Since 10^4 is a multiple of 16, the value mod 16 is
// that of its last four digits.
func numericOneToOne(q []byte) bool {
	tail := q[max(0, len(q)-4):]
	v := 0
	for _, c := range tail {
		v = v*10 + int(c-'0')
	}
	return v%16 != 0
}

// randomString fills dst with characters drawn uniformly from alphabet
// (at most 256 characters) by rejection sampling over random bytes.
func randomString(dst []byte, alphabet string) {
	limit := 256 - 256%len(alphabet) // bytes >= limit would bias the draw
	var buf [64]byte
	i := 0
	for i < len(dst) {
		rand.Read(buf[:])
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			dst[i] = alphabet[int(b)%len(alphabet)]
			i++
			if i == len(dst) {
				break
			}
		}
	}
	clear(buf[:])
}

func hashByName(name string) (crypto.Hash, bool) {
	switch name {
	case "SHA1":
		return crypto.SHA1, true
	case "SHA256":
		return crypto.SHA256, true
	case "SHA512":
		return crypto.SHA512, true
	}
	return 0, false
}

// canonicalUint parses a short decimal number written without leading
// zeros ("0" itself is allowed).
func canonicalUint(s string) (int, bool) {
	if len(s) == 0 || len(s) > 4 || !allDigits(s) || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func zeroSuite() error {
	return &SuiteError{Reason: "zero Suite; use ParseSuite"}
}
