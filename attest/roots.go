package attest

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
)

// The roots shipped with the package; roots/README.md says where each
// comes from and how to refresh them.
var (
	//go:embed roots/apple_app_attest_root_ca.pem
	appleRootsPEM []byte
	//go:embed roots/google_hardware_attestation_roots.pem
	googleRootsPEM []byte
)

// AppleRoots returns a new pool of the App Attest roots shipped with the
// package: Apple's App Attestation Root CA (valid 2020-03-18 to
// 2045-03-15).
func AppleRoots() *x509.CertPool { return mustRoots(appleRootsPEM) }

// GoogleRoots returns a new pool of the Android hardware attestation
// roots shipped with the package: Google's RSA root key in its four
// certificates (2016, 2019, 2021, 2022) and the ECDSA P-384 "Key
// Attestation CA1" (2025).
func GoogleRoots() *x509.CertPool { return mustRoots(googleRootsPEM) }

func mustRoots(b []byte) *x509.CertPool {
	p, err := ParseRoots(b)
	if err != nil {
		panic(err) // the embedded files; TestShippedRoots reads them
	}
	return p
}

// ParseRoots reads PEM certificates (text between the blocks is ignored)
// into a pool: how a service that refreshes its roots loads them, for
// AppleConfig.Roots or AndroidConfig.Roots. It refuses a block that is
// not a certificate, a certificate that is not a self-signed CA, and an
// input without one.
func ParseRoots(b []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("attest: roots: a %q block", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("attest: roots: certificate %d does not parse: %w", n, err)
		}
		if !c.IsCA || c.CheckSignatureFrom(c) != nil {
			return nil, fmt.Errorf("attest: roots: certificate %d is not a self-signed CA", n)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New("attest: roots: no certificate")
	}
	return pool, nil
}
