package vault_test

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/keyline/keyline/enroll/vault"
)

// faceIDKey stands in for the app's biometric key. DO NOT keep a key in
// the process like this: a real app's lives in the Secure Enclave or
// the Android Keystore, and its Unwrap raises the biometric prompt.
type faceIDKey struct{ aead cipher.AEAD }

func newFaceIDKey() *faceIDKey {
	k := make([]byte, 32)
	rand.Read(k)
	block, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	return &faceIDKey{aead}
}

func (f *faceIDKey) Wrap(secret []byte) ([]byte, error) {
	nonce := make([]byte, f.aead.NonceSize())
	rand.Read(nonce)
	return f.aead.Seal(nonce, nonce, secret, nil), nil
}

func (f *faceIDKey) Unwrap(w []byte) ([]byte, error) {
	if len(w) < f.aead.NonceSize() {
		return nil, errors.New("not wrapped by this key")
	}
	return f.aead.Open(nil, w[:f.aead.NonceSize()], w[f.aead.NonceSize():], nil)
}

// Biometric unlock: enabled with the PIN, then a cold start (or a
// notification extension) opens the vault with Face ID, running no
// Argon2id; the PIN stays the fallback.
func ExampleOpenBiometric() {
	light := vault.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}
	opts := vault.Options{Argon2: light, MinArgon2: light}

	v, err := vault.New("k9!mX2", opts)
	if err != nil {
		panic(err)
	}
	faceID := newFaceIDKey()
	if err := v.EnableBiometricUnlock("k9!mX2", faceID); err != nil {
		panic(err)
	}
	blob, err := v.Seal()
	if err != nil {
		panic(err)
	}
	v.Zero()
	fmt.Println("offer Face ID:", vault.HasBiometricUnlock(blob))

	v, err = vault.OpenBiometric(blob, faceID, opts)
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Len(), "credentials")
	v.Zero()

	// New biometrics enrolled: the platform invalidated the key. The PIN
	// opens the vault, and a new key is enabled with it.
	_, err = vault.OpenBiometric(blob, newFaceIDKey(), opts)
	fmt.Println(errors.Is(err, vault.ErrKeyWrapper))
	v, err = vault.Open(blob, "k9!mX2", opts)
	if err != nil {
		panic(err)
	}
	defer v.Zero()
	fmt.Println(v.EnableBiometricUnlock("k9!mX2", newFaceIDKey()))
	// Output:
	// offer Face ID: true
	// 0 credentials
	// true
	// <nil>
}
