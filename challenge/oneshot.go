package challenge

import (
	"sync"
	"time"
)

// One-shot verification: a key checked once, by a server that keeps no
// verifier between calls (it holds keys sealed, or derives them per
// user). [Suite.VerifyOnce], [Suite.AppendResponsesOnce],
// [TOTP.VerifyOnce] and [HOTP.VerifyOnce] give the results of building a
// verifier and using it once, without building one: the key schedule
// (the hash states after the key's pad blocks) is computed into pooled
// space, used, and wiped before the space goes back to the pool. On the
// fast path (see [FastPath]) they allocate nothing; on the slow path they
// build a verifier, and allocate as [NewVerifier] does.

// onceKey is the pooled space of one one-shot verification: a key
// schedule and the block the key's pads are made in. Both are as secret
// as the key; release wipes them.
type onceKey struct {
	k   hmacKey
	pad [maxBlockSize]byte
}

// oncePools hold *onceKey, one pool per algorithm (SHA-1, SHA-256,
// SHA-512), so that a schedule is reused only for its own hash.
var oncePools [3]sync.Pool

func oncePool(a *algorithm) *sync.Pool {
	switch a {
	case algSHA1:
		return &oncePools[0]
	case algSHA256:
		return &oncePools[1]
	}
	return &oncePools[2]
}

// prepare computes the fast path's key schedule of key into o and sets
// s up for the message s.msg[:m.n], as hmacKey.prepare does, in one pass:
// the inner hash takes the key's pad block and then the message's whole
// blocks before the step field without stopping at a marshaled state in
// between, since no other message will resume from the key's. Everything
// handed to the hash is in o or s (on the heap already), never key
// itself, so that the caller's key does not escape: a key longer than a
// block is hashed in chunks copied to s.last.
func (o *onceKey) prepare(s *scratch, key []byte, m message) error {
	k := &o.k
	a := k.alg
	h := s.h
	h.Reset()
	if len(key) > a.block {
		// RFC 2104 §2: a key longer than the block is replaced by its hash.
		for rest := key; len(rest) > 0; {
			n := copy(s.last[:], rest)
			h.Write(s.last[:n])
			clear(s.last[:n])
			rest = rest[n:]
		}
		h.Sum(o.pad[:0])
		h.Reset()
	} else {
		copy(o.pad[:], key)
	}
	for i := range a.block {
		o.pad[i] ^= 0x36
	}
	h.Write(o.pad[:a.block])
	fixed := m.n // bytes that never change
	if m.varOff >= 0 {
		fixed = m.varOff
	}
	aligned := fixed - fixed%a.block
	if aligned > 0 {
		h.Write(s.msg[:aligned])
	}
	st, err := s.ap.AppendBinary(s.state[:0])
	if err != nil || len(st) > maxStateSize {
		return errHashState
	}
	s.stateLen, s.start, k.n = len(st), st, len(st)
	for i := range a.block {
		o.pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(o.pad[:a.block])
	out, err := s.ap.AppendBinary(k.outer[:0])
	if err != nil || len(out) != k.n {
		return errHashState
	}
	clear(o.pad[:a.block])
	rest := copy(s.last[:], s.msg[aligned:m.n])
	s.lastLen = a.pad(s.last[:], rest, uint64(a.block+m.n))
	s.stepPos = -1
	if m.varOff >= 0 {
		s.stepPos = m.varOff - aligned
	}
	return nil
}

// getOnce returns pooled scratch space for a and an empty key schedule
// for responses of digits digits; release gives both back.
func getOnce(a *algorithm, digits int) (*onceKey, *scratch) {
	s := a.pool.Get().(*scratch)
	o, _ := oncePool(a).Get().(*onceKey)
	if o == nil {
		o = new(onceKey)
	}
	k := &o.k
	k.alg, k.digits, k.respSize, k.plain = a, digits, digits, nil
	if digits == 0 {
		k.respSize = 2 * a.size
	}
	return o, s
}

// release wipes the key schedule and returns it and s to their pools
// (hmacKey.put wipes what s holds).
func (o *onceKey) release(s *scratch) {
	a := o.k.alg
	o.k.put(s)
	clear(o.k.outer[:o.k.n])
	clear(o.pad[:])
	o.k.n = 0
	oncePool(a).Put(o)
}

// VerifyOnce checks response as NewVerifier(s, key) followed by one
// Verify(in, response, w) would, with the same results and errors,
// without building a [Verifier]: for a server that verifies each key
// once. On the fast path (see [FastPath]) it allocates nothing; its cost
// is a verification's plus the key's two pad blocks. The key is not
// retained.
func (s Suite) VerifyOnce(key []byte, in Input, response string, w Window) (Match, error) {
	if s.s == "" {
		return Match{}, zeroSuite()
	}
	if err := checkKey(key, MinKeyLen); err != nil {
		return Match{}, err
	}
	a := algorithmFor(s.hash)
	if !a.rawOK {
		v, err := NewVerifier(s, key)
		if err != nil {
			return Match{}, err
		}
		return v.Verify(in, response, w)
	}
	if err := w.check(); err != nil {
		return Match{}, err
	}
	var resp parsedResponse
	if err := parseResponse(&resp, response, int(s.digits), s.responseLen(a)); err != nil {
		return Match{}, err
	}
	o, sc := getOnce(a, int(s.digits))
	defer o.release(sc)
	m, err := s.writeMessage(sc.msg[:], &in)
	if err != nil {
		return Match{}, err
	}
	if m.varOff < 0 && (w.Behind != 0 || w.Ahead != 0) {
		return Match{}, inputErr("suite %s has no counter or time step for a window", s.s)
	}
	if err := o.prepare(sc, key, m); err != nil {
		return Match{}, err
	}
	return o.k.verifySteps(sc, m, &resp, w)
}

// AppendResponsesOnce appends to dst what NewVerifier(s, key) followed
// by one AppendResponses(dst, in, w) would, with the same errors, without
// building a [Verifier]. On the fast path (see [FastPath]) it allocates
// nothing when dst has room for the responses. The key is not retained.
func (s Suite) AppendResponsesOnce(dst, key []byte, in Input, w Window) ([]byte, error) {
	if s.s == "" {
		return dst, zeroSuite()
	}
	if err := checkKey(key, MinKeyLen); err != nil {
		return dst, err
	}
	a := algorithmFor(s.hash)
	if !a.rawOK {
		v, err := NewVerifier(s, key)
		if err != nil {
			return dst, err
		}
		return v.AppendResponses(dst, in, w)
	}
	if err := w.check(); err != nil {
		return dst, err
	}
	o, sc := getOnce(a, int(s.digits))
	defer o.release(sc)
	m, err := s.writeMessage(sc.msg[:], &in)
	if err != nil {
		return dst, err
	}
	if m.varOff < 0 && (w.Behind != 0 || w.Ahead != 0) {
		return dst, inputErr("suite %s has no counter or time step for a window", s.s)
	}
	if !windowFits(m.centre, w) {
		return dst, inputErr("window reaches past the range of steps")
	}
	if err := o.prepare(sc, key, m); err != nil {
		return dst, err
	}
	return o.k.appendSteps(dst, sc, m, w)
}

// windowFits reports whether every step of w around centre is a step.
func windowFits(centre uint64, w Window) bool {
	_, lo := addOffset(centre, -w.Behind)
	_, hi := addOffset(centre, w.Ahead)
	return lo && hi
}

// responseLen is the length of a rendered response under s: its digits,
// or the hex of a whole HMAC of a.
func (s Suite) responseLen(a *algorithm) int {
	if s.digits == 0 {
		return 2 * a.size
	}
	return int(s.digits)
}

// VerifyOnce checks code as NewVerifier(key) followed by one
// Verify(counter, code, w) would, with the same results and errors,
// without building an [HOTPVerifier]. On the fast path (see [FastPath])
// it allocates nothing. The key is not retained.
func (h HOTP) VerifyOnce(key []byte, counter uint64, code string, w Window) (Match, error) {
	return h.verifyOnce(key, MinKeyLen, counter, code, w)
}

func (h HOTP) verifyOnce(key []byte, minKey int, counter uint64, code string, w Window) (Match, error) {
	a, d, err := h.params()
	if err != nil {
		return Match{}, err
	}
	if err := checkKey(key, minKey); err != nil {
		return Match{}, err
	}
	if !a.rawOK {
		v, err := h.newVerifier(key, minKey)
		if err != nil {
			return Match{}, err
		}
		return v.Verify(counter, code, w)
	}
	if err := w.check(); err != nil {
		return Match{}, err
	}
	var resp parsedResponse
	if err := parseResponse(&resp, code, d, d); err != nil {
		return Match{}, err
	}
	o, sc := getOnce(a, d)
	defer o.release(sc)
	putStep(sc.msg[:8], counter)
	m := message{n: 8, varOff: 0, centre: counter}
	if err := o.prepare(sc, key, m); err != nil {
		return Match{}, err
	}
	return o.k.verifySteps(sc, m, &resp, w)
}

// VerifyOnce checks code as NewVerifier(key) followed by one Verify(at,
// code, w) would, with the same results and errors, without building a
// [TOTPVerifier]: for a server that keeps TOTP keys sealed and opens one
// per check. On the fast path (see [FastPath]) it allocates nothing. The
// key is not retained.
func (t TOTP) VerifyOnce(key []byte, at time.Time, code string, w Window) (Match, error) {
	h, period, minKey, err := t.params()
	if err != nil {
		return Match{}, err
	}
	if err := checkKey(key, minKey); err != nil {
		return Match{}, err
	}
	step, err := unixStep(at, period)
	if err != nil {
		return Match{}, err
	}
	return h.verifyOnce(key, minKey, step, code, w)
}
