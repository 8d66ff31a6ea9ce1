package authn

import (
	"context"
	"time"
)

// MirroredIssuer is a [HotStore] kept apart from the records (redisstore
// beside an sqlstore) that mirrors each user's devices version (see
// [LoginRecords]), so that a BeginChallenge with nothing changed issues
// its challenge in one round trip to the hot store and none to the
// records: the Service keeps the devices it last read for each user (a
// cache it may lose) with their version, and the store checks that
// version against its mirror in the step that stores the challenge.
//
// The mirror of a user holds the highest version the store was handed
// (IssueMirrored with fresh set, RaiseDevices) and when it was last
// handed it or a higher one. It only rises, and it is live for a bounded
// time the store chooses (a few minutes; redisstore's
// WithDevicesMirror) after that, measured with the Service's clock
// (now), never the store's: a live mirror equal to the version the
// Service claims lets a challenge through; anything else makes the
// Service read the records. DeleteUser erases it with the rest of the
// user's hot state.
//
// # What a stale mirror can cost
//
// The Service raises the mirror after each change of its own that
// raises the version (a pairing, a revocation, a rename, a new sealed
// secret, a commit that moved a drift), and every read of the records
// raises it too. If a raise is lost (the hot store unreachable right
// after the change), other instances may go on issuing challenges from
// the devices as they were for at most the mirror's life, or until any
// instance reads the records: a device paired meanwhile is not offered,
// a renamed one shows its old name, a drift is the old one (the answer
// may need a resync). It is never a way in: a revocation and a
// replacement bump the user's epoch in the records, CommitStep refuses
// a match of a challenge of an older epoch, and every challenge is
// stored with the epoch the Service read with the devices.
type MirroredIssuer interface {
	HotStore

	// IssueMirrored is PutChallenge for a challenge whose tags were made
	// from the user's devices at version, behind a check of the mirror
	// made in the same atomic step.
	//
	// With fresh false (the devices are the Service's cached ones), it
	// stores the challenge only if the user's mirror is live at now and
	// equal to version; otherwise it stores nothing, changes nothing and
	// reports stale. It does not extend the mirror's life.
	//
	// With fresh true (the Service read the devices from the records
	// during this call), it reports stale, storing and changing nothing,
	// if the mirror (live or not) is above version (the records moved
	// since the read and a raise told the store); otherwise it raises
	// the mirror to version, live from now, and stores the challenge.
	//
	// When it stores, it does exactly what PutChallenge does, with the
	// same checks and outcomes (ErrStoreConflict: a question issued
	// within the horizon, the ID taken, an epoch older than the store's
	// copy; ErrStoreLimit: the per-minute budget), the epoch copy raised
	// to c.Epoch; a refused challenge leaves the mirror raised.
	IssueMirrored(ctx context.Context, c ChallengeRecord, lim ChallengeLimits, version uint64, fresh bool, now time.Time) (stale bool, err error)

	// RaiseDevices tells the store that the user's devices version in
	// the records is version: the mirror rises to it, live from now,
	// unless it is above it already (a raise arriving late changes
	// nothing). The Service calls it after each change it makes that
	// raises the version; a lost call costs what the interface's
	// documentation says, never a login of a removed device.
	RaiseDevices(ctx context.Context, user string, version uint64, now time.Time) error
}
