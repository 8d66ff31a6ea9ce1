package challenge

import (
	"encoding/binary"
	"math/bits"
	"time"
)

// Input holds the data inputs of one OCRA computation (RFC 6287 §5.1).
// The suite decides which fields it takes: a field the suite takes must be
// given, and a field it does not take must be left at its zero value.
// (Counter 0 is a valid counter, so for a suite with C any counter is
// accepted; for a suite without C, Counter must be 0.)
type Input struct {
	// Counter is C, the 8-byte counter, for suites with C.
	Counter uint64

	// Question is Q: 1 to QuestionLength() characters of the suite's
	// format. Numeric questions are ASCII digits; hex questions are hex
	// digits in either case; alphanumeric questions are ASCII letters and
	// digits.
	Question string

	// Question2, when not empty, is appended to Question for the mutual
	// and signature-with-server-authentication modes (RFC 6287 §7.2, §7.3),
	// where Q is two challenges joined, the other party's first: the
	// server computes over Question=client's, Question2=server's, and the
	// client the other way round. Each is checked on its own against the
	// suite's format and length.
	Question2 string

	// PINHash is P, the hash of the PIN with the suite's PIN hash (see
	// [Suite.HashPIN]), for suites with P.
	PINHash []byte

	// Session is S, 1 to SessionLength() bytes of session information,
	// for suites with S. A shorter value is left-padded with zero bytes,
	// as RFC 6287's reference code does.
	Session []byte

	// Time gives T, the number of whole time steps since the Unix epoch,
	// for suites with T. Times before the epoch are refused.
	Time time.Time
}

// Window is the set of steps tried around a centre: Behind steps before it
// and Ahead steps after it. For a suite with T the steps are time steps
// around the time given (a counter, if the suite also has C, is then taken
// exactly as given); for a suite with C and no T they are counter values
// around the counter given (the look-ahead of RFC 4226 §7.4); a suite with
// neither takes only the zero Window. Each side is at most [MaxWindow].
type Window struct {
	Behind, Ahead int
}

// MaxWindow bounds each side of a [Window], and so the work one
// verification can cost.
const MaxWindow = 100

// Match says which step a response was made for.
type Match struct {
	// Step is the time step or counter value that matched (0 for a suite
	// with neither).
	Step uint64
	// Offset is Step minus the centre: positive when the response was made
	// ahead of the centre (a phone whose clock is fast), negative when
	// behind.
	Offset int
}

func (w Window) check() error {
	if w.Behind < 0 || w.Ahead < 0 {
		return inputErr("window sides must not be negative")
	}
	if w.Behind > MaxWindow || w.Ahead > MaxWindow {
		return inputErr("window sides must be at most %d", MaxWindow)
	}
	return nil
}

// unixStep returns floor(unix seconds / period) for t.
func unixStep(t time.Time, period uint64) (uint64, error) {
	if t.IsZero() {
		return 0, inputErr("time required")
	}
	u := t.Unix()
	if u < 0 {
		return 0, inputErr("time before the Unix epoch")
	}
	return uint64(u) / period, nil
}

// message is an OCRA DataInput laid out in a buffer.
type message struct {
	n      int    // length
	varOff int    // offset of the 8-byte field a window varies, or -1
	centre uint64 // the value given for that field
}

// writeMessage lays out the DataInput of RFC 6287 §5.1 in dst, which must
// hold maxMessage bytes. It checks in against the suite first and writes
// nothing on error.
func (s Suite) writeMessage(dst []byte, in *Input) (message, error) {
	if s.s == "" {
		return message{}, zeroSuite()
	}
	if err := s.checkInput(in); err != nil {
		return message{}, err
	}
	var step uint64
	if s.stepSecs != 0 {
		var err error
		if step, err = unixStep(in.Time, uint64(s.stepSecs)); err != nil {
			return message{}, err
		}
	}
	m := message{varOff: -1}
	// OCRASuite, then a 0x00 separator (§5.1).
	n := copy(dst, s.s)
	dst[n] = 0
	n++
	// C: 8-byte big-endian counter (§5.1, §6.3).
	if s.counter {
		binary.BigEndian.PutUint64(dst[n:], in.Counter)
		m.varOff, m.centre = n, in.Counter
		n += 8
	}
	// Q: 128 bytes, the encoded question zero-padded on the right (§5.1).
	q := dst[n : n+128]
	clear(q)
	s.encodeQuestion(q, in.Question, in.Question2)
	n += 128
	// P: the PIN hash (§5.1).
	if s.pin != 0 {
		n += copy(dst[n:], in.PINHash)
	}
	// S: nnn bytes; a shorter value is left-padded with zeros, as the
	// reference code of Appendix A does.
	if s.session != 0 {
		pad := int(s.session) - len(in.Session)
		clear(dst[n : n+pad])
		copy(dst[n+pad:], in.Session)
		n += int(s.session)
	}
	// T: 8-byte big-endian count of time steps since the epoch (§5.1).
	if s.stepSecs != 0 {
		binary.BigEndian.PutUint64(dst[n:], step)
		m.varOff, m.centre = n, step
		n += 8
	}
	m.n = n
	return m, nil
}

// checkInput checks that in gives exactly the fields the suite takes.
func (s Suite) checkInput(in *Input) error {
	if !s.counter && in.Counter != 0 {
		return inputErr("suite %s takes no counter", s.s)
	}
	if err := s.checkQuestion(in.Question, "question"); err != nil {
		return err
	}
	if in.Question2 != "" {
		if err := s.checkQuestion(in.Question2, "second question"); err != nil {
			return err
		}
	}
	switch {
	case s.pin == 0 && len(in.PINHash) != 0:
		return inputErr("suite %s takes no PIN hash", s.s)
	case s.pin != 0 && len(in.PINHash) != s.pin.Size():
		return inputErr("PIN hash has %d bytes, suite %s wants %d", len(in.PINHash), s.s, s.pin.Size())
	}
	switch {
	case s.session == 0 && len(in.Session) != 0:
		return inputErr("suite %s takes no session information", s.s)
	case s.session != 0 && (len(in.Session) == 0 || len(in.Session) > int(s.session)):
		return inputErr("session information has %d bytes, suite %s wants 1..%d", len(in.Session), s.s, s.session)
	}
	if s.stepSecs == 0 && !in.Time.IsZero() {
		return inputErr("suite %s takes no time", s.s)
	}
	return nil
}

func (s Suite) checkQuestion(q, what string) error {
	if q == "" {
		return inputErr("%s required", what)
	}
	if len(q) > int(s.qlen) {
		return inputErr("%s has %d characters, suite %s allows at most %d", what, len(q), s.s, s.qlen)
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		ok := false
		switch s.qfmt {
		case QuestionNumeric:
			ok = isDigit(c)
		case QuestionHex:
			ok = isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		case QuestionAlphanumeric:
			ok = isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		}
		if !ok {
			return inputErr("%s character %d is not %s", what, i+1, s.qfmt)
		}
	}
	return nil
}

// encodeQuestion writes the question bytes into q (128 zero bytes), as
// RFC 6287's reference code does (Appendix A, and the test program of
// Appendix B):
//   - A: the characters' bytes.
//   - N: the decimal number converted to hexadecimal digits without
//     leading zeros, then, like the hex form, decoded left-aligned: an odd
//     number of hex digits gets a trailing zero nibble. So 22222222 =
//     0x153158E gives 15 31 58 E0, and leading zeros of the decimal
//     question are lost. We follow the reference code and its vectors;
//     the errata reported against RFC 6287 do not change this encoding.
//   - H: the hex digits decoded left-aligned, an odd count getting a
//     trailing zero nibble.
//
// The two questions of the mutual modes are joined before encoding, as
// the reference code joins the strings.
func (s Suite) encodeQuestion(q []byte, q1, q2 string) {
	switch s.qfmt {
	case QuestionAlphanumeric:
		n := copy(q, q1)
		copy(q[n:], q2)
	case QuestionHex:
		k := 0
		for _, str := range [2]string{q1, q2} {
			for i := 0; i < len(str); i++ {
				v := hexValue(str[i])
				if k%2 == 0 {
					q[k/2] = v << 4
				} else {
					q[k/2] |= v
				}
				k++
			}
		}
	case QuestionNumeric:
		encodeDecimal(q, q1, q2)
	}
}

// encodeDecimal writes the decimal number q1||q2 (at most 128 digits, so
// under 2^426) as left-aligned hex nibbles into q, without allocating.
func encodeDecimal(q []byte, q1, q2 string) {
	if len(q1)+len(q2) <= 19 {
		// Fast path: the value fits a uint64 (10^19 < 2^64).
		var v uint64
		for _, str := range [2]string{q1, q2} {
			for i := 0; i < len(str); i++ {
				v = v*10 + uint64(str[i]-'0')
			}
		}
		nibbles := (bits.Len64(v) + 3) / 4
		if nibbles%2 == 1 {
			v <<= 4 // left-align; v < 16^15 here, so nothing is lost
			nibbles++
		}
		for i := nibbles/2 - 1; i >= 0; i-- {
			q[i] = byte(v)
			v >>= 8
		}
		return
	}
	// Little-endian base-256 accumulator: value = value*10 + digit.
	var acc [56]byte
	n := 0
	for _, str := range [2]string{q1, q2} {
		for i := 0; i < len(str); i++ {
			carry := uint(str[i] - '0')
			for j := range n {
				v := uint(acc[j])*10 + carry
				acc[j] = byte(v)
				carry = v >> 8
			}
			if carry != 0 {
				acc[n] = byte(carry)
				n++
			}
		}
	}
	if n == 0 {
		return // zero: no hex digits; Q stays all zeros
	}
	// Big-endian bytes acc[n-1] .. acc[0]. When the top byte is below
	// 0x10 the hex digit count is odd, and the value is left-aligned by
	// a 4-bit shift: the top nibble (zero) drops out.
	if acc[n-1] >= 0x10 {
		for i := range n {
			q[i] = acc[n-1-i]
		}
	} else {
		for i := range n {
			b := acc[n-1-i] << 4
			if i+1 < n {
				b |= acc[n-2-i] >> 4
			}
			q[i] = b
		}
	}
	clear(acc[:])
}

func hexValue(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
