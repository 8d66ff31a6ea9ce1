package challenge

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fuzz targets here (the parsers) and in fuzz_verify_test.go (the
// verifiers) check the package against references written here
// independently of it: a regular expression of the RFC 6287 suite
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
