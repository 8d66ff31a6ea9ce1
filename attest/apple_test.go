package attest

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

const testAppID = "ABCDE12345.com.example.keyline"

// appleCase describes an attestation object to make; the zero value
// (after defaults) is a valid one for testAppID in production.
type appleCase struct {
	appID     string
	counter   uint32
	aaguid    []byte
	challenge []byte // what the phone attested: the nonce's clientDataHash
	credID    []byte // nil: SHA-256 of the key
	noAT      bool
	otherRoot bool      // the chain leads to a root the verifier does not trust
	notAfter  time.Time // the credential certificate's end of validity, if set
	fmt       string
}

// makeApple makes an attestation object under a test root and returns
// it with the pool that trusts the root.
func makeApple(t testing.TB, c appleCase) ([]byte, *x509.CertPool) {
	t.Helper()
	if c.appID == "" {
		c.appID = testAppID
	}
	if c.aaguid == nil {
		c.aaguid = aaguidProduction
	}
	if c.fmt == "" {
		c.fmt = "apple-appattest"
	}
	root := newRoot(t, "test App Attest root")
	inter := root.intermediate(t, "test App Attest CA 1")
	key := newKey(t)
	point, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	keyID := sha256.Sum256(point)
	if c.credID == nil {
		c.credID = keyID[:]
	}
	rp := sha256.Sum256([]byte(c.appID))
	ad := append([]byte(nil), rp[:]...)
	flags := byte(flagAttested)
	if c.noAT {
		flags = 0
	}
	ad = append(ad, flags)
	ad = binary.BigEndian.AppendUint32(ad, c.counter)
	ad = append(ad, c.aaguid...)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(c.credID)))
	ad = append(ad, c.credID...)
	ad = append(ad, 0xa0) // the credential public key, as an (empty) COSE map: left unread
	h := sha256.New()
	h.Write(ad)
	h.Write(c.challenge)
	ext, err := asn1.Marshal(struct {
		Nonce []byte `asn1:"explicit,tag:1"`
	}{h.Sum(nil)})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "credential"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidAppleNonce, Value: ext}}}
	if !c.notAfter.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = c.notAfter.Add(-72*time.Hour), c.notAfter
	}
	cred := issue(t, tmpl, &key.PublicKey, inter, nil)
	obj := cborMapOf(
		cborTextOf("fmt"), cborTextOf(c.fmt),
		cborTextOf("attStmt"), cborMapOf(
			cborTextOf("x5c"), cborArrayOf(cborBytesOf(cred.Raw), cborBytesOf(inter.cert.Raw)),
			cborTextOf("receipt"), cborBytesOf([]byte("receipt"))),
		cborTextOf("authData"), cborBytesOf(ad))
	if c.otherRoot {
		return obj, newRoot(t, "another root").pool()
	}
	return obj, root.pool()
}

func testChallenge(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newTestApple(t testing.TB, roots *x509.CertPool, env AppleEnvironment) *Apple {
	t.Helper()
	a, err := NewApple(AppleConfig{AppIDs: []string{"OTHER12345.com.example.other", testAppID}, Environment: env,
		Roots: roots, Now: fixedNow(testNow)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAppleAccepts(t *testing.T) {
	ch := testChallenge("activation 1")
	for _, env := range []AppleEnvironment{AppleProduction, AppleDevelopment} {
		aaguid := aaguidProduction
		if env == AppleDevelopment {
			aaguid = aaguidDevelopment
		}
		obj, roots := makeApple(t, appleCase{challenge: ch, aaguid: aaguid})
		got, err := newTestApple(t, roots, env).Check(obj, ch)
		if err != nil {
			t.Fatalf("environment %d: %v", env, err)
		}
		if got.AppID != testAppID || len(got.KeyID) != 32 || string(got.Receipt) != "receipt" || got.PublicKey == nil {
			t.Fatalf("environment %d: %+v", env, got)
		}
	}
}

// TestAppleRefuses alters each checked field of a valid attestation and
// expects its own refusal.
func TestAppleRefuses(t *testing.T) {
	ch := testChallenge("activation 1")
	for _, tc := range []struct {
		name  string
		c     appleCase
		check []byte // the challenge the server expects; nil: ch
		want  error
	}{
		{"nonce of another challenge", appleCase{challenge: testChallenge("activation 2")}, nil, ErrChallenge},
		{"server expects another challenge", appleCase{challenge: ch}, testChallenge("other"), ErrChallenge},
		{"another app ID", appleCase{challenge: ch, appID: "ABCDE12345.com.example.evil"}, nil, ErrApp},
		{"another team", appleCase{challenge: ch, appID: "ZZZZZ99999.com.example.keyline"}, nil, ErrApp},
		{"chain to an untrusted root", appleCase{challenge: ch, otherRoot: true}, nil, ErrChain},
		{"expired credential certificate", appleCase{challenge: ch, notAfter: testNow.Add(-time.Hour)}, nil, ErrChain},
		{"counter 1", appleCase{challenge: ch, counter: 1}, nil, ErrCounter},
		{"development AAGUID in production", appleCase{challenge: ch, aaguid: aaguidDevelopment}, nil, ErrEnvironment},
		{"unknown AAGUID", appleCase{challenge: ch, aaguid: []byte("appattestXXXXXXX")}, nil, ErrEnvironment},
		{"credential ID not the key's hash", appleCase{challenge: ch, credID: testChallenge("another key")}, nil, ErrKey},
		{"credential ID of 16 bytes", appleCase{challenge: ch, credID: make([]byte, 16)}, nil, ErrFormat},
		{"no attested credential data", appleCase{challenge: ch, noAT: true}, nil, ErrFormat},
		{"another format", appleCase{challenge: ch, fmt: "packed"}, nil, ErrFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj, roots := makeApple(t, tc.c)
			want := tc.check
			if want == nil {
				want = ch
			}
			got, err := newTestApple(t, roots, AppleProduction).Check(obj, want)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			for _, other := range allErrs {
				if other != tc.want && errors.Is(err, other) {
					t.Fatalf("%v also is %v", err, other)
				}
			}
		})
	}
}

var allErrs = []error{ErrMissing, ErrPlatform, ErrFormat, ErrChain, ErrRevoked, ErrChallenge, ErrApp, ErrSigner,
	ErrKey, ErrCounter, ErrEnvironment, ErrSecurityLevel, ErrBootState}

// TestAppleDevelopmentRefusesProduction: a development server takes
// development attestations only.
func TestAppleDevelopmentRefusesProduction(t *testing.T) {
	ch := testChallenge("x")
	obj, roots := makeApple(t, appleCase{challenge: ch})
	if err := newTestApple(t, roots, AppleDevelopment).Verify(obj, ch); !errors.Is(err, ErrEnvironment) {
		t.Fatal(err)
	}
}

// TestAppleTruncations: every truncation of a valid object is refused as
// not well formed.
func TestAppleTruncations(t *testing.T) {
	ch := testChallenge("x")
	obj, roots := makeApple(t, appleCase{challenge: ch})
	a := newTestApple(t, roots, AppleProduction)
	for n := range len(obj) {
		if err := a.Verify(obj[:n], ch); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if err := a.Verify(append(obj, 0), ch); !errors.Is(err, ErrFormat) {
		t.Fatalf("a byte more: %v", err)
	}
}

func TestNewAppleRefusesConfig(t *testing.T) {
	for _, cfg := range []AppleConfig{
		{},
		{AppIDs: []string{"nodot"}},
		{AppIDs: []string{".bundle"}},
		{AppIDs: []string{"TEAM."}},
		{AppIDs: []string{testAppID}, Environment: 7},
	} {
		if _, err := NewApple(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
