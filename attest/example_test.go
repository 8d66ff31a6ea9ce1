package attest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyline/keyline/attest"
	"github.com/keyline/keyline/enroll"
)

// A service that admits iOS and Android phones only, each attested.
// (The Android verifier here runs without a revocation list, which a
// real service loads from Google's status list; see the package doc.)
func ExamplePolicy() {
	apple, err := attest.NewApple(attest.AppleConfig{AppIDs: []string{"ABCDE12345.com.example.keyline"}})
	if err != nil {
		panic(err)
	}
	signer := make([]byte, 32) // the SHA-256 of the app's signing certificate
	android, err := attest.NewAndroid(attest.AndroidConfig{
		Apps:         []attest.AndroidApp{{Package: "com.example.keyline", SignerDigests: [][]byte{signer}}},
		NoStatusList: true,
	})
	if err != nil {
		panic(err)
	}
	policy := &attest.Policy{Platforms: map[string]attest.Rule{
		"ios":     {Verifier: apple, Required: true},
		"android": {Verifier: android, Required: true},
	}}
	// cfg.VerifyDevice = policy.VerifyDevice, in authn.Config.

	challenge := make([]byte, 32) // authn passes the activation's attestation challenge
	for _, dev := range []enroll.DeviceInfo{
		{Platform: "ios"},
		{Platform: "android", Attestation: []byte{0, 0, 0, 9}},
		{Platform: "web"},
	} {
		err := policy.VerifyDevice(context.Background(), "alice", dev, challenge)
		fmt.Println(dev.Platform, errors.Is(err, attest.ErrMissing), errors.Is(err, attest.ErrFormat), errors.Is(err, attest.ErrPlatform))
	}
	// Output:
	// ios true false false
	// android false true false
	// web false false true
}
