package authn

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// tagger computes the tags of one challenge (see Service.tagMAC): one
// HMAC-SHA256 under the tag key, its pad blocks hashed when the key's
// pool made it, and the message's fixed part — label, kind, challenge ID
// — laid out once; each tag then writes the response after it. A message
// that fits in one block with its padding (a challenge ID of 32 hex
// digits and a response of 8 digits or fewer: every login's) is MACed
// from the key's pad states instead (padmac.go): two SHA-256 blocks and
// nothing else. Everything handed to the hash lives in the tagger, on the
// heap already, so a tag allocates nothing.
type tagger struct {
	h   hash.Hash // from the macKey's pool
	m   *macKey
	msg [len(tagLabel) + 2 + maxTagID + maxTagResponse]byte
	n   int // length of the fixed part
	sum [sha256.Size]byte
	pad padScratch // for the key's pad states; its hash kept with the pooled tagger
}

const (
	// tagLabel begins every tag's message. It is 13 bytes so that label,
	// kind, length, a 32-digit ID and an 8-digit response make 55, the
	// most one padded SHA-256 block takes (it was "keyline/v1/tag", one
	// byte more, which cost a third block per tag).
	tagLabel = "keyline/tag/2"
	// maxTagID is the longest challenge ID a tag takes: IDs are 32 hex
	// digits, and finish cuts anything longer than 64.
	maxTagID = 64
	// maxTagResponse is the longest canonical response: the hex of a whole
	// HMAC-SHA512.
	maxTagResponse = 128
)

var taggerPool = sync.Pool{New: func() any { return new(tagger) }}

// newTagger returns a tagger for the challenge ID of the kind under m.
// Release it when done.
func (m *macKey) newTagger(kind byte, challengeID string) *tagger {
	t := taggerPool.Get().(*tagger)
	t.m, t.h = m, m.pool.Get().(hash.Hash)
	if t.pad.h == nil {
		t.pad.h = newStateHash()
	}
	if len(challengeID) > maxTagID {
		challengeID = challengeID[:maxTagID]
	}
	n := copy(t.msg[:], tagLabel)
	t.msg[n], t.msg[n+1] = kind, byte(len(challengeID))
	n += 2
	n += copy(t.msg[n:], challengeID)
	t.n = n
	return t
}

// tag returns the tag of response: HMAC-SHA256(label ‖ kind ‖ len(ID) ‖
// ID ‖ response) truncated to 128 bits. A response longer than any
// canonical one is cut; none reaches here.
func (t *tagger) tag(response []byte) [16]byte {
	n := t.n + copy(t.msg[t.n:], response)
	var out [16]byte
	if n <= padMaxMsg && t.m.pads.ok && t.pad.h != nil {
		if sum, ok := t.m.pads.mac(&t.pad, t.msg[:n]); ok {
			copy(out[:], sum)
			clear(t.msg[t.n:n])
			return out
		}
	}
	t.h.Reset()
	t.h.Write(t.msg[:n])
	sum := t.h.Sum(t.sum[:0])
	copy(out[:], sum)
	clear(t.msg[t.n:n])
	clear(t.sum[:])
	return out
}

// tagString is tag for a response held in a string.
func (t *tagger) tagString(response string) [16]byte {
	n := t.n + copy(t.msg[t.n:], response)
	return t.tag(t.msg[t.n:n])
}

// release gives the hash back to its key's pool and the tagger to its
// own.
func (t *tagger) release() {
	t.h.Reset()
	t.m.pool.Put(t.h)
	if t.pad.h != nil {
		t.pad.clear()
	}
	clear(t.msg[:t.n])
	t.h, t.m, t.n = nil, nil, 0
	taggerPool.Put(t)
}
