package attest

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"testing"
	"time"
)

const testPackage = "com.example.keyline"

var testSigner = sha256.Sum256([]byte("the app's signing certificate"))

// androidCase describes a key description to make; the zero value
// (after defaults) is a valid one.
type androidCase struct {
	challenge            []byte
	attLevel, kmLevel    *SecurityLevel
	bootState            int
	unlocked             bool
	noRootOfTrust        bool
	rootOfTrustSoftware  bool // the root of trust only in the software-enforced list
	origin               int
	pkg                  string
	digests              [][]byte
	otherRoot            bool
	version              int
	extraSoftwareEntries bool      // entries this reader does not know, before the ones it reads
	leafFrom             time.Time // the leaf's validity starts then (the phone's clock), and runs to 2106
	batchExpired         bool      // the attestation key's certificate expired before testNow
}

func level(l SecurityLevel) *SecurityLevel { return &l }

// entry is an authorization-list entry: [tag] EXPLICIT inner.
func entry(t testing.TB, tag int, inner any) []byte {
	t.Helper()
	der, err := asn1.Marshal(inner)
	if err != nil {
		t.Fatal(err)
	}
	b, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: der})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func seq(entries ...[]byte) asn1.RawValue {
	var b []byte
	for _, e := range entries {
		b = append(b, e...)
	}
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: b}
}

func keyDescriptionDER(t testing.TB, c androidCase) []byte {
	t.Helper()
	if c.attLevel == nil {
		c.attLevel = level(TrustedEnvironment)
	}
	if c.kmLevel == nil {
		c.kmLevel = level(TrustedEnvironment)
	}
	if c.pkg == "" {
		c.pkg = testPackage
	}
	if c.digests == nil {
		c.digests = [][]byte{testSigner[:]}
	}
	if c.version == 0 {
		c.version = 200
	}
	appID, err := asn1.Marshal(applicationID{Packages: []packageInfo{{Name: []byte(c.pkg), Version: 42}}, Digests: c.digests})
	if err != nil {
		t.Fatal(err)
	}
	rot := entry(t, tagRootOfTrust, rootOfTrust{VerifiedBootKey: make([]byte, 32), DeviceLocked: !c.unlocked,
		VerifiedBootState: asn1.Enumerated(c.bootState), VerifiedBootHash: make([]byte, 32)})
	var sw, hw [][]byte
	if c.extraSoftwareEntries {
		sw = append(sw, entry(t, 1, []int{2, 3}), entry(t, 701, int64(1700000000000)))
	}
	sw = append(sw, entry(t, tagApplicationID, appID))
	hw = append(hw, entry(t, 1, []int{2}), entry(t, tagOrigin, c.origin))
	switch {
	case c.rootOfTrustSoftware:
		sw = append(sw, rot)
	case !c.noRootOfTrust:
		hw = append(hw, rot)
	}
	hw = append(hw, entry(t, tagOSPatchLevel, 202605))
	der, err := asn1.Marshal(rawKeyDescription{
		AttestationVersion: c.version, AttestationSecurityLevel: asn1.Enumerated(*c.attLevel),
		KeymintVersion: c.version, KeymintSecurityLevel: asn1.Enumerated(*c.kmLevel),
		AttestationChallenge: c.challenge, UniqueID: []byte{},
		SoftwareEnforced: seq(sw...), HardwareEnforced: seq(hw...),
	})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// androidChain is a made attestation: the chain, the pool trusting its
// root, and its certificates (leaf, attestation key, root).
type androidChain struct {
	att   []byte
	roots *x509.CertPool
	certs []*x509.Certificate
}

func makeAndroid(t testing.TB, c androidCase) androidChain {
	t.Helper()
	root := newRoot(t, "test attestation root")
	var batch *testCA
	if c.batchExpired {
		k := newKey(t)
		batch = &testCA{issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test TEE attestation key"}, IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: testNow.AddDate(-10, 0, 0),
			NotAfter: testNow.Add(-time.Minute)}, &k.PublicKey, root, nil), k}
	} else {
		batch = root.intermediate(t, "test TEE attestation key")
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "Android Keystore Key"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: oidKeyDescription, Value: keyDescriptionDER(t, c)}}}
	if !c.leafFrom.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = c.leafFrom, time.Date(2106, 2, 7, 6, 28, 15, 0, time.UTC)
	}
	leaf := issue(t, tmpl, &newKey(t).PublicKey, batch, nil)
	ch := androidChain{att: lpChain(leaf, batch.cert, root.cert), roots: root.pool(),
		certs: []*x509.Certificate{leaf, batch.cert, root.cert}}
	if c.otherRoot {
		ch.roots = newRoot(t, "another root").pool()
	}
	return ch
}

func newTestAndroid(t testing.TB, roots *x509.CertPool, l *StatusList, strongbox bool) *Android {
	t.Helper()
	a, err := NewAndroid(AndroidConfig{
		Apps: []AndroidApp{{Package: "com.example.other", SignerDigests: [][]byte{make([]byte, 32)}},
			{Package: testPackage, SignerDigests: [][]byte{make([]byte, 32), testSigner[:]}}},
		RequireStrongBox: strongbox, Roots: roots, StatusList: l, NoStatusList: l == nil, Now: fixedNow(testNow),
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAndroidAccepts(t *testing.T) {
	ch := testChallenge("activation 1")
	for _, c := range []androidCase{
		{challenge: ch},
		{challenge: ch, version: 3},
		{challenge: ch, extraSoftwareEntries: true},
		{challenge: ch, attLevel: level(StrongBox), kmLevel: level(StrongBox)},
		// The phone's clock an hour ahead when it made the key: the leaf's
		// period, which the keystore writes, is not the server's concern.
		{challenge: ch, leafFrom: testNow.Add(time.Hour)},
		{challenge: ch, leafFrom: time.Unix(0, 0)},
	} {
		mc := makeAndroid(t, c)
		got, err := newTestAndroid(t, mc.roots, nil, false).Check(mc.att, ch)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if got.Package != testPackage || got.PackageVersion != 42 || got.OSPatchLevel != 202605 || len(got.VerifiedBootKey) != 32 {
			t.Fatalf("%+v", got)
		}
	}
	// StrongBox required: a StrongBox key passes.
	mc := makeAndroid(t, androidCase{challenge: ch, attLevel: level(StrongBox), kmLevel: level(StrongBox)})
	got, err := newTestAndroid(t, mc.roots, nil, true).Check(mc.att, ch)
	if err != nil || got.SecurityLevel != StrongBox {
		t.Fatal(got, err)
	}
}

// TestAndroidRefuses alters each checked field of a valid attestation
// and expects its own refusal.
func TestAndroidRefuses(t *testing.T) {
	ch := testChallenge("activation 1")
	other := sha256.Sum256([]byte("a repackager's key"))
	for _, tc := range []struct {
		name      string
		c         androidCase
		strongbox bool
		want      error
	}{
		{"challenge of another activation", androidCase{challenge: testChallenge("activation 2")}, false, ErrChallenge},
		{"no challenge", androidCase{}, false, ErrChallenge},
		{"chain to an untrusted root", androidCase{challenge: ch, otherRoot: true}, false, ErrChain},
		{"attestation key's certificate expired", androidCase{challenge: ch, batchExpired: true}, false, ErrChain},
		{"boot state self-signed", androidCase{challenge: ch, bootState: 1}, false, ErrBootState},
		{"boot state unverified", androidCase{challenge: ch, bootState: 2}, false, ErrBootState},
		{"boot state failed", androidCase{challenge: ch, bootState: 3}, false, ErrBootState},
		{"bootloader unlocked", androidCase{challenge: ch, unlocked: true}, false, ErrBootState},
		{"no root of trust", androidCase{challenge: ch, noRootOfTrust: true}, false, ErrBootState},
		{"root of trust software-enforced only", androidCase{challenge: ch, rootOfTrustSoftware: true}, false, ErrBootState},
		{"software attestation", androidCase{challenge: ch, attLevel: level(Software)}, false, ErrSecurityLevel},
		{"software key", androidCase{challenge: ch, kmLevel: level(Software)}, false, ErrSecurityLevel},
		{"unknown level", androidCase{challenge: ch, kmLevel: level(3)}, false, ErrSecurityLevel},
		{"TEE key, StrongBox required", androidCase{challenge: ch}, true, ErrSecurityLevel},
		{"imported key", androidCase{challenge: ch, origin: 2}, false, ErrKey},
		{"another package", androidCase{challenge: ch, pkg: "com.example.evil"}, false, ErrApp},
		{"another signer", androidCase{challenge: ch, digests: [][]byte{other[:]}}, false, ErrSigner},
		{"an accepted and another signer", androidCase{challenge: ch, digests: [][]byte{testSigner[:], other[:]}}, false, ErrSigner},
		{"no signer", androidCase{challenge: ch, digests: [][]byte{}}, false, ErrSigner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mc := makeAndroid(t, tc.c)
			got, err := newTestAndroid(t, mc.roots, nil, tc.strongbox).Check(mc.att, ch)
			if !errors.Is(err, tc.want) || got != nil {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			for _, o := range allErrs {
				if o != tc.want && errors.Is(err, o) {
					t.Fatalf("%v also is %v", err, o)
				}
			}
		})
	}
}

// TestAndroidRevoked: a listed serial of any certificate of the chain
// refuses it, and SetStatusList swaps the list in.
func TestAndroidRevoked(t *testing.T) {
	ch := testChallenge("activation 1")
	mc := makeAndroid(t, androidCase{challenge: ch})
	empty, err := ParseStatusList([]byte(`{"entries": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	a := newTestAndroid(t, mc.roots, empty, false)
	if err := a.Verify(mc.att, ch); err != nil {
		t.Fatal(err)
	}
	for i, c := range mc.certs {
		for _, status := range []string{"REVOKED", "SUSPENDED", "SOMETHING_NEW"} {
			l, err := ParseStatusList(fmt.Appendf(nil, `{"entries": {"%x": {"status": %q, "reason": "KEY_COMPROMISE"}}}`, c.SerialNumber, status))
			if err != nil {
				t.Fatal(err)
			}
			a.SetStatusList(l)
			if err := a.Verify(mc.att, ch); !errors.Is(err, ErrRevoked) {
				t.Fatalf("certificate %d %s: %v", i, status, err)
			}
		}
	}
	a.SetStatusList(empty)
	if err := a.Verify(mc.att, ch); err != nil {
		t.Fatal(err)
	}
}

func TestAndroidChainFraming(t *testing.T) {
	ch := testChallenge("x")
	mc := makeAndroid(t, androidCase{challenge: ch})
	a := newTestAndroid(t, mc.roots, nil, false)
	// Without the root, at a certificate's end, the chain still leads to
	// the trusted root: sending the root is optional.
	noRoot := len(lpChain(mc.certs[0], mc.certs[1]))
	if err := a.Verify(mc.att[:noRoot], ch); err != nil {
		t.Fatal(err)
	}
	for n := range len(mc.att) {
		if n == noRoot {
			continue
		}
		if err := a.Verify(mc.att[:n], ch); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	for _, bad := range [][]byte{
		append(append([]byte(nil), mc.att...), 0),
		append(append([]byte(nil), mc.att...), 0, 0, 0, 0),
		lpChain(mc.certs[0]),
		lpChain(mc.certs[0], mc.certs[1], mc.certs[1], mc.certs[1], mc.certs[1], mc.certs[1], mc.certs[1], mc.certs[1], mc.certs[2]),
	} {
		if err := a.Verify(bad, ch); !errors.Is(err, ErrFormat) {
			t.Fatalf("%x...: %v", bad[:8], err)
		}
	}
	// The attestation key's certificate first: it has no key description.
	if err := a.Verify(lpChain(mc.certs[1], mc.certs[2]), ch); !errors.Is(err, ErrFormat) {
		t.Fatal(err)
	}
}

func TestNewAndroidRefusesConfig(t *testing.T) {
	ok := AndroidApp{Package: testPackage, SignerDigests: [][]byte{testSigner[:]}}
	for _, cfg := range []AndroidConfig{
		{NoStatusList: true},
		{Apps: []AndroidApp{ok}},
		{Apps: []AndroidApp{{Package: testPackage}}, NoStatusList: true},
		{Apps: []AndroidApp{{SignerDigests: ok.SignerDigests}}, NoStatusList: true},
		{Apps: []AndroidApp{{Package: testPackage, SignerDigests: [][]byte{{1, 2}}}}, NoStatusList: true},
	} {
		if _, err := NewAndroid(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

func TestParseStatusList(t *testing.T) {
	l, err := ParseStatusList([]byte(`{"entries": {"00C35A": {"status": "REVOKED"}, "2c8cdddfd5e03bfc": {"status": "SUSPENDED", "reason": "SOFTWARE_FLAW", "comment": "x", "expires": "2020-11-13"}}}`))
	if err != nil || l.Len() != 2 {
		t.Fatal(l, err)
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"entries": {"xyz": {}}}`, `{"entries": {"-1": {}}}`, `{"entries": {"+1": {}}}`, `{"entries": {}} {}`} {
		if _, err := ParseStatusList([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func pkixKeyDescription(t testing.TB, c androidCase) pkix.Extension {
	return pkix.Extension{Id: oidKeyDescription, Value: keyDescriptionDER(t, c)}
}

// TestEmptyChallengeRefused: a caller that passes no challenge (a bug)
// is refused, even for an attestation made with none: an empty challenge
// binds nothing.
func TestEmptyChallengeRefused(t *testing.T) {
	mc := makeAndroid(t, androidCase{challenge: []byte{}})
	if err := newTestAndroid(t, mc.roots, nil, false).Verify(mc.att, nil); !errors.Is(err, ErrChallenge) {
		t.Errorf("android: %v", err)
	}
	obj, roots := makeApple(t, appleCase{})
	if err := newTestApple(t, roots, AppleProduction).Verify(obj, nil); !errors.Is(err, ErrChallenge) {
		t.Errorf("apple: %v", err)
	}
}
