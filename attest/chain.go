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
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, now time.Time) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
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
