package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// AppleEnvironment is the App Attest environment whose attestations are
// accepted: the AAGUID of the authenticator data says which made it.
type AppleEnvironment uint8

const (
	// AppleProduction accepts attestations of apps signed for the App
	// Store, TestFlight and enterprise distribution (AAGUID "appattest"
	// and seven zero bytes). It is the zero value.
	AppleProduction AppleEnvironment = iota
	// AppleDevelopment accepts attestations of development builds only
	// (AAGUID "appattestdevelop"): for a test server, never production.
	AppleDevelopment
)

var (
	aaguidProduction  = []byte("appattest\x00\x00\x00\x00\x00\x00\x00")
	aaguidDevelopment = []byte("appattestdevelop")

	// oidAppleNonce is the credential certificate's extension that holds
	// SHA-256(authData ‖ clientDataHash).
	oidAppleNonce = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 8, 2}
)

// AppleConfig configures an [Apple] verifier.
type AppleConfig struct {
	// AppIDs are the app IDs accepted, each "TEAMID.bundle.id" (the team
	// ID, a dot, the bundle identifier): at least one.
	AppIDs []string
	// Environment is the environment accepted: production (the zero
	// value) or development.
	Environment AppleEnvironment
	// Roots are the trusted roots: nil selects AppleRoots(), Apple's App
	// Attest root CA shipped with this package.
	Roots *x509.CertPool
	// Now is the verification time (certificate validity): nil selects
	// time.Now.
	Now func() time.Time
}

// Apple verifies App Attest attestation objects ("Validating apps that
// connect to your server", Apple developer documentation, steps 1-9),
// offline: it never calls Apple. Safe for concurrent use.
type Apple struct {
	rpIDs  [][32]byte // SHA-256 of each accepted app ID
	appIDs []string
	aaguid []byte
	roots  *x509.CertPool
	now    func() time.Time
}

// AppleAttestation is what a verified attestation object says.
type AppleAttestation struct {
	AppID     string           // the accepted app ID it was made for
	KeyID     []byte           // App Attest's key identifier: the SHA-256 of PublicKey's uncompressed point
	PublicKey *ecdsa.PublicKey // the attested P-256 key (for App Attest assertions, if the service uses them)
	Receipt   []byte           // Apple's receipt, for the fraud metric a service may ask Apple for later
}

// NewApple checks cfg and returns its verifier.
func NewApple(cfg AppleConfig) (*Apple, error) {
	if len(cfg.AppIDs) == 0 {
		return nil, errors.New("attest: AppleConfig.AppIDs is empty")
	}
	a := &Apple{roots: cfg.Roots, now: cfg.Now}
	for _, id := range cfg.AppIDs {
		team, bundle, ok := bytes.Cut([]byte(id), []byte("."))
		if !ok || len(team) == 0 || len(bundle) == 0 {
			return nil, fmt.Errorf("attest: app ID %q is not TEAMID.bundle.id", id)
		}
		a.rpIDs = append(a.rpIDs, sha256.Sum256([]byte(id)))
		a.appIDs = append(a.appIDs, id)
	}
	switch cfg.Environment {
	case AppleProduction:
		a.aaguid = aaguidProduction
	case AppleDevelopment:
		a.aaguid = aaguidDevelopment
	default:
		return nil, fmt.Errorf("attest: AppleConfig.Environment %d unknown", cfg.Environment)
	}
	if a.roots == nil {
		a.roots = AppleRoots()
	}
	if a.now == nil {
		a.now = time.Now
	}
	return a, nil
}

// Verify checks an attestation object made with clientDataHash; it is
// [Apple.Check] without the result, and makes Apple a [Verifier].
func (a *Apple) Verify(attestation, clientDataHash []byte) error {
	_, err := a.Check(attestation, clientDataHash)
	return err
}

// Check verifies an App Attest attestation object (the CBOR that
// DCAppAttestService.attestKey returns) made with clientDataHash: for a
// keyline activation, the attestation challenge ([enroll.Offer.AttestationChallenge]).
// A refusal wraps one of the package's Err values; nothing is returned
// with it.
func (a *Apple) Check(attestation, clientDataHash []byte) (*AppleAttestation, error) {
	obj, err := parseAppleObject(attestation)
	if err != nil {
		return nil, err
	}
	// 1. The x5c chain, credential certificate first, to Apple's root.
	certs := make([]*x509.Certificate, len(obj.x5c))
	for i, der := range obj.x5c {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("%w: apple: certificate %d does not parse", ErrFormat, i)
		}
	}
	if err := verifyChain(certs, a.roots, a.now(), false); err != nil {
		return nil, fmt.Errorf("%w: apple: %w", ErrChain, err)
	}
	cred := certs[0]
	// 2-3. nonce = SHA-256(authData ‖ clientDataHash), in the credential
	// certificate's extension as SEQUENCE { [1] OCTET STRING }.
	h := sha256.New()
	h.Write(obj.authData)
	h.Write(clientDataHash)
	nonce := h.Sum(nil)
	sent, err := appleNonce(cred)
	if err != nil {
		return nil, err
	}
	// An empty clientDataHash binds nothing: a caller's bug, refused.
	if len(clientDataHash) == 0 || subtle.ConstantTimeCompare(sent, nonce) != 1 {
		return nil, fmt.Errorf("%w: apple: nonce", ErrChallenge)
	}
	// 4. The key ID is the SHA-256 of the credential certificate's key.
	pub, ok := cred.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: apple: credential certificate's key is not P-256", ErrKey)
	}
	point, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: apple: credential certificate's key", ErrKey)
	}
	keyID := sha256.Sum256(point)
	ad := obj.auth
	// 5. The RP ID hash is an accepted app ID's.
	app := -1
	for i, rp := range a.rpIDs {
		if bytes.Equal(ad.rpIDHash, rp[:]) {
			app = i
		}
	}
	if app < 0 {
		return nil, fmt.Errorf("%w: apple: RP ID hash is no accepted app ID's", ErrApp)
	}
	// 6. A new key's counter is 0.
	if ad.counter != 0 {
		return nil, fmt.Errorf("%w: apple: counter %d", ErrCounter, ad.counter)
	}
	// 7. The AAGUID is the accepted environment's.
	if !bytes.Equal(ad.aaguid, a.aaguid) {
		return nil, fmt.Errorf("%w: apple: AAGUID", ErrEnvironment)
	}
	// 8. The credential ID is the key ID.
	if !bytes.Equal(ad.credID, keyID[:]) {
		return nil, fmt.Errorf("%w: apple: credential ID is not the key's hash", ErrKey)
	}
	return &AppleAttestation{AppID: a.appIDs[app], KeyID: keyID[:], PublicKey: pub, Receipt: obj.receipt}, nil
}

// appleObject is a parsed attestation object.
type appleObject struct {
	x5c      [][]byte
	receipt  []byte
	authData []byte
	auth     authData
}

// authData is the part of WebAuthn's authenticator data App Attest
// checks (WebAuthn Level 2, §6.1): everything up to the credential's
// public key, which is left unread (the certificate carries the key).
type authData struct {
	rpIDHash []byte // 32 bytes
	flags    byte
	counter  uint32
	aaguid   []byte // 16 bytes
	credID   []byte
}

// flagAttested is the AT flag: attested credential data follows.
const flagAttested = 0x40

// parseAppleObject reads the CBOR map {fmt, attStmt {x5c, receipt},
// authData}, refusing anything else.
func parseAppleObject(b []byte) (appleObject, error) {
	v, err := parseCBOR(b)
	if err != nil {
		return appleObject{}, fmt.Errorf("apple: %w", err)
	}
	bad := func(what string) (appleObject, error) {
		return appleObject{}, fmt.Errorf("%w: apple: %s", ErrFormat, what)
	}
	if v.kind != cborMap || len(v.keys) != 3 {
		return bad("not a map of fmt, attStmt and authData")
	}
	f, ok1 := v.get("fmt")
	st, ok2 := v.get("attStmt")
	ad, ok3 := v.get("authData")
	if !ok1 || !ok2 || !ok3 {
		return bad("not a map of fmt, attStmt and authData")
	}
	if f.kind != cborText || string(f.str) != "apple-appattest" {
		return bad(`fmt is not "apple-appattest"`)
	}
	if st.kind != cborMap || len(st.keys) != 2 {
		return bad("attStmt is not a map of x5c and receipt")
	}
	x5c, ok1 := st.get("x5c")
	receipt, ok2 := st.get("receipt")
	if !ok1 || !ok2 || x5c.kind != cborArray || receipt.kind != cborBytes {
		return bad("attStmt is not a map of x5c and receipt")
	}
	// The credential certificate and Apple's intermediate; the root is
	// the verifier's own.
	if len(x5c.items) < 2 || len(x5c.items) > maxChain {
		return bad("x5c does not hold 2 to 8 certificates")
	}
	obj := appleObject{receipt: receipt.str}
	for _, c := range x5c.items {
		if c.kind != cborBytes {
			return bad("x5c holds other than byte strings")
		}
		obj.x5c = append(obj.x5c, c.str)
	}
	if ad.kind != cborBytes {
		return bad("authData is not a byte string")
	}
	obj.authData = ad.str
	if obj.auth, err = parseAuthData(ad.str); err != nil {
		return appleObject{}, err
	}
	return obj, nil
}

// parseAuthData reads rpIdHash(32) flags(1) signCount(4) aaguid(16)
// credentialIdLength(2) credentialId(L) and requires a public key after it.
func parseAuthData(b []byte) (authData, error) {
	bad := func(what string) (authData, error) {
		return authData{}, fmt.Errorf("%w: apple: authenticator data %s", ErrFormat, what)
	}
	const fixed = 32 + 1 + 4 + 16 + 2
	if len(b) < fixed {
		return bad("truncated")
	}
	d := authData{rpIDHash: b[:32], flags: b[32], counter: binary.BigEndian.Uint32(b[33:37]), aaguid: b[37:53]}
	if d.flags&flagAttested == 0 {
		return bad("without attested credential data")
	}
	n := int(binary.BigEndian.Uint16(b[53:55]))
	rest := b[fixed:]
	// The credential ID is App Attest's key ID, a SHA-256; a public key
	// follows it.
	if n != sha256.Size {
		return bad("credential ID is not 32 bytes")
	}
	if len(rest) <= n {
		return bad("truncated")
	}
	d.credID = rest[:n]
	return d, nil
}

// appleNonce reads the credential certificate's nonce extension.
func appleNonce(c *x509.Certificate) ([]byte, error) {
	var found []byte
	for _, e := range c.Extensions {
		if e.Id.Equal(oidAppleNonce) {
			if found != nil {
				return nil, fmt.Errorf("%w: apple: nonce extension twice", ErrFormat)
			}
			found = e.Value
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: apple: no nonce extension", ErrFormat)
	}
	var ext struct {
		Nonce []byte `asn1:"explicit,tag:1"`
	}
	if rest, err := asn1.Unmarshal(found, &ext); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: apple: nonce extension does not parse", ErrFormat)
	}
	return ext.Nonce, nil
}
