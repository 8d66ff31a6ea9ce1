package vault_test

import (
	"errors"
	"fmt"

	"github.com/keyline/keyline/enroll/vault"
)

// A phone makes its vault once, seals it after every change, and opens it
// with the PIN when the app starts.
func Example() {
	// Light Argon2id parameters keep the example fast; an app keeps the
	// zero Options (t=3, 64 MiB, p=4) and sets a KeyWrapper.
	light := vault.Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}
	opts := vault.Options{Argon2: light, MinArgon2: light}

	if err := vault.CheckPIN("1234", ""); err != nil {
		fmt.Println(err)
	}
	v, err := vault.New("k9!mX2", opts)
	if err != nil {
		panic(err)
	}
	// v.Add(credential) after each confirmed activation, then:
	blob, err := v.Seal()
	if err != nil {
		panic(err)
	}
	v.Zero()

	_, err = vault.Open(blob, "k9!mX3", opts)
	fmt.Println(errors.Is(err, vault.ErrWrongPIN))
	v, err = vault.Open(blob, "k9!mX2", opts)
	if err != nil {
		panic(err)
	}
	defer v.Zero()
	fmt.Println(v.Len(), "credentials")
	// Output:
	// vault: PIN refused: the PIN is a run of consecutive digits or letters
	// true
	// 0 credentials
}
