package keylinecore_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyline/keyline/authn/authntest"
)

// memStorage is SecureStorage in memory.
type memStorage struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newStorage() *memStorage { return &memStorage{m: map[string][]byte{}} }

func (s *memStorage) Load(name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.m[name]...), nil
}

func (s *memStorage) Store(name string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[name] = append([]byte(nil), data...)
	return nil
}

func (s *memStorage) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, name)
	return nil
}

// hwKey is a KeyStore: AES-256-GCM under a key that never leaves it, as
// the Android Keystore does it.
type hwKey struct{ aead cipher.AEAD }

func newHWKey() *hwKey {
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return &hwKey{aead: a}
}

func (h *hwKey) Wrap(secret []byte) ([]byte, error) {
	nonce := make([]byte, h.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return h.aead.Seal(nonce, nonce, secret, nil), nil
}

func (h *hwKey) Unwrap(wrapped []byte) ([]byte, error) {
	n := h.aead.NonceSize()
	if len(wrapped) < n {
		return nil, errors.New("hwkey: too short")
	}
	return h.aead.Open(nil, wrapped[:n], wrapped[n:], nil)
}

// gate is a BiometricGate that counts its prompts and can refuse.
type gate struct {
	asked  atomic.Int32
	refuse atomic.Bool
}

func (g *gate) Authenticate(string) error {
	g.asked.Add(1)
	if g.refuse.Load() {
		return errors.New("the user cancelled")
	}
	return nil
}

// phoneClock is the phone's clock: a server's fake clock, off by off.
type phoneClock struct {
	server *authntest.Clock
	off    time.Duration
}

func (c phoneClock) NowUnixMilli() int64 { return c.server.Now().Add(c.off).UnixMilli() }
