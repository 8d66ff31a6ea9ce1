package authn

import (
	"bytes"
	"container/list"
	"crypto/sha256"
	"sync"

	"github.com/keyline/keyline/enroll"
)

// The device-key cache: the OCRA keys of a challenge kind, derived from
// the devices' root secrets once rather than on every challenge and
// every wrong answer.
//
// Deriving a device's key costs an AEAD open of its sealed root and an
// HKDF, the larger part of a challenge's work before this cache. An
// entry holds, for one user and one kind, the key of each device of the
// last call in the order of that call (phantoms included, see
// phantom.go), beside the sealed root it was derived from. A key is used
// only for a device whose ID and sealed root are those it was derived
// from, so the cache never answers for a secret the store no longer
// holds — whatever another instance changed meanwhile — and a resealed
// root (key rotation) derives again.
//
// Timing: an entry holds a user's phantoms as well as the user's devices,
// and an unknown user gets an entry like a known one. A call for a user
// with an entry costs the same whether the user exists or not, and so
// does a call for a user without one (every device and phantom derived
// again). What a call's time can tell is whether somebody asked for a
// challenge for that name recently: not whether the name is a user.
//
// Bounds: at most keyCacheUsers entries; past that the least recently
// used goes. Revoking a device, activating one, migrating, deleting the
// user forget the user's entries, and key rotation empties the cache
// (the hooks in the Service's methods); a forgotten key is zeroed. The
// cache lives in the Service: it holds key-equivalent material in memory
// as the Keyring does.
type keyCache struct {
	mu      sync.Mutex
	entries map[keyCacheID]*list.Element // of *keyEntry
	lru     list.List                    // most recently used first
}

// keyCacheUsers bounds the entries (a user and a kind each): about 4 MB
// at five devices of 32-byte keys each, with their sealed roots.
const keyCacheUsers = 4096

type keyCacheID struct {
	kind byte
	user string
}

type keyEntry struct {
	id    keyCacheID
	slots []keySlot
	// searched is 1 + the time step of the last resync search of the
	// user (0: none yet): see resyncbound.go.
	searched uint64
}

// keySlot is one device's key: the device ID ("" for a phantom) and the
// sealed root the key was derived from.
type keySlot struct {
	device string
	sealed []byte
	key    enroll.Secret
}

func newKeyCache() *keyCache {
	return &keyCache{entries: map[keyCacheID]*list.Element{}}
}

// matches reports whether the slot is the key of d.
func (k *keySlot) matches(d *DeviceRecord) bool {
	return k.device == d.ID && bytes.Equal(k.sealed, d.Secret)
}

// lookup copies into keys[i*maxKeyLen:] the key of each devs[i] that the
// cache holds, and reports which it holds. With whole set, devs is the
// whole list of a call (devices then phantoms), and slot i is compared
// with devs[i]; otherwise each device is looked for among the slots.
func (c *keyCache) lookup(id keyCacheID, devs []DeviceRecord, keys []byte, hit []bool, whole bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.entries[id]
	if el == nil {
		return
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*keyEntry)
	for i := range devs {
		d := &devs[i]
		if whole {
			if i < len(e.slots) && e.slots[i].matches(d) {
				copy(keys[i*maxKeyLen:(i+1)*maxKeyLen], e.slots[i].key)
				hit[i] = true
			}
			continue
		}
		for j := range e.slots {
			if e.slots[j].matches(d) {
				copy(keys[i*maxKeyLen:(i+1)*maxKeyLen], e.slots[j].key)
				hit[i] = true
				break
			}
		}
	}
}

// store makes slots the entry of id, zeroing the keys of the entry it
// replaces, and evicts the least recently used entry past the bound.
func (c *keyCache) store(id keyCacheID, slots []keySlot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.entries[id]; el != nil {
		e := el.Value.(*keyEntry)
		zeroSlots(e.slots)
		e.slots = slots
		c.lru.MoveToFront(el)
		return
	}
	c.entries[id] = c.lru.PushFront(&keyEntry{id: id, slots: slots})
	for len(c.entries) > keyCacheUsers {
		c.removeLocked(c.lru.Back())
	}
}

// forget drops the user's entries, of every kind.
func (c *keyCache) forget(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, kind := range [...]byte{loginTag, transactionTag} {
		if el := c.entries[keyCacheID{kind, user}]; el != nil {
			c.removeLocked(el)
		}
	}
}

// clear drops every entry.
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.removeLocked(c.lru.Back())
	}
}

func (c *keyCache) removeLocked(el *list.Element) {
	e := c.lru.Remove(el).(*keyEntry)
	delete(c.entries, e.id)
	zeroSlots(e.slots)
}

func zeroSlots(slots []keySlot) {
	for i := range slots {
		slots[i].key.Zero()
	}
}

// len returns the number of entries.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// maxKeyLen is the room for one key in a keys buffer: the largest OCRA
// key, HMAC-SHA512's 64 bytes.
const maxKeyLen = 64

// The tags of the two challenge kinds (challengeKind.tag).
const (
	loginTag       = 1
	transactionTag = 2
)

// challengeKeys puts into keys[i*maxKeyLen:] the key of kind of devs[i]
// (keys must hold len(devs)*maxKeyLen bytes) and returns the key length.
// Keys the cache holds are copied from it; the others are derived from
// the sealed roots, and, when devs is the whole list of a call (whole),
// the cache then keeps the list's keys. A root that does not open is an
// error.
func (s *Service) challengeKeys(kind challengeKind, user string, devs []DeviceRecord, keys []byte, whole bool) (int, error) {
	if s.keys.isZeroed() {
		// A zeroed keyring opens nothing: the keys derived before go too,
		// and the call fails as the opening would.
		s.keyCache.clear()
		return 0, ErrKeyringZeroed
	}
	id := keyCacheID{kind.tag, user}
	var hitBuf [DefaultMaxDevices]bool
	var hit []bool
	if len(devs) <= len(hitBuf) {
		hit = hitBuf[:len(devs)]
	} else {
		hit = make([]bool, len(devs))
	}
	s.keyCache.lookup(id, devs, keys, hit, whole)
	n := kind.keyLen()
	missed := false
	for i := range devs {
		if !hit[i] {
			missed = true
			break
		}
	}
	if !missed {
		return n, nil
	}
	var slots []keySlot
	if whole {
		slots = make([]keySlot, len(devs))
	}
	for i := range devs {
		d := &devs[i]
		if hit[i] {
			if whole {
				slots[i] = keySlot{device: d.ID, sealed: bytes.Clone(d.Secret), key: enroll.Secret(bytes.Clone(keys[i*maxKeyLen : i*maxKeyLen+n]))}
			}
			continue
		}
		root, err := s.openAny(*d)
		if err != nil {
			zeroSlots(slots)
			return 0, err
		}
		k := kind.key(enroll.Secret(root))
		clear(root)
		copy(keys[i*maxKeyLen:(i+1)*maxKeyLen], k)
		if whole {
			slots[i] = keySlot{device: d.ID, sealed: bytes.Clone(d.Secret), key: k}
		} else {
			k.Zero()
		}
	}
	if whole {
		s.keyCache.store(id, slots)
	}
	return n, nil
}

// forgetKeys drops the cached keys of user: the user's devices changed.
func (s *Service) forgetKeys(user string) { s.keyCache.forget(user) }

// keyLen is the length of the kind's device keys: the suite's hash size
// for a login (enroll.OCRAKey), SHA-256's for a transaction
// (enroll.TransactionKey).
func (k challengeKind) keyLen() int {
	if k.tag == transactionTag {
		return sha256.Size
	}
	return k.suite.Hash().Size()
}

// issueScratch is a call's room for its devices' keys and responses,
// pooled; release wipes it.
type issueScratch struct {
	keys []byte // maxKeyLen bytes per device
	resp []byte // one device's responses
}

var issuePool = sync.Pool{New: func() any { return new(issueScratch) }}

// getIssueScratch returns scratch with room for the keys of devices
// devices.
func getIssueScratch(devices int) *issueScratch {
	sc := issuePool.Get().(*issueScratch)
	if cap(sc.keys) < devices*maxKeyLen {
		sc.keys = make([]byte, devices*maxKeyLen)
	}
	sc.keys = sc.keys[:devices*maxKeyLen]
	return sc
}

func (sc *issueScratch) release() {
	clear(sc.keys[:cap(sc.keys)])
	clear(sc.resp[:cap(sc.resp)])
	issuePool.Put(sc)
}
