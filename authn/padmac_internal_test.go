package authn

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

// padStates gives crypto/hmac's HMAC-SHA256, for keys of every length
// (a key longer than a block is hashed first) and every message length
// one padded block holds.
func TestPadStates(t *testing.T) {
	for _, kl := range []int{0, 1, 16, 32, 63, 64, 65, 200} {
		key := make([]byte, kl)
		rand.Read(key)
		p := newPadStates(key)
		if !p.ok {
			t.Fatalf("key of %d bytes: the pad states failed their own check", kl)
		}
		s := padScratch{h: newStateHash()}
		for n := 0; n <= padMaxMsg; n++ {
			msg := make([]byte, n)
			rand.Read(msg)
			m := hmac.New(sha256.New, key)
			m.Write(msg)
			got, ok := p.mac(&s, msg)
			if !ok || !bytes.Equal(got, m.Sum(nil)) {
				t.Fatalf("key of %d bytes, message of %d: %x, want %x", kl, n, got, m.Sum(nil))
			}
		}
	}
}

// A MAC from the pad states allocates nothing (scripts/test runs this
// without -race, which changes allocation counts).
func TestPadStatesAllocatesNothing(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes allocation counts")
	}
	p := newPadStates(bytes.Repeat([]byte{7}, 32))
	s := padScratch{h: newStateHash()}
	msg := make([]byte, padMaxMsg)
	if a := testing.AllocsPerRun(100, func() { p.mac(&s, msg) }); a != 0 {
		t.Fatalf("%v allocations per MAC", a)
	}
}

// A login's tag message — label, kind, length, a challenge ID of 32 hex
// digits and an 8-digit response — fits in one padded block, so every
// login's tags take the pad states' path.
func TestLoginTagFitsOneBlock(t *testing.T) {
	if n := len(tagLabel) + 2 + 32 + 8; n > padMaxMsg {
		t.Fatalf("a login's tag message is %d bytes; one padded block holds %d", n, padMaxMsg)
	}
}
