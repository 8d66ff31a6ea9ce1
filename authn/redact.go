package authn

import (
	"fmt"
	"log/slog"

	"github.com/keyline/keyline/internal/redact"
)

// The types below print, with any verb and through slog, every field but
// the session IDs, MACs, codes, nonces, push tokens and keys (sealed or
// not) they hold, which print as [redacted] (or are left out of a slog
// group). Types that hold no secret of their own but nest one (Result,
// AttemptResult) print their fields through the nested types' own
// methods, so that slog's JSON handler does not encode them field by
// field.
var (
	activationHidden    = []string{"ServerConfirm"}
	deliveryHidden      = []string{"PushToken"}
	pushRequestHidden   = []string{"Number"}
	deviceRecordHidden  = []string{"Secret", "SessionID", "PushToken"}
	activationRecHidden = []string{"SessionID", "Pending", "RequestHash", "ServerConfirm"}
	tagHidden           = []string{"MAC"}
	challengeRecHidden  = []string{"Tags"}
	totpRecordHidden    = []string{"Secret"}
	pushRecordHidden    = []string{"Number", "Nonce"}
	answerHidden        = []string{"MAC"}
	deviceChangeHidden  = []string{"PushToken", "Secret"}
	secretSwapHidden    = []string{"Old", "New"}
	userChangeHidden    = []string{"RecoveryCodes"}
	txChallengeHidden   = []string{"Nonce"}
)

// String describes the activation without its server confirmation.
func (a Activation) String() string { return redact.String("authn.Activation", a, activationHidden...) }

// GoString is String.
func (a Activation) GoString() string { return a.String() }

// Format prints String for every verb.
func (a Activation) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// LogValue describes the activation to slog without its server confirmation.
func (a Activation) LogValue() slog.Value { return redact.LogValue(a, activationHidden...) }

// String describes the delivery without the device's push token.
func (d Delivery) String() string { return redact.String("authn.Delivery", d, deliveryHidden...) }

// GoString is String.
func (d Delivery) GoString() string { return d.String() }

// Format prints String for every verb.
func (d Delivery) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// LogValue describes the delivery to slog without the push token.
func (d Delivery) LogValue() slog.Value { return redact.LogValue(d, deliveryHidden...) }

// String describes the push request without its number.
func (p PushRequest) String() string {
	return redact.String("authn.PushRequest", p, pushRequestHidden...)
}

// GoString is String.
func (p PushRequest) GoString() string { return p.String() }

// Format prints String for every verb.
func (p PushRequest) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue describes the push request to slog without its number.
func (p PushRequest) LogValue() slog.Value { return redact.LogValue(p, pushRequestHidden...) }

// String describes the result; its proof prints without its MAC.
func (r Result) String() string { return redact.String("authn.Result", r, "KnownClient") }

// GoString is String.
func (r Result) GoString() string { return r.String() }

// Format prints String for every verb.
func (r Result) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue describes the result to slog; its proof without its MAC.
func (r Result) LogValue() slog.Value { return redact.LogValue(r) }

// String describes the device record without its sealed secret, session
// ID and push token.
func (d DeviceRecord) String() string {
	return redact.String("authn.DeviceRecord", d, deviceRecordHidden...)
}

// GoString is String.
func (d DeviceRecord) GoString() string { return d.String() }

// Format prints String for every verb.
func (d DeviceRecord) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// LogValue describes the device record to slog without its secrets.
func (d DeviceRecord) LogValue() slog.Value { return redact.LogValue(d, deviceRecordHidden...) }

// String describes the activation record without its session ID, sealed
// pending key, request hash and server confirmation.
func (a ActivationRecord) String() string {
	return redact.String("authn.ActivationRecord", a, activationRecHidden...)
}

// GoString is String.
func (a ActivationRecord) GoString() string { return a.String() }

// Format prints String for every verb.
func (a ActivationRecord) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// LogValue describes the activation record to slog without its secrets.
func (a ActivationRecord) LogValue() slog.Value { return redact.LogValue(a, activationRecHidden...) }

// String describes the tag without its MAC.
func (t Tag) String() string { return redact.String("authn.Tag", t, tagHidden...) }

// GoString is String.
func (t Tag) GoString() string { return t.String() }

// Format prints String for every verb.
func (t Tag) Format(f fmt.State, _ rune) { fmt.Fprint(f, t.String()) }

// LogValue describes the tag to slog without its MAC.
func (t Tag) LogValue() slog.Value { return redact.LogValue(t, tagHidden...) }

// String describes the challenge record without its tags.
func (c ChallengeRecord) String() string {
	return redact.String("authn.ChallengeRecord", c, challengeRecHidden...)
}

// GoString is String.
func (c ChallengeRecord) GoString() string { return c.String() }

// Format prints String for every verb.
func (c ChallengeRecord) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue describes the challenge record to slog without its tags.
func (c ChallengeRecord) LogValue() slog.Value { return redact.LogValue(c, challengeRecHidden...) }

// String describes the TOTP record without its sealed secret.
func (r TOTPRecord) String() string { return redact.String("authn.TOTPRecord", r, totpRecordHidden...) }

// GoString is String.
func (r TOTPRecord) GoString() string { return r.String() }

// Format prints String for every verb.
func (r TOTPRecord) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue describes the TOTP record to slog without its sealed secret.
func (r TOTPRecord) LogValue() slog.Value { return redact.LogValue(r, totpRecordHidden...) }

// String describes the push record without its number and nonce.
func (p PushRecord) String() string { return redact.String("authn.PushRecord", p, pushRecordHidden...) }

// GoString is String.
func (p PushRecord) GoString() string { return p.String() }

// Format prints String for every verb.
func (p PushRecord) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue describes the push record to slog without its number and nonce.
func (p PushRecord) LogValue() slog.Value { return redact.LogValue(p, pushRecordHidden...) }

// String describes the answer without its MAC.
func (a ChallengeAnswer) String() string {
	return redact.String("authn.ChallengeAnswer", a, answerHidden...)
}

// GoString is String.
func (a ChallengeAnswer) GoString() string { return a.String() }

// Format prints String for every verb.
func (a ChallengeAnswer) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// LogValue describes the answer to slog without its MAC.
func (a ChallengeAnswer) LogValue() slog.Value { return redact.LogValue(a, answerHidden...) }

// String describes the attempt's result; its tag and challenge print
// without their MACs.
func (r AttemptResult) String() string { return redact.String("authn.AttemptResult", r) }

// GoString is String.
func (r AttemptResult) GoString() string { return r.String() }

// Format prints String for every verb.
func (r AttemptResult) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue describes the attempt's result to slog, without MACs.
func (r AttemptResult) LogValue() slog.Value { return redact.LogValue(r) }

// String describes the change without a push token or sealed secret.
func (c DeviceChange) String() string {
	return redact.String("authn.DeviceChange", c, deviceChangeHidden...)
}

// GoString is String.
func (c DeviceChange) GoString() string { return c.String() }

// Format prints String for every verb.
func (c DeviceChange) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue describes the change to slog without a push token or sealed
// secret.
func (c DeviceChange) LogValue() slog.Value { return redact.LogValue(c, deviceChangeHidden...) }

// String describes the swap without either sealed secret.
func (s SecretSwap) String() string { return redact.String("authn.SecretSwap", s, secretSwapHidden...) }

// GoString is String.
func (s SecretSwap) GoString() string { return s.String() }

// Format prints String for every verb.
func (s SecretSwap) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue is an empty group: both fields are secret.
func (s SecretSwap) LogValue() slog.Value { return redact.LogValue(s, secretSwapHidden...) }

// String describes the change without recovery codes; a TOTP record
// prints without its secret.
func (c UserChange) String() string { return redact.String("authn.UserChange", c, userChangeHidden...) }

// GoString is String.
func (c UserChange) GoString() string { return c.String() }

// Format prints String for every verb.
func (c UserChange) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue describes the change to slog without recovery codes.
func (c UserChange) LogValue() slog.Value { return redact.LogValue(c, userChangeHidden...) }

// String describes the transaction challenge without its nonce.
func (c TransactionChallenge) String() string {
	return redact.String("authn.TransactionChallenge", c, txChallengeHidden...)
}

// GoString is String.
func (c TransactionChallenge) GoString() string { return c.String() }

// Format prints String for every verb.
func (c TransactionChallenge) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// LogValue describes the transaction challenge to slog without its nonce.
func (c TransactionChallenge) LogValue() slog.Value { return redact.LogValue(c, txChallengeHidden...) }

// String describes the import options, the step-up proof without its MAC
// (a bearer token for ProofTTL, which the proof's JSON form carries).
func (o ImportOptions) String() string {
	return redact.String("authn.ImportOptions", o)
}

// GoString is String.
func (o ImportOptions) GoString() string { return o.String() }

// Format prints String for every verb.
func (o ImportOptions) Format(f fmt.State, _ rune) { fmt.Fprint(f, o.String()) }

// LogValue describes the import options to slog, the proof without its MAC.
func (o ImportOptions) LogValue() slog.Value { return redact.LogValue(o) }
