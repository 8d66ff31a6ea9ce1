package challenge

import (
	"crypto/hmac"
	"crypto/subtle"
	"math"
	"slices"
)

// MinKeyLen is the shortest key accepted: RFC 4226 §4 asks for at least
// 128 bits. The suite's hash size (20, 32 or 64 bytes) is recommended.
const MinKeyLen = 16

func checkKey(key []byte, minLen int) error {
	if len(key) < minLen {
		return inputKeyErr(len(key), minLen)
	}
	return nil
}

// Respond computes the OCRA response (RFC 6287 §5) of key to in: Digits()
// decimal digits, or the lowercase hex of the whole HMAC for a suite with
// 0 digits. It is what the phone runs; servers check responses with a
// [Verifier].
func (s Suite) Respond(key []byte, in Input) (string, error) {
	if s.s == "" {
		return "", zeroSuite()
	}
	if err := checkKey(key, MinKeyLen); err != nil {
		return "", err
	}
	var buf [maxMessage]byte
	m, err := s.writeMessage(buf[:], &in)
	if err != nil {
		return "", err
	}
	mac := hmac.New(s.hash.New, key)
	mac.Write(buf[:m.n])
	sum := mac.Sum(nil)
	clear(buf[:m.n])
	out := make([]byte, s.ResponseLen())
	k := hmacKey{digits: int(s.digits)}
	k.render(out, sum)
	clear(sum)
	return string(out), nil
}

// A Verifier checks responses of one key under one suite. It is built
// once per key: it precomputes the HMAC key schedule, and per call the
// message up to the step that varies, so that each step of a window costs
// only the hash's last blocks. Verify allocates nothing. (Should this Go
// release fail the fast path's self-test, see [FastPath], the Verifier
// uses crypto/hmac instead, with the same results; Verify then allocates
// only while another goroutine is verifying with the same Verifier.) A
// Verifier is safe for concurrent use; it holds key-equivalent state, so
// treat it as you treat the key.
type Verifier struct {
	suite Suite
	key   *hmacKey
}

// NewVerifier returns a [Verifier] for key under suite. Keys shorter than
// [MinKeyLen] bytes are refused. The key is not retained.
func NewVerifier(s Suite, key []byte) (*Verifier, error) {
	if s.s == "" {
		return nil, zeroSuite()
	}
	if err := checkKey(key, MinKeyLen); err != nil {
		return nil, err
	}
	k, err := newHMACKey(algorithmFor(s.hash), key, int(s.digits))
	if err != nil {
		return nil, err
	}
	return &Verifier{suite: s, key: k}, nil
}

// Suite returns the verifier's suite.
func (v *Verifier) Suite() Suite { return v.suite }

// Verify checks response against every step of the window w around in
// (see [Window]) and reports the step that matched.
//
// A response that is not well formed (see the package documentation)
// wraps [ErrMalformed] and says why; a well-formed response that matches
// no step is [ErrMismatch]; an input the suite does not take wraps
// [ErrInvalidInput]. Every step of the window is computed and compared in
// constant time whether or not an earlier one matched, so the time taken
// does not depend on the response. Should a response match two steps (a
// collision, about 10^-8 per pair of 8-digit responses), the one nearest
// the centre wins, the earlier on a tie.
//
// Verify keeps no memory: refusing a response it has accepted before is
// the caller's job (the authn package does it).
func (v *Verifier) Verify(in Input, response string, w Window) (Match, error) {
	if err := w.check(); err != nil {
		return Match{}, err
	}
	var resp parsedResponse
	if err := parseResponse(&resp, response, v.key.digits, v.key.respSize); err != nil {
		return Match{}, err
	}
	s := v.key.get()
	defer v.key.put(s)
	m, err := v.suite.writeMessage(s.msg[:], &in)
	if err != nil {
		return Match{}, err
	}
	if m.varOff < 0 && (w.Behind != 0 || w.Ahead != 0) {
		return Match{}, inputErr("suite %s has no counter or time step for a window", v.suite.s)
	}
	return v.key.verify(s, m, &resp, w)
}

// AppendResponses appends to dst the responses for every step of the
// window w around in, in order from the earliest step to the latest, each
// [Suite.ResponseLen] bytes. It is for callers that precompute what a
// device could answer. A window reaching below step 0 or past the largest
// step is an error.
func (v *Verifier) AppendResponses(dst []byte, in Input, w Window) ([]byte, error) {
	if err := w.check(); err != nil {
		return dst, err
	}
	s := v.key.get()
	defer v.key.put(s)
	m, err := v.suite.writeMessage(s.msg[:], &in)
	if err != nil {
		return dst, err
	}
	if m.varOff < 0 && (w.Behind != 0 || w.Ahead != 0) {
		return dst, inputErr("suite %s has no counter or time step for a window", v.suite.s)
	}
	if m.centre < uint64(w.Behind) || m.centre > math.MaxUint64-uint64(w.Ahead) {
		return dst, inputErr("window reaches past the range of steps")
	}
	return v.key.appendResponses(dst, s, m, w)
}

// verify tries every step of w around m.centre (the message is in s.msg)
// and returns the match nearest the centre. Steps below 0 or above the
// largest value cannot have been answered and are skipped.
func (k *hmacKey) verify(s *scratch, m message, resp *parsedResponse, w Window) (Match, error) {
	if err := k.prepare(s, m); err != nil {
		return Match{}, err
	}
	return k.verifySteps(s, m, resp, w)
}

// verifySteps is verify once s is prepared for m.
func (k *hmacKey) verifySteps(s *scratch, m message, resp *parsedResponse, w Window) (Match, error) {
	found, foundOff := 0, 0
	// Offsets in order of distance from the centre: 0, -1, +1, -2, +2, ...
	// so that the first match recorded is the nearest.
	for d := 0; d <= max(w.Behind, w.Ahead); d++ {
		for side := range 2 {
			off := d
			if side == 0 {
				off = -d
			}
			if off < -w.Behind || off > w.Ahead || (d == 0 && side == 1) {
				continue
			}
			step, ok := addOffset(m.centre, off)
			if !ok {
				continue
			}
			mac, err := k.stepMAC(s, step)
			if err != nil {
				return Match{}, err
			}
			eq := resp.match(k, mac)
			foundOff = subtle.ConstantTimeSelect(eq&^found, off, foundOff)
			found |= eq
		}
	}
	if found == 0 {
		return Match{}, ErrMismatch
	}
	step, _ := addOffset(m.centre, foundOff)
	if m.varOff < 0 {
		step = 0
	}
	return Match{Step: step, Offset: foundOff}, nil
}

func (k *hmacKey) appendResponses(dst []byte, s *scratch, m message, w Window) ([]byte, error) {
	if err := k.prepare(s, m); err != nil {
		return dst, err
	}
	return k.appendSteps(dst, s, m, w)
}

// appendSteps is appendResponses once s is prepared for m.
func (k *hmacKey) appendSteps(dst []byte, s *scratch, m message, w Window) ([]byte, error) {
	for off := -w.Behind; off <= w.Ahead; off++ {
		step, _ := addOffset(m.centre, off)
		mac, err := k.stepMAC(s, step)
		if err != nil {
			return dst, err
		}
		n := len(dst)
		dst = slices.Grow(dst, k.respSize)[:n+k.respSize]
		k.render(dst[n:], mac)
	}
	return dst, nil
}

func addOffset(c uint64, off int) (uint64, bool) {
	if off < 0 {
		d := uint64(-off)
		return c - d, c >= d
	}
	d := uint64(off)
	return c + d, c <= math.MaxUint64-d
}

func putStep(b []byte, v uint64) {
	_ = b[7]
	b[0], b[1], b[2], b[3] = byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32)
	b[4], b[5], b[6], b[7] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}
