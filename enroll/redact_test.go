package enroll

import (
	"testing"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing enroll exports prints a session ID, MAC, code, nonce, push
// token or key, with any verb or through slog (issue 12: %v of offers,
// activation requests and push answers printed session IDs and MACs).
func TestNoTypePrintsSecrets(t *testing.T) {
	// A valid suite, which the filler cannot make: a zero one fails to
	// encode and would hide what slog's JSON handler prints.
	s := challenge.Default
	redacttest.Check(t, ".", []any{
		&APIRequest{}, &AlreadyUsedError{Device: Device{Suite: s}}, &Credential{}, &Device{Suite: s}, &DeviceInfo{},
		&Enrollment{Device: Device{Suite: s}}, &Keys{}, &Offer{Suite: s}, &Pending{}, &PushAnswer{}, &PushAnswerError{},
		&PushContext{}, &PushPrompt{}, &PushClockError{}, &QRLogin{},
		&Request{}, &StartOptions{Suite: s},
	}, nil)
}
