package attest

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Real attestations published by others (testdata/samples; each file
// names its source), verified against the roots this package ships, with
// the time fixed inside their validity.

type appleSample struct {
	Source         string `json:"source"`
	AppID          string `json:"app_id"`
	Environment    string `json:"environment"`
	ClientDataHash string `json:"client_data_hash"` // hex
	KeyID          string `json:"key_id"`
	VerifyAt       string `json:"verify_at"`
	Attestation    string `json:"attestation"`
}

func loadAppleSample(t *testing.T, name string) (appleSample, []byte, []byte, time.Time) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var s appleSample
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	obj, err := base64.StdEncoding.DecodeString(s.Attestation)
	if err != nil {
		t.Fatal(err)
	}
	cdh, err := hex.DecodeString(s.ClientDataHash)
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, s.VerifyAt)
	if err != nil {
		t.Fatal(err)
	}
	return s, obj, cdh, at
}

func TestAppleSamples(t *testing.T) {
	for _, name := range []string{"apple_guide.json", "apple_ios14.json"} {
		t.Run(name, func(t *testing.T) {
			s, obj, cdh, at := loadAppleSample(t, name)
			env := AppleProduction
			if s.Environment == "development" {
				env = AppleDevelopment
			}
			a, err := NewApple(AppleConfig{AppIDs: []string{s.AppID}, Environment: env, Now: fixedNow(at)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Check(obj, cdh)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got.KeyID) != s.KeyID || got.AppID != s.AppID || len(got.Receipt) == 0 {
				t.Fatalf("%+v", got)
			}
			// Each altered input is refused for its own reason.
			other := sha256.Sum256([]byte("another challenge"))
			for _, tc := range []struct {
				name string
				cfg  AppleConfig
				cdh  []byte
				want error
			}{
				{"another challenge", AppleConfig{AppIDs: []string{s.AppID}, Environment: env, Now: fixedNow(at)}, other[:], ErrChallenge},
				{"another app", AppleConfig{AppIDs: []string{"ABCDE12345.com.example.keyline"}, Environment: env, Now: fixedNow(at)}, cdh, ErrApp},
				{"another environment", AppleConfig{AppIDs: []string{s.AppID}, Environment: 1 - env, Now: fixedNow(at)}, cdh, ErrEnvironment},
				{"after the validity", AppleConfig{AppIDs: []string{s.AppID}, Environment: env, Now: fixedNow(at.AddDate(1, 0, 0))}, cdh, ErrChain},
				{"another root", AppleConfig{AppIDs: []string{s.AppID}, Environment: env, Now: fixedNow(at), Roots: GoogleRoots()}, cdh, ErrChain},
			} {
				a, err := NewApple(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Verify(obj, tc.cdh); !errors.Is(err, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
				}
			}
		})
	}
}

// loadAndroidSample reads cert0.der (the leaf) to cert3.der (the root) of
// a sample directory as the chain a phone sends.
func loadAndroidSample(t *testing.T, dir string) ([]byte, []*x509.Certificate) {
	t.Helper()
	var certs []*x509.Certificate
	for i := range 4 {
		b, err := os.ReadFile(filepath.Join("testdata", "samples", dir, fmt.Sprintf("cert%d.der", i)))
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(b)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	return lpChain(certs...), certs
}

// TestAndroidSamples: Google's sample chains (testdata/samples/README.md)
// were made on a development device (verified boot state Unverified,
// bootloader unlocked) with the challenge "abc". The TEE chains lead to
// Google's root, carry the challenge and a TEE level, and are refused
// for their boot state; the StrongBox chain leads to a pre-production
// root, not Google's, and is refused for its chain.
func TestAndroidSamples(t *testing.T) {
	at := time.Date(2019, 8, 1, 0, 0, 0, 0, time.UTC)
	digest, _ := hex.DecodeString("301aa3cb081134501c45f1422abc66c24224fd5ded5fdc8f17e697176fd866aa")
	a, err := NewAndroid(AndroidConfig{Apps: []AndroidApp{{Package: "com.android.keychain", SignerDigests: [][]byte{digest}}},
		NoStatusList: true, Now: fixedNow(at)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir       string
		challenge string
		want      error
	}{
		{"android_ec_tee", "abc", ErrBootState},
		{"android_rsa_tee", "abc", ErrBootState},
		{"android_ec_tee", "abd", ErrChallenge},
		{"android_rsa_tee", "", ErrChallenge},
		{"android_ec_strongbox", "abc", ErrChain},
	} {
		chain, certs := loadAndroidSample(t, tc.dir)
		if err := a.Verify(chain, []byte(tc.challenge)); !errors.Is(err, tc.want) {
			t.Errorf("%s, challenge %q: %v, want %v", tc.dir, tc.challenge, err, tc.want)
		}
		// A listed serial (the batch key's, as Google would list a leaked
		// one) refuses before any field is read.
		l, err := ParseStatusList(fmt.Appendf(nil, `{"entries": {"%x": {"status": "REVOKED"}}}`, certs[1].SerialNumber))
		if err != nil {
			t.Fatal(err)
		}
		revoking, err := NewAndroid(AndroidConfig{Apps: []AndroidApp{{Package: "x", SignerDigests: [][]byte{digest}}},
			StatusList: l, Now: fixedNow(at)})
		if err != nil {
			t.Fatal(err)
		}
		if err := revoking.Verify(chain, []byte(tc.challenge)); tc.want != ErrChain && !errors.Is(err, ErrRevoked) {
			t.Errorf("%s revoked: %v", tc.dir, err)
		}
	}
	// Their key descriptions read: what the Java library's tests of the
	// same files expect, and the application ID.
	_, certs := loadAndroidSample(t, "android_ec_tee")
	var kd keyDescription
	for _, e := range certs[0].Extensions {
		if e.Id.Equal(oidKeyDescription) {
			if kd, err = parseKeyDescription(e.Value); err != nil {
				t.Fatal(err)
			}
		}
	}
	if kd.attestationVersion != 3 || kd.keymintVersion != 4 || kd.attestationLevel != TrustedEnvironment ||
		string(kd.challenge) != "abc" || kd.hardware.osPatchLevel != 201907 || kd.hardware.rootOfTrust.VerifiedBootState != 2 ||
		kd.hardware.rootOfTrust.DeviceLocked || len(kd.software.appID.Packages) != 13 ||
		!bytes.Equal(kd.software.appID.Digests[0], digest) || string(kd.software.appID.Packages[1].Name) != "com.android.keychain" {
		t.Fatalf("%+v", kd)
	}
}
