package attest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// AndroidApp is an app whose attested keys are accepted.
type AndroidApp struct {
	// Package is the app's package name ("com.example.keyline").
	Package string
	// SignerDigests are the SHA-256 digests of the app's signing
	// certificates (32 bytes each; `apksigner verify --print-certs`
	// shows them): at least one. Every digest the attestation lists must
	// be among them.
	SignerDigests [][]byte
}

// AndroidConfig configures an [Android] verifier.
type AndroidConfig struct {
	// Apps are the apps accepted: at least one.
	Apps []AndroidApp
	// RequireStrongBox accepts only keys (and attestations) of a
	// StrongBox secure element; by default a TEE is enough. Software
	// keys are never accepted.
	RequireStrongBox bool
	// Roots are the trusted roots: nil selects GoogleRoots(), Google's
	// hardware attestation roots shipped with this package.
	Roots *x509.CertPool
	// StatusList is Google's revocation list (see [ParseStatusList]);
	// refresh it with [Android.SetStatusList]. Without one, NewAndroid
	// fails unless NoStatusList says so.
	StatusList *StatusList
	// NoStatusList accepts running without a revocation list: a revoked
	// attestation key (a leaked one, in a rooting tool) then passes.
	NoStatusList bool
	// Now is the verification time (certificate validity): nil selects
	// time.Now.
	Now func() time.Time
}

// Android verifies Android Key Attestation certificate chains
// ("Verify hardware-backed key pairs with key attestation", Android
// developer documentation), offline: it never calls Google. Safe for
// concurrent use.
type Android struct {
	apps     []AndroidApp
	minLevel SecurityLevel
	roots    *x509.CertPool
	status   atomic.Pointer[StatusList]
	now      func() time.Time
}

// AndroidAttestation is what a verified attestation says.
type AndroidAttestation struct {
	Package            string        // the accepted package the key was made for
	PackageVersion     int64         // its version code
	SecurityLevel      SecurityLevel // the key's (the lower of the key's and the attestation's)
	AttestationVersion int           // the key description's version (3: Keymaster 4; 100, 200, ...: KeyMint)
	VerifiedBootKey    []byte        // the digest of the key that verified the boot image
	OSPatchLevel       int64         // YYYYMM, 0 when not attested
}

// NewAndroid checks cfg and returns its verifier.
func NewAndroid(cfg AndroidConfig) (*Android, error) {
	if len(cfg.Apps) == 0 {
		return nil, errors.New("attest: AndroidConfig.Apps is empty")
	}
	for _, app := range cfg.Apps {
		if app.Package == "" || len(app.SignerDigests) == 0 {
			return nil, errors.New("attest: an AndroidApp without a package name or signer digest")
		}
		for _, d := range app.SignerDigests {
			if len(d) != sha256.Size {
				return nil, fmt.Errorf("attest: signer digest of %q is not 32 bytes", app.Package)
			}
		}
	}
	if cfg.StatusList == nil && !cfg.NoStatusList {
		return nil, errors.New("attest: AndroidConfig.StatusList is nil and NoStatusList not set")
	}
	a := &Android{apps: cfg.Apps, minLevel: TrustedEnvironment, roots: cfg.Roots, now: cfg.Now}
	if cfg.RequireStrongBox {
		a.minLevel = StrongBox
	}
	if a.roots == nil {
		a.roots = GoogleRoots()
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.status.Store(cfg.StatusList)
	return a, nil
}

// SetStatusList replaces the revocation list (safe while verifying): a
// service fetches Google's list on its own schedule (daily, say) and
// hands it over. A nil list is ignored.
func (a *Android) SetStatusList(l *StatusList) {
	if l != nil {
		a.status.Store(l)
	}
}

// Verify checks an attestation chain made for challenge; it is
// [Android.Check] without the result, and makes Android a [Verifier].
func (a *Android) Verify(attestation, challenge []byte) error {
	_, err := a.Check(attestation, challenge)
	return err
}

// Check verifies an Android Key Attestation: the attested key's
// certificate chain, leaf first, each certificate as lp(DER) (a 4-byte
// big-endian length, then the certificate; PROTOCOL.md, "Attestation
// binding"), made with challenge as the key's attestation challenge: for
// a keyline activation, [enroll.Offer.AttestationChallenge]. A refusal
// wraps one of the package's Err values; nothing is returned with it.
func (a *Android) Check(attestation, challenge []byte) (*AndroidAttestation, error) {
	ders, err := splitChain(attestation)
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(ders))
	for i, der := range ders {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%w: android: certificate %d does not parse", ErrFormat, i)
		}
	}
	if err := verifyChain(certs, a.roots, a.now(), true); err != nil {
		return nil, fmt.Errorf("%w: android: %w", ErrChain, err)
	}
	if l := a.status.Load(); l != nil {
		for i, c := range certs {
			if st, ok := l.status(c.SerialNumber); ok {
				return nil, fmt.Errorf("%w: android: certificate %d is %s", ErrRevoked, i, statusWord(st))
			}
		}
	}
	var ext []byte
	for _, e := range certs[0].Extensions {
		if e.Id.Equal(oidKeyDescription) {
			if ext != nil {
				return nil, fmt.Errorf("%w: android: key description twice", ErrFormat)
			}
			ext = e.Value
		}
	}
	if ext == nil {
		return nil, fmt.Errorf("%w: android: no key description", ErrFormat)
	}
	kd, err := parseKeyDescription(ext)
	if err != nil {
		return nil, err
	}
	if len(challenge) == 0 || subtle.ConstantTimeCompare(kd.challenge, challenge) != 1 {
		return nil, fmt.Errorf("%w: android: attestationChallenge", ErrChallenge)
	}
	if !levelOK(kd.attestationLevel, a.minLevel) || !levelOK(kd.keymintLevel, a.minLevel) {
		return nil, fmt.Errorf("%w: android: %s attestation of a %s key, %s required",
			ErrSecurityLevel, kd.attestationLevel, kd.keymintLevel, a.minLevel)
	}
	hw := kd.hardware
	// The root of trust counts only as the secure hardware states it.
	if !hw.has[tagRootOfTrust] {
		return nil, fmt.Errorf("%w: android: no root of trust in the hardware-enforced list", ErrBootState)
	}
	if rot := hw.rootOfTrust; rot.VerifiedBootState != verifiedBootVerified || !rot.DeviceLocked {
		return nil, fmt.Errorf("%w: android: verified boot state %d, locked %t", ErrBootState, rot.VerifiedBootState, rot.DeviceLocked)
	}
	if !hw.has[tagOrigin] || hw.origin != keyOriginGenerated {
		return nil, fmt.Errorf("%w: android: key not generated in the keystore", ErrKey)
	}
	// The application ID is the OS's statement (software-enforced): the
	// keystore records which app asked for the key.
	id := kd.software.appID
	if !kd.software.has[tagApplicationID] {
		if !hw.has[tagApplicationID] {
			return nil, fmt.Errorf("%w: android: no attestation application ID", ErrApp)
		}
		id = hw.appID
	}
	app, version, ok := a.matchApp(id)
	if !ok {
		return nil, fmt.Errorf("%w: android: package name", ErrApp)
	}
	if !signersOK(id.Digests, app.SignerDigests) {
		return nil, fmt.Errorf("%w: android: signing certificate digest", ErrSigner)
	}
	level := min(kd.attestationLevel, kd.keymintLevel)
	patch := hw.osPatchLevel
	return &AndroidAttestation{Package: app.Package, PackageVersion: version, SecurityLevel: level,
		AttestationVersion: kd.attestationVersion, VerifiedBootKey: hw.rootOfTrust.VerifiedBootKey, OSPatchLevel: patch}, nil
}

// matchApp returns the accepted app among the attested packages (more
// than one share an Android user ID).
func (a *Android) matchApp(id applicationID) (AndroidApp, int64, bool) {
	for _, p := range id.Packages {
		for _, app := range a.apps {
			if string(p.Name) == app.Package {
				return app, p.Version, true
			}
		}
	}
	return AndroidApp{}, 0, false
}

// signersOK reports whether the attestation lists a signer digest and
// each one is accepted.
func signersOK(got, accepted [][]byte) bool {
	if len(got) == 0 {
		return false
	}
	for _, g := range got {
		found := false
		for _, d := range accepted {
			found = found || bytes.Equal(g, d)
		}
		if !found {
			return false
		}
	}
	return true
}

// statusWord names a status list entry in the refusal's text: Google's
// two statuses, or "listed" for another (still refused).
func statusWord(s string) string {
	switch s {
	case "REVOKED", "SUSPENDED":
		return s
	}
	return "listed"
}

// splitChain reads lp(certificate) fields, leaf first: 2 to 8 of them,
// none empty, nothing after the last.
func splitChain(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: android: chain truncated", ErrFormat)
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if n == 0 || uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: android: chain's certificate length", ErrFormat)
		}
		if len(out) == maxChain {
			return nil, fmt.Errorf("%w: android: more than %d certificates", ErrFormat, maxChain)
		}
		out = append(out, b[:n:n])
		b = b[n:]
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%w: android: fewer than 2 certificates", ErrFormat)
	}
	return out, nil
}
