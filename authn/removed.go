package authn

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/internal/redact"
)

// RemovedRecord is what a RecordStore keeps of a device it removed
// (revoked, or replaced by a migration) when the change carried
// DeviceChange.RemovedUntil: the device's record as it was, sealed
// secret included, so that the phone still holding that secret can be
// told, by a request only it can make, that its device is gone
// ([Service.DeviceStatus]). It is kept until Until (Config.RemovedTTL
// after the removal), erased with the user (DeleteUser), and swept
// after.
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
