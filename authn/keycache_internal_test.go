package authn

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

func cacheSlots(n int, sealed string) []keySlot {
	slots := make([]keySlot, n)
	for i := range slots {
		slots[i] = keySlot{device: fmt.Sprint("d", i), sealed: []byte(sealed), key: enroll.Secret(bytes.Repeat([]byte{byte(i + 1)}, 32))}
	}
	return slots
}

// A cached key serves only the device ID and sealed root it was derived
// from, at its place in the list (or anywhere, for a one-device lookup).
func TestKeyCacheMatchesSealedRoot(t *testing.T) {
	c := newKeyCache()
	id := keyCacheID{loginTag, "alice"}
	c.store(id, cacheSlots(2, "sealed-1"))
	keys := make([]byte, 2*maxKeyLen)
	for _, tc := range []struct {
		name  string
		devs  []DeviceRecord
		whole bool
		want  []bool
	}{
		{"same", []DeviceRecord{{ID: "d0", Secret: []byte("sealed-1")}, {ID: "d1", Secret: []byte("sealed-1")}}, true, []bool{true, true}},
		{"resealed", []DeviceRecord{{ID: "d0", Secret: []byte("sealed-2")}, {ID: "d1", Secret: []byte("sealed-1")}}, true, []bool{false, true}},
		{"moved", []DeviceRecord{{ID: "d1", Secret: []byte("sealed-1")}, {ID: "d0", Secret: []byte("sealed-1")}}, true, []bool{false, false}},
		{"one", []DeviceRecord{{ID: "d1", Secret: []byte("sealed-1")}}, false, []bool{true}},
		{"other", []DeviceRecord{{ID: "d9", Secret: []byte("sealed-1")}}, false, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clear(keys)
			hit := make([]bool, len(tc.devs))
			c.lookup(id, tc.devs, keys, hit, tc.whole)
			for i, h := range hit {
				if h != tc.want[i] {
					t.Fatalf("device %d: hit %v, want %v", i, h, tc.want[i])
				}
				if h && keys[i*maxKeyLen] == 0 {
					t.Fatalf("device %d: hit without its key copied", i)
				}
				if !h && keys[i*maxKeyLen] != 0 {
					t.Fatalf("device %d: a key copied for a miss", i)
				}
			}
		})
	}
	hit := make([]bool, 1)
	c.lookup(keyCacheID{transactionTag, "alice"}, []DeviceRecord{{ID: "d0", Secret: []byte("sealed-1")}}, keys, hit, false)
	if hit[0] {
		t.Fatal("a login key served a transaction")
	}
}

// The cache holds at most keyCacheUsers entries, drops the least recently
// used first, and zeroes the keys it drops or replaces.
func TestKeyCacheBoundedAndZeroed(t *testing.T) {
	c := newKeyCache()
	first := cacheSlots(1, "s")
	c.store(keyCacheID{loginTag, "first"}, first)
	replaced := cacheSlots(1, "s")
	c.store(keyCacheID{loginTag, "replaced"}, replaced)
	c.store(keyCacheID{loginTag, "replaced"}, cacheSlots(1, "s"))
	if !bytes.Equal(replaced[0].key, make([]byte, 32)) {
		t.Fatal("a replaced key was not zeroed")
	}
	for i := range keyCacheUsers + 10 {
		c.store(keyCacheID{loginTag, fmt.Sprint("u", i)}, cacheSlots(1, "s"))
	}
	if n := c.len(); n != keyCacheUsers {
		t.Fatalf("%d entries, want the bound %d", n, keyCacheUsers)
	}
	if !bytes.Equal(first[0].key, make([]byte, 32)) {
		t.Fatal("an evicted key was not zeroed")
	}
	forgotten := cacheSlots(1, "s")
	c.store(keyCacheID{transactionTag, "bob"}, forgotten)
	c.store(keyCacheID{loginTag, "bob"}, cacheSlots(1, "s"))
	c.forget("bob")
	if !bytes.Equal(forgotten[0].key, make([]byte, 32)) {
		t.Fatal("a forgotten key was not zeroed")
	}
	if _, ok := c.entries[keyCacheID{loginTag, "bob"}]; ok {
		t.Fatal("forget left the login entry")
	}
	c.clear()
	if c.len() != 0 {
		t.Fatal("clear left entries")
	}
}

// The search claim is once per user and time step, for any name.
func TestClaimSearchOncePerStep(t *testing.T) {
	c := newKeyCache()
	for _, user := range []string{"alice", "nobody"} {
		id := keyCacheID{loginTag, user}
		if !c.claimSearch(id, 100) || c.claimSearch(id, 100) {
			t.Fatalf("%s: step 100 claimed other than once", user)
		}
		if !c.claimSearch(id, 101) || c.claimSearch(id, 101) {
			t.Fatalf("%s: step 101 claimed other than once", user)
		}
	}
}

// The key lengths the cache assumes are those enroll derives.
func TestChallengeKeyLen(t *testing.T) {
	root := enroll.Secret(bytes.Repeat([]byte{7}, 32))
	for _, spec := range []string{"OCRA-1:HOTP-SHA1-6:QN08-T1M", challenge.Default.String(), "OCRA-1:HOTP-SHA512-8:QN08-T30S"} {
		su, err := challenge.ParseSuite(spec)
		if err != nil {
			t.Fatal(err)
		}
		s := &Service{&service{cfg: Config{Suite: su}}}
		login := s.login()
		if n := len(login.key(root)); n != login.keyLen() || n > maxKeyLen {
			t.Fatalf("%s: login key %d bytes, keyLen %d", spec, n, login.keyLen())
		}
	}
	if n := len(transactionKind.key(root)); n != transactionKind.keyLen() || n > maxKeyLen {
		t.Fatalf("transaction key %d bytes, keyLen %d", n, transactionKind.keyLen())
	}
}
