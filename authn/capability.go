package authn

import (
	"runtime"
	"sync"
	"time"
	"weak"
)

// An AuthenticatedDevice is a capability: whoever holds one acts for its
// device, so it must be impossible to make one, or to turn one into
// another device's, without AuthenticateDevice. Unexported fields keep
// honest code out; code that reaches them anyway (reflect with unsafe, a
// struct copy, *a = *b) is stopped here.
//
// The Service records every AuthenticatedDevice it hands out, keyed by
// the value's own address (a weak pointer, so the record does not keep
// it alive; a cleanup drops the record when the value is collected),
// with what it was made for: the Service, the device as it was, and the
// time of the request. Every method looks its receiver up and compares:
// a value the Service did not make (one built with reflect, a copy at
// another address) has no record, and one whose fields were changed
// after it was made (a field set through unsafe, another device's value
// copied over it) no longer equals its record. Either is refused with
// ErrDeviceAuth, as a zero one is.
//
// This is stronger than a MAC over the fields, which a copy of another
// valid value (*a = *b) would carry along and pass. Neither stops code
// that may write anywhere in the process (it could rewrite the record
// too); what it stops is a handler that mixes up, rebuilds or edits
// capabilities. The records cost a map entry per authenticated request,
// held until the value is garbage.
var issuedDevices sync.Map // weak.Pointer[AuthenticatedDevice] -> issuedDevice

// issuedDevice is what an AuthenticatedDevice was made with.
type issuedDevice struct {
	s   *Service
	dev Device
	at  time.Time
}

// newAuthenticatedDevice makes the capability for dev, authenticated by
// a request at at, and records it.
func (s *Service) newAuthenticatedDevice(dev Device, at time.Time) *AuthenticatedDevice {
	d := &AuthenticatedDevice{s: s, dev: dev, at: at}
	key := weak.Make(d)
	issuedDevices.Store(key, issuedDevice{s: s, dev: dev, at: at})
	runtime.AddCleanup(d, func(k weak.Pointer[AuthenticatedDevice]) { issuedDevices.Delete(k) }, key)
	return d
}

// genuine reports whether d is a value newAuthenticatedDevice made, as
// it made it.
func (d *AuthenticatedDevice) genuine() bool {
	if d == nil || d.s == nil || d.at.IsZero() || d.dev.ID == "" || d.dev.User == "" {
		return false
	}
	v, ok := issuedDevices.Load(weak.Make(d))
	if !ok {
		return false
	}
	return v.(issuedDevice) == issuedDevice{s: d.s, dev: d.dev, at: d.at}
}
