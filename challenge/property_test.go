package challenge

import (
	"crypto"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Properties of OCRA over the whole suite grammar, on random suites, keys
// and inputs, with responses checked against a reference implementation
// written here from RFC 6287 §5.1 and its Appendix A code (propReference).
//
// The cases are random. Each test logs its seed; a failure prints it.
// To replay a failing run exactly:
//
//	KEYLINE_TEST_SEED=<seed> go test -race -count=1 -run '<TestName>' ./challenge
//
// Without KEYLINE_TEST_SEED the seed is taken from the clock.
//
// Collisions: a response made for a step outside the window can equal the
// response of a step inside it by chance (10^-d per step for d digits,
// 10^-4 for 4-digit suites). The negative checks therefore do not assume
// a mismatch: they compute, with the reference, the response of every
// step of the window and expect exactly what Verify documents (the
// nearest matching step, or ErrMismatch). They stay exact for every digit
// count, and each test also requires that most of its negative checks
// were real mismatches, so that they cannot pass vacuously.

func propRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KEYLINE_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "KEYLINE_TEST_SEED")
		seed = v
	}
	t.Logf("seed %d (replay: KEYLINE_TEST_SEED=%d go test -run '^%s$' ./challenge)", seed, seed, t.Name())
	return rand.New(rand.NewPCG(seed, seed^0x6a09e667f3bcc908))
}

// propSpec is a suite as the generator built it; the tests read the
// suite's parameters from here, not from the parsed Suite.
type propSpec struct {
	hash     crypto.Hash
	digits   int // 0 or 4..10
	counter  bool
	qfmt     byte // 'A', 'N' or 'H'
	qlen     int  // 4..64
	pin      crypto.Hash
	session  int    // 0, or 1..999
	stepSecs int64  // 0, or the time step in seconds
	stepTok  string // "30S", "1M", "48H", ...
}

var propHashName = map[crypto.Hash]string{crypto.SHA1: "SHA1", crypto.SHA256: "SHA256", crypto.SHA512: "SHA512"}

var propHashList = []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA512}

func (p propSpec) String() string {
	var in []string
	if p.counter {
		in = append(in, "C")
	}
	in = append(in, fmt.Sprintf("Q%c%02d", p.qfmt, p.qlen))
	if p.pin != 0 {
		in = append(in, "P"+propHashName[p.pin])
	}
	if p.session != 0 {
		in = append(in, fmt.Sprintf("S%03d", p.session))
	}
	if p.stepSecs != 0 {
		in = append(in, "T"+p.stepTok)
	}
	return fmt.Sprintf("OCRA-1:HOTP-%s-%d:%s", propHashName[p.hash], p.digits, strings.Join(in, "-"))
}

func (p propSpec) responseLen() int {
	if p.digits == 0 {
		return 2 * p.hash.Size()
	}
	return p.digits
}

func propSetStep(p *propSpec, n int, unit byte) {
	p.stepTok = fmt.Sprintf("%d%c", n, unit)
	switch unit {
	case 'S':
		p.stepSecs = int64(n)
	case 'M':
		p.stepSecs = int64(n) * 60
	case 'H':
		p.stepSecs = int64(n) * 3600
	}
}

// propGenSpec draws a suite from the whole grammar ParseSuite accepts.
func propGenSpec(r *rand.Rand) propSpec {
	p := propSpec{
		hash:    propHashList[r.IntN(3)],
		counter: r.IntN(2) == 0,
		qfmt:    "ANH"[r.IntN(3)],
		qlen:    4 + r.IntN(61),
	}
	if r.IntN(8) != 0 {
		p.digits = 4 + r.IntN(7)
	}
	if r.IntN(2) == 0 {
		p.pin = propHashList[r.IntN(3)]
	}
	switch r.IntN(6) {
	case 0, 1, 2:
	case 3:
		p.session = 1 + r.IntN(999)
	default:
		p.session = 1 + r.IntN(64)
	}
	if r.IntN(3) != 0 {
		switch r.IntN(3) {
		case 0:
			propSetStep(&p, 1+r.IntN(59), 'S')
		case 1:
			propSetStep(&p, 1+r.IntN(59), 'M')
		default:
			propSetStep(&p, 1+r.IntN(48), 'H')
		}
	}
	return p
}

// propAllSpecs enumerates every value of every part of the grammar at
// least once (each varied on its own around random other parts).
func propAllSpecs(r *rand.Rand) []propSpec {
	var all []propSpec
	add := func(f func(*propSpec)) {
		p := propGenSpec(r)
		f(&p)
		all = append(all, p)
	}
	for _, h := range propHashList {
		add(func(p *propSpec) { p.hash = h })
		add(func(p *propSpec) { p.pin = h })
	}
	add(func(p *propSpec) { p.pin = 0 })
	for d := range 11 {
		if d == 0 || d >= 4 {
			add(func(p *propSpec) { p.digits = d })
		}
	}
	add(func(p *propSpec) { p.counter = true })
	add(func(p *propSpec) { p.counter = false })
	for _, f := range []byte("ANH") {
		for l := 4; l <= 64; l++ {
			add(func(p *propSpec) { p.qfmt, p.qlen = f, l })
		}
	}
	for s := 0; s <= 999; s++ {
		add(func(p *propSpec) { p.session = s })
	}
	for _, u := range []struct {
		unit byte
		max  int
	}{{'S', 59}, {'M', 59}, {'H', 48}} {
		for n := 1; n <= u.max; n++ {
			add(func(p *propSpec) { propSetStep(p, n, u.unit) })
		}
	}
	add(func(p *propSpec) { p.stepSecs, p.stepTok = 0, "" })
	// The longest suite of all.
	all = append(all, propSpec{hash: crypto.SHA512, digits: 10, counter: true, qfmt: 'A', qlen: 64,
		pin: crypto.SHA512, session: 999, stepSecs: 59 * 60, stepTok: "59M"})
	return all
}

func TestPropertySuiteGrammar(t *testing.T) {
	r := propRand(t)
	specs := propAllSpecs(r)
	for range 500 {
		specs = append(specs, propGenSpec(r))
	}
	for _, p := range specs {
		str := p.String()
		s, err := ParseSuite(str)
		require.NoError(t, err, str)
		require.Equal(t, str, s.String())
		require.False(t, s.IsZero())
		require.Equal(t, p.hash, s.Hash(), str)
		require.Equal(t, p.digits, s.Digits(), str)
		require.Equal(t, p.responseLen(), s.ResponseLen(), str)
		require.Equal(t, p.counter, s.TakesCounter(), str)
		require.Equal(t, QuestionFormat(p.qfmt), s.QuestionFormat(), str)
		require.Equal(t, p.qlen, s.QuestionLength(), str)
		require.Equal(t, p.pin != 0, s.TakesPIN(), str)
		require.Equal(t, p.pin, s.PINHash(), str)
		require.Equal(t, p.session, s.SessionLength(), str)
		require.Equal(t, p.stepSecs != 0, s.TakesTime(), str)
		require.Equal(t, time.Duration(p.stepSecs)*time.Second, s.TimeStep(), str)
		require.Equal(t, MustParseSuite(str), s)

		txt, err := s.MarshalText()
		require.NoError(t, err)
		require.Equal(t, str, string(txt))
		var u Suite
		require.NoError(t, u.UnmarshalText(txt))
		require.Equal(t, s, u)

		if p.pin != 0 {
			pin := strconv.Itoa(r.IntN(1e6))
			h := p.pin.New()
			h.Write([]byte(pin))
			require.Equal(t, h.Sum(nil), s.HashPIN(pin), str)
		} else {
			require.Nil(t, s.HashPIN("1234"), str)
		}
	}
	t.Logf("%d suites", len(specs))
}

// TestPropertySuiteNonCanonical: near misses of random valid suites,
// outside the grammar or not in its canonical spelling, are refused.
func TestPropertySuiteNonCanonical(t *testing.T) {
	r := propRand(t)
	for range 200 {
		p := propGenSpec(r)
		valid := p.String()
		fn := fmt.Sprintf("HOTP-%s-%d", propHashName[p.hash], p.digits)
		q := fmt.Sprintf("Q%c%02d", p.qfmt, p.qlen)
		var bad []string
		replace := func(old, new string) {
			require.Contains(t, valid, old)
			bad = append(bad, strings.Replace(valid, old, new, 1))
		}
		replace("OCRA-1:", "OCRA-2:")
		replace("OCRA-1:", "ocra-1:")
		replace(fn, strings.ToLower(fn))
		replace(fn, fmt.Sprintf("HOTP-%s-0%d", propHashName[p.hash], p.digits))
		replace(fn, fmt.Sprintf("HOTP-%s-%d", propHashName[p.hash], []int{1, 2, 3, 11, 12, 100}[r.IntN(6)]))
		replace(fn, fmt.Sprintf("HOTP-MD5-%d", p.digits))
		replace(fn, fmt.Sprintf("HOTP-SHA384-%d", p.digits))
		replace(fn, fmt.Sprintf("HOTP-%s", propHashName[p.hash]))
		replace(q, fmt.Sprintf("Q%c%02d", p.qfmt, []int{0, 1, 2, 3, 65, 99}[r.IntN(6)]))
		replace(q, fmt.Sprintf("Q%c%03d", p.qfmt, p.qlen))
		replace(q, fmt.Sprintf("Q%c%02d", "BXa"[r.IntN(3)], p.qlen))
		replace(q, strings.ToLower(q))
		if p.qlen < 10 {
			replace(q, fmt.Sprintf("Q%c%d", p.qfmt, p.qlen))
		}
		replace(":"+propSuffix(valid), ":") // no data input at all
		if p.counter {
			replace("C-", "C-C-")
			replace("C-"+q, q+"-C")
		}
		if p.pin != 0 {
			ph := "P" + propHashName[p.pin]
			replace(ph, ph+"-"+ph)
			replace(ph, "PMD5")
			replace(q+"-"+ph, ph+"-"+q)
		}
		if p.session != 0 {
			ss := fmt.Sprintf("S%03d", p.session)
			replace(ss, fmt.Sprintf("S%d", p.session)+"X")
			replace(ss, "S000")
			replace(ss, fmt.Sprintf("S%04d", p.session))
			replace(ss, "S1000")
		}
		if p.stepSecs != 0 {
			tt := "T" + p.stepTok
			replace(tt, "T0"+p.stepTok)
			replace(tt, []string{"T0S", "T0M", "T0H", "T60S", "T60M", "T49H", "T1D", "T30", "TS", "T"}[r.IntN(10)])
			replace(tt, strings.ToLower(tt))
			replace("-"+tt, "-"+tt+"-"+tt)
			if p.session != 0 {
				ss := fmt.Sprintf("S%03d", p.session)
				replace(ss+"-"+tt, tt+"-"+ss)
			}
		}
		bad = append(bad, valid+"-", valid+":", " "+valid, valid+" ", valid+"\x00")
		for _, b := range bad {
			_, err := ParseSuite(b)
			require.ErrorIs(t, err, ErrInvalidSuite, "%q (from %q)", b, valid)
			var se *SuiteError
			require.ErrorAs(t, err, &se)
		}
	}
}

// propSuffix returns the DataInput part of a suite string.
func propSuffix(s string) string { return s[strings.LastIndexByte(s, ':')+1:] }

// propQuestion draws a question of n characters in the format f: digits,
// hex digits in either case, or letters and digits.
func propQuestion(r *rand.Rand, f byte, n int) string {
	var alphabet string
	switch f {
	case 'N':
		alphabet = "0123456789"
	case 'H':
		alphabet = "0123456789abcdefABCDEF"
	default:
		alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func propBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// propKey draws a key of 16..128 bytes, sometimes longer than every
// hash's block size (SHA-512's is 128).
func propKey(r *rand.Rand) []byte {
	if r.IntN(5) == 0 {
		return propBytes(r, 129+r.IntN(128))
	}
	return propBytes(r, 16+r.IntN(113))
}

var propYear2200 = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// propInput draws an input valid for the suite.
func propInput(r *rand.Rand, p propSpec, s Suite) Input {
	in := Input{Question: propQuestion(r, p.qfmt, 1+r.IntN(p.qlen))}
	if r.IntN(4) == 0 {
		in.Question2 = propQuestion(r, p.qfmt, 1+r.IntN(p.qlen))
	}
	if p.counter {
		switch r.IntN(4) {
		case 0:
			in.Counter = r.Uint64N(10)
		case 1:
			in.Counter = math.MaxUint64 - r.Uint64N(10)
		default:
			in.Counter = r.Uint64()
		}
	}
	if p.pin != 0 {
		in.PINHash = s.HashPIN(strconv.Itoa(r.IntN(1e8)))
	}
	if p.session != 0 {
		in.Session = propBytes(r, 1+r.IntN(p.session))
	}
	if p.stepSecs != 0 {
		var sec int64
		if r.IntN(5) == 0 {
			sec = r.Int64N(4 * p.stepSecs) // near the epoch: windows reach below step 0
		} else {
			sec = r.Int64N(propYear2200 + 1)
		}
		in.Time = time.Unix(sec, r.Int64N(1e9))
	}
	return in
}

// propReference computes the OCRA response of RFC 6287 §5.1 as its
// Appendix A code does: the suite, 0x00, C as 8 bytes, Q as hex digits
// right-padded with '0' to 256 and decoded (a numeric question converted
// to hexadecimal first, an alphanumeric one taken as its bytes, the two
// challenges of the mutual modes joined first), P, S left-padded with
// zeros to its length, and T as the 8-byte count of steps; then HMAC and
// the truncation of RFC 4226 §5.3, or the lowercase hex of the whole
// HMAC for 0 digits.
func propReference(t testing.TB, p propSpec, key []byte, in Input) string {
	msg := append([]byte(p.String()), 0)
	if p.counter {
		msg = binary.BigEndian.AppendUint64(msg, in.Counter)
	}
	q := in.Question + in.Question2
	var qhex string
	switch p.qfmt {
	case 'N':
		v, ok := new(big.Int).SetString(q, 10)
		require.True(t, ok)
		qhex = v.Text(16)
	case 'H':
		qhex = q
	case 'A':
		qhex = hex.EncodeToString([]byte(q))
	}
	require.LessOrEqual(t, len(qhex), 256)
	qb, err := hex.DecodeString(qhex + strings.Repeat("0", 256-len(qhex)))
	require.NoError(t, err)
	msg = append(msg, qb...)
	if p.pin != 0 {
		msg = append(msg, in.PINHash...)
	}
	if p.session != 0 {
		msg = append(msg, make([]byte, p.session-len(in.Session))...)
		msg = append(msg, in.Session...)
	}
	if p.stepSecs != 0 {
		msg = binary.BigEndian.AppendUint64(msg, uint64(in.Time.Unix()/p.stepSecs))
	}
	mac := hmac.New(p.hash.New, key)
	mac.Write(msg)
	sum := mac.Sum(nil)
	if p.digits == 0 {
		return hex.EncodeToString(sum)
	}
	off := sum[len(sum)-1] & 0x0f
	v := uint64(binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff)
	return fmt.Sprintf("%0*d", p.digits, v%uint64(math.Pow10(p.digits)))
}

// propCentre is the step a window is centred on: the time step for a
// suite with T, the counter for one with C and no T, 0 otherwise.
func propCentre(p propSpec, in Input) uint64 {
	switch {
	case p.stepSecs != 0:
		return uint64(in.Time.Unix() / p.stepSecs)
	case p.counter:
		return in.Counter
	}
	return 0
}

// propAtStep returns in moved to the given step of the suite's window.
func propAtStep(p propSpec, in Input, step uint64) Input {
	switch {
	case p.stepSecs != 0:
		in.Time = time.Unix(int64(step)*p.stepSecs+int64(step)%p.stepSecs, 0) // anywhere in the step
	case p.counter:
		in.Counter = step
	}
	return in
}

func propVaries(p propSpec) bool { return p.stepSecs != 0 || p.counter }

// propExpect is what Verify documents, computed with the reference: the
// step of the window nearest the centre whose response is resp, the
// earlier on a tie; steps outside 0..MaxUint64 are skipped.
func propExpect(t testing.TB, p propSpec, key []byte, in Input, w Window, resp string) (Match, bool) {
	centre := propCentre(p, in)
	for d := 0; d <= max(w.Behind, w.Ahead); d++ {
		for side, off := range []int{-d, d} {
			if off < -w.Behind || off > w.Ahead || (d == 0 && side == 1) {
				continue
			}
			step := centre + uint64(off)
			if (off < 0 && centre < uint64(-off)) || (off > 0 && centre > math.MaxUint64-uint64(off)) {
				continue
			}
			if strings.EqualFold(propReference(t, p, key, propAtStep(p, in, step)), resp) {
				if !propVaries(p) {
					step = 0
				}
				return Match{Step: step, Offset: off}, true
			}
		}
	}
	return Match{}, false
}

func propWindow(r *rand.Rand, p propSpec) Window {
	if !propVaries(p) {
		return Window{}
	}
	if r.IntN(20) == 0 {
		return Window{Behind: r.IntN(MaxWindow + 1), Ahead: r.IntN(MaxWindow + 1)}
	}
	return Window{Behind: r.IntN(6), Ahead: r.IntN(6)}
}

// propSpellings returns other spellings of a response that Verify must
// take as the same: digit groups of four separated by a space or a dash
// (3+3 for six digits), spaces around; for hex responses, upper and mixed
// case.
func propSpellings(r *rand.Rand, digits int, resp string) []string {
	pad := func(s string) string {
		return strings.Repeat(" ", r.IntN(3)) + s + strings.Repeat(" ", r.IntN(3))
	}
	out := []string{" " + resp, resp + " ", "  " + resp + "  "}
	if digits == 0 {
		up := strings.ToUpper(resp)
		mixed := []byte(resp)
		for i := range mixed {
			if r.IntN(2) == 0 {
				mixed[i] = up[i]
			}
		}
		return append(out, up, pad(up), string(mixed), pad(string(mixed)))
	}
	sep := func() string { return []string{" ", "-"}[r.IntN(2)] }
	var groups []string
	for i := 0; i < len(resp); i += 4 {
		groups = append(groups, resp[i:min(i+4, len(resp))])
	}
	var b strings.Builder
	for i, g := range groups {
		if i > 0 {
			b.WriteString(sep())
		}
		b.WriteString(g)
	}
	out = append(out, b.String(), pad(b.String()),
		strings.Join(groups, " "), strings.Join(groups, "-"))
	if digits == 6 {
		out = append(out, resp[:3]+" "+resp[3:], resp[:3]+"-"+resp[3:], pad(resp[:3]+sep()+resp[3:]))
	}
	return out
}

func TestPropertyRespondVerify(t *testing.T) {
	r := propRand(t)
	const cases = 400
	negatives, mismatches := 0, 0
	for i := range cases {
		p := propGenSpec(r)
		s := MustParseSuite(p.String())
		key := propKey(r)
		in := propInput(r, p, s)
		ctx := []any{"case %d: %s key %x input %+v", i, p, key, in}

		resp, err := s.Respond(key, in)
		require.NoError(t, err, ctx...)
		require.Len(t, resp, p.responseLen(), ctx...)
		require.Equal(t, propReference(t, p, key, in), resp, ctx...)

		v, err := NewVerifier(s, key)
		require.NoError(t, err, ctx...)
		require.Equal(t, s, v.Suite())
		w := propWindow(r, p)
		centre := propCentre(p, in)
		m, err := v.Verify(in, resp, w)
		require.NoError(t, err, ctx...)
		require.Equal(t, Match{Step: centre, Offset: 0}, m, ctx...)

		// Other spellings of the same response match the same way.
		for _, sp := range propSpellings(r, p.digits, resp) {
			m2, err := v.Verify(in, sp, w)
			require.NoError(t, err, append(ctx, "spelling %q", sp)...)
			require.Equal(t, m, m2, append(ctx, "spelling %q", sp)...)
		}

		// AppendResponses gives Respond's response for each step, in order.
		prefix := []byte("prefix")
		list, err := v.AppendResponses(prefix, in, w)
		if centre < uint64(w.Behind) || centre > math.MaxUint64-uint64(w.Ahead) {
			require.ErrorIs(t, err, ErrInvalidInput, ctx...)
			require.Equal(t, "prefix", string(list))
		} else {
			require.NoError(t, err, ctx...)
			n := w.Behind + w.Ahead + 1
			require.Len(t, list, len(prefix)+n*p.responseLen(), ctx...)
			require.Equal(t, "prefix", string(list[:len(prefix)]))
			for j := range n {
				step := centre - uint64(w.Behind) + uint64(j)
				at := propAtStep(p, in, step)
				want, err := s.Respond(key, at)
				require.NoError(t, err)
				got := string(list[len(prefix)+j*p.responseLen():][:p.responseLen()])
				require.Equal(t, want, got, append(ctx, "window %+v step %d", w, step)...)
				if r.IntN(4) == 0 {
					require.Equal(t, propReference(t, p, key, at), got)
				}
			}
		}

		// A response for a step outside the window, or for another
		// question when the suite has no step, does not match (unless a
		// collision makes it match a step inside; see the file comment).
		var other Input
		if propVaries(p) {
			k := uint64(r.IntN(3))
			aheadOK := centre <= math.MaxUint64-uint64(w.Ahead)-1-k
			behindOK := centre >= uint64(w.Behind)+1+k
			if p.stepSecs != 0 {
				// Stay within int64 seconds.
				aheadOK = aheadOK && centre+uint64(w.Ahead)+1+k < math.MaxInt64/uint64(p.stepSecs)
			}
			switch {
			case aheadOK && (!behindOK || r.IntN(2) == 0):
				other = propAtStep(p, in, centre+uint64(w.Ahead)+1+k)
			case behindOK:
				other = propAtStep(p, in, centre-uint64(w.Behind)-1-k)
			default:
				t.Fatalf("no step outside the window: %+v", ctx)
			}
		} else {
			other = in
			for other.Question == in.Question {
				other.Question = propQuestion(r, p.qfmt, 1+r.IntN(p.qlen))
			}
		}
		resp2, err := s.Respond(key, other)
		require.NoError(t, err, ctx...)
		wantM, ok := propExpect(t, p, key, in, w, resp2)
		m, err = v.Verify(in, resp2, w)
		if ok {
			require.NoError(t, err, ctx...)
			require.Equal(t, wantM, m, ctx...)
		} else {
			require.ErrorIs(t, err, ErrMismatch, ctx...)
			mismatches++
		}
		negatives++
	}
	require.Greater(t, mismatches, negatives*3/4)
}

// TestPropertyMutualJoin: the questions of the mutual modes are joined
// before encoding (RFC 6287 §7.2, as the Appendix A code joins the
// strings), so however a joined challenge of up to twice the question
// length is split between Question and Question2, the response is the
// reference's for the joined string.
func TestPropertyMutualJoin(t *testing.T) {
	r := propRand(t)
	for range 100 {
		p := propGenSpec(r)
		s := MustParseSuite(p.String())
		key := propKey(r)
		in := propInput(r, p, s)
		q := propQuestion(r, p.qfmt, 2+r.IntN(2*p.qlen-1))
		lo, hi := max(1, len(q)-p.qlen), min(p.qlen, len(q)-1)
		var first string
		for range 2 {
			cut := lo + r.IntN(hi-lo+1)
			in.Question, in.Question2 = q[:cut], q[cut:]
			a, err := s.Respond(key, in)
			require.NoError(t, err, "%s %q+%q", p, in.Question, in.Question2)
			require.Equal(t, propReference(t, p, key, in), a)
			if first == "" {
				first = a
			}
			require.Equal(t, first, a)
			v, err := NewVerifier(s, key)
			require.NoError(t, err)
			m, err := v.Verify(in, first, Window{})
			require.NoError(t, err)
			require.Equal(t, Match{Step: propCentre(p, in)}, m)
		}
	}
}

func TestPropertyConcurrentVerifiers(t *testing.T) {
	r := propRand(t)
	const (
		goroutines = 40
		perG       = 4 // cases per goroutine
		rounds     = 25
	)
	type ocraCase struct {
		in   Input
		resp string
		want Match
		ok   bool
	}
	type totpCase struct {
		at   time.Time
		code string
		want Match
		ok   bool
	}

	p := propSpec{hash: crypto.SHA256, digits: 8, counter: true, qfmt: 'N', qlen: 8, pin: crypto.SHA1, session: 16}
	propSetStep(&p, 30, 'S')
	s := MustParseSuite(p.String())
	key := propBytes(r, 80) // longer than SHA-256's block
	v, err := NewVerifier(s, key)
	require.NoError(t, err)
	w := Window{Behind: 2, Ahead: 1}

	tp := TOTP{Hash: crypto.SHA512, Digits: 7, Period: 20 * time.Second}
	tkey := propBytes(r, 64)
	tv, err := tp.NewVerifier(tkey)
	require.NoError(t, err)

	// Expected results, computed up front with the reference (OCRA) and
	// TOTP.Code (cross-checked against pquerna/otp and oathtool).
	ocra := make([]ocraCase, goroutines*perG)
	totps := make([]totpCase, goroutines*perG)
	for i := range ocra {
		in := propInput(r, p, s)
		if i%2 == 0 {
			// The correct response of a step in or near the window.
			centre := propCentre(p, in)
			off := int64(r.IntN(6) - 3)
			if int64(centre)+off < 0 {
				off = -off
			}
			step := uint64(int64(centre) + off)
			resp := propReference(t, p, key, propAtStep(p, in, step))
			m, ok := propExpect(t, p, key, in, w, resp)
			ocra[i] = ocraCase{in, resp, m, ok}
		} else {
			// A well-formed wrong response.
			resp := fmt.Sprintf("%08d", r.IntN(1e8))
			m, ok := propExpect(t, p, key, in, w, resp)
			ocra[i] = ocraCase{in, resp, m, ok}
		}

		sec := 100 + r.Int64N(propYear2200)
		at := time.Unix(sec, r.Int64N(1e9))
		var code string
		if i%2 == 0 {
			code, err = tp.Code(tkey, at.Add(time.Duration(r.IntN(6)-3)*20*time.Second))
			require.NoError(t, err)
		} else {
			code = fmt.Sprintf("%07d", r.IntN(1e7))
		}
		centre := uint64(sec / 20)
		var tm Match
		tok := false
		for _, off := range []int{0, -1, 1, -2} {
			c, err := tp.Code(tkey, time.Unix(int64(centre+uint64(off))*20, 0))
			require.NoError(t, err)
			if c == code {
				tm, tok = Match{Step: centre + uint64(off), Offset: off}, true
				break
			}
		}
		totps[i] = totpCase{at, code, tm, tok}
	}

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range rounds {
				for j := range perG {
					c := ocra[g*perG+j]
					m, err := v.Verify(c.in, c.resp, w)
					if !propConcurrentOK(t, c.want, c.ok, m, err, "ocra goroutine %d case %d", g, j) {
						return
					}
					tc := totps[g*perG+j]
					m, err = tv.Verify(tc.at, tc.code, w)
					if !propConcurrentOK(t, tc.want, tc.ok, m, err, "totp goroutine %d case %d", g, j) {
						return
					}
				}
			}
		})
	}
	wg.Wait()

	okCount := 0
	for i := range ocra {
		if ocra[i].ok {
			okCount++
		}
		if totps[i].ok {
			okCount++
		}
	}
	// Both matches and mismatches were exercised.
	require.Greater(t, okCount, len(ocra)/2)
	require.Less(t, okCount, 2*len(ocra)-len(ocra)/2)
}

// propConcurrentOK reports whether a result is the expected one; it is
// called from goroutines, so it reports through assert (t.Errorf), not
// require.
func propConcurrentOK(t *testing.T, want Match, ok bool, got Match, err error, msg string, args ...any) bool {
	if ok {
		return assert.NoError(t, err, append([]any{msg}, args...)...) &&
			assert.Equal(t, want, got, append([]any{msg}, args...)...)
	}
	return assert.ErrorIs(t, err, ErrMismatch, append([]any{msg}, args...)...)
}

// TestPropertyInputErrors: for random suites, an Input missing a field
// the suite requires, or giving one it does not take, is refused by
// Respond, Verify and AppendResponses with ErrInvalidInput (and no other
// sentinel). A counter cannot be missing: 0 is a valid counter.
func TestPropertyInputErrors(t *testing.T) {
	r := propRand(t)
	sentinels := []error{ErrInvalidSuite, ErrInvalidKey, ErrMalformed, ErrMismatch}
	total := 0
	for i := range 300 {
		p := propGenSpec(r)
		s := MustParseSuite(p.String())
		key := propKey(r)
		in := propInput(r, p, s)
		v, err := NewVerifier(s, key)
		require.NoError(t, err)
		w := propWindow(r, p)
		// The valid input is accepted: the errors below come from the
		// change made to it.
		resp, err := s.Respond(key, in)
		require.NoError(t, err, "case %d: %s", i, p)
		_, err = v.Verify(in, resp, w)
		require.NoError(t, err, "case %d: %s", i, p)

		type mutation struct {
			what string
			f    func(*Input)
		}
		muts := []mutation{
			{"no question", func(in *Input) { in.Question = "" }},
			{"question too long", func(in *Input) { in.Question = propQuestion(r, p.qfmt, p.qlen+1+r.IntN(3)) }},
			{"second question too long", func(in *Input) { in.Question2 = propQuestion(r, p.qfmt, p.qlen+1) }},
			{"question not in format", func(in *Input) {
				bad := map[byte]string{'N': "aF-. é", 'H': "gG-. é", 'A': "-. _é\x00"}[p.qfmt]
				q := []byte(propQuestion(r, p.qfmt, 1+r.IntN(p.qlen)))
				q[r.IntN(len(q))] = bad[r.IntN(len(bad))]
				in.Question = string(q)
			}},
			{"second question not in format", func(in *Input) { in.Question2 = "Z" + string([]byte{0xff}) }},
		}
		if !p.counter {
			muts = append(muts, mutation{"counter given", func(in *Input) { in.Counter = 1 + r.Uint64N(math.MaxUint64) }})
		}
		if p.pin != 0 {
			muts = append(muts,
				mutation{"no PIN hash", func(in *Input) { in.PINHash = nil }},
				mutation{"PIN hash too short", func(in *Input) { in.PINHash = in.PINHash[:p.pin.Size()-1] }},
				mutation{"PIN hash too long", func(in *Input) { in.PINHash = append(in.PINHash, 0) }},
				mutation{"PIN not hashed", func(in *Input) { in.PINHash = []byte("1234") }},
			)
		} else {
			muts = append(muts, mutation{"PIN hash given", func(in *Input) {
				in.PINHash = propBytes(r, propHashList[r.IntN(3)].Size())
			}})
		}
		if p.session != 0 {
			muts = append(muts,
				mutation{"no session", func(in *Input) { in.Session = nil }},
				mutation{"empty session", func(in *Input) { in.Session = []byte{} }},
				mutation{"session too long", func(in *Input) { in.Session = propBytes(r, p.session+1+r.IntN(5)) }},
			)
		} else {
			muts = append(muts, mutation{"session given", func(in *Input) { in.Session = propBytes(r, 1+r.IntN(64)) }})
		}
		if p.stepSecs != 0 {
			muts = append(muts,
				mutation{"no time", func(in *Input) { in.Time = time.Time{} }},
				mutation{"time before the epoch", func(in *Input) { in.Time = time.Unix(-1-r.Int64N(1e10), 0) }},
			)
		} else {
			muts = append(muts, mutation{"time given", func(in *Input) {
				in.Time = []time.Time{time.Unix(0, 0), time.Unix(r.Int64N(propYear2200), 0), time.Unix(-5, 0)}[r.IntN(3)]
			}})
		}
		for _, mu := range muts {
			bad := in
			bad.PINHash = append([]byte(nil), in.PINHash...)
			if in.PINHash == nil {
				bad.PINHash = nil
			}
			mu.f(&bad)
			ctx := []any{"case %d: %s: %s", i, p, mu.what}
			_, err := s.Respond(key, bad)
			propRequireOnly(t, err, ErrInvalidInput, sentinels, ctx...)
			_, err = v.Verify(bad, resp, w)
			propRequireOnly(t, err, ErrInvalidInput, sentinels, ctx...)
			list, err := v.AppendResponses(nil, bad, w)
			propRequireOnly(t, err, ErrInvalidInput, sentinels, ctx...)
			require.Empty(t, list, ctx...)
			total++
		}

		// Windows: out of range, or given to a suite with nothing to vary.
		var bw []Window
		bw = append(bw, Window{Behind: -1}, Window{Ahead: -1 - r.IntN(10)}, Window{Behind: MaxWindow + 1}, Window{Ahead: MaxWindow + 1 + r.IntN(1000)})
		if !propVaries(p) {
			bw = append(bw, Window{Behind: 1 + r.IntN(MaxWindow)}, Window{Ahead: 1 + r.IntN(MaxWindow)})
		}
		for _, b := range bw {
			_, err := v.Verify(in, resp, b)
			propRequireOnly(t, err, ErrInvalidInput, sentinels, "case %d: %s window %+v", i, p, b)
			_, err = v.AppendResponses(nil, in, b)
			propRequireOnly(t, err, ErrInvalidInput, sentinels, "case %d: %s window %+v", i, p, b)
			total++
		}
	}
	t.Logf("%d invalid inputs", total)
}

func propRequireOnly(t *testing.T, err, want error, others []error, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, want, msgAndArgs...)
	for _, o := range others {
		if errors.Is(err, o) {
			msg := ""
			if len(msgAndArgs) > 0 {
				msg = fmt.Sprintf(msgAndArgs[0].(string), msgAndArgs[1:]...)
			}
			t.Fatalf("%s: error %v also matches %v", msg, err, o)
		}
	}
}
