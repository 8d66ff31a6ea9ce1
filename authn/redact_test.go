package authn_test

import (
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/internal/redact/redacttest"
)

// Nothing authn exports prints a session ID, MAC, code, nonce, push token
// or key (sealed or not), with any verb or through slog: the records the
// stores keep included, since a store's author may log them.
func TestNoTypePrintsSecrets(t *testing.T) {
	redacttest.Check(t, ".", []any{
		&authn.Activation{}, &authn.Event{}, &authn.Budget{}, &authn.DeviceLimit{},
		&authn.AuthenticatedDevice{}, &authn.LockedError{}, &authn.ResyncError{}, &authn.Keyring{},
		&authn.RotationReport{}, &authn.Factors{}, &authn.Operator{}, &authn.LockState{}, &authn.Proof{},
		&authn.Delivery{}, &authn.PushRequest{}, &authn.PushBudgetState{}, &authn.Service{}, &authn.Result{}, &authn.Device{},
		&authn.Challenge{}, &authn.DeviceRecord{}, &authn.ActivationRecord{}, &authn.Tag{},
		&authn.ChallengeRecord{}, &authn.TOTPRecord{}, &authn.PushRecord{}, &authn.ChallengeLimits{},
		&authn.LockPolicy{}, &authn.ChallengeAnswer{}, &authn.AttemptResult{}, &authn.UserState{},
		&authn.DeviceChange{}, &authn.SecretSwap{}, &authn.UserChange{}, &authn.TOTPOptions{},
		&authn.ImportOptions{}, &authn.TransactionChallenge{}, &authn.TrustedProxies{}, &authn.ActivationProgress{},
		&authn.ClientLockout{}, &authn.ClientLockState{},
		&authn.RemovedRecord{}, &authn.DeviceStatus{}, &authn.Call{}, &authn.UserDevices{}, &authn.QRLogin{},
	}, map[string]string{
		// Its func and interface fields cannot be JSON-encoded; its
		// keyring prints no key (checked above).
		"Config": "stores, a keyring, a notifier, an observer, a logger and hooks",
		// A channel and a mutex; the deliveries it passes are checked.
		"ChanNotifier": "a channel of Deliveries",
		// Networks and a func: no secret, and a func field cannot be
		// JSON-encoded.
		"AddressPolicy": "networks and a per-user lookup",
	})
}
