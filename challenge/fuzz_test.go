package challenge

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below check the package against references written
// here independently of it: a regular expression of the RFC 6287 suite
// grammar, regular expressions of the response spellings, and an OCRA /
// TOTP computation built from crypto/hmac and math/big. Seeds come from
// the RFC vectors in testdata/ and from testdata/fuzz/<FuzzName>/.
//
// Run one with, for example:
//
//	go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 60s ./challenge

// fzSentinels are the package's sentinel errors; every error it returns
// matches exactly one of them.
var fzSentinels = []error{ErrInvalidSuite, ErrInvalidKey, ErrInvalidInput, ErrMalformed, ErrMismatch}

// fzSentinel returns the one sentinel err matches (nil for nil), failing
// the test when it matches none or several.
func fzSentinel(t *testing.T, err error) error {
	t.Helper()
	if err == nil {
		return nil
	}
	var found error
	for _, s := range fzSentinels {
		if errors.Is(err, s) {
			if found != nil {
				t.Fatalf("error %q matches both %v and %v", err, found, s)
			}
			found = s
		}
	}
	if found == nil {
		t.Fatalf("error %q (%T) matches no sentinel", err, err)
	}
	return found
}

// fzWantErr fails unless err is nil when want is nil, or matches exactly
// the sentinel want.
func fzWantErr(t *testing.T, err, want error, format string, args ...any) {
	t.Helper()
	if got := fzSentinel(t, err); got != want {
		t.Fatalf("%s: got error %v, want %v", fmt.Sprintf(format, args...), err, want)
	}
}

// ---------------------------------------------------------------------
// Seeds from the RFC vectors.

type fzOCRAVector struct {
	Suite           string  `json:"suite"`
	KeyHex          string  `json:"key_hex"`
	Counter         *uint64 `json:"counter"`
	Question        string  `json:"question"`
	PINHashHex      *string `json:"pin_hash_hex"`
	SessionHex      *string `json:"session_hex"`
	Timestamp       *uint64 `json:"timestamp"` // in steps
	Expected        string  `json:"expected"`
	Role            string  `json:"role"`
	ClientChallenge string  `json:"client_challenge"`
	ServerChallenge string  `json:"server_challenge"`
}

func fzOCRAVectors(f *testing.F) []fzOCRAVector {
	f.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ocra_rfc6287.json"))
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Vectors []fzOCRAVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		f.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		f.Fatal("no OCRA vectors")
	}
	return file.Vectors
}

func fzUnhex(f *testing.F, s string) []byte {
	f.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------
// FuzzParseSuite.

// fzSuiteRE is the RFC 6287 §6 grammar in its canonical spelling, as
// ParseSuite documents it: upper case, QFxx with xx 04..64, Snnn with nnn
// 001..999, T in 1..59 S or M or 1..48 H without leading zeros, digits 0
// or 4..10 without leading zeros, inputs in the order C, Q, P, S, T.
var fzSuiteRE = regexp.MustCompile(`^OCRA-1:HOTP-SHA(?P<hash>1|256|512)-(?P<digits>0|[4-9]|10):` +
	`(?P<c>C-)?Q(?P<qf>[ANH])(?P<ql>0[4-9]|[1-5][0-9]|6[0-4])` +
	`(?:-PSHA(?P<pin>1|256|512))?` +
	`(?:-S(?P<s>00[1-9]|0[1-9][0-9]|[1-9][0-9][0-9]))?` +
	`(?:-T(?P<t>(?:[1-9]|[1-5][0-9])[SM]|(?:[1-9]|[1-3][0-9]|4[0-8])H))?$`)

// fzSuiteInfo is what the reference reads from a suite string.
type fzSuiteInfo struct {
	hash    crypto.Hash
	digits  int
	counter bool
	qfmt    QuestionFormat
	qlen    int
	pin     crypto.Hash
	session int
	step    time.Duration
}

func fzHash(name string) crypto.Hash {
	switch name {
	case "1":
		return crypto.SHA1
	case "256":
		return crypto.SHA256
	case "512":
		return crypto.SHA512
	}
	return 0
}

func fzRefSuite(s string) (fzSuiteInfo, bool) {
	if len(s) > 64 {
		return fzSuiteInfo{}, false // the grammar's longest string has 46 bytes
	}
	m := fzSuiteRE.FindStringSubmatch(s)
	if m == nil {
		return fzSuiteInfo{}, false
	}
	g := func(name string) string { return m[fzSuiteRE.SubexpIndex(name)] }
	atoi := func(v string) int {
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(err)
		}
		return n
	}
	info := fzSuiteInfo{
		hash:    fzHash(g("hash")),
		digits:  atoi(g("digits")),
		counter: g("c") != "",
		qfmt:    QuestionFormat(g("qf")[0]),
		qlen:    atoi(g("ql")),
		pin:     fzHash(g("pin")),
		session: atoi(g("s")),
	}
	if t := g("t"); t != "" {
		unit := map[byte]time.Duration{'S': time.Second, 'M': time.Minute, 'H': time.Hour}[t[len(t)-1]]
		info.step = time.Duration(atoi(t[:len(t)-1])) * unit
	}
	return info, true
}

func fzSuiteSeeds(f *testing.F) []string {
	seeds := []string{
		Default.String(),
		"OCRA-1:HOTP-SHA256-8:QN06-T1M",
		"OCRA-1:HOTP-SHA1-4:QH04",
		"OCRA-1:HOTP-SHA1-0:QH64",
		"OCRA-1:HOTP-SHA256-0:C-QA64",
		"OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S999-T48H",
		"OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S999-T59S",
		"OCRA-1:HOTP-SHA1-6:QN08-S064",
		"OCRA-1:HOTP-SHA256-5:C-QH16-PSHA256-S001-T59M",
		"OCRA-1:HOTP-SHA1-9:QN32-T1H",
		"OCRA-1:HOTP-SHA1-7:QA20-T1S",
		// Near misses.
		"ocra-1:hotp-sha256-8:qn06-t30s",
		"OCRA-1:HOTP-SHA256-8:QN06-t30S",
		"OCRA-1:HOTP-SHA256-8:QN8",
		"OCRA-1:HOTP-SHA256-8:QN03",
		"OCRA-1:HOTP-SHA256-8:QN65",
		"OCRA-1:HOTP-SHA256-8:QN06-S64",
		"OCRA-1:HOTP-SHA256-8:QN06-S000",
		"OCRA-1:HOTP-SHA256-8:QN06-S1000",
		"OCRA-1:HOTP-SHA256-8:QN06-T0H",
		"OCRA-1:HOTP-SHA256-8:QN06-T49H",
		"OCRA-1:HOTP-SHA256-8:QN06-T60S",
		"OCRA-1:HOTP-SHA256-8:QN06-T60M",
		"OCRA-1:HOTP-SHA256-8:QN06-T05S",
		"OCRA-1:HOTP-SHA256-8:QN06-T30",
		"OCRA-1:HOTP-SHA256-8:QN06-T30D",
		"OCRA-1:HOTP-SHA256-08:QN06-T30S",
		"OCRA-1:HOTP-SHA256-00:QN06",
		"OCRA-1:HOTP-SHA256-3:QN06",
		"OCRA-1:HOTP-SHA256-11:QN06",
		"OCRA-1:HOTP-SHA256-8:QN06:T30S",
		"OCRA-1::HOTP-SHA256-8:QN06-T30S",
		"OCRA-1:HOTP-SHA256-8:QN06-T30S:",
		"OCRA-1:HOTP-SHA256-8:QN06-T30S-",
		"OCRA-1:HOTP-SHA256-8:T30S-QN06",
		"OCRA-1:HOTP-SHA256-8:QN06-C",
		"OCRA-1:HOTP-SHA256-8:C-C-QN06",
		"OCRA-1:HOTP-SHA256-8:QN06-QN06",
		"OCRA-1:HOTP-SHA256-8:QN06-PSHA1-PSHA1",
		"OCRA-1:HOTP-SHA256-8:QN06-S064-PSHA1",
		"OCRA-1:HOTP-SHA256-8:PSHA1",
		"OCRA-1:HOTP-SHA256-8:C",
		"OCRA-1:HOTP-SHA256-8:",
		"OCRA-1:HOTP-SHA224-8:QN06",
		"OCRA-1:HOTP-SHA256-8:QN06-PSHA384",
		"OCRA-1:HOTP-SHA256-8:QX06",
		"OCRA-2:HOTP-SHA256-8:QN06",
		"OCRA-1:TOTP-SHA256-8:QN06",
		"OCRA-1:HOTP-SHA256:QN06",
		" OCRA-1:HOTP-SHA256-8:QN06-T30S",
		"OCRA-1:HOTP-SHA256-8:QN06-T30S\n",
		"OCRA-1:HOTP-SHA256-8:QN06-T30\uff33", // full-width S
		"OCRA-1:HOTP-SHA256-\u0668:QN06",      // Arabic-Indic eight
		"OCRA-1:HOTP-SHA256-8:QN06-T30S\x00",
		"OCRA-1:HOTP-SHA256-8:QN06-T30S\xff",
		"OCRA-1:HOTP-SHA256-8:QN06-T30S" + strings.Repeat("-T30S", 8),
		strings.Repeat("\xff", 200),
		"",
		":",
		"::",
	}
	seen := map[string]bool{}
	for _, s := range seeds {
		seen[s] = true
	}
	for _, v := range fzOCRAVectors(f) {
		if !seen[v.Suite] {
			seen[v.Suite] = true
			seeds = append(seeds, v.Suite)
		}
	}
	return seeds
}

func FuzzParseSuite(f *testing.F) {
	for _, s := range fzSuiteSeeds(f) {
		f.Add(s)
	}
	if _, err := (Suite{}).MarshalText(); !errors.Is(err, ErrInvalidSuite) {
		f.Fatalf("zero Suite MarshalText: %v", err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSuite(s)
		want, ok := fzRefSuite(s)
		if (err == nil) != ok {
			t.Fatalf("ParseSuite(%q) error %v, reference grammar accepts: %v", s, err, ok)
		}
		if err != nil {
			fzCheckSuiteError(t, s, st, err)
			u := Default
			if uerr := u.UnmarshalText([]byte(s)); uerr == nil || u != Default {
				t.Fatalf("UnmarshalText(%q) = %v and changed the Suite to %q", s, uerr, u)
			}
			return
		}

		if st.String() != s {
			t.Fatalf("String() = %q, parsed %q", st.String(), s)
		}
		if st.IsZero() {
			t.Fatalf("ParseSuite(%q) gave a zero Suite", s)
		}
		if again, err := ParseSuite(st.String()); err != nil || again != st {
			t.Fatalf("reparse of %q: %v, %v; equal: %v", s, again, err, again == st)
		}
		got := fzSuiteInfo{
			hash: st.Hash(), digits: st.Digits(), counter: st.TakesCounter(),
			qfmt: st.QuestionFormat(), qlen: st.QuestionLength(), pin: st.PINHash(),
			session: st.SessionLength(), step: st.TimeStep(),
		}
		if got != want {
			t.Fatalf("ParseSuite(%q) = %+v, reference %+v", s, got, want)
		}

		// Ranges of the grammar, checked on their own.
		switch h := st.Hash(); h {
		case crypto.SHA1, crypto.SHA256, crypto.SHA512:
		default:
			t.Fatalf("%q: hash %v", s, h)
		}
		if d := st.Digits(); d != 0 && (d < 4 || d > 10) {
			t.Fatalf("%q: digits %d", s, d)
		}
		if l := st.QuestionLength(); l < 4 || l > 64 {
			t.Fatalf("%q: question length %d", s, l)
		}
		switch st.QuestionFormat() {
		case QuestionAlphanumeric, QuestionNumeric, QuestionHex:
		default:
			t.Fatalf("%q: question format %q", s, byte(st.QuestionFormat()))
		}
		switch h := st.PINHash(); h {
		case 0, crypto.SHA1, crypto.SHA256, crypto.SHA512:
		default:
			t.Fatalf("%q: PIN hash %v", s, h)
		}
		if st.TakesPIN() != (st.PINHash() != 0) {
			t.Fatalf("%q: TakesPIN %v with PIN hash %v", s, st.TakesPIN(), st.PINHash())
		}
		if st.TakesPIN() && len(st.HashPIN("1234")) != st.PINHash().Size() || !st.TakesPIN() && st.HashPIN("1234") != nil {
			t.Fatalf("%q: HashPIN gives %d bytes", s, len(st.HashPIN("1234")))
		}
		if n := st.SessionLength(); n < 0 || n > 999 {
			t.Fatalf("%q: session length %d", s, n)
		}
		if d := st.TimeStep(); d != 0 && (d < time.Second || d > 48*time.Hour || d%time.Second != 0) {
			t.Fatalf("%q: time step %v", s, d)
		}
		if st.TakesTime() != (st.TimeStep() != 0) {
			t.Fatalf("%q: TakesTime %v with step %v", s, st.TakesTime(), st.TimeStep())
		}
		wantLen := st.Digits()
		if wantLen == 0 {
			wantLen = 2 * st.Hash().Size()
		}
		if st.ResponseLen() != wantLen {
			t.Fatalf("%q: ResponseLen %d, want %d", s, st.ResponseLen(), wantLen)
		}

		// Text round trip.
		b, err := st.MarshalText()
		if err != nil || string(b) != s {
			t.Fatalf("MarshalText(%q) = %q, %v", s, b, err)
		}
		var u Suite
		if err := u.UnmarshalText(b); err != nil || u != st {
			t.Fatalf("UnmarshalText(%q) = %v, %v", b, u, err)
		}
		u = Default
		if err := u.UnmarshalText(b); err != nil || u != st {
			t.Fatalf("UnmarshalText(%q) over Default = %v, %v", b, u, err)
		}

		// Only the upper-case spelling is accepted: lowering any one
		// letter makes the suite invalid.
		lower := []byte(s)
		for i := range lower {
			c := lower[i]
			if c < 'A' || c > 'Z' {
				continue
			}
			lower[i] = c + ('a' - 'A')
			ls, err := ParseSuite(string(lower))
			if err == nil {
				t.Fatalf("ParseSuite(%q) accepted a lower-case letter at byte %d", lower, i)
			}
			fzCheckSuiteError(t, string(lower), ls, err)
			lower[i] = c
		}
	})
}

// fzCheckSuiteError checks a refusal of ParseSuite.
func fzCheckSuiteError(t *testing.T, s string, st Suite, err error) {
	t.Helper()
	if st != (Suite{}) {
		t.Fatalf("ParseSuite(%q) failed (%v) but returned a non-zero Suite %+v", s, err, st)
	}
	if !st.IsZero() {
		t.Fatalf("ParseSuite(%q): IsZero false on failure", s)
	}
	fzWantErr(t, err, ErrInvalidSuite, "ParseSuite(%q)", s)
	var se *SuiteError
	if !errors.As(err, &se) {
		t.Fatalf("ParseSuite(%q): error %T is not a *SuiteError", s, err)
	}
	if se.Reason == "" {
		t.Fatalf("ParseSuite(%q): empty reason", s)
	}
	if len(se.Suite) > 64+len("...") {
		t.Fatalf("ParseSuite(%q): SuiteError.Suite has %d bytes", s, len(se.Suite))
	}
	if !strings.HasPrefix(s, strings.TrimSuffix(se.Suite, "...")) {
		t.Fatalf("ParseSuite(%q): SuiteError.Suite %q is not a prefix of the input", s, se.Suite)
	}
	// At most 64 bytes shown, each at worst a 4-byte escape, plus the
	// reason, which quotes at most one part of a 64-byte input.
	if msg := err.Error(); len(msg) > 512 || len(se.Reason) > 256 {
		t.Fatalf("ParseSuite of %d bytes: error message of %d bytes (reason %d): %.600q", len(s), len(msg), len(se.Reason), msg)
	}
}

// ---------------------------------------------------------------------
// FuzzParseResponse.

// fzDecimalRE describes the decimal responses accepted, as the package
// documents them: spaces around, and one space or dash between groups of
// four digits ("1234 5678", "1234-5678-90"), or for six digits 3+3
// ("123 456") or 4+2 ("1234 56") but never both.
var fzDecimalRE = map[int]*regexp.Regexp{
	4:  regexp.MustCompile(`^ *[0-9]{4} *$`),
	6:  regexp.MustCompile(`^ *(?:[0-9]{3}[ -][0-9]{3}|[0-9]{4}[ -]?[0-9]{2}) *$`),
	8:  regexp.MustCompile(`^ *[0-9]{4}[ -]?[0-9]{4} *$`),
	10: regexp.MustCompile(`^ *[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9]{2} *$`),
	// Odd lengths (suites and HOTP allow them) group the same way.
	5: regexp.MustCompile(`^ *[0-9]{4}[ -]?[0-9] *$`),
	7: regexp.MustCompile(`^ *[0-9]{4}[ -]?[0-9]{3} *$`),
	9: regexp.MustCompile(`^ *[0-9]{4}[ -]?[0-9]{4}[ -]?[0-9] *$`),
}

// fzHexRE describes the hex responses accepted: 2×hash-size hex digits in
// either case, spaces around.
var fzHexRE = map[int]*regexp.Regexp{
	40:  regexp.MustCompile(`^ *[0-9a-fA-F]{40} *$`),
	64:  regexp.MustCompile(`^ *[0-9a-fA-F]{64} *$`),
	128: regexp.MustCompile(`^ *[0-9a-fA-F]{128} *$`),
}

// fzWellFormed is the reference predicate: is s a well-formed response
// of digits decimal digits (or, for 0, of hexLen hex digits)?
func fzWellFormed(s string, digits, hexLen int) bool {
	if len(s) > 256 {
		return false
	}
	if digits == 0 {
		return fzHexRE[hexLen].MatchString(s)
	}
	re, ok := fzDecimalRE[digits]
	if !ok {
		panic("no reference for " + strconv.Itoa(digits) + " digits")
	}
	return re.MatchString(s)
}

// fzCanonical reduces a well-formed response to the form Respond gives.
func fzCanonical(s string) string {
	s = strings.Trim(s, " ")
	s = strings.ReplaceAll(s, " ", "")
	s = strings.ReplaceAll(s, "-", "")
	return strings.ToLower(s)
}

var fzResponseSeeds = []string{
	"12345678", "1234 5678", "1234-5678", " 1234 5678 ", "   01501458",
	"123456", "123 456", "123-456", "1234 56", "1234-56", "123 4 56", "123-4-56", "12 3456", "12345 6",
	"1234", " 1234 ", "12 34", "1234567890", "1234 5678 90", "1234-5678-90", "12345678 90", "1234 567890",
	"1234 5678-90", "1234  5678", "1234--5678", "-12345678", "12345678-", "+12345678", "1234\t5678",
	"\uff11\uff12\uff13\uff14\uff15\uff16", "\u0661\u0662\u0663\u0664\u0665\u0666", "12345６", "1234567", "123456789",
	"", " ", "-", "0000000000", "9999999999", "4294967295", "18446744073709551615",
	strings.Repeat(" ", 250) + "123456", strings.Repeat(" ", 251) + "123456",
	strings.Repeat("0", 40), strings.Repeat("aB", 32), strings.Repeat("f", 128), " " + strings.Repeat("F", 128) + " ",
	strings.Repeat("0", 39) + "g", strings.Repeat("0", 20) + " " + strings.Repeat("0", 20),
	"a3c1a9d8b1b0c9ab7a2ec0b8fc0b0fcde19d3b95",
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range fzResponseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		trimmed := strings.Trim(s, " ")
		for _, mode := range [...]struct{ digits, hexLen int }{
			{4, 0}, {5, 0}, {6, 0}, {7, 0}, {8, 0}, {9, 0}, {10, 0}, {0, 40}, {0, 64}, {0, 128},
		} {
			var p parsedResponse
			err := parseResponse(&p, s, mode.digits, mode.hexLen)
			want := fzWellFormed(s, mode.digits, mode.hexLen)
			if (err == nil) != want {
				t.Fatalf("parseResponse(%q, digits %d, hex %d) = %v; reference accepts: %v", s, mode.digits, mode.hexLen, err, want)
			}
			if err != nil {
				fzWantErr(t, err, ErrMalformed, "parseResponse(%q)", s)
				// The reason never repeats the input.
				if len(trimmed) >= 6 && strings.Trim(trimmed, "0123456789abcdefABCDEF -") == "" && strings.Contains(err.Error(), trimmed) {
					t.Fatalf("parseResponse(%q): error %q repeats the input", s, err)
				}
				continue
			}
			c := fzCanonical(s)
			if mode.digits == 0 {
				if len(c) != mode.hexLen {
					t.Fatalf("parseResponse(%q) accepted %d hex digits, want %d", s, len(c), mode.hexLen)
				}
				raw, herr := hex.DecodeString(c)
				if herr != nil || p.n != len(raw) || !bytes.Equal(p.raw[:p.n], raw) {
					t.Fatalf("parseResponse(%q) = %x (n %d), want %x", s, p.raw[:p.n], p.n, raw)
				}
				continue
			}
			if len(c) != mode.digits || strings.Trim(c, "0123456789") != "" {
				t.Fatalf("parseResponse(%q) accepted %q for %d digits", s, c, mode.digits)
			}
			v, perr := strconv.ParseUint(c, 10, 64)
			if perr != nil || p.value != v {
				t.Fatalf("parseResponse(%q) = %d, want %d", s, p.value, v)
			}
		}
	})
}

// ---------------------------------------------------------------------
// FuzzVerify.

// fzVerifySuites covers the grammar: every hash, response lengths 0 and 4
// to 10, every question format, the extreme question and session
// lengths, each PIN hash, and the time units.
var fzVerifySuites = []string{
	"OCRA-1:HOTP-SHA256-8:QN06-T30S", // Default
	"OCRA-1:HOTP-SHA1-6:QN08",
	"OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
	"OCRA-1:HOTP-SHA512-8:C-QN08",
	"OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
	"OCRA-1:HOTP-SHA512-8:QN08-T1M",
	"OCRA-1:HOTP-SHA256-8:QA08",
	"OCRA-1:HOTP-SHA512-8:QA08",
	"OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
	"OCRA-1:HOTP-SHA512-8:QA10-T1M",
	"OCRA-1:HOTP-SHA256-8:QN06-T1M",
	"OCRA-1:HOTP-SHA1-4:QH04",
	"OCRA-1:HOTP-SHA1-0:QH64",
	"OCRA-1:HOTP-SHA256-0:C-QA64",
	"OCRA-1:HOTP-SHA512-0:QN64-T48H",
	"OCRA-1:HOTP-SHA512-10:C-QA64-PSHA512-S999-T48H",
	"OCRA-1:HOTP-SHA1-6:QH10-S064",
	"OCRA-1:HOTP-SHA256-10:C-QN10-PSHA256-S128-T1S",
	"OCRA-1:HOTP-SHA1-7:QA20-PSHA512-T59M",
	"OCRA-1:HOTP-SHA256-5:C-QH16-S001",
	"OCRA-1:HOTP-SHA1-9:QN32-T1H",
	"OCRA-1:HOTP-SHA1-6:C-QN08-T30S",
	"OCRA-1:HOTP-SHA256-6:QN64-S512",
	"OCRA-1:HOTP-SHA512-4:C-QH64-PSHA1-T1S",
}

// fzAlphabet returns the characters of a question format.
func fzAlphabet(f QuestionFormat) string {
	switch f {
	case QuestionNumeric:
		return "0123456789"
	case QuestionHex:
		return "0123456789abcdefABCDEF"
	}
	return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
}

// fzQuestion maps q onto the suite's alphabet and length.
func fzQuestion(s Suite, q string) string {
	a := fzAlphabet(s.QuestionFormat())
	b := []byte(q)
	if len(b) > s.QuestionLength() {
		b = b[:s.QuestionLength()]
	}
	for i := range b {
		b[i] = a[int(b[i])%len(a)]
	}
	return string(b)
}

// Flags of FuzzVerify: each set bit passes that field as fuzzed, where it
// may not fit the suite; a clear bit fits the field to the suite.
const (
	fzRawCounter = 1 << iota
	fzRawPIN
	fzRawSession
	fzRawTime
	fzRawQuestion
	fzAllRaw = fzRawCounter | fzRawPIN | fzRawSession | fzRawTime | fzRawQuestion
)

// fzRefInputValid is the reference of Input validity: exactly the fields
// the suite takes, each of the right shape.
func fzRefInputValid(s Suite, in Input) bool {
	if !s.TakesCounter() && in.Counter != 0 {
		return false
	}
	okQ := func(q string) bool {
		if q == "" || len(q) > s.QuestionLength() {
			return false
		}
		return strings.Trim(q, fzAlphabet(s.QuestionFormat())) == ""
	}
	if !okQ(in.Question) || in.Question2 != "" && !okQ(in.Question2) {
		return false
	}
	if s.TakesPIN() && len(in.PINHash) != s.PINHash().Size() || !s.TakesPIN() && len(in.PINHash) != 0 {
		return false
	}
	if n := s.SessionLength(); n > 0 && (len(in.Session) == 0 || len(in.Session) > n) || n == 0 && len(in.Session) != 0 {
		return false
	}
	if s.TakesTime() {
		return !in.Time.IsZero() && in.Time.Unix() >= 0
	}
	return in.Time.IsZero()
}

// fzTruncate is RFC 4226 §5.3, written out again.
func fzTruncate(mac []byte, digits int) string {
	off := int(mac[len(mac)-1] & 0x0f)
	v := (uint64(mac[off]&0x7f) << 24) | uint64(mac[off+1])<<16 | uint64(mac[off+2])<<8 | uint64(mac[off+3])
	mod := uint64(math.Pow10(digits))
	s := strconv.FormatUint(v%mod, 10)
	return strings.Repeat("0", digits-len(s)) + s
}

// fzRefOCRA computes the OCRA response of key to in (which must be valid
// for s) with the varying field (T if the suite takes it, else C) set to
// step, following RFC 6287 §5 and its reference code, with math/big for
// numeric questions.
func fzRefOCRA(s Suite, key []byte, in Input, step uint64) string {
	msg := append([]byte(s.String()), 0)
	if s.TakesCounter() {
		c := in.Counter
		if !s.TakesTime() {
			c = step
		}
		msg = binary.BigEndian.AppendUint64(msg, c)
	}
	q := make([]byte, 128)
	qs := in.Question + in.Question2
	switch s.QuestionFormat() {
	case QuestionAlphanumeric:
		copy(q, qs)
	case QuestionNumeric, QuestionHex:
		h := qs
		if s.QuestionFormat() == QuestionNumeric {
			v, ok := new(big.Int).SetString(qs, 10)
			if !ok {
				panic("bad numeric question " + qs)
			}
			h = v.Text(16)
		}
		if len(h)%2 == 1 {
			h += "0"
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) > 128 {
			panic("bad question " + qs)
		}
		copy(q, b)
	}
	msg = append(msg, q...)
	if s.TakesPIN() {
		msg = append(msg, in.PINHash...)
	}
	if n := s.SessionLength(); n > 0 {
		msg = append(msg, make([]byte, n-len(in.Session))...)
		msg = append(msg, in.Session...)
	}
	if s.TakesTime() {
		msg = binary.BigEndian.AppendUint64(msg, step)
	}
	mac := hmac.New(s.Hash().New, key)
	mac.Write(msg)
	sum := mac.Sum(nil)
	if s.Digits() == 0 {
		return hex.EncodeToString(sum)
	}
	return fzTruncate(sum, s.Digits())
}

// fzWindowSteps lists the offsets of w in the order Verify prefers them
// (nearest the centre first, the earlier on a tie), with their steps,
// leaving out steps below 0 or past the largest.
func fzWindowSteps(centre uint64, w Window) (offs []int, steps []uint64) {
	for d := 0; d <= max(w.Behind, w.Ahead); d++ {
		for side, off := range []int{-d, d} {
			if off < -w.Behind || off > w.Ahead || d == 0 && side == 1 {
				continue
			}
			var step uint64
			if off < 0 {
				if centre < uint64(-off) {
					continue
				}
				step = centre - uint64(-off)
			} else {
				if centre > math.MaxUint64-uint64(off) {
					continue
				}
				step = centre + uint64(off)
			}
			offs, steps = append(offs, off), append(steps, step)
		}
	}
	return offs, steps
}

// fzExpectMatch is the reference of the match among the window's steps:
// the first in Verify's order whose response is the canonical resp.
func fzExpectMatch(centre uint64, w Window, resp string, ref func(uint64) string) (Match, error) {
	offs, steps := fzWindowSteps(centre, w)
	for i, off := range offs {
		if ref(steps[i]) == resp {
			return Match{Step: steps[i], Offset: off}, nil
		}
	}
	return Match{}, ErrMismatch
}

func FuzzVerify(f *testing.F) {
	index := map[string]uint8{}
	for i, s := range fzVerifySuites {
		index[s] = uint8(i)
	}
	for _, v := range fzOCRAVectors(f) {
		sel, ok := index[v.Suite]
		if !ok {
			f.Fatalf("suite %s missing from fzVerifySuites", v.Suite)
		}
		s := MustParseSuite(v.Suite)
		q, q2 := v.Question, ""
		switch v.Role {
		case "server":
			q, q2 = v.ClientChallenge, v.ServerChallenge
		case "client":
			q, q2 = v.ServerChallenge, v.ClientChallenge
		}
		var counter uint64
		if v.Counter != nil {
			counter = *v.Counter
		}
		var unix int64
		if v.Timestamp != nil {
			unix = int64(*v.Timestamp) * int64(s.TimeStep()/time.Second)
		}
		var pin, session []byte
		if v.PINHashHex != nil {
			pin = fzUnhex(f, *v.PINHashHex)
		}
		if v.SessionHex != nil {
			session = fzUnhex(f, *v.SessionHex)
		}
		var win uint8
		if s.TakesCounter() || s.TakesTime() {
			win = 1
		}
		f.Add(sel, uint8(fzAllRaw), fzUnhex(f, v.KeyHex), q, q2, counter, unix, pin, session, v.Expected, win, win)
	}
	key32 := []byte("12345678901234567890123456789012")
	// The IB Key-style known answer, and spellings of it.
	f.Add(uint8(10), uint8(fzAllRaw), key32, "123456", "", uint64(0), int64(20107446*60), []byte(nil), []byte(nil), "36997148", uint8(1), uint8(1))
	f.Add(uint8(10), uint8(fzAllRaw), key32, "123456", "", uint64(0), int64(20107446*60+60), []byte(nil), []byte(nil), "3699-7148", uint8(1), uint8(0))
	f.Add(uint8(10), uint8(fzAllRaw), key32, "123456", "", uint64(0), int64(20107446*60-120), []byte(nil), []byte(nil), " 3699 7148 ", uint8(0), uint8(2))
	// Fitted inputs for the other suites.
	f.Add(uint8(0), uint8(0), key32, "123457", "", uint64(0), int64(1700000000), []byte(nil), []byte(nil), "12345678", uint8(1), uint8(1))
	f.Add(uint8(12), uint8(0), []byte("short"), "00ff", "", uint64(0), int64(0), []byte(nil), []byte(nil), strings.Repeat("0", 40), uint8(0), uint8(0))
	f.Add(uint8(14), uint8(0), key32, strings.Repeat("9", 64), strings.Repeat("9", 64), uint64(0), int64(math.MaxInt64), []byte(nil), []byte(nil), strings.Repeat("A", 128), uint8(5), uint8(5))
	f.Add(uint8(15), uint8(0), bytes.Repeat([]byte{0xa5}, 200), strings.Repeat("zZ", 40), "Q2", uint64(math.MaxUint64), int64(0), []byte("1234"), bytes.Repeat([]byte{7}, 1000), "1234 5678 90", uint8(0), uint8(5))
	f.Add(uint8(17), uint8(0), key32, "0000000000", "0000000001", uint64(0), int64(1), []byte("pin"), []byte{0, 0, 1}, "1234567890", uint8(5), uint8(0))
	f.Add(uint8(21), uint8(0), key32, "00000001", "", uint64(3), int64(29), []byte(nil), []byte(nil), "123 456", uint8(5), uint8(5))
	f.Add(uint8(22), uint8(0), key32, "1"+strings.Repeat("0", 63), "", uint64(0), int64(0), []byte(nil), []byte("s"), "123456", uint8(0), uint8(0))
	// Inputs the suite does not take.
	f.Add(uint8(1), uint8(fzAllRaw), key32, "1234567", "", uint64(1), int64(0), []byte(nil), []byte(nil), "123456", uint8(0), uint8(0))
	f.Add(uint8(0), uint8(fzAllRaw), key32, "123456", "", uint64(0), int64(-1), []byte(nil), []byte(nil), "12345678", uint8(0), uint8(0))
	f.Add(uint8(0), uint8(fzAllRaw), key32, "12345a", "", uint64(0), int64(1700000000), []byte(nil), []byte(nil), "12345678", uint8(0), uint8(0))
	f.Add(uint8(0), uint8(fzAllRaw), key32, "1234567", "", uint64(0), int64(1700000000), []byte(nil), []byte(nil), "12345678", uint8(0), uint8(0))
	f.Add(uint8(2), uint8(fzAllRaw), key32, "12345678", "", uint64(0), int64(0), []byte("1234"), []byte(nil), "12345678", uint8(0), uint8(0))
	f.Add(uint8(1), uint8(fzAllRaw), key32, "12345678", "", uint64(0), int64(0), []byte(nil), []byte(nil), "123456", uint8(1), uint8(0))
	f.Add(uint8(16), uint8(fzAllRaw), key32, "abcdef", "", uint64(0), int64(0), []byte(nil), make([]byte, 65), "123456", uint8(0), uint8(0))

	if _, err := (Suite{}).Respond(key32, Input{}); !errors.Is(err, ErrInvalidSuite) {
		f.Fatalf("zero Suite Respond: %v", err)
	}
	if _, err := NewVerifier(Suite{}, key32); !errors.Is(err, ErrInvalidSuite) {
		f.Fatalf("zero Suite NewVerifier: %v", err)
	}

	f.Fuzz(func(t *testing.T, sel, flags uint8, key []byte, question, question2 string, counter uint64, unix int64,
		pin, session []byte, response string, behind, ahead uint8) {
		s := MustParseSuite(fzVerifySuites[int(sel)%len(fzVerifySuites)])
		w := Window{Behind: int(behind % 6), Ahead: int(ahead % 6)}

		var in Input
		if flags&fzRawQuestion != 0 {
			in.Question, in.Question2 = question, question2
		} else {
			in.Question = fzQuestion(s, question)
			if in.Question == "" {
				in.Question = fzQuestion(s, "1")
			}
			in.Question2 = fzQuestion(s, question2)
		}
		if flags&fzRawCounter != 0 || s.TakesCounter() {
			in.Counter = counter
		}
		switch {
		case flags&fzRawPIN != 0:
			in.PINHash = pin
		case s.TakesPIN():
			in.PINHash = s.HashPIN(string(pin))
		}
		switch {
		case flags&fzRawSession != 0:
			in.Session = session
		case s.SessionLength() > 0:
			in.Session = session[:min(len(session), s.SessionLength())]
			if len(in.Session) == 0 {
				in.Session = []byte{1}
			}
		}
		switch {
		case flags&fzRawTime != 0:
			if unix != 0 {
				in.Time = time.Unix(unix, 0)
			}
		case s.TakesTime():
			in.Time = time.Unix(unix&math.MaxInt64, 0)
		}

		if len(key) < MinKeyLen {
			_, err := NewVerifier(s, key)
			fzWantErr(t, err, ErrInvalidKey, "NewVerifier with a %d-byte key", len(key))
			_, err = s.Respond(key, in)
			fzWantErr(t, err, ErrInvalidKey, "Respond with a %d-byte key", len(key))
			key = append(bytes.Clone(key), make([]byte, MinKeyLen-len(key))...)
		}
		v, err := NewVerifier(s, key)
		if err != nil {
			t.Fatalf("NewVerifier(%s, %d bytes): %v", s, len(key), err)
		}
		if v.Suite() != s {
			t.Fatalf("Verifier.Suite() = %v, want %v", v.Suite(), s)
		}

		valid := fzRefInputValid(s, in)
		hasVar := s.TakesCounter() || s.TakesTime()
		var centre uint64
		switch {
		case s.TakesTime() && valid:
			centre = uint64(in.Time.Unix()) / uint64(s.TimeStep()/time.Second)
		case s.TakesCounter():
			centre = in.Counter
		}
		ref := func(step uint64) string { return fzRefOCRA(s, key, in, step) }

		got, rerr := s.Respond(key, in)
		if !valid {
			fzWantErr(t, rerr, ErrInvalidInput, "Respond(%s, %+v)", s, in)
		} else {
			fzWantErr(t, rerr, nil, "Respond(%s, %+v)", s, in)
			if want := ref(centre); got != want {
				t.Fatalf("Respond(%s, %+v) = %q, reference %q", s, in, got, want)
			}
			if len(got) != s.ResponseLen() {
				t.Fatalf("Respond gave %d bytes, ResponseLen %d", len(got), s.ResponseLen())
			}
		}

		// oracle gives what Verify must return, in the order it checks.
		oracle := func(resp string, w Window) (Match, error) {
			switch {
			case !fzWellFormed(resp, s.Digits(), s.ResponseLen()):
				return Match{}, ErrMalformed
			case !valid:
				return Match{}, ErrInvalidInput
			case !hasVar && w != (Window{}):
				return Match{}, ErrInvalidInput
			case !hasVar:
				if ref(0) == fzCanonical(resp) {
					return Match{}, nil
				}
				return Match{}, ErrMismatch
			}
			return fzExpectMatch(centre, w, fzCanonical(resp), ref)
		}
		check := func(resp string, w Window) {
			t.Helper()
			m, err := v.Verify(in, resp, w)
			wantM, wantErr := oracle(resp, w)
			fzWantErr(t, err, wantErr, "Verify(%s, %+v, %q, %+v)", s, in, resp, w)
			if m != wantM {
				t.Fatalf("Verify(%s, %+v, %q, %+v) = %+v, reference %+v", s, in, resp, w, m, wantM)
			}
			if err != nil && valid && strings.Contains(err.Error(), got) {
				t.Fatalf("Verify error %q names the expected response", err)
			}
		}

		check(response, w)
		wv := w
		if !hasVar {
			wv = Window{}
		}

		if !valid {
			// A well-formed response cannot hide an invalid input.
			check(strings.Repeat("1", s.ResponseLen()), w)
			check(strings.Repeat("1", s.ResponseLen()), wv)
			_, err := v.AppendResponses(nil, in, wv)
			fzWantErr(t, err, ErrInvalidInput, "AppendResponses(%+v)", in)
			return
		}

		// Respond's answer verifies at offset 0, however it is spelled.
		m, err := v.Verify(in, got, wv)
		if err != nil || m.Offset != 0 || m.Step != centre {
			t.Fatalf("Verify(%s, %+v, Respond's %q, %+v) = %+v, %v; want offset 0 at step %d", s, in, got, wv, m, err, centre)
		}
		check(got, w)
		check(got, Window{})
		check(" "+got+"  ", wv)
		switch d := s.Digits(); {
		case d == 0:
			check(strings.ToUpper(got), wv)
		case d == 6:
			check(got[:3]+" "+got[3:], wv)
			check(got[:4]+"-"+got[4:], wv)
		case d >= 8:
			check(got[:4]+"-"+got[4:], wv)
		}
		wrong := []byte(got)
		if wrong[len(wrong)-1] == '0' {
			wrong[len(wrong)-1] = '1'
		} else {
			wrong[len(wrong)-1] = '0'
		}
		check(string(wrong), wv)

		// AppendResponses lists the reference's responses in step order,
		// and each verifies at the nearest offset giving it.
		prefix := []byte("prefix")
		out, err := v.AppendResponses(bytes.Clone(prefix), in, wv)
		lo, hi := centre-uint64(wv.Behind), centre+uint64(wv.Ahead)
		if centre < uint64(wv.Behind) || centre > math.MaxUint64-uint64(wv.Ahead) {
			fzWantErr(t, err, ErrInvalidInput, "AppendResponses(%+v, %+v) past the range of steps", in, wv)
			return
		}
		fzWantErr(t, err, nil, "AppendResponses(%+v, %+v)", in, wv)
		n := s.ResponseLen()
		if !bytes.HasPrefix(out, prefix) || len(out) != len(prefix)+n*(wv.Behind+wv.Ahead+1) {
			t.Fatalf("AppendResponses gave %d bytes %q", len(out), out)
		}
		out = out[len(prefix):]
		for i := 0; lo+uint64(i) <= hi && lo+uint64(i) >= lo; i++ {
			r := string(out[i*n : (i+1)*n])
			if want := ref(lo + uint64(i)); r != want {
				t.Fatalf("AppendResponses step %d = %q, reference %q", lo+uint64(i), r, want)
			}
			check(r, wv)
		}
	})
}

// ---------------------------------------------------------------------
// FuzzTOTPVerify.

// fzRefTOTP is RFC 6238 written out again: HOTP of key at step.
func fzRefTOTP(h crypto.Hash, digits int, key []byte, step uint64) string {
	mac := hmac.New(h.New, key)
	mac.Write(binary.BigEndian.AppendUint64(nil, step))
	return fzTruncate(mac.Sum(nil), digits)
}

func FuzzTOTPVerify(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("testdata", "totp_rfc6238.json"))
	if err != nil {
		f.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Time     int64  `json:"time"`
			Expected string `json:"expected"`
			Algo     string `json:"algo"`
			KeyHex   string `json:"key_hex"`
			Step     int64  `json:"step"`
			Digits   int    `json:"digits"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		f.Fatal(err)
	}
	algos := map[string]uint8{"sha1": uint8(crypto.SHA1), "sha256": uint8(crypto.SHA256), "sha512": uint8(crypto.SHA512)}
	for _, v := range file.Vectors {
		f.Add(algos[v.Algo], v.Digits, v.Step, true, v.Time, uint32(0), fzUnhex(f, v.KeyHex), false, v.Expected, int8(1), int8(1))
	}
	key20 := []byte("12345678901234567890")
	f.Add(uint8(0), 0, int64(0), false, int64(1111111109), uint32(0), key20, false, "081804", int8(0), int8(0))
	f.Add(uint8(0), 0, int64(0), false, int64(1111111139), uint32(999999999), key20, false, "081 804", int8(1), int8(0))
	f.Add(uint8(0), 0, int64(0), false, int64(1111111079), uint32(0), key20, false, "0818-04", int8(0), int8(1))
	f.Add(uint8(0), 6, int64(30), true, int64(59), uint32(0), key20[:10], true, "287082", int8(0), int8(0))
	f.Add(uint8(0), 6, int64(30), true, int64(59), uint32(0), key20[:10], false, "287082", int8(0), int8(0))
	f.Add(uint8(crypto.SHA256), 10, int64(1), true, int64(0), uint32(0), key20, false, "1234567890", int8(0), int8(100))
	f.Add(uint8(crypto.SHA512), 7, int64(3600), true, int64(math.MaxInt64), uint32(0), key20, false, "1234567", int8(100), int8(0))
	f.Add(uint8(crypto.MD5), 6, int64(30), true, int64(59), uint32(0), key20, false, "287082", int8(0), int8(0))
	f.Add(uint8(0), 5, int64(30), true, int64(59), uint32(0), key20, false, "28708", int8(0), int8(0))
	f.Add(uint8(0), 11, int64(30), true, int64(59), uint32(0), key20, false, "28708200000", int8(0), int8(0))
	f.Add(uint8(0), 6, int64(1500*time.Millisecond), false, int64(59), uint32(0), key20, false, "287082", int8(0), int8(0))
	f.Add(uint8(0), 6, int64(-30), true, int64(59), uint32(0), key20, false, "287082", int8(0), int8(0))
	f.Add(uint8(0), 6, int64(30), true, int64(-1), uint32(0), key20, false, "287082", int8(0), int8(0))
	f.Add(uint8(0), 6, int64(30), true, int64(59), uint32(0), key20, false, "287082", int8(-1), int8(101))

	f.Fuzz(func(t *testing.T, hashSel uint8, digits int, period int64, wholeSecs bool, unix int64, nsec uint32,
		key []byte, shortKey bool, code string, behind, ahead int8) {
		tp := TOTP{Hash: crypto.Hash(hashSel), Digits: digits, Period: time.Duration(period), AllowShortKey: shortKey}
		if wholeSecs {
			tp.Period = time.Duration(period) * time.Second // may wrap: still a Duration to check
		}
		at := time.Unix(unix, int64(nsec%1e9))
		w := Window{Behind: int(behind), Ahead: int(ahead)}

		// The reference of the parameters.
		h := tp.Hash
		if h == 0 {
			h = crypto.SHA1
		}
		d := tp.Digits
		if d == 0 {
			d = 6
		}
		p := tp.Period
		if p == 0 {
			p = 30 * time.Second
		}
		minKey := 16
		if shortKey {
			minKey = 10
		}
		paramsOK := (h == crypto.SHA1 || h == crypto.SHA256 || h == crypto.SHA512) &&
			d >= 6 && d <= 10 && p >= time.Second && p%time.Second == 0
		keyOK := len(key) >= minKey
		timeOK := !at.IsZero() && at.Unix() >= 0
		var centre uint64
		if paramsOK && timeOK {
			centre = uint64(at.Unix()) / uint64(p/time.Second)
		}

		step, err := tp.Step(at)
		switch {
		case !paramsOK || !timeOK:
			fzWantErr(t, err, ErrInvalidInput, "Step(%+v, %v)", tp, at)
		default:
			fzWantErr(t, err, nil, "Step(%+v, %v)", tp, at)
			if step != centre {
				t.Fatalf("Step(%+v, %v) = %d, want %d", tp, at, step, centre)
			}
		}

		got, cerr := tp.Code(key, at)
		switch {
		case !paramsOK || !timeOK:
			fzWantErr(t, cerr, ErrInvalidInput, "Code(%+v, %v)", tp, at)
		case !keyOK:
			fzWantErr(t, cerr, ErrInvalidKey, "Code(%+v, %d-byte key)", tp, len(key))
		default:
			fzWantErr(t, cerr, nil, "Code(%+v, %v)", tp, at)
			if want := fzRefTOTP(h, d, key, centre); got != want {
				t.Fatalf("Code(%+v, %v) = %q, reference %q", tp, at, got, want)
			}
		}

		v, verr := tp.NewVerifier(key)
		switch {
		case !paramsOK:
			fzWantErr(t, verr, ErrInvalidInput, "NewVerifier(%+v)", tp)
			return
		case !keyOK:
			fzWantErr(t, verr, ErrInvalidKey, "NewVerifier(%+v, %d-byte key)", tp, len(key))
			return
		}
		fzWantErr(t, verr, nil, "NewVerifier(%+v)", tp)

		ref := func(step uint64) string { return fzRefTOTP(h, d, key, step) }
		check := func(resp string, w Window) {
			t.Helper()
			var wantM Match
			var wantErr error
			switch {
			case !timeOK, w.Behind < 0, w.Ahead < 0, w.Behind > 100, w.Ahead > 100:
				wantErr = ErrInvalidInput
			case !fzWellFormed(resp, d, 0):
				wantErr = ErrMalformed
			default:
				wantM, wantErr = fzExpectMatch(centre, w, fzCanonical(resp), ref)
			}
			m, err := v.Verify(at, resp, w)
			fzWantErr(t, err, wantErr, "TOTP Verify(%+v, %v, %q, %+v)", tp, at, resp, w)
			if m != wantM {
				t.Fatalf("TOTP Verify(%+v, %v, %q, %+v) = %+v, reference %+v", tp, at, resp, w, m, wantM)
			}
			if err != nil && cerr == nil && strings.Contains(err.Error(), got) {
				t.Fatalf("Verify error %q names the expected code", err)
			}
		}
		check(code, w)
		if cerr != nil {
			return
		}
		m, err := v.Verify(at, got, Window{})
		if err != nil || m != (Match{Step: centre}) {
			t.Fatalf("TOTP Verify(%+v, %v, Code's %q) = %+v, %v; want step %d offset 0", tp, at, got, m, err, centre)
		}
		check(got, w)
		if d == 6 {
			check(got[:3]+" "+got[3:], w)
		} else {
			check(got[:4]+"-"+got[4:], w)
		}

		// TOTP is HOTP at the step: the two agree.
		if len(key) >= MinKeyLen {
			hp := HOTP{Hash: tp.Hash, Digits: tp.Digits}
			hc, err := hp.Code(key, centre)
			if err != nil || hc != got {
				t.Fatalf("HOTP Code at step %d = %q, %v; TOTP gave %q", centre, hc, err, got)
			}
			hv, err := hp.NewVerifier(key)
			fzWantErr(t, err, nil, "HOTP NewVerifier")
			for _, resp := range []string{code, got} {
				m1, err1 := v.Verify(at, resp, w)
				m2, err2 := hv.Verify(centre, resp, w)
				if m1 != m2 || fzSentinel(t, err1) != fzSentinel(t, err2) {
					t.Fatalf("%q: TOTP Verify %+v, %v; HOTP Verify %+v, %v", resp, m1, err1, m2, err2)
				}
			}
		}
	})
}
