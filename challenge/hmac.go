package challenge

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/binary"
	"errors"
	"hash"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// The fast path. HMAC(K, m) = H((K^opad) || H((K^ipad) || m)). The hash
// states after the K^ipad and K^opad blocks depend on the key alone, so a
// verifier computes them once and keeps them marshaled. Per question it
// resumes the inner state, feeds the message up to the field that varies
// across the window (the time step or counter) and keeps that state too;
// each step of the window then costs only the message's last blocks and
// one outer block. Hash objects and buffers come from a pool, so a
// verification allocates nothing.
//
// Reading the digest out of a marshaled state relies on a layout the
// standard library does not promise. A self-test checks it for each hash
// when the package starts; a hash that fails it takes the slow path:
// crypto/hmac over the whole message for every step, with the same
// results (see FastPath).

const (
	maxHashSize  = 64  // SHA-512
	maxBlockSize = 128 // SHA-512
	maxStateSize = 256 // marshaled SHA-512 state is 204 bytes
	// maxMessage bounds an OCRA DataInput: suite, 0x00, C, Q, P, S, T.
	maxMessage = maxSuiteLen + 1 + 8 + 128 + maxHashSize + maxSessionLen + 8
)

// algorithm describes one hash function and pools its scratch space.
type algorithm struct {
	hash  crypto.Hash
	new   func() hash.Hash
	size  int
	block int
	rawOK bool      // the marshaled state holds the digest where stepMAC reads it; false selects crypto/hmac
	pool  sync.Pool // of *scratch
}

var (
	algSHA1   = newAlgorithm(crypto.SHA1, sha1.New)
	algSHA256 = newAlgorithm(crypto.SHA256, sha256.New)
	algSHA512 = newAlgorithm(crypto.SHA512, sha512.New)
)

func newAlgorithm(h crypto.Hash, f func() hash.Hash) *algorithm {
	a := &algorithm{hash: h, new: f, size: h.Size()}
	a.block = f().BlockSize()
	a.pool.New = func() any {
		h := f()
		s := &scratch{h: h, un: h.(encoding.BinaryUnmarshaler), ap: h.(encoding.BinaryAppender)}
		// The outer hash takes K^opad (one block) and the inner digest:
		// its padding never changes.
		a.pad(s.outer[:], a.size, uint64(a.block+a.size))
		return s
	}
	a.rawOK = a.selfTest()
	return a
}

// selfTest checks that hashing a padded block and reading the marshaled
// state gives the digest, as stepMAC assumes.
func (a *algorithm) selfTest() bool {
	h := a.new()
	if _, ok := h.(encoding.BinaryAppender); !ok {
		return false
	}
	if _, ok := h.(encoding.BinaryUnmarshaler); !ok {
		return false
	}
	msg := []byte("keyline self-test")
	h.Reset()
	h.Write(msg)
	want := h.Sum(nil)
	var b [maxBlockSize]byte
	n := copy(b[:], msg)
	h.Reset()
	h.Write(b[:a.pad(b[:], n, uint64(n))])
	st, err := h.(encoding.BinaryAppender).AppendBinary(nil)
	return err == nil && len(st) >= stateDigestOff+a.size && bytes.Equal(st[stateDigestOff:stateDigestOff+a.size], want)
}

// FastPath reports whether verifiers ([NewVerifier], [HOTP.NewVerifier],
// [TOTP.NewVerifier]) use the fast path for every hash. It is false when
// the self-test run as the package starts found, for SHA-1, SHA-256 or
// SHA-512, that this Go release lays out a marshaled hash state otherwise
// than the fast path reads it. Verifiers of such a hash use crypto/hmac
// instead: their results are the same, a verification takes about 1.5
// times as long (BENCHMARKS.md), and building a verifier allocates a
// little more (a crypto/hmac for the key). Verifying still allocates
// nothing, unless several goroutines use one verifier at the same moment.
// The first verifier built on the slow path says so once through the
// logger given to [SetLogger].
func FastPath() bool {
	return algSHA1.rawOK && algSHA256.rawOK && algSHA512.rawOK
}

// logger is the one [SetLogger] set; nil means slog.Default().
var logger atomic.Pointer[slog.Logger]

// fallbackReported is set once the slow path has been reported.
var fallbackReported atomic.Bool

// SetLogger sets the logger through which the package reports, once per
// process, that its verifiers fall back to crypto/hmac (see [FastPath]):
// one warning, at the first verifier built on the slow path, naming the
// hashes concerned and the Go release. It is the only thing the package
// logs. Until SetLogger is called, or after SetLogger(nil), the report
// goes to [slog.Default]. Call it before building verifiers; it is safe
// for concurrent use.
func SetLogger(l *slog.Logger) { logger.Store(l) }

// reportFallback logs, the first time only, that verifiers use the slow
// path. Nothing secret is known here: only which hashes failed the
// self-test.
func reportFallback() {
	if fallbackReported.Swap(true) {
		return
	}
	var slow []string
	for _, a := range [...]*algorithm{algSHA1, algSHA256, algSHA512} {
		if !a.rawOK {
			slow = append(slow, a.hash.String())
		}
	}
	l := logger.Load()
	if l == nil {
		l = slog.Default()
	}
	l.Warn("challenge: HMAC fast path self-test failed; verifiers use crypto/hmac, with the same results but slower",
		"hashes", strings.Join(slow, ","), "go", runtime.Version())
}

func algorithmFor(h crypto.Hash) *algorithm {
	switch h {
	case crypto.SHA1:
		return algSHA1
	case crypto.SHA256:
		return algSHA256
	case crypto.SHA512:
		return algSHA512
	}
	return nil
}

// scratch is one goroutine's working space. Everything handed to the
// hash (an interface, so its arguments escape) lives here, on the heap
// already, so that nothing is allocated per call.
type scratch struct {
	h  hash.Hash
	un encoding.BinaryUnmarshaler
	ap encoding.BinaryAppender

	msg [maxMessage]byte // the message being verified

	// On the slow path only: a crypto/hmac of the key, and the message's
	// length (prepare sets it, with stepPos).
	mac    *plainMAC
	msgLen int

	// Set up by prepare for one message:
	state    [maxStateSize]byte // inner state after the message's whole blocks before the step
	stateLen int
	start    []byte                            // the state each step resumes: state[:stateLen], or the key's inner state
	last     [maxMessage + 2*maxBlockSize]byte // the rest of the message, padded
	lastLen  int
	stepPos  int // offset of the step field in last, or -1

	outer [maxBlockSize]byte // inner digest, padded: the outer hash's only block
	out   [maxStateSize]byte // marshaled state, read for the digest
}

// get returns a scratch for one verification under k: the algorithm's
// pooled space and, on the slow path, the key's idle crypto/hmac, or a
// new one while another goroutine uses it.
func (k *hmacKey) get() *scratch {
	s := k.alg.pool.Get().(*scratch)
	if k.plain != nil {
		if s.mac = k.plain.idle.Swap(nil); s.mac == nil {
			s.mac = newPlainMAC(k.alg, k.plain.key)
		}
	}
	return s
}

// put wipes what the scratch learned of the key and message and returns
// it to the pool; on the slow path the crypto/hmac goes back to the key,
// unless the key has another idle one already.
func (k *hmacKey) put(s *scratch) {
	a := k.alg
	if s.mac != nil {
		s.mac.Reset() // back to the key's own state, forgetting the message
		k.plain.idle.CompareAndSwap(nil, s.mac)
		s.mac = nil
		clear(s.out[:a.size])
	}
	s.h.Reset()
	clear(s.state[:s.stateLen])
	clear(s.last[:s.lastLen])
	clear(s.outer[:a.size])
	clear(s.out[:s.stateLen])
	s.stateLen, s.lastLen, s.msgLen, s.start = 0, 0, 0, nil
	a.pool.Put(s)
}

// errHashState cannot happen with the standard library's hashes; it is
// returned rather than panicking should a hash ever refuse its own state
// or lay it out differently (the self-test in newAlgorithm).
var errHashState = errors.New("challenge: internal error: hash state refused")

// hmacKey is a key schedule: the marshaled hash states after the inner and
// outer pad blocks, or on the slow path crypto/hmac objects for the key.
// It is as secret as the key.
type hmacKey struct {
	alg      *algorithm
	n        int // marshaled state length
	inner    [maxStateSize]byte
	outer    [maxStateSize]byte
	digits   int // response length, 0 for hex of the whole HMAC
	respSize int // bytes per rendered response

	plain *plainKey // set on the slow path only
}

// plainKey is the slow path's key schedule: a copy of the key, and a
// crypto/hmac of it that no verification is using (nil while one is).
type plainKey struct {
	key  []byte
	idle atomic.Pointer[plainMAC]
}

// plainMAC is a crypto/hmac, in a type of the package's own so that an
// atomic.Pointer can hold it.
type plainMAC struct{ hash.Hash }

// newPlainMAC returns a crypto/hmac of key, its pad blocks already hashed.
func newPlainMAC(a *algorithm, key []byte) *plainMAC {
	m := &plainMAC{hmac.New(a.new, key)}
	m.Reset() // crypto/hmac keeps the pad blocks' states from its first Reset on
	return m
}

// newHMACKey returns the key schedule of key for responses of digits
// digits (0 for hex): the fast path's when a passed the self-test,
// crypto/hmac's otherwise.
func newHMACKey(a *algorithm, key []byte, digits int) (*hmacKey, error) {
	if !a.rawOK {
		reportFallback()
		return newPlainKey(a, key, digits), nil
	}
	return newFastKey(a, key, digits)
}

// newPlainKey returns the slow path's key schedule: a copy of the key and
// one crypto/hmac of it, made here so that verifying allocates nothing
// (unless several goroutines use one verifier at the same moment: each
// but the first then makes a crypto/hmac of its own).
func newPlainKey(a *algorithm, key []byte, digits int) *hmacKey {
	k := &hmacKey{alg: a, digits: digits, respSize: digits}
	if digits == 0 {
		k.respSize = 2 * a.size
	}
	k.plain = &plainKey{key: bytes.Clone(key)}
	k.plain.idle.Store(newPlainMAC(a, k.plain.key))
	return k
}

// newFastKey returns the fast path's key schedule.
func newFastKey(a *algorithm, key []byte, digits int) (*hmacKey, error) {
	k := &hmacKey{alg: a, digits: digits, respSize: digits}
	if digits == 0 {
		k.respSize = 2 * a.size
	}
	h := a.new()
	var pad [maxBlockSize]byte
	if len(key) > a.block {
		h.Write(key)
		h.Sum(pad[:0])
		h.Reset()
	} else {
		copy(pad[:], key)
	}
	for i := range a.block {
		pad[i] ^= 0x36
	}
	h.Write(pad[:a.block])
	in, err := h.(encoding.BinaryAppender).AppendBinary(k.inner[:0])
	if err != nil || len(in) > maxStateSize {
		return nil, errHashState
	}
	for i := range a.block {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:a.block])
	out, err := h.(encoding.BinaryAppender).AppendBinary(k.outer[:0])
	if err != nil || len(out) != len(in) {
		return nil, errHashState
	}
	clear(pad[:])
	h.Reset()
	k.n = len(in)
	return k, nil
}

// pad writes the Merkle–Damgård padding for a message of total bytes after
// the n bytes already in b, and returns the padded length (a multiple of
// the block size).
func (a *algorithm) pad(b []byte, n int, total uint64) int {
	lenBytes := 8
	if a.block == 128 {
		lenBytes = 16 // SHA-512 ends with a 128-bit length
	}
	end := (n + 1 + lenBytes + a.block - 1) / a.block * a.block
	b[n] = 0x80
	clear(b[n+1 : end-8])
	binary.BigEndian.PutUint64(b[end-8:end], total*8)
	return end
}

// prepare sets s up to compute the HMAC of the message s.msg[:m.n] for
// any value of its step field: it runs the inner hash over every whole
// block before that field, once, and lays out the rest of the message,
// padded, in s.last. Each step then costs the blocks of s.last and the one
// block of the outer hash.
//
// On the slow path there is nothing to compute ahead: each step hashes
// the whole message.
func (k *hmacKey) prepare(s *scratch, m message) error {
	if k.plain != nil {
		s.msgLen, s.stepPos = m.n, m.varOff
		return nil
	}
	a := k.alg
	fixed := m.n // bytes that never change
	if m.varOff >= 0 {
		fixed = m.varOff
	}
	// The inner hash has already taken the one-block K^ipad, so message
	// offsets and block boundaries agree.
	aligned := fixed - fixed%a.block
	if aligned == 0 {
		s.start = k.inner[:k.n] // nothing to add: resume from the key's state
		s.stateLen = k.n
	} else {
		if err := s.un.UnmarshalBinary(k.inner[:k.n]); err != nil {
			return errHashState
		}
		s.h.Write(s.msg[:aligned])
		st, err := s.ap.AppendBinary(s.state[:0])
		if err != nil || len(st) != k.n {
			return errHashState
		}
		s.stateLen = len(st)
		s.start = st
	}
	rest := copy(s.last[:], s.msg[aligned:m.n])
	s.lastLen = a.pad(s.last[:], rest, uint64(a.block+m.n))
	s.stepPos = -1
	if m.varOff >= 0 {
		s.stepPos = m.varOff - aligned
	}
	return nil
}

// stepMAC returns HMAC(key, message with step in its step field), kept in
// s.out. It reads the digests from the marshaled states (their hash words,
// big-endian, are the digest) instead of calling Sum, which would copy
// the whole hash and pad it again on every step. The slow path runs
// crypto/hmac instead (plainMAC).
func (k *hmacKey) stepMAC(s *scratch, step uint64) ([]byte, error) {
	if k.plain != nil {
		return k.plainMAC(s, step), nil
	}
	a := k.alg
	if s.stepPos >= 0 {
		putStep(s.last[s.stepPos:], step)
	}
	if err := s.un.UnmarshalBinary(s.start); err != nil {
		return nil, errHashState
	}
	s.h.Write(s.last[:s.lastLen])
	st, err := s.ap.AppendBinary(s.out[:0])
	if err != nil || len(st) != k.n {
		return nil, errHashState
	}
	copy(s.outer[:a.size], st[stateDigestOff:])
	if err := s.un.UnmarshalBinary(k.outer[:k.n]); err != nil {
		return nil, errHashState
	}
	s.h.Write(s.outer[:a.block])
	if st, err = s.ap.AppendBinary(s.out[:0]); err != nil || len(st) != k.n {
		return nil, errHashState
	}
	return st[stateDigestOff : stateDigestOff+a.size], nil
}

// plainMAC is stepMAC on the slow path: crypto/hmac over the whole
// message s.msg[:s.msgLen] with step in its step field, kept in s.out.
func (k *hmacKey) plainMAC(s *scratch, step uint64) []byte {
	if s.stepPos >= 0 {
		putStep(s.msg[s.stepPos:], step)
	}
	s.mac.Reset()
	s.mac.Write(s.msg[:s.msgLen])
	return s.mac.Sum(s.out[:0])
}

// stateDigestOff is where the hash words start in a marshaled state, after
// the 4-byte magic; newAlgorithm checks this layout.
const stateDigestOff = 4

// render writes the response for mac into dst (k.respSize bytes): the
// dynamic truncation of RFC 4226 §5.3 as decimal digits, or the lowercase
// hex of the whole HMAC when the suite asks for no truncation.
func (k *hmacKey) render(dst, mac []byte) {
	if k.digits == 0 {
		const hexDigits = "0123456789abcdef"
		for i, b := range mac {
			dst[2*i] = hexDigits[b>>4]
			dst[2*i+1] = hexDigits[b&0x0f]
		}
		return
	}
	renderDigits(dst[:k.digits], truncate(mac))
}

// truncate is RFC 4226 §5.3's dynamic truncation: the low 4 bits of the
// last byte give an offset; the 31 bits at that offset are the value.
func truncate(mac []byte) uint32 {
	off := mac[len(mac)-1] & 0x0f
	return binary.BigEndian.Uint32(mac[off:off+4]) & 0x7fffffff
}

// renderDigits writes v mod 10^len(dst) as len(dst) decimal digits.
func renderDigits(dst []byte, v uint32) {
	x := uint64(v)
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + x%10)
		x /= 10
	}
}
