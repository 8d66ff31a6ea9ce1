package attest

import (
	"encoding/asn1"
	"fmt"
)

// The Android key description (the KeyDescription extension of an
// attested key's certificate), as the Android Open Source Project
// documents it ("Key and ID attestation", source.android.com), read with
// encoding/asn1. Only what the verifier checks is kept; the other
// authorization-list entries are skipped by tag, so that a key
// description of a newer version, with entries this reader does not
// know, still reads.

// oidKeyDescription is the extension that holds the KeyDescription.
var oidKeyDescription = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 1, 17}

// SecurityLevel is where Android keeps a key, or made its attestation.
type SecurityLevel int

// The security levels, as the key description numbers them.
const (
	Software           SecurityLevel = 0 // the Android OS: not hardware-backed
	TrustedEnvironment SecurityLevel = 1 // a TEE
	StrongBox          SecurityLevel = 2 // a separate secure element
)

// String returns the level's name.
func (l SecurityLevel) String() string {
	switch l {
	case Software:
		return "Software"
	case TrustedEnvironment:
		return "TrustedEnvironment"
	case StrongBox:
		return "StrongBox"
	}
	return fmt.Sprintf("SecurityLevel(%d)", int(l))
}

// Authorization-list tags read (KeyMint's Tag numbers without their type
// bits).
const (
	tagOrigin        = 702
	tagRootOfTrust   = 704
	tagOSPatchLevel  = 706
	tagApplicationID = 709
)

// verifiedBootVerified is RootOfTrust.verifiedBootState's Verified: the
// boot chain up to the OS was verified with the device's own key.
const verifiedBootVerified = 0

// keyOriginGenerated is KeyOrigin GENERATED: made in the keystore, not
// imported.
const keyOriginGenerated = 0

// keyDescription is the part of the KeyDescription the verifier reads.
type keyDescription struct {
	attestationVersion int
	attestationLevel   SecurityLevel
	keymintVersion     int
	keymintLevel       SecurityLevel
	challenge          []byte
	software, hardware authList
}

// authList is the part of an AuthorizationList the verifier reads; has
// says which entries were present.
type authList struct {
	has          map[int]bool
	origin       int64
	rootOfTrust  rootOfTrust
	osPatchLevel int64
	appID        applicationID
}

type rootOfTrust struct {
	VerifiedBootKey   []byte
	DeviceLocked      bool
	VerifiedBootState asn1.Enumerated
	VerifiedBootHash  []byte `asn1:"optional"` // attestation version 3 on
}

type applicationID struct {
	Packages []packageInfo `asn1:"set"`
	Digests  [][]byte      `asn1:"set"`
}

type packageInfo struct {
	Name    []byte
	Version int64
}

// rawKeyDescription is the KeyDescription SEQUENCE; later versions may
// append fields, which encoding/asn1 leaves unread.
type rawKeyDescription struct {
	AttestationVersion       int
	AttestationSecurityLevel asn1.Enumerated
	KeymintVersion           int
	KeymintSecurityLevel     asn1.Enumerated
	AttestationChallenge     []byte
	UniqueID                 []byte
	SoftwareEnforced         asn1.RawValue
	HardwareEnforced         asn1.RawValue
}

func errKeyDesc(what string) error {
	return fmt.Errorf("%w: android: key description %s", ErrFormat, what)
}

// parseKeyDescription reads a KeyDescription extension's value.
func parseKeyDescription(b []byte) (keyDescription, error) {
	var raw rawKeyDescription
	rest, err := asn1.Unmarshal(b, &raw)
	if err != nil || len(rest) != 0 {
		return keyDescription{}, errKeyDesc("does not parse")
	}
	kd := keyDescription{
		attestationVersion: raw.AttestationVersion,
		attestationLevel:   SecurityLevel(raw.AttestationSecurityLevel),
		keymintVersion:     raw.KeymintVersion,
		keymintLevel:       SecurityLevel(raw.KeymintSecurityLevel),
		challenge:          raw.AttestationChallenge,
	}
	if kd.software, err = parseAuthList(raw.SoftwareEnforced); err != nil {
		return keyDescription{}, err
	}
	if kd.hardware, err = parseAuthList(raw.HardwareEnforced); err != nil {
		return keyDescription{}, err
	}
	return kd, nil
}

// parseAuthList reads an AuthorizationList: a SEQUENCE of entries, each
// explicitly tagged with its context-specific number, each number once.
func parseAuthList(v asn1.RawValue) (authList, error) {
	if v.Class != asn1.ClassUniversal || v.Tag != asn1.TagSequence || !v.IsCompound {
		return authList{}, errKeyDesc("authorization list is not a SEQUENCE")
	}
	l := authList{has: map[int]bool{}}
	for b := v.Bytes; len(b) > 0; {
		var e asn1.RawValue
		var err error
		if b, err = asn1.Unmarshal(b, &e); err != nil {
			return authList{}, errKeyDesc("entry does not parse")
		}
		if e.Class != asn1.ClassContextSpecific || !e.IsCompound {
			return authList{}, errKeyDesc("entry is not explicitly tagged")
		}
		if l.has[e.Tag] {
			return authList{}, errKeyDesc(fmt.Sprintf("tag %d twice", e.Tag))
		}
		l.has[e.Tag] = true
		switch e.Tag {
		case tagOrigin:
			err = unmarshalAll(e.Bytes, &l.origin)
		case tagOSPatchLevel:
			err = unmarshalAll(e.Bytes, &l.osPatchLevel)
		case tagRootOfTrust:
			err = unmarshalAll(e.Bytes, &l.rootOfTrust)
		case tagApplicationID:
			// An OCTET STRING that holds the DER of the SEQUENCE.
			var octets []byte
			if err = unmarshalAll(e.Bytes, &octets); err == nil {
				err = unmarshalAll(octets, &l.appID)
			}
		}
		if err != nil {
			return authList{}, errKeyDesc(fmt.Sprintf("tag %d does not parse", e.Tag))
		}
	}
	return l, nil
}

// unmarshalAll reads exactly one DER value that fills b.
func unmarshalAll(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err == nil && len(rest) != 0 {
		err = asn1.SyntaxError{Msg: "trailing data"}
	}
	return err
}

// levelOK reports whether l is a known level at least min (which is
// TrustedEnvironment or StrongBox).
func levelOK(l, min SecurityLevel) bool { return l >= min && l <= StrongBox }
