package attest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"math/big"
	"testing"
	"time"
)

// The test PKI: chains a test makes under a root of its own, standing for
// Apple's or Google's, with the verification time fixed.

// testNow is the verification time of the made chains.
var testNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serials = big.NewInt(1000)

func nextSerial() *big.Int {
	serials.Add(serials, big.NewInt(1))
	return new(big.Int).Set(serials)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue makes a certificate for pub signed by parent (nil: self-signed
// with key).
func issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey, parent *testCA, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	tmpl.SerialNumber = nextSerial()
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = testNow.Add(-24*time.Hour), testNow.Add(24*time.Hour)
	}
	p, signer := tmpl, key
	if parent != nil {
		p, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newRoot(t testing.TB, name string) *testCA {
	k := newKey(t)
	c := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, &k.PublicKey, nil, k)
	return &testCA{c, k}
}

func (ca *testCA) intermediate(t testing.TB, name string) *testCA {
	k := newKey(t)
	c := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, &k.PublicKey, ca, nil)
	return &testCA{c, k}
}

// leaf makes an end-entity certificate for key with the extensions given.
func (ca *testCA) leaf(t testing.TB, key *ecdsa.PrivateKey, ext ...pkix.Extension) *x509.Certificate {
	return issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "attested key"}, ExtraExtensions: ext,
		KeyUsage: x509.KeyUsageDigitalSignature}, &key.PublicKey, ca, nil)
}

func (ca *testCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// lpChain writes certificates as the Android attestation: lp(DER) each.
func lpChain(certs ...*x509.Certificate) []byte {
	var b []byte
	for _, c := range certs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(c.Raw)))
		b = append(b, c.Raw...)
	}
	return b
}

// fixedNow is a clock for the verifiers.
func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }
