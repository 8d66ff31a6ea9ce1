package attest

import (
	"context"
	"fmt"

	"github.com/keyline/keyline/enroll"
)

// Verifier checks one platform's attestation made for challenge. [Apple]
// and [Android] are Verifiers; a service may write its own (Play
// Integrity, say). Verify must not keep its arguments, and must return
// an error that wraps one of this package's Err values, or one whose
// text holds no secret (the audit log records it).
type Verifier interface {
	Verify(attestation, challenge []byte) error
}

// Rule is what a [Policy] asks of one platform.
type Rule struct {
	// Verifier checks the platform's attestations. A nil Verifier with
	// Required unset admits the platform unattested: an attestation it
	// sends is then refused, since nothing could check it.
	Verifier Verifier
	// Required refuses an activation without an attestation. Without
	// it, an activation without one is admitted unattested, and one with
	// an attestation must pass the Verifier.
	Required bool
}

// Policy chooses, by the platform a phone names (enroll.DeviceInfo's
// Platform: "ios", "android"), how its attestation is checked. Its
// VerifyDevice is authn's Config.VerifyDevice. The zero Policy admits no
// platform. A Policy must not change once in use.
type Policy struct {
	// Platforms maps a platform name to its rule.
	Platforms map[string]Rule
	// AllowOtherPlatforms admits a platform not in Platforms, with no
	// attestation (one sent is refused); off, such a phone is refused
	// with ErrPlatform.
	AllowOtherPlatforms bool
}

// VerifyDevice checks dev's attestation by its platform's rule: the
// hook authn's Config.VerifyDevice takes, with challenge the
// activation's attestation challenge. A refusal wraps one of the
// package's Err values.
func (p *Policy) VerifyDevice(_ context.Context, _ string, dev enroll.DeviceInfo, challenge []byte) error {
	rule, ok := p.Platforms[dev.Platform]
	if !ok && !p.AllowOtherPlatforms {
		return fmt.Errorf("%w: %q", ErrPlatform, clip(dev.Platform))
	}
	switch {
	case len(dev.Attestation) == 0 && rule.Required:
		return fmt.Errorf("%w: platform %q", ErrMissing, clip(dev.Platform))
	case len(dev.Attestation) == 0:
		return nil
	case rule.Verifier == nil:
		return fmt.Errorf("%w: %q sent an attestation and has no verifier", ErrPlatform, clip(dev.Platform))
	}
	return rule.Verifier.Verify(dev.Attestation, challenge)
}

// clip shortens a platform name the phone chose to what a log line
// should carry (enroll allows 64 bytes).
func clip(s string) string {
	if len(s) > 16 {
		return s[:16] + "…"
	}
	return s
}
