package enroll

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/challenge"
)

// longestSuite is the longest suite string an offer may carry (no C, P
// or S input: PROTOCOL.md §1, "Suites").
const longestSuite = "OCRA-1:HOTP-SHA512-10:QA64-T59M"

// longestActivation returns an offer and device description whose every
// field is at its maximum: the longest transcript there can be.
func longestActivation(t *testing.T) (Offer, []byte, DeviceInfo) {
	t.Helper()
	suite, err := challenge.ParseSuite(longestSuite)
	require.NoError(t, err)
	long := func(n int) string { return strings.Repeat("a", n) }
	p, err := startWith(mustHex(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
		long(maxTextLen), long(maxTextLen), StartOptions{AccountName: long(maxTextLen), Suite: suite,
			Now: time.Unix(maxUnix-3600, 0)})
	require.NoError(t, err)
	dev := DeviceInfo{InstallID: long(128), Name: long(128), Platform: long(64), Integrity: Unknown,
		Attestation: make([]byte, 64<<10), PushToken: long(4096)}
	require.NoError(t, dev.validate())
	return p.Offer(), make([]byte, keyLen), dev
}

// Web Crypto as Node implements it, and node:crypto's hkdf, refuse an
// HKDF info over 1,024 bytes (PROTOCOL.md, "Primitives"). Every HKDF
// input the protocol defines must fit, even for the longest transcript.
func TestPrimitiveInputsFitEveryPlatform(t *testing.T) {
	o, dk, dev := longestActivation(t)
	tr := transcript(o, dk, dev)
	require.Equal(t, 1320, len(tr), "PROTOCOL.md §2 gives the longest transcript's length")
	require.Greater(t, len(tr), MaxPrimitiveInput, "the longest transcript is what needs hashing")
	salt, info := activationHKDFInputs(o.SessionID, sha256.Sum256(tr))
	require.LessOrEqual(t, len(salt), MaxPrimitiveInput)
	require.LessOrEqual(t, len(info), MaxPrimitiveInput)
	for _, label := range []string{LabelOCRA, LabelPush, LabelServer, LabelAPI, LabelPair, LabelTransaction} {
		require.LessOrEqual(t, len(label), MaxPrimitiveInput)
	}
}
