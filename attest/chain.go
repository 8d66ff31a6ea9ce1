package attest

import (
	"crypto/x509"
	"errors"
	"time"
)

// maxChain bounds the certificates of an attestation: App Attest sends 2,
// Android 3 to 5.
const maxChain = 8

// verifyChain checks that certs[0] chains to one of roots at now, through
// certs[1:] (a root sent along is used only if it is one of roots: the
// pool decides what is trusted). Extended key usages are not checked:
// attestation certificates carry none, or vendor-specific ones.
//
// With deviceLeaf, the leaf's own validity period is not checked: an
// Android keystore writes it from the phone's clock when it makes the key
// (or as 1970 to 2106), so it carries no CA's word, and a phone whose
// clock is ahead of the server's would otherwise be refused for a
// certificate "not yet valid". Its signature, and every other
// certificate's validity, are checked.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, now time.Time, deviceLeaf bool) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	leaf := certs[0]
	if deviceLeaf {
		// A copy whose period holds now; the signature covers
		// RawTBSCertificate, which the copy keeps unchanged.
		c := *leaf
		c.NotBefore, c.NotAfter = now.Add(-time.Second), now.Add(time.Second)
		leaf = &c
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err == nil {
		return nil
	}
	// The reason in a few fixed words: crypto/x509's texts quote the
	// certificates' names, which the phone chose.
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return errors.New("a certificate is expired or not yet valid")
	case errors.As(err, &unknown):
		return errors.New("no trusted root signed it")
	default:
		return errors.New("a signature or a CA constraint does not verify")
	}
}
