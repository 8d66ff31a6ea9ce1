package deviceclient

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

// DeviceStatus is what the server says of the device a credential names
// ([Client.Status]).
type DeviceStatus struct {
	// Removed reports that the device was revoked, or replaced by a
	// migration: the app deletes the credential and says so. False: the
	// device is active.
	Removed bool
	// RemovedAt is when it was removed (whole seconds); zero while
	// active.
	RemovedAt time.Time
}

// Status asks the server, with a request signed by cred, whether the
// device is still active (PROTOCOL.md §10, GET /v1/device/status). It is
// how a phone whose requests are refused with enroll.ErrDeviceAuth
// learns why: a device removed (revoked, or replaced by a migration)
// less than the server's RemovedTTL ago (30 days by default) answers
// Removed, and only to a request signed with its own key. An error
// matching enroll.ErrDeviceAuth here means the server knows nothing of
// the device any more (removed long ago, the user erased, or never
// paired); a pending device gets it too. A status other than "active"
// or "removed", or a removal time missing or given while active, is
// ErrBadAnswer.
func (c *Client) Status(ctx context.Context, cred *enroll.Credential) (DeviceStatus, error) {
	var ans devicewire.DeviceStatusAnswer
	if err := c.do(ctx, cred, http.MethodGet, devicewire.PathDeviceStatus, "", nil, &ans); err != nil {
		return DeviceStatus{}, err
	}
	switch {
	case ans.Status == "active" && ans.RemovedAt == 0:
		return DeviceStatus{}, nil
	case ans.Status == "removed" && ans.RemovedAt > 0:
		return DeviceStatus{Removed: true, RemovedAt: time.Unix(ans.RemovedAt, 0).UTC()}, nil
	}
	return DeviceStatus{}, fmt.Errorf("%w: not a device status", ErrBadAnswer)
}
