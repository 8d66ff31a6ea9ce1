package authn

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/internal/redact"
)

// IssueStore is a [Store] (both halves in one engine) that issues a
// login's challenge in one step whatever the number of devices: the
// check that the devices the tags were made from are still the user's,
// and the store of the challenge, in one atomic step (one round trip on
// a networked engine). The Service keeps the devices it last read for
// each user (a cache it may lose) and asks the store to check them, so a
// BeginChallenge with nothing changed since the user's previous one
// costs one round trip; when something changed (a device paired or
// revoked, a drift or name or sealed secret changed), the store answers
// with the devices as they stand, in the same round trip, and the
// Service makes the tags again: two. Without an IssueStore the Service
// reads the user's epoch and devices before every PutChallenge.
type IssueStore interface {
	Store

	// IssueChallenge is PutChallenge for a challenge whose tags were made
	// from expect, the user's active devices (oldest first) as the caller
	// last read them, at c.Epoch. In the same atomic step it checks that
	// c.Epoch is the user's epoch and that the user's active devices are
	// expect ([SameDevices]); if either moved, it stores nothing and
	// returns the user's epoch and active devices as they stand, with
	// stale true. Otherwise it does what PutChallenge does, with its
	// outcomes (ErrStoreConflict: a question issued within the horizon,
	// or the ID taken; ErrStoreLimit: the per-minute budget).
	IssueChallenge(ctx context.Context, c ChallengeRecord, lim ChallengeLimits, expect []DeviceRecord, now time.Time) (fresh UserDevices, stale bool, err error)
}

// UserDevices is a user's epoch and active devices, oldest first, read
// in one step, with the devices' version.
type UserDevices struct {
	Epoch uint64
	// Version is the records' devices version of the user as of the
	// same instant (see [LoginRecords]): it differs from the one of an
	// earlier read whenever anything [SameDevices] compares changed in
	// between. 0 where a store does not report it (IssueChallenge's
	// answer), and for a user whose devices never changed.
	Version uint64
	Devices []DeviceRecord
}

// SameDevices reports whether two lists of a user's devices would give
// the same challenge: the same devices in the same order, each with the
// same state, suite, drift, name and sealed secret. (The last accepted
// step, the push token and the rest do not enter a challenge.)
func SameDevices(a, b []DeviceRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.ID != y.ID || x.State != y.State || x.Suite != y.Suite || x.Drift != y.Drift || x.Name != y.Name ||
			!bytes.Equal(x.Secret, y.Secret) {
			return false
		}
	}
	return true
}

// String describes the devices without their sealed secrets, session
// IDs or push tokens (each DeviceRecord prints as its own String does).
func (u UserDevices) String() string { return redact.String("authn.UserDevices", u) }

// GoString is String.
func (u UserDevices) GoString() string { return u.String() }

// Format prints String for every verb.
func (u UserDevices) Format(f fmt.State, _ rune) { fmt.Fprint(f, u.String()) }

// LogValue describes the devices to slog, without their secrets.
func (u UserDevices) LogValue() slog.Value { return redact.LogValue(u) }

// LoginRecords is a [RecordStore] that reads a user's epoch and active
// devices in one step (one round trip), as BeginChallenge needs them;
// the Service otherwise calls User and then Devices.
type LoginRecords interface {
	RecordStore

	// UserDevices returns the user's epoch, as User does, active
	// devices, oldest first, and devices version, as of one instant. A
	// user never seen has epoch 0, version 0 and no device.
	//
	// The devices version is a counter the store raises, in the same
	// atomic step, with every change to anything SameDevices compares
	// in the user's active devices: a device made active (its pairing,
	// which also removes the one it replaces), revoked or removed while
	// active, renamed, given another sealed secret, and every CommitStep
	// (or one-step finish) that changes an active device's drift. A
	// commit that only moves the last accepted step, a push token, a
	// pairing try, and a pending device's insertion or removal (a
	// pending device is in no challenge) may leave it. It never takes a
	// value it had before for that user ID, not even after DeleteUser
	// and the user's return: a store draws it from one counter for all
	// users, which only rises. The Service hands it to a hot store that
	// mirrors it ([MirroredIssuer]), so that a BeginChallenge with
	// nothing changed needs no read of the records.
	UserDevices(ctx context.Context, user string, now time.Time) (UserDevices, error)
}
