package challenge

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
)

// The fast path. HMAC(K, m) = H((K^opad) || H((K^ipad) || m)). The hash
// states after the K^ipad and K^opad blocks depend on the key alone, so a
// verifier computes them once and keeps them marshaled. Per question it
// resumes the inner state, feeds the message up to the field that varies
// across the window (the time step or counter) and keeps that state too;
// each step of the window then costs only the message's last blocks and
// one outer block. Hash objects and buffers come from a pool, so a
// verification allocates nothing.

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
		return &scratch{h: h, un: h.(encoding.BinaryUnmarshaler), ap: h.(encoding.BinaryAppender)}
	}
	return a
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
	h     hash.Hash
	un    encoding.BinaryUnmarshaler
	ap    encoding.BinaryAppender
	state [maxStateSize]byte // inner state after the message prefix
	inner [maxHashSize]byte
	mac   [maxHashSize]byte
	msg   [maxMessage]byte
}

func (a *algorithm) get() *scratch { return a.pool.Get().(*scratch) }

// put wipes what the scratch learned of the key and message and returns
// it to the pool.
func (a *algorithm) put(s *scratch) {
	s.h.Reset()
	clear(s.state[:])
	clear(s.inner[:])
	clear(s.mac[:])
	a.pool.Put(s)
}

// errHashState cannot happen with the standard library's hashes; it is
// returned rather than panicking should a hash ever refuse its own state.
var errHashState = errors.New("challenge: internal error: hash state refused")

// hmacKey is a key schedule: the marshaled hash states after the inner and
// outer pad blocks. It is as secret as the key.
type hmacKey struct {
	alg      *algorithm
	n        int // marshaled state length
	inner    [maxStateSize]byte
	outer    [maxStateSize]byte
	digits   int // response length, 0 for hex of the whole HMAC
	respSize int // bytes per rendered response
}

func newHMACKey(a *algorithm, key []byte, digits int) (*hmacKey, error) {
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

// begin resumes the inner state, feeds prefix and returns the resulting
// state, kept in s.state.
func (k *hmacKey) begin(s *scratch, prefix []byte) ([]byte, error) {
	if err := s.un.UnmarshalBinary(k.inner[:k.n]); err != nil {
		return nil, errHashState
	}
	s.h.Write(prefix)
	st, err := s.ap.AppendBinary(s.state[:0])
	if err != nil {
		return nil, errHashState
	}
	return st, nil
}

// finish completes the HMAC of prefix||tail from the state begin returned
// and returns it, kept in s.mac.
func (k *hmacKey) finish(s *scratch, state, tail []byte) ([]byte, error) {
	if err := s.un.UnmarshalBinary(state); err != nil {
		return nil, errHashState
	}
	s.h.Write(tail)
	in := s.h.Sum(s.inner[:0])
	if err := s.un.UnmarshalBinary(k.outer[:k.n]); err != nil {
		return nil, errHashState
	}
	s.h.Write(in)
	return s.h.Sum(s.mac[:0]), nil
}

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
