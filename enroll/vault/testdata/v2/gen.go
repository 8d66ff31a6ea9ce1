//go:build ignore

// gen.go seals the version-2 blobs of this directory with the vault code
// of the commit that added them (format version 2, as blob.go specifies
// it), so that a later format still opens them. Kept to show how they
// were made; rerunning it makes new blobs. From the repository root:
//
//	go run ./enroll/vault/testdata/v2/gen.go
package main

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/vault"
)

// fixedWrapper is fixedWrapper of vault_fuzz_test.go: AES-256-GCM under a
// fixed key, so that the wrapped blobs open in every test run. The
// biometric key is the same construction under another fixed key
// (fixedBiometric in vault_fuzz_test.go).
type fixedWrapper struct{ key string }

func (w fixedWrapper) aead() cipher.AEAD {
	block, _ := aes.NewCipher([]byte(w.key))
	aead, _ := cipher.NewGCM(block)
	return aead
}

func (w fixedWrapper) Wrap(secret []byte) ([]byte, error) {
	a := w.aead()
	nonce := make([]byte, a.NonceSize())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, secret, nil), nil
}

func (w fixedWrapper) Unwrap(wrapped []byte) ([]byte, error) {
	a := w.aead()
	return a.Open(nil, wrapped[:a.NonceSize()], wrapped[a.NonceSize():], nil)
}

type account struct {
	Issuer, User, DeviceID, PairingCode string
	Question, Response                  string
	At                                  time.Time
}

type blob struct{ Wrapped, Biometric bool }

type manifest struct {
	PIN     string
	Argon2  vault.Argon2Params
	Blobs   map[string]blob // file name: sealed with a KeyWrapper, with biometric unlock
	Account []account
}

func main() {
	dir := filepath.Join("enroll", "vault", "testdata", "v2")
	kw := fixedWrapper{"keyline test wrapper key 32 byte"}
	bio := fixedWrapper{"keyline test biometric key 32 by"}
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	light := vault.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}
	m := manifest{PIN: "k9!mX2", Argon2: light, Blobs: map[string]blob{
		"pin.blob":               {false, false},
		"wrapped.blob":           {true, false},
		"biometric.blob":         {false, true},
		"biometric-wrapped.blob": {true, true},
	}}
	var creds []*enroll.Credential
	for _, a := range [][2]string{{"Example Bank", "user-42"}, {"Other Bank", "user-7"}} {
		p, err := enroll.Start(a[0], a[1], enroll.StartOptions{AccountName: a[1] + "@example.com", Now: t0})
		check(err)
		c, req, err := enroll.Activate(p.Offer(), enroll.DeviceInfo{InstallID: "install-1", Name: "Ada's phone", Platform: "android", Integrity: enroll.Intact, PushToken: "tok"}, t0.Add(time.Minute))
		check(err)
		e, err := p.Complete(req, t0.Add(time.Minute))
		check(err)
		check(c.CheckServerConfirm(e.ServerConfirm))
		q := c.Suite().NewQuestion()
		at := t0.Add(time.Hour)
		r, err := c.Respond(q, at)
		check(err)
		m.Account = append(m.Account, account{a[0], a[1], c.DeviceID(), c.PairingCode(), q, r, at})
		creds = append(creds, c)
	}
	for name, b := range m.Blobs {
		opts := vault.Options{Argon2: light, MinArgon2: light}
		if b.Wrapped {
			opts.KeyWrapper = kw
		}
		v, err := vault.New(m.PIN, opts)
		check(err)
		for _, c := range creds {
			check(v.Add(c))
		}
		if b.Biometric {
			check(v.EnableBiometricUnlock(m.PIN, bio))
		}
		blob, err := v.Seal()
		check(err)
		check(os.WriteFile(filepath.Join(dir, name), blob, 0o644))
	}
	j, err := json.MarshalIndent(m, "", "  ")
	check(err)
	check(os.WriteFile(filepath.Join(dir, "manifest.json"), append(j, '\n'), 0o644))
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
