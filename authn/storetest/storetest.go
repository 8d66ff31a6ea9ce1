// Package storetest is the conformance suite of [authn.Store]. Every
// Store implementation runs it from its own tests, on fresh stores:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) authn.Store { return memstore.New() })
//	}
//
// [Run] checks two things. First, the contract of each Store method as
// package authn documents it, called directly with hand-made records (a
// sealed secret is arbitrary bytes at this level): take-once activation,
// pairing tries, devices and epochs, challenge issuance limits, the
// lockout arithmetic of Attempt, the compare-and-set of CommitStep and
// Sweep. Second, what the Service promises when it runs on the store, with
// two Services sharing the one store, keyring and clock, as a
// load-balanced pair of instances would: a challenge is answered once, no
// guess is compared past the lock, a question is not reissued within its
// horizon, an activation is completed once, and a revocation voids the
// challenges issued before it.
//
// Every time is injected: the suite never sleeps and never reads the
// clock. Times are whole seconds, so that stores keeping microseconds (or
// seconds) see the same instants. An ExpiresAt is exclusive, as package
// enroll reads it: a record is live before it and expired at it. Other
// boundaries (the lock's end, the question horizon, the minute of the
// per-minute budget, the failure window) are checked a second either
// side, not at the instant.
//
// The suite takes well under a second under the race detector on an
// in-memory store; a store behind a network pays its round trips on top
// (a few thousand, most of them in the concurrent subtests).
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Run runs the conformance suite, calling newStore for a fresh, empty
// store in each subtest. The store is the only thing shared by the
// subtest's calls; newStore may register cleanups on the t it is given.
func Run(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("Activation", func(t *testing.T) { testActivation(t, newStore) })
	t.Run("Pairing", func(t *testing.T) { testPairing(t, newStore) })
	t.Run("Devices", func(t *testing.T) { testDevices(t, newStore) })
	t.Run("PutChallenge", func(t *testing.T) { testPutChallenge(t, newStore) })
	t.Run("Attempt", func(t *testing.T) { testAttempt(t, newStore) })
	t.Run("Lockout", func(t *testing.T) { testLockout(t, newStore) })
	t.Run("CommitStep", func(t *testing.T) { testCommitStep(t, newStore) })
	t.Run("Sweep", func(t *testing.T) { testSweep(t, newStore) })
	t.Run("Generic", func(t *testing.T) { testGeneric(t, newStore) })
	t.Run("Service", func(t *testing.T) { testService(t, newStore) })
}

// t0 is the suite's epoch: every time is t0 plus whole seconds.
var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// step0 is the server step the Attempt tests pass (the store never
// derives it from now).
const step0 = 1000

// Lenient defaults; a subtest that checks a limit sets it.
var (
	limits = authn.ChallengeLimits{Outstanding: 20, PerMinute: 100, Horizon: 4 * time.Minute}
	policy = authn.LockPolicy{MaxFailures: 100, Base: time.Minute, Max: time.Hour, Window: 24 * time.Hour, MaxAttempts: 100}
)

// ---------------------------------------------------------------------
// Record helpers.

func waitingActivation(user, sid string, now time.Time) authn.ActivationRecord {
	return authn.ActivationRecord{SessionID: sid, User: user, State: authn.ActivationWaiting,
		Pending: []byte("sealed pending of " + sid), ExpiresAt: now.Add(10 * time.Minute), CreatedAt: now}
}

func deviceRecord(user, id, sid string, now time.Time) authn.DeviceRecord {
	return authn.DeviceRecord{ID: id, User: user, Name: "phone " + id, Platform: "android", AccountName: user,
		Suite: challenge.Default.String(), InstallID: "install-" + id, State: authn.DevicePending,
		Secret: []byte("sealed root of " + id), SessionID: sid, CreatedAt: now}
}

func requestHash(id string) []byte   { return []byte("request hash of " + id) }
func serverConfirm(id string) []byte { return []byte("server confirm of " + id) }

// pendingDevice puts an activation of user and completes it with device
// id (pending), returning the session ID. Putting it voids the user's
// waiting activations.
func pendingDevice(t *testing.T, s authn.Store, user, id string, now time.Time) string {
	t.Helper()
	sid := "sid-" + id
	require.NoError(t, s.PutActivation(t.Context(), waitingActivation(user, sid, now), now))
	_, err := s.CompleteActivation(t.Context(), sid, requestHash(id), serverConfirm(id), deviceRecord(user, id, sid, now), 100, now)
	require.NoError(t, err)
	return sid
}

// activeDevice is pendingDevice, paired.
func activeDevice(t *testing.T, s authn.Store, user, id string, now time.Time) string {
	t.Helper()
	sid := pendingDevice(t, s, user, id, now)
	d, err := s.ActivateDevice(t.Context(), user, id, now)
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, d.State)
	return sid
}

func getActivation(t *testing.T, s authn.Store, sid string, now time.Time) authn.ActivationRecord {
	t.Helper()
	a, err := s.GetActivation(t.Context(), sid, now)
	require.NoError(t, err)
	return a
}

func requireActivationState(t *testing.T, s authn.Store, sid string, now time.Time, want authn.ActivationState) {
	t.Helper()
	require.Equal(t, want, getActivation(t, s, sid, now).State, "activation %s", sid)
}

func deviceIDs(t *testing.T, s authn.Store, user string) []string {
	t.Helper()
	ds, err := s.Devices(t.Context(), user)
	require.NoError(t, err)
	ids := []string{}
	for _, d := range ds {
		require.Equal(t, user, d.User)
		ids = append(ids, d.ID)
	}
	return ids
}

func userState(t *testing.T, s authn.Store, user string, now time.Time) authn.UserState {
	t.Helper()
	u, err := s.User(t.Context(), user, now)
	require.NoError(t, err)
	return u
}

func mac(b byte) (m [16]byte) {
	for i := range m {
		m[i] = b
	}
	return m
}

// wrongMAC matches no tag the suite makes.
var wrongMAC = mac(0xee)

func tag(b byte, device string, step uint64, drift int) authn.Tag {
	return authn.Tag{MAC: mac(b), Device: device, Step: step, Drift: drift}
}

// newChallenge is a challenge of user issued at now, live two minutes,
// with window 1; its question is unique to its ID.
func newChallenge(user, id string, epoch uint64, now time.Time, tags ...authn.Tag) authn.ChallengeRecord {
	return authn.ChallengeRecord{ID: id, User: user, Question: "q-" + id, Epoch: epoch, Tags: tags, Window: 1,
		IssuedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
}

func putChallenge(t *testing.T, s authn.Store, c authn.ChallengeRecord, now time.Time) {
	t.Helper()
	require.NoError(t, s.PutChallenge(t.Context(), c, limits, now), "PutChallenge %s", c.ID)
}

func attempt(t *testing.T, s authn.Store, user, id string, m [16]byte, step uint64, p authn.LockPolicy, now time.Time) authn.AttemptResult {
	t.Helper()
	r, err := s.Attempt(t.Context(), user, id, m, step, p, now)
	require.NoError(t, err, "Attempt %s on %s", user, id)
	return r
}

var outcomeNames = map[authn.AttemptOutcome]string{
	authn.AttemptMismatch: "AttemptMismatch", authn.AttemptMatch: "AttemptMatch", authn.AttemptLocked: "AttemptLocked",
	authn.AttemptNoChallenge: "AttemptNoChallenge", authn.AttemptExpired: "AttemptExpired", authn.AttemptExhausted: "AttemptExhausted",
}

func outcomeName(o authn.AttemptOutcome) string {
	if n, ok := outcomeNames[o]; ok {
		return n
	}
	return "AttemptOutcome(" + strconv.Itoa(int(o)) + ")"
}

func requireOutcome(t *testing.T, want authn.AttemptOutcome, got authn.AttemptResult, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, outcomeName(want), outcomeName(got.Outcome), msgAndArgs...)
}

// ---------------------------------------------------------------------
// Activations.

func testActivation(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("GetActivation", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetActivation(t.Context(), "sid-none", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		a := waitingActivation("alice", "sid-1", t0)
		a.Replacing = "dev-old"
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		got := getActivation(t, s, "sid-1", t0)
		require.Equal(t, "sid-1", got.SessionID)
		require.Equal(t, "alice", got.User)
		require.Equal(t, authn.ActivationWaiting, got.State)
		require.Equal(t, a.Pending, got.Pending)
		require.Equal(t, "dev-old", got.Replacing)
		require.True(t, a.ExpiresAt.Equal(got.ExpiresAt), "ExpiresAt %v, want %v", got.ExpiresAt, a.ExpiresAt)
		require.True(t, a.CreatedAt.Equal(got.CreatedAt), "CreatedAt %v, want %v", got.CreatedAt, a.CreatedAt)
		require.Empty(t, got.RequestHash)
		require.Empty(t, got.DeviceID)

		requireActivationState(t, s, "sid-1", a.ExpiresAt.Add(-time.Second), authn.ActivationWaiting)
		requireActivationState(t, s, "sid-1", a.ExpiresAt, authn.ActivationExpired)
		requireActivationState(t, s, "sid-1", a.ExpiresAt.Add(time.Hour), authn.ActivationExpired)
	})

	t.Run("PutActivationVoidsWaiting", func(t *testing.T) {
		s := newStore(t)
		// A completed activation of alice, and a waiting one of bob.
		sidDone := pendingDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("bob", "sid-bob", t0), t0))

		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-a1", t0), t0))
		now := t0.Add(time.Second)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-a2", now), now))

		requireActivationState(t, s, "sid-a1", now, authn.ActivationCancelled)
		requireActivationState(t, s, "sid-a2", now, authn.ActivationWaiting)
		requireActivationState(t, s, sidDone, now, authn.ActivationCompleted)
		requireActivationState(t, s, "sid-bob", now, authn.ActivationWaiting)
		require.Equal(t, []string{"dev-1"}, deviceIDs(t, s, "alice"), "voiding waiting activations leaves devices")

		// The voided one can no longer be completed.
		_, err := s.CompleteActivation(t.Context(), "sid-a1", requestHash("x"), serverConfirm("x"), deviceRecord("alice", "dev-x", "sid-a1", now), 100, now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
	})

	t.Run("CompleteActivationTakeOnce", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-1", t0), t0))
		now := t0.Add(30 * time.Second)
		won, err := s.CompleteActivation(t.Context(), "sid-1", requestHash("dev-1"), serverConfirm("dev-1"), deviceRecord("alice", "dev-1", "sid-1", now), 5, now)
		require.NoError(t, err)
		require.Equal(t, authn.ActivationCompleted, won.State)
		require.Equal(t, requestHash("dev-1"), won.RequestHash)
		require.Equal(t, serverConfirm("dev-1"), won.ServerConfirm)
		require.Equal(t, "dev-1", won.DeviceID)
		require.Empty(t, won.Pending, "the sealed pending key is dropped")

		got := getActivation(t, s, "sid-1", now)
		require.Equal(t, authn.ActivationCompleted, got.State)
		require.Empty(t, got.Pending, "the sealed pending key is dropped")
		require.Equal(t, requestHash("dev-1"), got.RequestHash)
		require.Equal(t, "dev-1", got.DeviceID)

		d, err := s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, authn.DevicePending, d.State)
		require.Equal(t, "sid-1", d.SessionID)
		require.Equal(t, []byte("sealed root of dev-1"), d.Secret)
		require.Equal(t, "install-dev-1", d.InstallID)

		// A second completion, with another request: conflict, and the
		// record as the first left it.
		again, err := s.CompleteActivation(t.Context(), "sid-1", requestHash("dev-2"), serverConfirm("dev-2"), deviceRecord("alice", "dev-2", "sid-1", now), 5, now)
		require.ErrorIs(t, err, authn.ErrStoreConflict)
		require.Equal(t, requestHash("dev-1"), again.RequestHash, "a conflict returns the winner's request hash")
		require.Equal(t, serverConfirm("dev-1"), again.ServerConfirm)
		require.Equal(t, "dev-1", again.DeviceID)
		require.Equal(t, "alice", again.User)
		require.Equal(t, []string{"dev-1"}, deviceIDs(t, s, "alice"), "the loser's device is not inserted")

		// Still a conflict once paired, even past the offer's expiry (the
		// winner's retry must still be recognised).
		_, err = s.ActivateDevice(t.Context(), "alice", "dev-1", now)
		require.NoError(t, err)
		late := t0.Add(time.Hour)
		again, err = s.CompleteActivation(t.Context(), "sid-1", requestHash("dev-1"), serverConfirm("dev-1"), deviceRecord("alice", "dev-3", "sid-1", late), 5, late)
		require.ErrorIs(t, err, authn.ErrStoreConflict)
		require.Equal(t, requestHash("dev-1"), again.RequestHash)
		require.Equal(t, authn.ActivationActive, again.State)
		require.Equal(t, []string{"dev-1"}, deviceIDs(t, s, "alice"))
	})

	t.Run("CompleteActivationConcurrent", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-1", t0), t0))
		const n = 16
		errs := make([]error, n)
		recs := make([]authn.ActivationRecord, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				id := fmt.Sprintf("dev-%d", i)
				<-start
				recs[i], errs[i] = s.CompleteActivation(context.Background(), "sid-1", requestHash(id), serverConfirm(id), deviceRecord("alice", id, "sid-1", t0), 100, t0)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two completions won: %d and %d", winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, authn.ErrStoreConflict, "completion %d", i)
		}
		require.NotEqual(t, -1, winner, "no completion won")
		id := fmt.Sprintf("dev-%d", winner)
		for i, r := range recs {
			if i != winner {
				require.Equal(t, requestHash(id), r.RequestHash, "loser %d sees the winner's hash", i)
			}
		}
		require.Equal(t, []string{id}, deviceIDs(t, s, "alice"))
	})

	t.Run("CompleteActivationLimit", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		pendingDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-3", t0), t0))
		_, err := s.CompleteActivation(t.Context(), "sid-3", requestHash("dev-3"), serverConfirm("dev-3"), deviceRecord("alice", "dev-3", "sid-3", t0), 2, t0)
		require.ErrorIs(t, err, authn.ErrStoreLimit, "pending devices count towards maxDevices")
		// All or nothing: the activation still waits, no device was added.
		got := getActivation(t, s, "sid-3", t0)
		require.Equal(t, authn.ActivationWaiting, got.State)
		require.NotEmpty(t, got.Pending)
		require.Empty(t, got.RequestHash)
		require.Equal(t, []string{"dev-1", "dev-2"}, deviceIDs(t, s, "alice"))
		// One more allowed: it completes.
		_, err = s.CompleteActivation(t.Context(), "sid-3", requestHash("dev-3"), serverConfirm("dev-3"), deviceRecord("alice", "dev-3", "sid-3", t0), 3, t0)
		require.NoError(t, err)
		// Another user's devices do not count.
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("bob", "sid-b", t0), t0))
		_, err = s.CompleteActivation(t.Context(), "sid-b", requestHash("dev-b"), serverConfirm("dev-b"), deviceRecord("bob", "dev-b", "sid-b", t0), 1, t0)
		require.NoError(t, err)
	})

	t.Run("CompleteActivationNotFound", func(t *testing.T) {
		s := newStore(t)
		complete := func(sid, id string, now time.Time) error {
			_, err := s.CompleteActivation(t.Context(), sid, requestHash(id), serverConfirm(id), deviceRecord("alice", id, sid, now), 100, now)
			return err
		}
		require.ErrorIs(t, complete("sid-none", "dev-0", t0), authn.ErrStoreNotFound, "unknown activation")

		a := waitingActivation("alice", "sid-1", t0)
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		require.ErrorIs(t, complete("sid-1", "dev-1", a.ExpiresAt), authn.ErrStoreNotFound, "expired activation")
		require.ErrorIs(t, complete("sid-1", "dev-1", a.ExpiresAt.Add(time.Minute)), authn.ErrStoreNotFound, "expired activation")
		require.Equal(t, []string{}, deviceIDs(t, s, "alice"))

		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-2", t0), t0))
		require.NoError(t, s.CancelActivation(t.Context(), "alice", "sid-2", t0))
		require.ErrorIs(t, complete("sid-2", "dev-2", t0), authn.ErrStoreNotFound, "cancelled activation")
		require.Equal(t, []string{}, deviceIDs(t, s, "alice"))

		// Just before expiry it completes.
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-3", t0), t0))
		require.NoError(t, complete("sid-3", "dev-3", a.ExpiresAt.Add(-time.Second)))
	})

	t.Run("CancelActivation", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", "sid-none", t0), authn.ErrStoreNotFound)

		// Waiting: cancelled; again: not found.
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-1", t0), t0))
		require.ErrorIs(t, s.CancelActivation(t.Context(), "bob", "sid-1", t0), authn.ErrStoreNotFound, "another user's activation")
		requireActivationState(t, s, "sid-1", t0, authn.ActivationWaiting)
		require.NoError(t, s.CancelActivation(t.Context(), "alice", "sid-1", t0))
		requireActivationState(t, s, "sid-1", t0, authn.ActivationCancelled)
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", "sid-1", t0), authn.ErrStoreNotFound)

		// Completed: cancelled, and its pending device deleted.
		sid := pendingDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, s.CancelActivation(t.Context(), "alice", sid, t0))
		requireActivationState(t, s, sid, t0, authn.ActivationCancelled)
		_, err := s.Device(t.Context(), "alice", "dev-2")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the pending device is deleted")
		_, err = s.ActivateDevice(t.Context(), "alice", "dev-2", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		// Paired: not found, and the device stays.
		sid = activeDevice(t, s, "alice", "dev-3", t0)
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", sid, t0), authn.ErrStoreNotFound)
		require.Equal(t, []string{"dev-3"}, deviceIDs(t, s, "alice"))

		// Expired: not found.
		a := waitingActivation("alice", "sid-4", t0)
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", "sid-4", a.ExpiresAt), authn.ErrStoreNotFound)
	})

	t.Run("RecordsAreCopied", func(t *testing.T) {
		s := newStore(t)
		a := waitingActivation("alice", "sid-1", t0)
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		a.Pending[0] ^= 0xff
		got := getActivation(t, s, "sid-1", t0)
		require.Equal(t, []byte("sealed pending of sid-1"), got.Pending, "PutActivation keeps its own copy")
		got.Pending[0] ^= 0xff
		require.Equal(t, []byte("sealed pending of sid-1"), getActivation(t, s, "sid-1", t0).Pending, "GetActivation returns a copy")

		d := deviceRecord("alice", "dev-1", "sid-1", t0)
		_, err := s.CompleteActivation(t.Context(), "sid-1", requestHash("dev-1"), serverConfirm("dev-1"), d, 5, t0)
		require.NoError(t, err)
		d.Secret[0] ^= 0xff
		dd, err := s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("sealed root of dev-1"), dd.Secret, "CompleteActivation keeps its own copy")
		dd.Secret[0] ^= 0xff
		dd, err = s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("sealed root of dev-1"), dd.Secret, "Device returns a copy")

		c := newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0))
		c.Names = map[string]string{"dev-1": "phone"}
		putChallenge(t, s, c, t0)
		c.Tags[0].MAC = mac(2)
		c.Names["dev-1"] = "changed by the caller after PutChallenge"
		r := attempt(t, s, "alice", "ch-1", wrongMAC, step0, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, "phone", r.Challenge.Names["dev-1"], "PutChallenge keeps its own copy of the names")
		r.Challenge.Names["dev-1"] = "changed by the caller after a mismatch"
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, policy, t0)
		requireOutcome(t, authn.AttemptMatch, r, "PutChallenge keeps its own copy of the tags")
		require.Equal(t, "phone", r.Challenge.Names["dev-1"], "Attempt returns a copy of the challenge's names")
	})
}

// ---------------------------------------------------------------------
// Pairing.

func testPairing(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("CountPairingTry", func(t *testing.T) {
		s := newStore(t)
		sid := pendingDevice(t, s, "alice", "dev-1", t0)
		_, err := s.CountPairingTry(t.Context(), "bob", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = s.CountPairingTry(t.Context(), "alice", "dev-none", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "unknown device")
		for want := 1; want <= 3; want++ {
			n, err := s.CountPairingTry(t.Context(), "alice", "dev-1", 3, t0)
			require.NoError(t, err, "try %d", want)
			require.Equal(t, want, n)
		}
		d, err := s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, 3, d.PairTries)

		_, err = s.CountPairingTry(t.Context(), "alice", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreLimit, "the fourth try of three")
		_, err = s.Device(t.Context(), "alice", "dev-1")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the device is deleted")
		requireActivationState(t, s, sid, t0, authn.ActivationCancelled)
		_, err = s.CountPairingTry(t.Context(), "alice", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		_, err = s.ActivateDevice(t.Context(), "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", sid, t0), authn.ErrStoreNotFound)

		// An active device is not pending.
		activeDevice(t, s, "alice", "dev-2", t0)
		_, err = s.CountPairingTry(t.Context(), "alice", "dev-2", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an active device")
	})

	t.Run("ActivateDevice", func(t *testing.T) {
		s := newStore(t)
		sid := pendingDevice(t, s, "alice", "dev-1", t0)
		_, err := s.ActivateDevice(t.Context(), "bob", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = s.ActivateDevice(t.Context(), "alice", "dev-none", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		epoch := userState(t, s, "alice", t0).Epoch
		d, err := s.ActivateDevice(t.Context(), "alice", "dev-1", t0)
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, d.State)
		require.Equal(t, "dev-1", d.ID)
		requireActivationState(t, s, sid, t0, authn.ActivationActive)
		got, err := s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, got.State)
		require.Equal(t, epoch, userState(t, s, "alice", t0).Epoch, "pairing without Replacing leaves the epoch")

		_, err = s.ActivateDevice(t.Context(), "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an active device is not pending")
	})

	t.Run("ActivateDeviceReplacing", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-old", t0)
		activeDevice(t, s, "alice", "dev-keep", t0)
		a := waitingActivation("alice", "sid-new", t0)
		a.Replacing = "dev-old"
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		dev := deviceRecord("alice", "dev-new", "sid-new", t0)
		dev.Replacing = "dev-old"
		_, err := s.CompleteActivation(t.Context(), "sid-new", requestHash("dev-new"), serverConfirm("dev-new"), dev, 100, t0)
		require.NoError(t, err)
		require.Equal(t, []string{"dev-old", "dev-keep", "dev-new"}, deviceIDs(t, s, "alice"), "the old device stays until pairing")

		epoch := userState(t, s, "alice", t0).Epoch
		d, err := s.ActivateDevice(t.Context(), "alice", "dev-new", t0)
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, d.State)
		require.Equal(t, []string{"dev-keep", "dev-new"}, deviceIDs(t, s, "alice"), "pairing deletes the replaced device")
		_, err = s.Device(t.Context(), "alice", "dev-old")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.Equal(t, epoch+1, userState(t, s, "alice", t0).Epoch, "replacing bumps the epoch")
	})
}

// ---------------------------------------------------------------------
// Devices.

func testDevices(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("DevicesAndDevice", func(t *testing.T) {
		s := newStore(t)
		require.Empty(t, deviceIDs(t, s, "alice"), "an unknown user has no devices")
		activeDevice(t, s, "alice", "dev-1", t0)
		pendingDevice(t, s, "alice", "dev-2", t0.Add(time.Second))
		activeDevice(t, s, "alice", "dev-3", t0.Add(2*time.Second))
		activeDevice(t, s, "bob", "dev-b", t0)
		require.Equal(t, []string{"dev-1", "dev-2", "dev-3"}, deviceIDs(t, s, "alice"), "oldest first, any state")
		require.Equal(t, []string{"dev-b"}, deviceIDs(t, s, "bob"))

		ds, err := s.Devices(t.Context(), "alice")
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, ds[0].State)
		require.Equal(t, authn.DevicePending, ds[1].State)

		d, err := s.Device(t.Context(), "alice", "dev-3")
		require.NoError(t, err)
		require.Equal(t, "alice", d.User)
		require.Equal(t, "phone dev-3", d.Name)
		require.Equal(t, "android", d.Platform)
		require.Equal(t, challenge.Default.String(), d.Suite)
		require.Equal(t, "sid-dev-3", d.SessionID)
		require.True(t, t0.Add(2*time.Second).Equal(d.CreatedAt), "CreatedAt %v", d.CreatedAt)
		_, err = s.Device(t.Context(), "bob", "dev-3")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = s.Device(t.Context(), "alice", "dev-none")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
	})

	t.Run("RenameDevice", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, s.RenameDevice(t.Context(), "alice", "dev-1", "work phone"))
		d, err := s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, "work phone", d.Name)
		require.ErrorIs(t, s.RenameDevice(t.Context(), "bob", "dev-1", "mine"), authn.ErrStoreNotFound, "another user's device")
		require.ErrorIs(t, s.RenameDevice(t.Context(), "alice", "dev-none", "x"), authn.ErrStoreNotFound)
		d, err = s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, "work phone", d.Name)
	})

	t.Run("RevokeDevice", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		e0 := userState(t, s, "alice", t0).Epoch
		b0 := userState(t, s, "bob", t0).Epoch

		require.ErrorIs(t, s.RevokeDevice(t.Context(), "bob", "dev-1", t0), authn.ErrStoreNotFound, "another user's device")
		require.Equal(t, e0, userState(t, s, "alice", t0).Epoch)
		require.Equal(t, b0, userState(t, s, "bob", t0).Epoch)

		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-1", t0))
		require.Equal(t, e0+1, userState(t, s, "alice", t0).Epoch, "revoking bumps the epoch")
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"))
		_, err := s.Device(t.Context(), "alice", "dev-1")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, s.RevokeDevice(t.Context(), "alice", "dev-1", t0), authn.ErrStoreNotFound)
		require.Equal(t, e0+1, userState(t, s, "alice", t0).Epoch)
		require.Equal(t, b0, userState(t, s, "bob", t0).Epoch, "another user's epoch stays")

		// A pending device can be revoked too.
		pendingDevice(t, s, "alice", "dev-3", t0)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-3", t0))
		require.Equal(t, e0+2, userState(t, s, "alice", t0).Epoch)
		require.Equal(t, []string{"dev-2"}, deviceIDs(t, s, "alice"))
	})

	t.Run("DevicesPage", func(t *testing.T) {
		s := newStore(t)
		page := func(afterUser, afterID string, limit int) []string {
			t.Helper()
			ds, err := s.DevicesPage(t.Context(), afterUser, afterID, limit)
			require.NoError(t, err)
			out := []string{}
			for _, d := range ds {
				out = append(out, d.User+"/"+d.ID)
			}
			return out
		}
		require.Equal(t, []string{}, page("", "", 10), "no devices")
		activeDevice(t, s, "bob", "dev-b2", t0)
		activeDevice(t, s, "bob", "dev-b1", t0)
		activeDevice(t, s, "alice", "dev-a3", t0)
		pendingDevice(t, s, "alice", "dev-a1", t0)
		activeDevice(t, s, "carol", "dev-c1", t0)
		all := []string{"alice/dev-a1", "alice/dev-a3", "bob/dev-b1", "bob/dev-b2", "carol/dev-c1"}
		require.Equal(t, all, page("", "", 10), "every device, pending ones included, in (User, ID) order")

		var walked []string
		afterUser, afterID := "", ""
		for range 10 {
			ds, err := s.DevicesPage(t.Context(), afterUser, afterID, 2)
			require.NoError(t, err)
			require.LessOrEqual(t, len(ds), 2)
			if len(ds) == 0 {
				break
			}
			for _, d := range ds {
				walked = append(walked, d.User+"/"+d.ID)
			}
			afterUser, afterID = ds[len(ds)-1].User, ds[len(ds)-1].ID
		}
		require.Equal(t, all, walked, "pages of two")

		d, err := s.DevicesPage(t.Context(), "alice", "dev-a3", 1)
		require.NoError(t, err)
		require.Len(t, d, 1)
		require.Equal(t, []byte("sealed root of dev-b1"), d[0].Secret, "a page carries the sealed secrets")

		// The device a walk stopped after may be gone by the next page.
		require.NoError(t, s.RevokeDevice(t.Context(), "bob", "dev-b1", t0))
		require.Equal(t, []string{"bob/dev-b2", "carol/dev-c1"}, page("bob", "dev-b1", 10))
		require.Equal(t, []string{"carol/dev-c1"}, page("bob", "dev-b2", 10))
		require.Equal(t, []string{}, page("carol", "dev-c1", 10))
	})

	t.Run("UpdateSecret", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		old := []byte("sealed root of dev-1")
		require.NoError(t, s.UpdateSecret(t.Context(), "alice", "dev-1", old, []byte("resealed 1")))
		d, err := s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("resealed 1"), d.Secret)

		require.ErrorIs(t, s.UpdateSecret(t.Context(), "alice", "dev-1", old, []byte("resealed 2")), authn.ErrStoreConflict, "stale old value")
		d, err = s.Device(t.Context(), "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("resealed 1"), d.Secret, "a conflict changes nothing")
		require.ErrorIs(t, s.UpdateSecret(t.Context(), "alice", "dev-none", old, []byte("x")), authn.ErrStoreNotFound)
		require.ErrorIs(t, s.UpdateSecret(t.Context(), "bob", "dev-1", []byte("resealed 1"), []byte("x")), authn.ErrStoreNotFound, "another user's device")
	})

	t.Run("UnknownUser", func(t *testing.T) {
		s := newStore(t)
		require.Equal(t, authn.UserState{}, userState(t, s, "nobody", t0))
		activeDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-1", t0))
		require.Equal(t, authn.UserState{}, userState(t, s, "nobody", t0), "other users' changes do not show")
	})
}

// ---------------------------------------------------------------------
// Challenge issuance.

func testPutChallenge(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("Horizon", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 100, Horizon: 4 * time.Minute}
		c := newChallenge("alice", "ch-1", 0, t0)
		require.NoError(t, s.PutChallenge(t.Context(), c, lim, t0))

		reuse := func(id string, now time.Time) error {
			c2 := newChallenge("alice", id, 0, now)
			c2.Question = c.Question
			return s.PutChallenge(t.Context(), c2, lim, now)
		}
		require.ErrorIs(t, reuse("ch-2", t0.Add(time.Second)), authn.ErrStoreConflict, "the same question at once")
		require.ErrorIs(t, reuse("ch-3", t0.Add(3*time.Minute)), authn.ErrStoreConflict, "after the challenge expired, within the horizon")
		require.ErrorIs(t, reuse("ch-4", t0.Add(lim.Horizon-time.Second)), authn.ErrStoreConflict, "just within the horizon")

		// Another user may get the same question.
		c3 := newChallenge("bob", "ch-b", 0, t0)
		c3.Question = c.Question
		require.NoError(t, s.PutChallenge(t.Context(), c3, lim, t0))

		require.NoError(t, reuse("ch-5", t0.Add(lim.Horizon+time.Second)), "past the horizon")
		// And it is a new horizon from then.
		require.ErrorIs(t, reuse("ch-6", t0.Add(lim.Horizon+2*time.Second)), authn.ErrStoreConflict)
	})

	t.Run("RefusedQuestionIsNotRecorded", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 1, Horizon: 4 * time.Minute}
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-1", 0, t0), lim, t0))
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-2", 0, t0), lim, t0), authn.ErrStoreLimit)
		// ch-2's question was refused, so it may be issued once the
		// budget allows.
		now := t0.Add(time.Minute + time.Second)
		c := newChallenge("alice", "ch-3", 0, now)
		c.Question = "q-ch-2"
		require.NoError(t, s.PutChallenge(t.Context(), c, lim, now))
	})

	t.Run("PerMinute", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 3, Horizon: 4 * time.Minute}
		for i := range 3 {
			now := t0.Add(time.Duration(i) * 10 * time.Second)
			require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", fmt.Sprintf("ch-%d", i), 0, now), lim, now))
		}
		// t0+30s: three in the last minute.
		now := t0.Add(30 * time.Second)
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-x", 0, now), lim, now), authn.ErrStoreLimit)
		now = t0.Add(time.Minute - time.Second)
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-y", 0, now), lim, now), authn.ErrStoreLimit, "the first is still within the minute")
		// Another user has their own budget.
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("bob", "ch-b", 0, now), lim, now))
		// A minute after the first, one more is allowed, and only one.
		now = t0.Add(time.Minute + time.Second)
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-3", 0, now), lim, now), "a minute later")
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-4", 0, now), lim, now), authn.ErrStoreLimit)
	})

	t.Run("Outstanding", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 2, PerMinute: 100, Horizon: 4 * time.Minute}
		for i := range 3 {
			now := t0.Add(time.Duration(i) * time.Second)
			c := newChallenge("alice", fmt.Sprintf("ch-%d", i), 0, now, tag(byte(10+i), "dev-1", step0, 0))
			require.NoError(t, s.PutChallenge(t.Context(), c, lim, now))
		}
		// A challenge of bob's is not counted against alice.
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("bob", "ch-b", 0, t0, tag(20, "dev-b", step0, 0)), lim, t0))

		now := t0.Add(5 * time.Second)
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-0", mac(10), step0, policy, now), "the oldest is voided")
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-1", mac(11), step0, policy, now))
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-2", mac(12), step0, policy, now))
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "bob", "ch-b", mac(20), step0, policy, now))
	})

	t.Run("Epoch", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-1", 1, t0), limits, t0), authn.ErrStoreConflict, "an epoch ahead of the user's")
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		e := userState(t, s, "alice", t0).Epoch
		putChallenge(t, s, newChallenge("alice", "ch-2", e, t0), t0)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", t0))
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-3", e, t0), limits, t0), authn.ErrStoreConflict, "the epoch before a revocation")
		putChallenge(t, s, newChallenge("alice", "ch-4", e+1, t0), t0)
	})
}

// ---------------------------------------------------------------------
// Attempt.

func testAttempt(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("MismatchThenMatch", func(t *testing.T) {
		s := newStore(t)
		tg := tag(1, "dev-1", step0, 0)
		c := newChallenge("alice", "ch-1", 0, t0, tg, tag(2, "dev-2", step0, 0))
		c.Names = map[string]string{"dev-1": "phone 1", "dev-2": "phone 2"}
		putChallenge(t, s, c, t0)

		r := attempt(t, s, "alice", "ch-1", wrongMAC, step0, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 1, r.Failures)
		require.Zero(t, r.RetryAfter)
		require.Equal(t, "ch-1", r.Challenge.ID, "a mismatch returns the challenge")
		require.Equal(t, "q-ch-1", r.Challenge.Question)
		u := userState(t, s, "alice", t0)
		require.Equal(t, 1, u.Failures, "a mismatch is counted")
		require.True(t, t0.Equal(u.LastFailure), "LastFailure %v", u.LastFailure)

		now := t0.Add(time.Second)
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, policy, now)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Equal(t, tg, r.Match)
		require.Equal(t, "ch-1", r.Challenge.ID)
		require.Equal(t, uint64(0), r.Challenge.Epoch)
		require.Equal(t, c.Names, r.Challenge.Names, "a match returns the devices' names as issued")
		require.Zero(t, r.Failures)
		require.Zero(t, r.RetryAfter)
		u = userState(t, s, "alice", now)
		require.Zero(t, u.Failures, "a match resets the failures")
		require.Zero(t, u.Level)

		// The challenge is consumed: the same MAC again finds nothing,
		// and is counted.
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, policy, now)
		requireOutcome(t, authn.AttemptNoChallenge, r, "a match consumes the challenge")
		require.Equal(t, 1, userState(t, s, "alice", now).Failures)
	})

	t.Run("MatchesAnyDevice", func(t *testing.T) {
		s := newStore(t)
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0), tag(2, "dev-2", step0+1, 1)), t0)
		r := attempt(t, s, "alice", "ch-1", mac(2), step0, policy, t0)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Equal(t, "dev-2", r.Match.Device)
		require.Equal(t, uint64(step0+1), r.Match.Step)
		require.Equal(t, 1, r.Match.Drift)
	})

	t.Run("NoChallenge", func(t *testing.T) {
		s := newStore(t)
		r := attempt(t, s, "mallory", "ch-none", wrongMAC, step0, policy, t0)
		requireOutcome(t, authn.AttemptNoChallenge, r, "an unknown challenge")
		require.Equal(t, 1, r.Failures)
		require.Equal(t, 1, userState(t, s, "mallory", t0).Failures, "an unknown challenge is counted")

		// Another user's challenge: not found, counted against the one
		// who tried, and the challenge is untouched (neither its
		// attempts nor its owner's failures move).
		p := policy
		p.MaxAttempts = 1
		putChallenge(t, s, newChallenge("alice", "ch-a", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for range 3 {
			r = attempt(t, s, "mallory", "ch-a", mac(1), step0, p, t0)
			requireOutcome(t, authn.AttemptNoChallenge, r, "another user's challenge, even with its right MAC")
		}
		require.Equal(t, 4, userState(t, s, "mallory", t0).Failures)
		require.Zero(t, userState(t, s, "alice", t0).Failures)
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-a", mac(1), step0, p, t0), "the owner still answers it")
	})

	t.Run("Expired", func(t *testing.T) {
		s := newStore(t)
		c := newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0))
		putChallenge(t, s, c, t0)
		putChallenge(t, s, newChallenge("alice", "ch-2", 0, t0, tag(2, "dev-1", step0+4, 0)), t0)
		r := attempt(t, s, "alice", "ch-2", mac(2), step0+4, policy, c.ExpiresAt.Add(-time.Second))
		requireOutcome(t, authn.AttemptMatch, r, "just before expiry")

		r = attempt(t, s, "alice", "ch-1", mac(1), step0+4, policy, c.ExpiresAt)
		requireOutcome(t, authn.AttemptExpired, r, "at ExpiresAt, even with the right MAC")
		require.Zero(t, userState(t, s, "alice", c.ExpiresAt).Failures, "an expired challenge is not counted")
	})

	t.Run("VoidedByRevocation", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		e := userState(t, s, "alice", t0).Epoch
		putChallenge(t, s, newChallenge("alice", "ch-1", e, t0, tag(1, "dev-1", step0, 0), tag(2, "dev-2", step0, 0)), t0)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", t0))
		r := attempt(t, s, "alice", "ch-1", mac(1), step0, policy, t0)
		requireOutcome(t, authn.AttemptExpired, r, "a challenge of an earlier epoch, answered by a device that stays")
		require.Zero(t, userState(t, s, "alice", t0).Failures, "a voided challenge is not counted")

		// Replacing a device voids them too.
		e = userState(t, s, "alice", t0).Epoch
		putChallenge(t, s, newChallenge("alice", "ch-2", e, t0, tag(3, "dev-1", step0, 0)), t0)
		a := waitingActivation("alice", "sid-3", t0)
		a.Replacing = "dev-1"
		require.NoError(t, s.PutActivation(t.Context(), a, t0))
		dev := deviceRecord("alice", "dev-3", "sid-3", t0)
		dev.Replacing = "dev-1"
		_, err := s.CompleteActivation(t.Context(), "sid-3", requestHash("dev-3"), serverConfirm("dev-3"), dev, 100, t0)
		require.NoError(t, err)
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-2", mac(3), step0, policy, t0), "completing a replacement does not void yet")
		putChallenge(t, s, newChallenge("alice", "ch-3", e, t0, tag(4, "dev-1", step0, 0)), t0)
		_, err = s.ActivateDevice(t.Context(), "alice", "dev-3", t0)
		require.NoError(t, err)
		requireOutcome(t, authn.AttemptExpired, attempt(t, s, "alice", "ch-3", mac(4), step0, policy, t0), "pairing a replacement voids")
	})

	t.Run("Exhausted", func(t *testing.T) {
		s := newStore(t)
		p := policy
		p.MaxAttempts = 3
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for i := 1; i <= 3; i++ {
			r := attempt(t, s, "alice", "ch-1", wrongMAC, step0, p, t0)
			requireOutcome(t, authn.AttemptMismatch, r, "attempt %d of 3", i)
			require.Equal(t, i, r.Failures)
		}
		r := attempt(t, s, "alice", "ch-1", mac(1), step0, p, t0)
		requireOutcome(t, authn.AttemptExhausted, r, "the fourth attempt of three, even with the right MAC")
		require.Equal(t, 4, r.Failures, "an exhausting attempt is counted")
		r = attempt(t, s, "alice", "ch-1", mac(1), step0, p, t0)
		requireOutcome(t, authn.AttemptNoChallenge, r, "an exhausted challenge is gone")
		require.Equal(t, 5, userState(t, s, "alice", t0).Failures)
	})

	t.Run("Window", func(t *testing.T) {
		s := newStore(t)
		// A device that runs two steps ahead: it is expected at
		// serverStep+2, and with window 1 a tag of step serverStep+1 to
		// serverStep+3 is admissible.
		const drift = 2
		var tags []authn.Tag
		for st := uint64(step0 - 2); st <= step0+6; st++ {
			tags = append(tags, tag(byte(st-step0+100), "dev-1", st, drift))
		}
		macAt := func(st uint64) [16]byte { return mac(byte(st - step0 + 100)) }
		n := 0
		try := func(tagStep, serverStep uint64) authn.AttemptResult {
			n++
			id := fmt.Sprintf("ch-%d", n)
			putChallenge(t, s, newChallenge("alice", id, 0, t0, tags...), t0)
			return attempt(t, s, "alice", id, macAt(tagStep), serverStep, policy, t0)
		}
		for _, c := range []struct {
			tagStep, serverStep uint64
			match               bool
		}{
			{step0 + 2, step0, true},  // expected
			{step0 + 1, step0, true},  // window behind
			{step0 + 3, step0, true},  // window ahead
			{step0 + 0, step0, false}, // two behind
			{step0 + 4, step0, false}, // two ahead
			{step0 - 2, step0, false},
			{step0 + 6, step0, false},
			{step0 + 6, step0 + 3, true}, // the server moved on
			{step0 + 6, step0 + 4, true},
			{step0 + 3, step0 + 3, false}, // left behind: expected step0+5
		} {
			r := try(c.tagStep, c.serverStep)
			want := authn.AttemptMismatch
			if c.match {
				want = authn.AttemptMatch
			}
			requireOutcome(t, want, r, "tag step %+d, server step %+d, drift %d, window 1", int(c.tagStep)-step0, int(c.serverStep)-step0, drift)
			if c.match {
				require.Equal(t, c.tagStep, r.Match.Step)
			}
		}

		// Window 0 (a resync challenge): the expected step only.
		c := newChallenge("alice", "ch-w0", 0, t0, tags...)
		c.Window = 0
		putChallenge(t, s, c, t0)
		requireOutcome(t, authn.AttemptMismatch, attempt(t, s, "alice", "ch-w0", macAt(step0+3), step0, policy, t0), "window 0, one ahead")
		requireOutcome(t, authn.AttemptMismatch, attempt(t, s, "alice", "ch-w0", macAt(step0+1), step0, policy, t0), "window 0, one behind")
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-w0", macAt(step0+2), step0, policy, t0), "window 0, expected")
	})
}

// ---------------------------------------------------------------------
// Lockout.

func testLockout(t *testing.T, newStore func(t *testing.T) authn.Store) {
	p := authn.LockPolicy{MaxFailures: 3, Base: time.Minute, Max: 5 * time.Minute, Window: 24 * time.Hour, MaxAttempts: 100}
	// fail counts a failure with an unknown challenge (counted, and never
	// expiring between locks).
	fail := func(t *testing.T, s authn.Store, now time.Time) authn.AttemptResult {
		t.Helper()
		r := attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, now)
		requireOutcome(t, authn.AttemptNoChallenge, r, "a failure at %v", now.Sub(t0))
		return r
	}

	t.Run("Escalation", func(t *testing.T) {
		s := newStore(t)
		now := t0
		for i := 1; i < p.MaxFailures; i++ {
			r := fail(t, s, now)
			require.Zero(t, r.RetryAfter, "failure %d does not lock", i)
			require.Equal(t, i, r.Failures)
			now = now.Add(time.Second)
		}
		level := -1
		for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
			r := fail(t, s, now)
			require.Equal(t, want, r.RetryAfter, "lock %d: Base·2^level, at most Max", i+1)
			u := userState(t, s, "alice", now)
			require.True(t, now.Add(want).Equal(u.LockedUntil), "lock %d: LockedUntil %v, want now+%v", i+1, u.LockedUntil.Sub(now), want)
			if want < p.Max {
				require.Greater(t, u.Level, level, "lock %d: the level rises", i+1)
			} else {
				require.GreaterOrEqual(t, u.Level, level, "lock %d: the level stays at least", i+1)
			}
			level = u.Level

			// While locked: refused, nothing counted, even the right MAC
			// on a live challenge.
			mid := now.Add(want / 2)
			id := fmt.Sprintf("ch-live-%d", i)
			putChallenge(t, s, newChallenge("alice", id, u.Epoch, mid, tag(1, "dev-1", step0, 0)), mid)
			lr := attempt(t, s, "alice", id, mac(1), step0, p, mid)
			requireOutcome(t, authn.AttemptLocked, lr, "lock %d", i+1)
			require.Equal(t, want-want/2, lr.RetryAfter)
			lr = attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, now.Add(want-time.Second))
			requireOutcome(t, authn.AttemptLocked, lr, "lock %d, a second before its end", i+1)
			require.Equal(t, time.Second, lr.RetryAfter)
			require.Equal(t, u, userState(t, s, "alice", mid), "lock %d: a locked attempt changes nothing", i+1)

			// After the lock the level stays and the next failure locks
			// again, at the next level.
			now = now.Add(want + time.Second)
			require.Equal(t, level, userState(t, s, "alice", now).Level, "the level persists past the lock")
		}
	})

	t.Run("LockedAttemptDoesNotConsume", func(t *testing.T) {
		s := newStore(t)
		pp := p
		pp.MaxAttempts = 1
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for range p.MaxFailures {
			fail(t, s, t0)
		}
		for range 3 {
			requireOutcome(t, authn.AttemptLocked, attempt(t, s, "alice", "ch-1", mac(1), step0, pp, t0.Add(time.Second)))
		}
		// The lock ends before the challenge does: its one attempt is
		// still there.
		now := t0.Add(time.Minute + time.Second)
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-1", mac(1), step0, pp, now), "the locked attempts were not counted on the challenge")
		u := userState(t, s, "alice", now)
		require.Zero(t, u.Failures)
		require.Zero(t, u.Level, "a match resets the level")
		require.False(t, u.LockedUntil.After(now))

		// With the level reset, the next lock is Base again.
		for i := 1; i <= p.MaxFailures; i++ {
			r := fail(t, s, now)
			if i < p.MaxFailures {
				require.Zero(t, r.RetryAfter)
			} else {
				require.Equal(t, p.Base, r.RetryAfter, "the first lock after a reset is Base")
			}
		}
	})

	t.Run("MatchOnTheLastFailure", func(t *testing.T) {
		// Counted before checked: the attempt that reaches MaxFailures is
		// still compared, and a match resets everything.
		s := newStore(t)
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		for range p.MaxFailures - 1 {
			fail(t, s, t0)
		}
		r := attempt(t, s, "alice", "ch-1", mac(1), step0, p, t0)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Zero(t, r.RetryAfter)
		u := userState(t, s, "alice", t0)
		require.Zero(t, u.Failures)
		require.Zero(t, u.Level)
		require.False(t, u.LockedUntil.After(t0), "a match lifts the lock its own counting set")
	})

	t.Run("FailureWindow", func(t *testing.T) {
		s := newStore(t)
		// Failures older than the window stop counting.
		fail(t, s, t0)
		fail(t, s, t0.Add(time.Second))
		now := t0.Add(time.Second + p.Window + time.Second)
		r := fail(t, s, now)
		require.Equal(t, 1, r.Failures, "failures older than the window no longer count")
		require.Zero(t, r.RetryAfter)

		// The level stays: lock once, let the window pass, and the next
		// lock is at the next level.
		fail(t, s, now)
		r = fail(t, s, now)
		require.Equal(t, p.Base, r.RetryAfter)
		level := userState(t, s, "alice", now).Level
		now = now.Add(p.Base + p.Window + time.Second)
		for i := 1; i <= p.MaxFailures; i++ {
			r = fail(t, s, now)
			require.Equal(t, i, r.Failures)
			if i < p.MaxFailures {
				require.Zero(t, r.RetryAfter, "failure %d after the window", i)
			}
		}
		require.Equal(t, 2*p.Base, r.RetryAfter, "the level outlives the failure window")
		require.Greater(t, userState(t, s, "alice", now).Level, level)
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Many wrong answers at once, over several live challenges: no
		// more than MaxFailures are compared, the rest find the lock.
		s := newStore(t)
		var ids []string
		for i := range 4 {
			id := fmt.Sprintf("ch-%d", i)
			putChallenge(t, s, newChallenge("alice", id, 0, t0, tag(1, "dev-1", step0, 0)), t0)
			ids = append(ids, id)
		}
		const n = 300
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = s.Attempt(context.Background(), "alice", ids[i%len(ids)], wrongMAC, step0, p, t0)
			return err
		})
		byOutcome := map[string]int{}
		for i, err := range errs {
			require.NoError(t, err)
			byOutcome[outcomeName(results[i].Outcome)]++
		}
		require.Equal(t, map[string]int{"AttemptMismatch": p.MaxFailures, "AttemptLocked": n - p.MaxFailures}, byOutcome)
		require.True(t, userState(t, s, "alice", t0).LockedUntil.After(t0))
	})

	t.Run("ConcurrentMatch", func(t *testing.T) {
		// Many right answers to one challenge at once: one match.
		s := newStore(t)
		putChallenge(t, s, newChallenge("alice", "ch-1", 0, t0, tag(1, "dev-1", step0, 0)), t0)
		const n = 100
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = s.Attempt(context.Background(), "alice", "ch-1", mac(1), step0, policy, t0)
			return err
		})
		matches := 0
		for i, err := range errs {
			require.NoError(t, err)
			switch results[i].Outcome {
			case authn.AttemptMatch:
				matches++
			case authn.AttemptNoChallenge:
			default:
				require.Fail(t, "unexpected outcome", outcomeName(results[i].Outcome))
			}
		}
		require.Equal(t, 1, matches, "matches of one challenge answered %d times at once", n)
		require.Equal(t, n-1, userState(t, s, "alice", t0).Failures, "every answer after the match is a counted failure")
	})

	t.Run("PhantomUser", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= p.MaxFailures; i++ {
			r := attempt(t, s, "nobody", fmt.Sprintf("ch-%d", i), wrongMAC, step0, p, t0)
			requireOutcome(t, authn.AttemptNoChallenge, r)
		}
		requireOutcome(t, authn.AttemptLocked, attempt(t, s, "nobody", "ch-x", wrongMAC, step0, p, t0), "users never seen lock like real ones")
		require.Zero(t, userState(t, s, "alice", t0).Failures, "locks are per user")
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-x", wrongMAC, step0, p, t0))
	})

	t.Run("RecordFailure", func(t *testing.T) {
		s := newStore(t)
		for i := 1; i <= p.MaxFailures; i++ {
			now := t0.Add(time.Duration(i) * time.Second)
			u, err := s.RecordFailure(t.Context(), "alice", p, now)
			require.NoError(t, err)
			require.Equal(t, i, u.Failures)
			require.True(t, now.Equal(u.LastFailure), "LastFailure")
			require.Equal(t, u, userState(t, s, "alice", now), "RecordFailure returns the state as stored")
			if i < p.MaxFailures {
				require.False(t, u.LockedUntil.After(now), "failure %d does not lock", i)
			} else {
				require.True(t, now.Add(p.Base).Equal(u.LockedUntil), "the last failure locks for Base: LockedUntil %v", u.LockedUntil.Sub(now))
			}
		}
		r := attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, t0.Add(10*time.Second))
		requireOutcome(t, authn.AttemptLocked, r, "RecordFailure and Attempt count the same failures")

		// And Attempt's failures count for RecordFailure.
		s = newStore(t)
		for range p.MaxFailures - 1 {
			fail(t, s, t0)
		}
		u, err := s.RecordFailure(t.Context(), "alice", p, t0)
		require.NoError(t, err)
		require.True(t, u.LockedUntil.After(t0), "RecordFailure after MaxFailures-1 attempts locks")
	})
}

// ---------------------------------------------------------------------
// CommitStep.

func testCommitStep(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	activeDevice(t, s, "alice", "dev-1", t0)
	activeDevice(t, s, "alice", "dev-2", t0)
	pendingDevice(t, s, "alice", "dev-p", t0)
	e := userState(t, s, "alice", t0).Epoch
	commit := func(dev string, epoch, step uint64, drift int) error {
		return s.CommitStep(t.Context(), "alice", dev, epoch, step, drift, t0)
	}
	lastStep := func(dev string) (uint64, int) {
		d, err := s.Device(t.Context(), "alice", dev)
		require.NoError(t, err)
		return d.LastStep, d.Drift
	}

	require.NoError(t, commit("dev-1", e, step0, 1))
	st, dr := lastStep("dev-1")
	require.Equal(t, uint64(step0), st)
	require.Equal(t, 1, dr)

	require.NoError(t, commit("dev-1", e, step0, 0), "the same step again: two logins in one step")
	st, dr = lastStep("dev-1")
	require.Equal(t, uint64(step0), st)
	require.Equal(t, 0, dr, "the drift is updated")

	require.ErrorIs(t, commit("dev-1", e, step0-1, 5), authn.ErrStoreConflict, "an older step is a replay")
	st, dr = lastStep("dev-1")
	require.Equal(t, uint64(step0), st, "a conflict changes nothing")
	require.Equal(t, 0, dr)

	require.NoError(t, commit("dev-1", e, step0+3, -1))
	st, dr = lastStep("dev-1")
	require.Equal(t, uint64(step0+3), st)
	require.Equal(t, -1, dr)

	// Steps are per device.
	require.NoError(t, commit("dev-2", e, step0, 0))
	st, _ = lastStep("dev-2")
	require.Equal(t, uint64(step0), st)

	require.ErrorIs(t, commit("dev-1", e+1, step0+4, 0), authn.ErrStoreConflict, "an epoch that is not the user's")
	require.ErrorIs(t, commit("dev-p", e, step0, 0), authn.ErrStoreNotFound, "a pending device")
	require.ErrorIs(t, commit("dev-none", e, step0, 0), authn.ErrStoreNotFound, "an unknown device")
	require.ErrorIs(t, s.CommitStep(t.Context(), "bob", "dev-1", 0, step0+5, 0, t0), authn.ErrStoreNotFound, "another user's device")

	// A revocation moves the epoch: a match of before it does not commit.
	require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", t0))
	require.ErrorIs(t, commit("dev-1", e, step0+4, 0), authn.ErrStoreConflict, "the epoch moved")
	st, _ = lastStep("dev-1")
	require.Equal(t, uint64(step0+3), st)
	require.NoError(t, commit("dev-1", e+1, step0+4, 0))
	require.ErrorIs(t, commit("dev-2", e+1, step0+5, 0), authn.ErrStoreNotFound, "a revoked device")
}

// ---------------------------------------------------------------------
// Sweep.

func testSweep(t *testing.T, newStore func(t *testing.T) authn.Store) {
	s := newStore(t)
	lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 100, Horizon: 4 * time.Minute}
	for _, id := range []string{"ch-1", "ch-2"} {
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", id, 0, t0, tag(1, "dev-1", step0, 0)), lim, t0))
	}
	later := t0.Add(3 * time.Minute)
	require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-3", 0, later, tag(3, "dev-1", step0, 0)), lim, later))
	require.NoError(t, s.PutActivation(t.Context(), waitingActivation("bob", "sid-b", t0), t0))
	sid := pendingDevice(t, s, "carol", "dev-c", t0)

	n, err := s.Sweep(t.Context(), t0.Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, n, "nothing has expired")

	// ch-1 and ch-2 expired; their questions are still within the
	// horizon.
	n, err = s.Sweep(t.Context(), later)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 2, "two challenges expired")
	requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-1", mac(1), step0, policy, later), "a swept challenge")
	again := newChallenge("alice", "ch-4", 0, later)
	again.Question = "q-ch-1"
	require.ErrorIs(t, s.PutChallenge(t.Context(), again, lim, later), authn.ErrStoreConflict, "Sweep keeps questions within their horizon")
	requireActivationState(t, s, "sid-b", later, authn.ActivationWaiting)
	requireActivationState(t, s, sid, later, authn.ActivationCompleted)

	// Past the horizon the questions go.
	past := t0.Add(lim.Horizon + time.Second)
	n, err = s.Sweep(t.Context(), past)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 2, "two questions past their horizon")
	n, err = s.Sweep(t.Context(), past)
	require.NoError(t, err)
	require.Zero(t, n, "a second sweep finds nothing")
	requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-3", mac(3), step0, policy, past), "Sweep keeps live challenges")
	requireActivationState(t, s, sid, past, authn.ActivationCompleted)
	_, err = s.Device(t.Context(), "carol", "dev-c")
	require.NoError(t, err, "Sweep keeps devices")
}

// ---------------------------------------------------------------------
// Through the Service: two instances on one store.

// fakeClock is the Services' clock; tests move it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// spy counts the audit events by name.
type spy struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *spy) Observe(_ context.Context, e authn.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[e.Name]++
}

func (s *spy) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[name]
}

// cluster is two Services on one store, keyring, clock and observer.
type cluster struct {
	svc   [2]*authn.Service
	store authn.Store
	clock *fakeClock
	obs   *spy
	cfg   authn.Config
}

func newCluster(t *testing.T, store authn.Store, mod func(*authn.Config)) *cluster {
	t.Helper()
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	c := &cluster{store: store, clock: &fakeClock{t: t0.Add(5 * time.Second)}, obs: &spy{}}
	c.cfg = authn.Config{Store: store, Keys: keys, Issuer: "Example Bank", Clock: c.clock.Now,
		Logger: slog.New(slog.DiscardHandler), Observer: c.obs}
	if mod != nil {
		mod(&c.cfg)
	}
	for i := range c.svc {
		c.svc[i], err = authn.New(c.cfg)
		require.NoError(t, err)
	}
	return c
}

// phone is a simulated phone with an activated credential.
type phone struct {
	cred  *enroll.Credential
	clock *fakeClock
}

func (p *phone) respond(t *testing.T, question string) string {
	t.Helper()
	r, err := p.cred.Respond(question, p.clock.Now())
	require.NoError(t, err)
	return r
}

// enroll activates and pairs a phone for user: started on one instance,
// completed and paired on the other.
func (c *cluster) enroll(t *testing.T, user string, proof *authn.Proof) (*phone, authn.Device) {
	t.Helper()
	ctx := t.Context()
	offer, err := c.svc[0].StartActivation(ctx, user, proof)
	require.NoError(t, err)
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: "install-" + rand.Text(), Name: "phone", Platform: "android", Integrity: enroll.Intact}, c.clock.Now())
	require.NoError(t, err)
	act, err := c.svc[1].CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	d, err := c.svc[0].ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, d.State)
	return &phone{cred: cred, clock: c.clock}, d
}

// login begins a challenge on one instance and answers it on the other.
func (c *cluster) login(t *testing.T, user string, p *phone) authn.Result {
	t.Helper()
	ch, err := c.svc[0].BeginChallenge(t.Context(), user)
	require.NoError(t, err)
	res, err := c.svc[1].FinishChallenge(t.Context(), user, ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	return res
}

// wrongResponse is a well-formed response the phone would not give to
// any of the questions near now (the resync window included), so that it
// is a plain mismatch.
func wrongResponse(t *testing.T, p *phone, questions ...string) string {
	t.Helper()
	right := map[string]bool{}
	for _, q := range questions {
		for i := -12; i <= 12; i++ {
			r, err := p.cred.Respond(q, p.clock.Now().Add(time.Duration(i)*30*time.Second))
			require.NoError(t, err)
			right[r] = true
		}
	}
	for n := 0; ; n++ {
		w := fmt.Sprintf("%08d", n)
		if !right[w] {
			return w
		}
	}
}

// tally counts results by kind.
type tally struct {
	ok, invalid, locked int
	other               []error
}

func (ty *tally) add(err error) {
	switch {
	case err == nil:
		ty.ok++
	case errors.Is(err, authn.ErrLocked):
		ty.locked++
	case errors.Is(err, authn.ErrInvalidCode):
		ty.invalid++
	default:
		ty.other = append(ty.other, err)
	}
}

// concurrently runs f(i) for i in [0, n) on n goroutines released at once,
// and returns their errors.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// countingStore counts PutChallenge conflicts, and runs a hook after
// Attempt and Devices (for interleaving a revocation).
type countingStore struct {
	authn.Store
	mu           sync.Mutex
	conflicts    int
	afterAttempt func()
	afterDevices func()
}

func (s *countingStore) PutChallenge(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	err := s.Store.PutChallenge(ctx, c, lim, now)
	if errors.Is(err, authn.ErrStoreConflict) {
		s.mu.Lock()
		s.conflicts++
		s.mu.Unlock()
	}
	return err
}

func (s *countingStore) Attempt(ctx context.Context, user, challengeID string, mac [16]byte, serverStep uint64, policy authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	r, err := s.Store.Attempt(ctx, user, challengeID, mac, serverStep, policy, now)
	if f := s.takeHook(&s.afterAttempt); f != nil {
		f()
	}
	return r, err
}

func (s *countingStore) Devices(ctx context.Context, user string) ([]authn.DeviceRecord, error) {
	ds, err := s.Store.Devices(ctx, user)
	if f := s.takeHook(&s.afterDevices); f != nil {
		f()
	}
	return ds, err
}

func (s *countingStore) takeHook(h *func()) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := *h
	*h = nil
	return f
}

func (s *countingStore) setHook(h *func(), f func()) {
	s.mu.Lock()
	*h = f
	s.mu.Unlock()
}

func testService(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("AnsweredOnce", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		p, dev := c.enroll(t, "alice", nil)
		ch, err := c.svc[0].BeginChallenge(t.Context(), "alice")
		require.NoError(t, err)
		c.clock.Advance(10 * time.Second)
		resp := p.respond(t, ch.Question)
		checks := c.obs.count("check")

		const n = 200
		var results [n]authn.Result
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = c.svc[i%2].FinishChallenge(context.Background(), "alice", ch.ID, resp)
			return err
		})
		var ty tally
		for i, err := range errs {
			ty.add(err)
			if err == nil {
				require.Equal(t, dev.ID, results[i].DeviceID)
				require.Equal(t, dev.Name, results[i].DeviceName)
				require.NotNil(t, results[i].Proof)
			}
		}
		require.Empty(t, ty.other, "only ErrInvalidCode or ErrLocked besides the success")
		require.Equal(t, 1, ty.ok, "successes of %d concurrent answers to one challenge (invalid %d, locked %d)", n, ty.invalid, ty.locked)
		require.Equal(t, n-1, ty.invalid+ty.locked)
		require.Equal(t, checks+1, c.obs.count("check"), "one response compared")
		require.Equal(t, 1, c.obs.count("login_succeeded"))
	})

	t.Run("NoGuessPastTheLock", func(t *testing.T) {
		c := newCluster(t, newStore(t), func(cfg *authn.Config) {
			cfg.MaxAttemptsPerChallenge = 10
			cfg.ChallengeBudget = authn.Budget{Outstanding: 5, PerMinute: 20}
		})
		p, _ := c.enroll(t, "alice", nil)
		// Five live challenges (the budget's outstanding maximum).
		var ids, questions []string
		for i := range 5 {
			ch, err := c.svc[i%2].BeginChallenge(t.Context(), "alice")
			require.NoError(t, err)
			ids = append(ids, ch.ID)
			questions = append(questions, ch.Question)
		}
		wrong := wrongResponse(t, p, questions...)
		checks := c.obs.count("check")

		const n = 500
		errs := concurrently(n, func(i int) error {
			_, err := c.svc[i%2].FinishChallenge(context.Background(), "alice", ids[i%len(ids)], wrong)
			return err
		})
		var ty tally
		for _, err := range errs {
			ty.add(err)
		}
		const maxFailures = authn.DefaultMaxFailures
		require.Empty(t, ty.other, "only ErrInvalidCode or ErrLocked")
		require.Zero(t, ty.ok)
		require.LessOrEqual(t, c.obs.count("check")-checks, maxFailures, "responses compared (the store must refuse before comparing once locked)")
		require.LessOrEqual(t, ty.invalid, maxFailures, "failures reported as such")
		require.Equal(t, n-ty.invalid, ty.locked)

		u, err := c.store.User(t.Context(), "alice", c.clock.Now())
		require.NoError(t, err)
		require.True(t, u.LockedUntil.After(c.clock.Now()), "the user ends locked")
		ch, err := c.svc[1].BeginChallenge(t.Context(), "alice")
		require.NoError(t, err)
		_, err = c.svc[0].FinishChallenge(t.Context(), "alice", ch.ID, p.respond(t, ch.Question))
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "the right response while locked")
		require.Positive(t, le.RetryAfter)
	})

	t.Run("QuestionHorizon", func(t *testing.T) {
		// Four-digit questions (9,375 of them) so that draws collide and
		// the store's refusal is exercised.
		suite := challenge.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN04-T30S")
		cs := &countingStore{Store: newStore(t)}
		c := newCluster(t, cs, func(cfg *authn.Config) {
			cfg.Suite = suite
			cfg.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
		})
		// The Service's horizon: the TTL and the window either side.
		horizon := authn.DefaultChallengeTTL + time.Duration(2*(authn.DefaultWindow+1))*suite.TimeStep()
		last := map[string]time.Time{}
		const n = 600
		for i := range n {
			now := c.clock.Now()
			ch, err := c.svc[i%2].BeginChallenge(t.Context(), "alice")
			require.NoError(t, err, "challenge %d", i)
			if prev, ok := last[ch.Question]; ok {
				require.GreaterOrEqual(t, now.Sub(prev), horizon, "question %s reissued after %v", ch.Question, now.Sub(prev))
			}
			last[ch.Question] = now
			c.clock.Advance(time.Second)
		}
		cs.mu.Lock()
		conflicts := cs.conflicts
		cs.mu.Unlock()
		require.Positive(t, conflicts, "no draw collided: the horizon was not exercised")
		t.Logf("%d challenges, %d questions drawn again", n, conflicts)
	})

	t.Run("ActivationCompletedOnce", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		offer, err := c.svc[0].StartActivation(t.Context(), "dave", nil)
		require.NoError(t, err)
		o, err := enroll.ParseOffer(offer.URI())
		require.NoError(t, err)
		const n = 8
		creds := make([]*enroll.Credential, n)
		reqs := make([]enroll.Request, n)
		for i := range n {
			creds[i], reqs[i], err = enroll.Activate(o, enroll.DeviceInfo{InstallID: fmt.Sprintf("install-%d", i), Name: "phone", Platform: "ios", Integrity: enroll.Intact}, c.clock.Now())
			require.NoError(t, err)
		}
		acts := make([]authn.Activation, n)
		errs := concurrently(n, func(i int) error {
			var err error
			acts[i], err = c.svc[i%2].CompleteActivation(context.Background(), reqs[i])
			return err
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two phones won: %d and %d", winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, authn.ErrAlreadyUsed, "phone %d", i)
			var aue *enroll.AlreadyUsedError
			require.False(t, errors.As(err, &aue), "phone %d lost with another request but got the winner's confirmation", i)
		}
		require.NotEqual(t, -1, winner, "no phone won")
		won := acts[winner]
		require.NoError(t, creds[winner].CheckServerConfirm(won.ServerConfirm))

		// The winner's reply was lost; it retries byte for byte, on either
		// instance.
		for _, svc := range c.svc {
			_, err = svc.CompleteActivation(t.Context(), reqs[winner])
			var aue *enroll.AlreadyUsedError
			require.ErrorAs(t, err, &aue, "a retry of the winning request")
			require.ErrorIs(t, err, authn.ErrAlreadyUsed)
			require.Equal(t, won.ServerConfirm, aue.ServerConfirm)
			require.Equal(t, won.Device.ID, aue.Device.ID)
		}
		devs, err := c.svc[1].Devices(t.Context(), "dave")
		require.NoError(t, err)
		require.Len(t, devs, 1)
		require.Equal(t, won.Device.ID, devs[0].ID)
		require.Equal(t, authn.DevicePending, devs[0].State)

		_, err = c.svc[1].ConfirmActivation(t.Context(), "dave", offer.SessionID, creds[winner].PairingCode())
		require.NoError(t, err)
	})

	t.Run("RevocationVoidsChallenges", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "erin", nil)
		proof := c.login(t, "erin", pa).Proof
		pb, devB := c.enroll(t, "erin", proof)
		c.clock.Advance(30 * time.Second)

		ch1, err := c.svc[0].BeginChallenge(ctx, "erin")
		require.NoError(t, err)
		ch2, err := c.svc[1].BeginChallenge(ctx, "erin")
		require.NoError(t, err)
		c.clock.Advance(5 * time.Second)
		require.NoError(t, c.svc[1].RevokeDevice(ctx, "erin", devA.ID, proof))
		before, err := c.store.User(ctx, "erin", c.clock.Now())
		require.NoError(t, err)

		_, err = c.svc[0].FinishChallenge(ctx, "erin", ch1.ID, pa.respond(t, ch1.Question))
		require.ErrorIs(t, err, authn.ErrExpired, "the revoked device answers a challenge issued before the revocation")
		_, err = c.svc[0].FinishChallenge(ctx, "erin", ch2.ID, pb.respond(t, ch2.Question))
		require.ErrorIs(t, err, authn.ErrExpired, "the revocation voids every earlier challenge, even for the device that stays")
		after, err := c.store.User(ctx, "erin", c.clock.Now())
		require.NoError(t, err)
		require.Equal(t, before.Failures, after.Failures, "voided challenges are not counted")

		// New challenges: the revoked device is not asked, the other is.
		ch, err := c.svc[1].BeginChallenge(ctx, "erin")
		require.NoError(t, err)
		_, err = c.svc[0].FinishChallenge(ctx, "erin", ch.ID, pa.respond(t, ch.Question))
		require.ErrorIs(t, err, authn.ErrInvalidCode, "the revoked device after the revocation")
		res := c.login(t, "erin", pb)
		require.Equal(t, devB.ID, res.DeviceID)
	})

	t.Run("RevocationDuringFinish", func(t *testing.T) {
		// The revocation lands between the matching Attempt and
		// CommitStep: the match must not log in.
		cs := &countingStore{Store: newStore(t)}
		c := newCluster(t, cs, nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "frank", nil)
		proof := c.login(t, "frank", pa).Proof
		c.clock.Advance(30 * time.Second)
		ch, err := c.svc[0].BeginChallenge(ctx, "frank")
		require.NoError(t, err)
		var revokeErr error
		cs.setHook(&cs.afterAttempt, func() { revokeErr = c.svc[1].RevokeDevice(ctx, "frank", devA.ID, proof) })
		_, err = c.svc[0].FinishChallenge(ctx, "frank", ch.ID, pa.respond(t, ch.Question))
		require.NoError(t, revokeErr)
		require.ErrorIs(t, err, authn.ErrInvalidCode, "a match whose device was revoked before it committed")
	})

	t.Run("RevocationDuringBegin", func(t *testing.T) {
		// The revocation lands after BeginChallenge read the user's epoch
		// and devices: the challenge must not be answerable by the revoked
		// device.
		cs := &countingStore{Store: newStore(t)}
		c := newCluster(t, cs, nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "gina", nil)
		proof := c.login(t, "gina", pa).Proof
		pb, _ := c.enroll(t, "gina", proof)
		c.clock.Advance(30 * time.Second)
		var revokeErr error
		cs.setHook(&cs.afterDevices, func() { revokeErr = c.svc[1].RevokeDevice(ctx, "gina", devA.ID, proof) })
		ch, err := c.svc[0].BeginChallenge(ctx, "gina")
		require.NoError(t, revokeErr)
		// The store refuses the challenge (its epoch is stale); the store
		// has not failed, so this must not read as ErrStoreUnavailable.
		require.NotErrorIs(t, err, authn.ErrStoreUnavailable, "BeginChallenge racing a revocation")
		if err != nil {
			ch, err = c.svc[0].BeginChallenge(ctx, "gina")
			require.NoError(t, err, "BeginChallenge after the revocation")
		}
		_, err = c.svc[1].FinishChallenge(ctx, "gina", ch.ID, pa.respond(t, ch.Question))
		require.Error(t, err, "the revoked device answers a challenge begun during its revocation")
		require.NotErrorIs(t, err, authn.ErrStoreUnavailable)
		res := c.login(t, "gina", pb)
		require.NotEqual(t, devA.ID, res.DeviceID)
	})

	t.Run("SweepBetweenInstances", func(t *testing.T) {
		// Sweeping (as a janitor of one instance would) does not disturb
		// a login in flight on the other.
		c := newCluster(t, newStore(t), nil)
		p, _ := c.enroll(t, "hana", nil)
		ch, err := c.svc[0].BeginChallenge(t.Context(), "hana")
		require.NoError(t, err)
		c.clock.Advance(time.Minute)
		_, err = c.store.Sweep(t.Context(), c.clock.Now())
		require.NoError(t, err)
		_, err = c.svc[1].FinishChallenge(t.Context(), "hana", ch.ID, p.respond(t, ch.Question))
		require.NoError(t, err)
	})
}

// testGeneric checks TakeOnce and Spend, the generic single-use and budget
// operations that later features build on, alone and under concurrency.
func testGeneric(t *testing.T, newStore func(t *testing.T) authn.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

	t.Run("TakeOnce", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.TakeOnce(ctx, "nonce:a", t0.Add(time.Minute), t0))
		require.ErrorIs(t, s.TakeOnce(ctx, "nonce:a", t0.Add(time.Minute), t0.Add(59*time.Second)), authn.ErrStoreConflict)
		require.NoError(t, s.TakeOnce(ctx, "nonce:b", t0.Add(time.Minute), t0), "another key is independent")
		require.NoError(t, s.TakeOnce(ctx, "nonce:a", t0.Add(2*time.Minute), t0.Add(time.Minute)), "free again once expired")

		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.TakeOnce(ctx, "nonce:race", t0.Add(time.Minute), t0) == nil {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(1), wins.Load())
	})

	t.Run("Spend", func(t *testing.T) {
		s := newStore(t)
		for want := 2; want >= 0; want-- {
			left, err := s.Spend(ctx, "push:alice", 3, 15*time.Minute, t0)
			require.NoError(t, err)
			require.Equal(t, want, left)
		}
		_, err := s.Spend(ctx, "push:alice", 3, 15*time.Minute, t0.Add(14*time.Minute))
		require.ErrorIs(t, err, authn.ErrStoreLimit)
		_, err = s.Spend(ctx, "push:bob", 3, 15*time.Minute, t0)
		require.NoError(t, err, "another key is independent")
		left, err := s.Spend(ctx, "push:alice", 3, 15*time.Minute, t0.Add(15*time.Minute))
		require.NoError(t, err, "a new window")
		require.Equal(t, 2, left)

		var spent atomic.Int32
		var wg sync.WaitGroup
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.Spend(ctx, "push:race", 10, time.Minute, t0); err == nil {
					spent.Add(1)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, int32(10), spent.Load())

		n, err := s.Sweep(ctx, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Positive(t, n)
		left, err = s.Spend(ctx, "push:race", 10, time.Minute, t0.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, 9, left)
	})
}
