package authn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/redact"
)

// RemovedRecord is what a RecordStore keeps of a device it removed
// (revoked, or replaced by a migration) when the change carried
// DeviceChange.RemovedUntil: the device's record as it was, sealed
// secret included, so that the phone still holding that secret can be
// told, by a request only it can make, that its device is gone
// ([Service.DeviceStatus]). It is kept until Until (Config.RemovedTTL
// after the removal), erased with the user (DeleteUser), and swept
// after. Key rotation (RotateKeys) does not reseal it: once the key that
// sealed it is retired, the Service reads the device as unknown.
type RemovedRecord struct {
	Device    DeviceRecord // the device as it was when removed
	RemovedAt time.Time    // when it was removed
	Until     time.Time    // the end: not returned, and swept, from then on
}

// String describes the removed record; its device through the device
// record's own String, without its sealed secret, session ID and push
// token.
func (r RemovedRecord) String() string { return redact.String("authn.RemovedRecord", r) }

// GoString is String.
func (r RemovedRecord) GoString() string { return r.String() }

// Format prints String for every verb.
func (r RemovedRecord) Format(f fmt.State, _ rune) { fmt.Fprint(f, r.String()) }

// LogValue describes the removed record to slog, its device without its
// secrets.
func (r RemovedRecord) LogValue() slog.Value { return redact.LogValue(r) }

// DeviceStatusState is what the status call tells a device of itself.
type DeviceStatusState string

// Device status states.
const (
	// StatusActive: the device is paired and answers; nothing to do.
	StatusActive DeviceStatusState = "active"
	// StatusRemoved: the device was revoked, or replaced by a migration;
	// its phone should delete the account.
	StatusRemoved DeviceStatusState = "removed"
)

// DeviceStatus is the answer of [Service.DeviceStatus].
type DeviceStatus struct {
	State     DeviceStatusState
	Device    Device    // the device, as it is (active) or was (removed)
	RemovedAt time.Time // when it was removed; zero when active
}

// DeviceStatus answers a device API status call (PROTOCOL.md §10,
// GET /v1/device/status): how a phone learns that its device was
// removed, so that it can delete the account. r and mac are as for
// [Service.AuthenticateDevice], whose checks it makes, in the same
// order, with one difference: a device the user no longer has, but that
// was removed (revoked, or replaced by a migration) less than
// Config.RemovedTTL ago, is checked as that device was — its MAC must
// verify under its api key (constant time), its time be fresh, its nonce
// unused (ErrAPIReplay) and its budget lim not spent — and then answers
// StatusRemoved with the removal time (event "removed_device_told"). An
// active device whose request authenticates answers StatusActive.
//
// Everything else is ErrDeviceAuth, the very value AuthenticateDevice
// returns for an unknown device, after the same work: every status call
// reads the device and the removed device of that ID, unseals one root
// secret (the device's, the removed device's, or a dummy) and computes
// one MAC. So a caller without the device's key learns nothing, not even
// whether the device ever existed. A user erased since
// ([Operator.DeleteUser]) leaves nothing behind: its removed devices get
// ErrDeviceAuth, and so does a removed device after RemovedTTL.
func (s *Service) DeviceStatus(ctx context.Context, r enroll.APIRequest, mac []byte, lim DeviceLimit, opts ...LoginOption) (_ DeviceStatus, err error) {
	ctx, sp := s.trace(ctx, "DeviceStatus", "", "")
	defer sp.done(&err)
	d, gone, err := s.authenticateDevice(ctx, r, mac, lim, true, opts)
	switch {
	case err != nil:
		return DeviceStatus{}, err
	case gone != nil:
		return DeviceStatus{State: StatusRemoved, Device: deviceOf(gone.Device), RemovedAt: gone.RemovedAt}, nil
	}
	return DeviceStatus{State: StatusActive, Device: d.Device()}, nil
}
