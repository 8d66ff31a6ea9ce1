package enroll

import (
	"fmt"
	"log/slog"

	"github.com/keyline/keyline/internal/redact"
)

// The types below print, with any verb and through slog, every field but
// the session IDs, MACs, codes, nonces and push tokens they hold, which
// print as [redacted] (or are left out of a slog group). An offer's
// server key is hidden with its session ID, which is derived from it.
// JSON encoding is not affected: a value still goes on the wire whole.
var (
	offerHidden      = []string{"SessionID", "ServerKey"}
	requestHidden    = []string{"SessionID", "Confirm"}
	deviceInfoHidden = []string{"PushToken"}
	deviceHidden     = []string{"PushToken", "SessionID"}
	enrollmentHidden = []string{"Secret", "ServerConfirm"}
	pushAnswerHidden = []string{"Nonce", "TypedNumber", "TxResponse", "MAC"}
	pushPromptHidden = []string{"Nonce"}
	apiRequestHidden = []string{"Nonce"}
	alreadyUsedHide  = []string{"ServerConfirm"}
)

// String describes the offer without its session ID and server key.
func (o Offer) String() string { return redact.String("enroll.Offer", o, offerHidden...) }

// GoString is String.
func (o Offer) GoString() string { return o.String() }

// Format prints String for every verb.
func (o Offer) Format(f fmt.State, _ rune) { fmt.Fprint(f, o.String()) }

// LogValue describes the offer to slog without its session ID and server key.
func (o Offer) LogValue() slog.Value { return redact.LogValue(o, offerHidden...) }

// String describes the request without its session ID and confirmation MAC.
func (r Request) String() string { return redact.String("enroll.Request", r, requestHidden...) }

// GoString is String.
func (r Request) GoString() string { return r.String() }

// Format prints String for every verb.
func (r Request) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue describes the request to slog without its session ID and
// confirmation MAC.
func (r Request) LogValue() slog.Value { return redact.LogValue(r, requestHidden...) }

// String describes the phone without its push token.
func (d DeviceInfo) String() string {
	return redact.String("enroll.DeviceInfo", d, deviceInfoHidden...)
}

// GoString is String.
func (d DeviceInfo) GoString() string { return d.String() }

// Format prints String for every verb.
func (d DeviceInfo) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// LogValue describes the phone to slog without its push token.
func (d DeviceInfo) LogValue() slog.Value { return redact.LogValue(d, deviceInfoHidden...) }

// String describes the device without its push token and session ID.
func (d Device) String() string { return redact.String("enroll.Device", d, deviceHidden...) }

// GoString is String.
func (d Device) GoString() string { return d.String() }

// Format prints String for every verb.
func (d Device) Format(f fmt.State, _ rune) { fmt.Fprint(f, d.String()) }

// LogValue describes the device to slog without its push token and
// session ID.
func (d Device) LogValue() slog.Value { return redact.LogValue(d, deviceHidden...) }

// String describes the enrollment by its device, without the root secret
// and the server confirmation.
func (e Enrollment) String() string {
	return redact.String("enroll.Enrollment", e, enrollmentHidden...)
}

// GoString is String.
func (e Enrollment) GoString() string { return e.String() }

// Format prints String for every verb.
func (e Enrollment) Format(f fmt.State, _ rune) { fmt.Fprint(f, e.String()) }

// LogValue describes the enrollment to slog by its device.
func (e Enrollment) LogValue() slog.Value { return redact.LogValue(e, enrollmentHidden...) }

// String describes the answer without its nonce, typed number,
// transaction response and MAC.
func (a PushAnswer) String() string {
	return redact.String("enroll.PushAnswer", a, pushAnswerHidden...)
}

// GoString is String.
func (a PushAnswer) GoString() string { return a.String() }

// Format prints String for every verb.
func (a PushAnswer) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }

// LogValue describes the answer to slog without its nonce, typed number,
// transaction response and MAC.
func (a PushAnswer) LogValue() slog.Value { return redact.LogValue(a, pushAnswerHidden...) }

// String describes the prompt without its nonce.
func (p PushPrompt) String() string {
	return redact.String("enroll.PushPrompt", p, pushPromptHidden...)
}

// GoString is String.
func (p PushPrompt) GoString() string { return p.String() }

// Format prints String for every verb.
func (p PushPrompt) Format(f fmt.State, _ rune) { fmt.Fprint(f, p.String()) }

// LogValue describes the prompt to slog without its nonce.
func (p PushPrompt) LogValue() slog.Value { return redact.LogValue(p, pushPromptHidden...) }

// String describes the request without its nonce.
func (r APIRequest) String() string {
	return redact.String("enroll.APIRequest", r, apiRequestHidden...)
}

// GoString is String.
func (r APIRequest) GoString() string { return r.String() }

// Format prints String for every verb.
func (r APIRequest) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue describes the request to slog without its nonce.
func (r APIRequest) LogValue() slog.Value { return redact.LogValue(r, apiRequestHidden...) }

// GoString describes the error without the server confirmation.
func (e AlreadyUsedError) GoString() string {
	return redact.String("enroll.AlreadyUsedError", e, alreadyUsedHide...)
}

// Format prints the error's text for every verb but %#v, which prints
// GoString: the server confirmation is never printed.
func (e AlreadyUsedError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, e.GoString())
		return
	}
	fmt.Fprint(f, (&e).Error())
}

// LogValue is the error's text: the server confirmation is never logged.
func (e AlreadyUsedError) LogValue() slog.Value { return slog.StringValue((&e).Error()) }
