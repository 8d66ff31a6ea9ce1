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
// in one step.
type UserDevices struct {
	Epoch   uint64
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
