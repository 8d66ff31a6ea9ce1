package authn

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

// The tagger computes the tag the store keeps, byte for byte: HMAC-SHA256
// under the keyring's tag key of "keyline/tag/2" ‖ kind ‖ len(ID) ‖ ID ‖
// response, truncated to 128 bits, written here with crypto/hmac alone.
func TestTaggerTags(t *testing.T) {
	kr, err := NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	macs, err := deriveMACKeys(kr, purposeTag)
	if err != nil {
		t.Fatal(err)
	}
	key, err := kr.MACKeyByID("k1", purposeTag)
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{&service{macs: macs}}
	for _, c := range []struct {
		kind byte
		id   string
		resp string
	}{
		{1, "0123456789abcdef0123456789abcdef", "12345678"},
		{2, "0123456789abcdef0123456789abcdef", "00000000"},
		{1, "", ""},
		{1, strings.Repeat("f", 64), strings.Repeat("a", 128)},
	} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("keyline/tag/2"))
		m.Write([]byte{c.kind, byte(len(c.id))})
		m.Write([]byte(c.id))
		m.Write([]byte(c.resp))
		var want [16]byte
		copy(want[:], m.Sum(nil))
		if got := s.tagMAC(c.kind, c.id, c.resp); got != want {
			t.Fatalf("tagMAC(%d, %q, %q) = %x, want %x", c.kind, c.id, c.resp, got, want)
		}
		tg := macs.primary[purposeTag].newTagger(c.kind, c.id)
		if got := tg.tag([]byte(c.resp)); got != want {
			t.Fatalf("tagger.tag(%q) = %x, want %x", c.resp, got, want)
		}
		tg.release()
	}
}

// A tag allocates nothing, a login's (from the pad states) nor a longer
// one's (crypto/hmac). scripts/test runs this without -race, which
// changes allocation counts.
func TestTaggerAllocatesNothing(t *testing.T) {
	if raceOn {
		t.Skip("the race detector changes allocation counts")
	}
	kr, err := NewKeyring("k1", map[string][]byte{"k1": bytes.Repeat([]byte{9}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	macs, err := deriveMACKeys(kr, purposeTag)
	if err != nil {
		t.Fatal(err)
	}
	tg := macs.primary[purposeTag].newTagger(1, "0123456789abcdef0123456789abcdef")
	defer tg.release()
	for _, resp := range [][]byte{[]byte("12345678"), bytes.Repeat([]byte("a"), 128)} {
		if n := testing.AllocsPerRun(100, func() { tg.tag(resp) }); n != 0 {
			t.Fatalf("%v allocations per tag of a %d-byte response", n, len(resp))
		}
	}
}
