package authn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
)

// padStates is HMAC-SHA256 under one key, ready for messages that fit in
// one block with their padding (padMaxMsg bytes at most, as a login's
// tag message does): the marshaled SHA-256 states after the key's inner
// and outer pad blocks. Such a MAC is then two block computations,
// resumed from those states, its padding laid out here and its digests
// read from the states' words (as package challenge does for its
// responses), without crypto/hmac's bookkeeping around them. ok is false
// when the standard library's SHA-256 state is not laid out as this
// relies on (checked against crypto/hmac when the states are made): the
// callers then use crypto/hmac. The states are as secret as the key.
type padStates struct {
	ok           bool
	inner, outer []byte
}

const (
	// padMaxMsg is the longest message of one padded block: the padding
	// takes a 0x80 byte and the 64-bit length.
	padMaxMsg = sha256.BlockSize - 9
	// stateWordsOff is where the eight hash words start, big-endian, in
	// a marshaled SHA-256 state: after its 4-byte magic.
	stateWordsOff = 4
	// maxStateLen bounds a marshaled SHA-256 state (108 bytes today).
	maxStateLen = 128
)

// stateHash is a SHA-256 whose state can be saved and resumed.
type stateHash interface {
	hash.Hash
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
	encoding.BinaryAppender
}

// newStateHash returns a SHA-256 that saves and resumes its state, or
// nil if the standard library's does not.
func newStateHash() stateHash {
	h, _ := sha256.New().(stateHash)
	return h
}

// padScratch is the working space of one padStates.mac call.
type padScratch struct {
	h     stateHash
	block [sha256.BlockSize]byte
	state [maxStateLen]byte
}

// clear forgets what the scratch held of the key and the message.
func (s *padScratch) clear() {
	s.h.Reset()
	clear(s.block[:])
	clear(s.state[:])
}

// newPadStates hashes key's pad blocks and checks the result against
// crypto/hmac; see padStates.
func newPadStates(key []byte) padStates {
	h := newStateHash()
	if h == nil {
		return padStates{}
	}
	var pad [sha256.BlockSize]byte
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key)
		copy(pad[:], sum[:])
	} else {
		copy(pad[:], key)
	}
	defer clear(pad[:])
	for i := range pad {
		pad[i] ^= 0x36
	}
	h.Write(pad[:])
	inner, err := h.MarshalBinary()
	if err != nil {
		return padStates{}
	}
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	h.Reset()
	h.Write(pad[:])
	outer, err := h.MarshalBinary()
	if err != nil {
		clear(inner)
		return padStates{}
	}
	p := padStates{ok: true, inner: inner, outer: outer}
	s := padScratch{h: h}
	defer s.clear()
	for _, n := range []int{0, 1, 31, 32, padMaxMsg} {
		msg := bytes.Repeat([]byte{byte(n + 1)}, n)
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		if got, ok := p.mac(&s, msg); !ok || !hmac.Equal(got, m.Sum(nil)) {
			clear(inner)
			clear(outer)
			return padStates{}
		}
	}
	return p
}

// mac returns HMAC-SHA256 of msg (at most padMaxMsg bytes) under the
// states' key, held in s.state until s is used again; false if the hash
// refused a state (it cannot with the standard library's).
func (p *padStates) mac(s *padScratch, msg []byte) ([]byte, bool) {
	n := copy(s.block[:], msg)
	s.block[n] = 0x80
	clear(s.block[n+1 : sha256.BlockSize-8])
	binary.BigEndian.PutUint64(s.block[sha256.BlockSize-8:], uint64(sha256.BlockSize+n)*8)
	if s.h.UnmarshalBinary(p.inner) != nil {
		return nil, false
	}
	s.h.Write(s.block[:])
	st, err := s.h.AppendBinary(s.state[:0])
	if err != nil || len(st) < stateWordsOff+sha256.Size {
		return nil, false
	}
	n = copy(s.block[:], st[stateWordsOff:stateWordsOff+sha256.Size])
	s.block[n] = 0x80
	clear(s.block[n+1 : sha256.BlockSize-8])
	binary.BigEndian.PutUint64(s.block[sha256.BlockSize-8:], uint64(sha256.BlockSize+n)*8)
	if s.h.UnmarshalBinary(p.outer) != nil {
		return nil, false
	}
	s.h.Write(s.block[:])
	if st, err = s.h.AppendBinary(s.state[:0]); err != nil || len(st) < stateWordsOff+sha256.Size {
		return nil, false
	}
	return st[stateWordsOff : stateWordsOff+sha256.Size], true
}
