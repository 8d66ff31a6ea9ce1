package challenge

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The verification fuzz targets, FuzzVerify and FuzzTOTPVerify; the
// shared helpers and the parser targets are in fuzz_test.go.

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
