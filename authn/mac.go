package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"
	"sync"

	"github.com/keyline/keyline/enroll"
)

// macKey is one purpose key with a pool of keyed HMAC states, so that a
// MAC on the login path costs its message blocks and no key setup or
// allocation of hash state.
type macKey struct {
	id   string
	key  enroll.Secret
	pool sync.Pool // of hash.Hash (HMAC-SHA256 under key)
	pads padStates // for one-block messages (the tags): see padmac.go
}

func newMACKey(id string, key enroll.Secret) *macKey {
	m := &macKey{id: id, key: key, pads: newPadStates(key)}
	m.pool.New = func() any { return hmac.New(sha256.New, m.key) }
	return m
}

// sum returns HMAC-SHA256 under the key of the parts, appended to dst.
func (m *macKey) sum(dst []byte, parts ...[]byte) []byte {
	h := m.pool.Get().(hash.Hash)
	h.Reset()
	for _, p := range parts {
		h.Write(p)
	}
	dst = h.Sum(dst)
	h.Reset()
	m.pool.Put(h)
	return dst
}

// macKeys holds the purpose keys of every key in the ring, derived once.
type macKeys struct {
	primary map[string]*macKey            // purpose → the primary key's
	byID    map[string]map[string]*macKey // key ID → purpose → key
}

func deriveMACKeys(k *Keyring, purposes ...string) (*macKeys, error) {
	m := &macKeys{primary: map[string]*macKey{}, byID: map[string]map[string]*macKey{}}
	for _, id := range k.IDs() {
		m.byID[id] = map[string]*macKey{}
		for _, p := range purposes {
			key, err := k.MACKeyByID(id, p)
			if err != nil {
				return nil, err
			}
			mk := newMACKey(id, key)
			m.byID[id][p] = mk
			if id == k.Primary() {
				m.primary[p] = mk
			}
		}
	}
	return m, nil
}
