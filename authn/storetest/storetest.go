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
// Sweep; TOTP keys (AttemptTOTP counted before the check, the once-only
// step of CommitTOTP), recovery codes (each consumed once, under the same
// lockout), the operator's ResetUser and DeleteUser; and push requests
// (the compare-and-set of SetPushState, a pending request voided by its
// expiry or a revocation, the pending prompts of a device, the push mode
// and push tokens, erasure and Sweep). Second, what the Service promises
// when it runs on the store, with two Services sharing the one store,
// keyring and clock, as a load-balanced pair of instances would: a
// challenge is answered once, no guess is compared past the lock
// (responses, TOTP codes or recovery codes), a TOTP code is accepted once,
// a question is not reissued within its horizon, an activation is
// completed once, a revocation voids the challenges issued before it, a
// push approval answered on one instance is finished once, on either, and
// no push is sent to a locked or suspended user or beyond the push budget.
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
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// RunShared runs the tests of two Services racing on one store's data —
// one right response sent 200 times, 500 wrong guesses, one activation
// completed by eight phones — with each Service on its own store value
// from newPair: two handles on the same data with separate connections,
// as two processes would have.
func RunShared(t *testing.T, newPair func(t *testing.T) [2]authn.Store) {
	testSharedService(t, func(t *testing.T, mod func(*authn.Config)) *cluster {
		return newClusterOn(t, newPair(t), mod)
	})
}

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
	t.Run("TOTP", func(t *testing.T) { testTOTP(t, newStore) })
	t.Run("RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, newStore) })
	t.Run("Operator", func(t *testing.T) { testOperator(t, newStore) })
	t.Run("Push", func(t *testing.T) { testPush(t, newStore) })
	t.Run("Service", func(t *testing.T) { testService(t, newStore) })
	t.Run("ServiceFactors", func(t *testing.T) { testServiceFactors(t, newStore) })
	t.Run("ServicePush", func(t *testing.T) { testServicePush(t, newStore) })
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
	s.n[string(e.Name)]++
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
	return newClusterOn(t, [2]authn.Store{store, store}, mod)
}

// newClusterOn is two Services, the first on stores[0] and the second on
// stores[1]: two handles on one store's data.
func newClusterOn(t *testing.T, stores [2]authn.Store, mod func(*authn.Config)) *cluster {
	t.Helper()
	store := stores[0]
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
		cfg := c.cfg
		cfg.Store = stores[i]
		c.svc[i], err = authn.New(cfg)
		require.NoError(t, err)
	}
	return c
}

// requireStopped checks what a storm of wrong answers from both
// Services left: only refusals, at most MaxFailures answers compared
// (compared: what the check count measures) and reported as wrong, the
// rest refused by the lock, and the user locked.
func (c *cluster) requireStopped(t *testing.T, user string, errs []error, checks int, compared string) {
	t.Helper()
	const maxFailures = authn.DefaultMaxFailures
	var ty tally
	for _, err := range errs {
		ty.add(err)
	}
	require.Empty(t, ty.other, "only ErrInvalidCode or ErrLocked")
	require.Zero(t, ty.ok)
	require.LessOrEqual(t, c.obs.count("check")-checks, maxFailures, compared)
	require.LessOrEqual(t, ty.invalid, maxFailures, "failures reported as such")
	require.Equal(t, len(errs)-ty.invalid, ty.locked)

	u, err := c.store.User(t.Context(), user, c.clock.Now())
	require.NoError(t, err)
	require.True(t, u.LockedUntil.After(c.clock.Now()), "the user ends locked")
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
	return c.enrollPhone(t, user, proof, "")
}

// enrollPhone is enroll for a phone with the OS push token pushToken
// ("": no push).
func (c *cluster) enrollPhone(t *testing.T, user string, proof *authn.Proof, pushToken string) (*phone, authn.Device) {
	t.Helper()
	ctx := t.Context()
	offer, err := c.svc[0].StartActivation(ctx, user, proof)
	require.NoError(t, err)
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: "install-" + rand.Text(), Name: "phone", Platform: "android", Integrity: enroll.Intact,
		PushToken: pushToken}, c.clock.Now())
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

// testSharedService is what two Services must show when they share one
// store's data: through one store value, or (RunShared) through two, each
// with its own connections. mk makes the two Services.
func testSharedService(t *testing.T, mk func(t *testing.T, mod func(*authn.Config)) *cluster) {
	t.Run("AnsweredOnce", func(t *testing.T) {
		c := mk(t, nil)
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
		c := mk(t, func(cfg *authn.Config) {
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
		c.requireStopped(t, "alice", errs, checks, "responses compared (the store must refuse before comparing once locked)")
		ch, err := c.svc[1].BeginChallenge(t.Context(), "alice")
		require.NoError(t, err)
		_, err = c.svc[0].FinishChallenge(t.Context(), "alice", ch.ID, p.respond(t, ch.Question))
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "the right response while locked")
		require.Positive(t, le.RetryAfter)
	})

	t.Run("ActivationCompletedOnce", func(t *testing.T) {
		c := mk(t, nil)
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

}

func testService(t *testing.T, newStore func(t *testing.T) authn.Store) {
	testSharedService(t, func(t *testing.T, mod func(*authn.Config)) *cluster { return newCluster(t, newStore(t), mod) })

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

// ---------------------------------------------------------------------
// TOTP keys, recovery codes and operator functions: the Store methods.

// strict is a lockout policy that locks after three failures, for the
// subtests that reach the lock.
var strict = authn.LockPolicy{MaxFailures: 3, Base: time.Minute, Max: 5 * time.Minute, Window: 24 * time.Hour, MaxAttempts: 100}

func totpRecord(user, id string, now time.Time) authn.TOTPRecord {
	return authn.TOTPRecord{ID: id, User: user, Secret: []byte("sealed totp of " + id), Hash: "SHA1", Digits: 6,
		Period: 30 * time.Second, CreatedAt: now}
}

func putTOTP(t *testing.T, s authn.Store, r authn.TOTPRecord, now time.Time) {
	t.Helper()
	require.NoError(t, s.PutTOTP(t.Context(), r, now), "PutTOTP %s of %s", r.ID, r.User)
}

// activeTOTP puts a TOTP key of user and activates it at step.
func activeTOTP(t *testing.T, s authn.Store, user, id string, step uint64, now time.Time) {
	t.Helper()
	putTOTP(t, s, totpRecord(user, id, now), now)
	require.NoError(t, s.CommitTOTP(t.Context(), user, id, step, now), "CommitTOTP %s of %s", id, user)
}

func getTOTP(t *testing.T, s authn.Store, user string) authn.TOTPRecord {
	t.Helper()
	r, err := s.TOTP(t.Context(), user)
	require.NoError(t, err, "TOTP of %s", user)
	return r
}

// attemptTOTP is an AttemptTOTP that finds a key (or the lock).
func attemptTOTP(t *testing.T, s authn.Store, user string, wantInactive bool, p authn.LockPolicy, now time.Time) (authn.TOTPRecord, authn.AttemptResult) {
	t.Helper()
	rec, r, err := s.AttemptTOTP(t.Context(), user, wantInactive, p, now)
	require.NoError(t, err, "AttemptTOTP of %s (wantInactive %v)", user, wantInactive)
	return rec, r
}

// codeMAC is the MAC of a recovery code, as the store sees it.
func codeMAC(b byte) (m [32]byte) {
	for i := range m {
		m[i] = b
	}
	return m
}

func putCodes(t *testing.T, s authn.Store, user string, now time.Time, bs ...byte) {
	t.Helper()
	macs := make([][32]byte, 0, len(bs))
	for _, b := range bs {
		macs = append(macs, codeMAC(b))
	}
	require.NoError(t, s.PutRecoveryCodes(t.Context(), user, macs, now))
}

// useCode is one UseRecoveryCode with the candidate MACs bs.
func useCode(t *testing.T, s authn.Store, user string, p authn.LockPolicy, now time.Time, bs ...byte) (authn.AttemptResult, int) {
	t.Helper()
	var cands [][32]byte
	for _, b := range bs {
		cands = append(cands, codeMAC(b))
	}
	r, left, err := s.UseRecoveryCode(t.Context(), user, cands, p, now)
	require.NoError(t, err, "UseRecoveryCode of %s", user)
	return r, left
}

func codesLeft(t *testing.T, s authn.Store, user string) int {
	t.Helper()
	n, err := s.RecoveryCodesLeft(t.Context(), user)
	require.NoError(t, err)
	return n
}

// requireReset checks that the user's failures and level are reset and
// that no lock is in force at now.
func requireReset(t *testing.T, s authn.Store, user string, now time.Time, msgAndArgs ...any) {
	t.Helper()
	u := userState(t, s, user, now)
	require.Zero(t, u.Failures, msgAndArgs...)
	require.Zero(t, u.Level, msgAndArgs...)
	require.False(t, u.LockedUntil.After(now), msgAndArgs...)
}

func testTOTP(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("PutTOTP", func(t *testing.T) {
		s := newStore(t)
		_, err := s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "no key yet")

		r1 := totpRecord("alice", "totp-1", t0)
		r1.Active = true // ignored: PutTOTP stores an inactive key
		putTOTP(t, s, r1, t0)
		got := getTOTP(t, s, "alice")
		require.Equal(t, "totp-1", got.ID)
		require.Equal(t, "alice", got.User)
		require.False(t, got.Active, "PutTOTP stores the key inactive")
		require.Zero(t, got.LastStep)

		// An inactive key is replaced, every field with it.
		now := t0.Add(time.Second)
		r2 := authn.TOTPRecord{ID: "totp-2", User: "alice", Secret: []byte("sealed totp of totp-2"), Hash: "SHA512", Digits: 8,
			Period: time.Minute, ShortKey: true, CreatedAt: now}
		putTOTP(t, s, r2, now)
		got = getTOTP(t, s, "alice")
		require.Equal(t, "totp-2", got.ID, "a new key replaces an inactive one")
		require.Equal(t, r2.Secret, got.Secret)
		require.Equal(t, "SHA512", got.Hash)
		require.Equal(t, 8, got.Digits)
		require.Equal(t, time.Minute, got.Period)
		require.True(t, got.ShortKey)
		require.False(t, got.Active)
		require.True(t, now.Equal(got.CreatedAt), "CreatedAt %v, want %v", got.CreatedAt, now)

		// Over an active key: refused, and the key stays.
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-2", step0, now))
		require.ErrorIs(t, s.PutTOTP(t.Context(), totpRecord("alice", "totp-3", now), now), authn.ErrStoreConflict, "a new key over an active one")
		got = getTOTP(t, s, "alice")
		require.Equal(t, "totp-2", got.ID, "a refused PutTOTP changes nothing")
		require.True(t, got.Active)
		require.Equal(t, uint64(step0), got.LastStep)

		// Keys are per user.
		putTOTP(t, s, totpRecord("bob", "totp-b", now), now)
		require.Equal(t, "totp-b", getTOTP(t, s, "bob").ID)
		require.Equal(t, "totp-2", getTOTP(t, s, "alice").ID)
	})

	t.Run("RecordsAreCopied", func(t *testing.T) {
		s := newStore(t)
		r := totpRecord("alice", "totp-1", t0)
		putTOTP(t, s, r, t0)
		r.Secret[0] ^= 0xff
		want := []byte("sealed totp of totp-1")
		got := getTOTP(t, s, "alice")
		require.Equal(t, want, got.Secret, "PutTOTP keeps its own copy")
		got.Secret[0] ^= 0xff
		require.Equal(t, want, getTOTP(t, s, "alice").Secret, "TOTP returns a copy")
		rec, _ := attemptTOTP(t, s, "alice", true, policy, t0)
		require.Equal(t, want, rec.Secret)
		rec.Secret[0] ^= 0xff
		require.Equal(t, want, getTOTP(t, s, "alice").Secret, "AttemptTOTP returns a copy")
	})

	t.Run("AttemptTOTP", func(t *testing.T) {
		s := newStore(t)
		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)

		rec, r := attemptTOTP(t, s, "alice", true, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r, "AttemptTOTP returns the key for the caller to check")
		require.Equal(t, 1, r.Failures)
		require.Zero(t, r.RetryAfter)
		require.Equal(t, "totp-1", rec.ID)
		require.Equal(t, "alice", rec.User)
		require.Equal(t, []byte("sealed totp of totp-1"), rec.Secret)
		require.False(t, rec.Active)
		u := userState(t, s, "alice", t0)
		require.Equal(t, 1, u.Failures, "counted before it is checked")
		require.True(t, t0.Equal(u.LastFailure), "LastFailure %v", u.LastFailure)

		// An active key is not found by an activation, nor an inactive one
		// by a verification; both are counted.
		_, _, err := s.AttemptTOTP(t.Context(), "alice", false, policy, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "verifying with an inactive key")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "a key not found is counted")

		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0, t0))
		rec, r = attemptTOTP(t, s, "alice", false, policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 1, r.Failures)
		require.True(t, rec.Active)
		require.Equal(t, uint64(step0), rec.LastStep, "the key carries its last step")
		_, _, err = s.AttemptTOTP(t.Context(), "alice", true, policy, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "activating when the key is active")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "a key not found is counted")

		// No key at all: not found, counted all the same.
		for _, want := range []bool{false, true} {
			_, _, err = s.AttemptTOTP(t.Context(), "mallory", want, policy, t0)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "a user without a key (wantInactive %v)", want)
		}
		require.Equal(t, 2, userState(t, s, "mallory", t0).Failures, "a user without a key is counted")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "failures are per user")
	})

	t.Run("AttemptTOTPLockout", func(t *testing.T) {
		s := newStore(t)
		p := strict
		activeTOTP(t, s, "alice", "totp-1", step0, t0)
		now := t0
		for i := 1; i < p.MaxFailures; i++ {
			_, r := attemptTOTP(t, s, "alice", false, p, now)
			requireOutcome(t, authn.AttemptMismatch, r)
			require.Equal(t, i, r.Failures)
			require.Zero(t, r.RetryAfter, "failure %d does not lock", i)
		}
		// The attempt that locks still returns the key: counted before
		// checked, the right code may yet be on it.
		rec, r := attemptTOTP(t, s, "alice", false, p, now)
		requireOutcome(t, authn.AttemptMismatch, r, "the attempt that locks")
		require.Equal(t, "totp-1", rec.ID)
		require.Equal(t, p.Base, r.RetryAfter, "the first lock is Base")
		u := userState(t, s, "alice", now)
		require.True(t, now.Add(p.Base).Equal(u.LockedUntil), "LockedUntil now+%v, want now+%v", u.LockedUntil.Sub(now), p.Base)

		// While locked: nothing counted, whichever key is asked for.
		mid := now.Add(30 * time.Second)
		for _, want := range []bool{false, true} {
			_, r, err := s.AttemptTOTP(t.Context(), "alice", want, p, mid)
			require.NoError(t, err, "locked (wantInactive %v)", want)
			requireOutcome(t, authn.AttemptLocked, r, "locked (wantInactive %v)", want)
			require.Equal(t, p.Base-30*time.Second, r.RetryAfter)
		}
		_, r = attemptTOTP(t, s, "alice", false, p, now.Add(p.Base-time.Second))
		requireOutcome(t, authn.AttemptLocked, r, "a second before the lock ends")
		require.Equal(t, time.Second, r.RetryAfter)
		require.Equal(t, u, userState(t, s, "alice", mid), "a locked attempt changes nothing")

		// After the lock, the next failure locks again, at the next level.
		now = now.Add(p.Base + time.Second)
		_, r = attemptTOTP(t, s, "alice", false, p, now)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 2*p.Base, r.RetryAfter, "Base·2^level, as Attempt")
		require.Greater(t, userState(t, s, "alice", now).Level, u.Level)
	})

	t.Run("AttemptTOTPConcurrent", func(t *testing.T) {
		// Many codes at once, half of them for a key that is not there:
		// exactly MaxFailures are counted, the rest find the lock.
		s := newStore(t)
		p := strict
		activeTOTP(t, s, "alice", "totp-1", step0, t0)
		const n = 300
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			_, results[i], err = s.AttemptTOTP(context.Background(), "alice", i%2 == 1, p, t0)
			return err
		})
		counted := 0
		for i, err := range errs {
			if results[i].Outcome == authn.AttemptLocked {
				require.NoError(t, err, "locked attempt %d", i)
				continue
			}
			counted++
			if i%2 == 1 {
				require.ErrorIs(t, err, authn.ErrStoreNotFound, "attempt %d for an inactive key", i)
			} else {
				require.NoError(t, err, "attempt %d", i)
				requireOutcome(t, authn.AttemptMismatch, results[i], "attempt %d", i)
			}
		}
		require.Equal(t, p.MaxFailures, counted, "attempts not refused by the lock, of %d at once", n)
		require.True(t, userState(t, s, "alice", t0).LockedUntil.After(t0))
	})

	t.Run("CommitTOTP", func(t *testing.T) {
		s := newStore(t)
		p := strict
		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)
		// A lock, then a failure after it: failures, level and a last
		// failure for the commit to reset.
		for range p.MaxFailures {
			attemptTOTP(t, s, "alice", true, p, t0)
		}
		now := t0.Add(p.Base + time.Second)
		attemptTOTP(t, s, "alice", true, p, now)
		u := userState(t, s, "alice", now)
		require.Positive(t, u.Failures)
		require.Positive(t, u.Level)

		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0, now))
		got := getTOTP(t, s, "alice")
		require.True(t, got.Active, "a commit activates the key")
		require.Equal(t, uint64(step0), got.LastStep)
		requireReset(t, s, "alice", now, "a commit resets the failures and the level")

		// A step at or before the last: a replay.
		attemptTOTP(t, s, "alice", false, p, now)
		for _, st := range []uint64{step0, step0 - 1, 0} {
			require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", st, now), authn.ErrStoreConflict, "step %d after step %d", st, step0)
		}
		require.Equal(t, uint64(step0), getTOTP(t, s, "alice").LastStep, "a conflict changes nothing")
		require.Equal(t, 1, userState(t, s, "alice", now).Failures, "a replay does not reset the failures")

		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0+1, now))
		require.Equal(t, uint64(step0+1), getTOTP(t, s, "alice").LastStep)
		require.Zero(t, userState(t, s, "alice", now).Failures)

		// The record must still be the user's.
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-none", step0+5, now), authn.ErrStoreNotFound, "another record ID")
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "bob", "totp-1", step0+5, now), authn.ErrStoreNotFound, "another user's record")
		require.Equal(t, uint64(step0+1), getTOTP(t, s, "alice").LastStep)
		_, err := s.TOTP(t.Context(), "bob")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		// A key removed (and another put in its place) is gone for good.
		require.NoError(t, s.DeleteTOTP(t.Context(), "alice"))
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0+5, now), authn.ErrStoreNotFound, "a removed key")
		putTOTP(t, s, totpRecord("alice", "totp-2", now), now)
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0+5, now), authn.ErrStoreNotFound, "a removed key, replaced")
		// An inactive key replaced by another.
		putTOTP(t, s, totpRecord("alice", "totp-3", now), now)
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-2", step0+5, now), authn.ErrStoreNotFound, "an inactive key replaced")
		require.False(t, getTOTP(t, s, "alice").Active)
	})

	t.Run("CommitTOTPActivation", func(t *testing.T) {
		// Activating takes any step: the new key has no last step, and an
		// import may commit step 0 (the old system's last step unknown).
		s := newStore(t)
		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", 0, t0), "activating at step 0")
		got := getTOTP(t, s, "alice")
		require.True(t, got.Active)
		require.Zero(t, got.LastStep)
		require.ErrorIs(t, s.CommitTOTP(t.Context(), "alice", "totp-1", 0, t0), authn.ErrStoreConflict, "step 0 again, once active")
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", 1, t0))

		// A new key after a removal does not inherit the old one's step.
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-1", step0, t0))
		require.NoError(t, s.DeleteTOTP(t.Context(), "alice"))
		putTOTP(t, s, totpRecord("alice", "totp-2", t0), t0)
		require.NoError(t, s.CommitTOTP(t.Context(), "alice", "totp-2", 5, t0), "a new key at a step before the old key's last")
		got = getTOTP(t, s, "alice")
		require.Equal(t, "totp-2", got.ID)
		require.True(t, got.Active)
		require.Equal(t, uint64(5), got.LastStep)
	})

	t.Run("CommitTOTPConcurrent", func(t *testing.T) {
		// The same step committed at once, on an active key (alice) and on
		// a key being activated (bob): one commit each.
		s := newStore(t)
		activeTOTP(t, s, "alice", "totp-a", step0, t0)
		putTOTP(t, s, totpRecord("bob", "totp-b", t0), t0)
		const n = 100
		errs := concurrently(2*n, func(i int) error {
			if i%2 == 0 {
				return s.CommitTOTP(context.Background(), "alice", "totp-a", step0+1, t0)
			}
			return s.CommitTOTP(context.Background(), "bob", "totp-b", step0, t0)
		})
		wins := map[string]int{}
		for i, err := range errs {
			user := []string{"alice", "bob"}[i%2]
			if err == nil {
				wins[user]++
				continue
			}
			require.ErrorIs(t, err, authn.ErrStoreConflict, "commit %d of %s", i, user)
		}
		require.Equal(t, map[string]int{"alice": 1, "bob": 1}, wins, "commits of one step, %d at once per user", n)
		require.Equal(t, uint64(step0+1), getTOTP(t, s, "alice").LastStep)
		got := getTOTP(t, s, "bob")
		require.True(t, got.Active)
		require.Equal(t, uint64(step0), got.LastStep)
	})

	t.Run("DeleteTOTP", func(t *testing.T) {
		s := newStore(t)
		require.ErrorIs(t, s.DeleteTOTP(t.Context(), "alice"), authn.ErrStoreNotFound, "no key")

		putTOTP(t, s, totpRecord("alice", "totp-1", t0), t0)
		putTOTP(t, s, totpRecord("bob", "totp-b", t0), t0)
		require.NoError(t, s.DeleteTOTP(t.Context(), "alice"), "an inactive key")
		_, err := s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, s.DeleteTOTP(t.Context(), "alice"), authn.ErrStoreNotFound, "removed already")
		require.Equal(t, "totp-b", getTOTP(t, s, "bob").ID, "another user's key stays")

		activeTOTP(t, s, "alice", "totp-2", step0, t0)
		require.NoError(t, s.DeleteTOTP(t.Context(), "alice"), "an active key")
		_, err = s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		_, _, err = s.AttemptTOTP(t.Context(), "alice", false, policy, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a removed key answers nothing")
		require.Equal(t, 1, userState(t, s, "alice", t0).Failures)
		putTOTP(t, s, totpRecord("alice", "totp-3", t0), t0) // no conflict once removed
	})
}

func testRecoveryCodes(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("UseRecoveryCode", func(t *testing.T) {
		s := newStore(t)
		require.Zero(t, codesLeft(t, s, "alice"), "no codes yet")
		putCodes(t, s, "alice", t0, 1, 2, 3)
		require.Equal(t, 3, codesLeft(t, s, "alice"))
		require.Zero(t, codesLeft(t, s, "bob"), "codes are per user")

		r, _ := useCode(t, s, "alice", policy, t0, 9)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 1, r.Failures)
		require.Zero(t, r.RetryAfter)
		u := userState(t, s, "alice", t0)
		require.Equal(t, 1, u.Failures, "a mismatch is counted")
		require.True(t, t0.Equal(u.LastFailure), "LastFailure %v", u.LastFailure)
		r, _ = useCode(t, s, "alice", policy, t0)
		requireOutcome(t, authn.AttemptMismatch, r, "no candidates (a code that does not parse)")
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures, "no candidates is counted")
		require.Equal(t, 3, codesLeft(t, s, "alice"), "mismatches consume nothing")

		// Another user's code: a mismatch for the one who tried.
		r, _ = useCode(t, s, "bob", policy, t0, 2)
		requireOutcome(t, authn.AttemptMismatch, r, "another user's code")
		require.Equal(t, 3, codesLeft(t, s, "alice"))
		require.Equal(t, 2, userState(t, s, "alice", t0).Failures)

		// One candidate of several (one MAC per key of the ring) matches:
		// that code, and only it, is consumed.
		r, left := useCode(t, s, "alice", policy, t0, 9, 2, 8)
		requireOutcome(t, authn.AttemptMatch, r)
		require.Equal(t, 2, left, "codes left after the match")
		require.Equal(t, 2, codesLeft(t, s, "alice"))
		requireReset(t, s, "alice", t0, "a match resets the failures")

		r, _ = useCode(t, s, "alice", policy, t0, 2)
		requireOutcome(t, authn.AttemptMismatch, r, "a code works once")
		require.Equal(t, 1, userState(t, s, "alice", t0).Failures)
		for i, b := range []byte{3, 1} {
			r, left = useCode(t, s, "alice", policy, t0, b)
			requireOutcome(t, authn.AttemptMatch, r, "code %d", b)
			require.Equal(t, 1-i, left)
		}
		require.Zero(t, codesLeft(t, s, "alice"))
		for _, b := range []byte{1, 2, 3} {
			r, _ = useCode(t, s, "alice", policy, t0, b)
			requireOutcome(t, authn.AttemptMismatch, r, "code %d, used", b)
		}
	})

	t.Run("NewSetVoidsOld", func(t *testing.T) {
		s := newStore(t)
		putCodes(t, s, "alice", t0, 1, 2)
		putCodes(t, s, "bob", t0, 1, 2)
		putCodes(t, s, "alice", t0, 3, 4, 5)
		require.Equal(t, 3, codesLeft(t, s, "alice"))
		r, _ := useCode(t, s, "alice", policy, t0, 1)
		requireOutcome(t, authn.AttemptMismatch, r, "a code of the old set")
		r, left := useCode(t, s, "alice", policy, t0, 4)
		requireOutcome(t, authn.AttemptMatch, r, "a code of the new set")
		require.Equal(t, 2, left)
		require.Equal(t, 2, codesLeft(t, s, "bob"), "another user's set stays")

		require.NoError(t, s.PutRecoveryCodes(t.Context(), "alice", nil, t0))
		require.Zero(t, codesLeft(t, s, "alice"), "an empty set")
		r, _ = useCode(t, s, "alice", policy, t0, 3)
		requireOutcome(t, authn.AttemptMismatch, r)
	})

	t.Run("RecordsAreCopied", func(t *testing.T) {
		s := newStore(t)
		macs := [][32]byte{codeMAC(1), codeMAC(2)}
		require.NoError(t, s.PutRecoveryCodes(t.Context(), "alice", macs, t0))
		macs[0] = codeMAC(7)
		r, _ := useCode(t, s, "alice", policy, t0, 7)
		requireOutcome(t, authn.AttemptMismatch, r, "PutRecoveryCodes keeps its own copy")
		r, _ = useCode(t, s, "alice", policy, t0, 1)
		requireOutcome(t, authn.AttemptMatch, r)
	})

	t.Run("Lockout", func(t *testing.T) {
		s := newStore(t)
		p := strict
		putCodes(t, s, "alice", t0, 1, 2)
		for i := 1; i <= p.MaxFailures; i++ {
			r, _ := useCode(t, s, "alice", p, t0, 9)
			requireOutcome(t, authn.AttemptMismatch, r)
			require.Equal(t, i, r.Failures)
			if i < p.MaxFailures {
				require.Zero(t, r.RetryAfter, "failure %d does not lock", i)
			} else {
				require.Equal(t, p.Base, r.RetryAfter, "the failure that locks")
			}
		}
		u := userState(t, s, "alice", t0)
		require.True(t, t0.Add(p.Base).Equal(u.LockedUntil), "LockedUntil t0+%v", u.LockedUntil.Sub(t0))

		// While locked: nothing counted, nothing compared, nothing consumed.
		mid := t0.Add(30 * time.Second)
		for _, cands := range [][]byte{{1}, {9}, nil} {
			r, _ := useCode(t, s, "alice", p, mid, cands...)
			requireOutcome(t, authn.AttemptLocked, r, "candidates %v", cands)
			require.Equal(t, p.Base-30*time.Second, r.RetryAfter)
		}
		require.Equal(t, u, userState(t, s, "alice", mid), "a locked use changes nothing")
		require.Equal(t, 2, codesLeft(t, s, "alice"), "a locked use consumes nothing")

		// After the lock the right code still works, and resets.
		now := t0.Add(p.Base + time.Second)
		r, left := useCode(t, s, "alice", p, now, 1)
		requireOutcome(t, authn.AttemptMatch, r, "the code refused while locked")
		require.Equal(t, 1, left)
		requireReset(t, s, "alice", now, "a match resets the failures and the level")
	})

	t.Run("MatchOnTheLastFailure", func(t *testing.T) {
		s := newStore(t)
		p := strict
		putCodes(t, s, "alice", t0, 1)
		for range p.MaxFailures - 1 {
			useCode(t, s, "alice", p, t0, 9)
		}
		r, left := useCode(t, s, "alice", p, t0, 1)
		requireOutcome(t, authn.AttemptMatch, r, "counted before checked: the attempt that reaches the maximum is compared")
		require.Zero(t, left)
		requireReset(t, s, "alice", t0, "a match lifts the lock its own counting set")
	})

	t.Run("OneLockoutForEveryFactor", func(t *testing.T) {
		// Attempt, AttemptTOTP and UseRecoveryCode count the same failures
		// and honour the same lock.
		s := newStore(t)
		p := strict
		putCodes(t, s, "alice", t0, 1)
		activeTOTP(t, s, "alice", "totp-1", step0, t0)
		requireOutcome(t, authn.AttemptNoChallenge, attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, t0))
		r, _ := useCode(t, s, "alice", p, t0, 9)
		requireOutcome(t, authn.AttemptMismatch, r)
		require.Equal(t, 2, r.Failures, "a recovery code after a challenge failure")
		_, r = attemptTOTP(t, s, "alice", false, p, t0)
		require.Equal(t, 3, r.Failures, "a TOTP code after both")
		require.Equal(t, p.Base, r.RetryAfter, "the third failure, of any factor, locks")

		mid := t0.Add(time.Second)
		requireOutcome(t, authn.AttemptLocked, attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, mid))
		r, _ = useCode(t, s, "alice", p, mid, 1)
		requireOutcome(t, authn.AttemptLocked, r)
		_, r = attemptTOTP(t, s, "alice", false, p, mid)
		requireOutcome(t, authn.AttemptLocked, r)
		require.Equal(t, 1, codesLeft(t, s, "alice"))
	})

	t.Run("Concurrent", func(t *testing.T) {
		// One code used many times at once: one match.
		s := newStore(t)
		putCodes(t, s, "alice", t0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
		const n = 100
		results := make([]authn.AttemptResult, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], _, err = s.UseRecoveryCode(context.Background(), "alice", [][32]byte{codeMAC(5)}, policy, t0)
			return err
		})
		matches := 0
		for i, err := range errs {
			require.NoError(t, err)
			switch results[i].Outcome {
			case authn.AttemptMatch:
				matches++
			case authn.AttemptMismatch, authn.AttemptLocked:
			default:
				require.Fail(t, "unexpected outcome", outcomeName(results[i].Outcome))
			}
		}
		require.Equal(t, 1, matches, "matches of one code used %d times at once", n)
		require.Equal(t, 9, codesLeft(t, s, "alice"), "one code consumed")
		r, _ := useCode(t, s, "alice", policy, t0, 5)
		requireOutcome(t, authn.AttemptMismatch, r)
	})
}

func testOperator(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("ResetUser", func(t *testing.T) {
		s := newStore(t)
		p := strict
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", t0))
		e := userState(t, s, "alice", t0).Epoch
		require.NotZero(t, e, "a revocation moved the epoch")
		_, err := s.RecordFailure(t.Context(), "bob", p, t0)
		require.NoError(t, err)

		// Locked, and once the lock lifted, locked again: level 2, locked
		// at now.
		for range p.MaxFailures {
			_, err := s.RecordFailure(t.Context(), "alice", p, t0)
			require.NoError(t, err)
		}
		now := t0.Add(p.Base + time.Second)
		_, err = s.RecordFailure(t.Context(), "alice", p, now)
		require.NoError(t, err)
		u := userState(t, s, "alice", now)
		require.True(t, u.LockedUntil.After(now))
		require.Equal(t, 2, u.Level)
		putChallenge(t, s, newChallenge("alice", "ch-1", e, now, tag(1, "dev-1", step0, 0)), now)

		require.NoError(t, s.ResetUser(t.Context(), "alice", now))
		requireReset(t, s, "alice", now, "ResetUser clears the failures, the level and the lock")
		require.Equal(t, e, userState(t, s, "alice", now).Epoch, "ResetUser keeps the epoch")
		require.Equal(t, []string{"dev-1"}, deviceIDs(t, s, "alice"), "ResetUser keeps the devices")
		require.Equal(t, 1, userState(t, s, "bob", now).Failures, "another user's failures stay")

		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "alice", "ch-1", mac(1), step0, p, now), "unlocked, and the challenge of the epoch kept")
		for i := 1; i <= p.MaxFailures; i++ {
			r := attempt(t, s, "alice", "ch-none", wrongMAC, step0, p, now)
			if i == p.MaxFailures {
				require.Equal(t, p.Base, r.RetryAfter, "the first lock after a reset is Base")
			}
		}

		require.NoError(t, s.ResetUser(t.Context(), "nobody", now), "a user never seen")
		require.Equal(t, authn.UserState{}, userState(t, s, "nobody", now))
	})

	t.Run("DeleteUser", func(t *testing.T) {
		s := newStore(t)
		lim := authn.ChallengeLimits{Outstanding: 20, PerMinute: 2, Horizon: 4 * time.Minute}
		for _, user := range []string{"alice", "bob"} {
			dev := func(n string) string { return "dev-" + user + "-" + n }
			activeDevice(t, s, user, dev("1"), t0)
			activeDevice(t, s, user, dev("2"), t0)
			require.NoError(t, s.RevokeDevice(t.Context(), user, dev("2"), t0))
			pendingDevice(t, s, user, dev("p"), t0)
			require.NoError(t, s.PutActivation(t.Context(), waitingActivation(user, "sid-"+user+"-w", t0), t0))
			e := userState(t, s, user, t0).Epoch
			for i := byte(1); i <= 2; i++ {
				c := newChallenge(user, fmt.Sprintf("ch-%s-%d", user, i), e, t0, tag(i, dev("1"), step0, 0))
				require.NoError(t, s.PutChallenge(t.Context(), c, lim, t0))
			}
			activeTOTP(t, s, user, "totp-"+user, step0, t0)
			putCodes(t, s, user, t0, 1, 2)
			for range 2 {
				_, err := s.RecordFailure(t.Context(), user, policy, t0)
				require.NoError(t, err)
			}
		}
		bobBefore := userState(t, s, "bob", t0)

		now := t0.Add(time.Second)
		require.NoError(t, s.DeleteUser(t.Context(), "alice", now))

		// Alice: nothing left.
		u := userState(t, s, "alice", now)
		require.Zero(t, u.Failures, "lockout state erased")
		require.Zero(t, u.Level)
		require.True(t, u.LastFailure.IsZero(), "LastFailure %v", u.LastFailure)
		require.Equal(t, []string{}, deviceIDs(t, s, "alice"), "devices erased")
		for _, id := range []string{"dev-alice-1", "dev-alice-p"} {
			_, err := s.Device(t.Context(), "alice", id)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "device %s", id)
		}
		for _, sid := range []string{"sid-dev-alice-1", "sid-dev-alice-p", "sid-alice-w"} {
			_, err := s.GetActivation(t.Context(), sid, now)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "activation %s erased", sid)
		}
		_, err := s.CompleteActivation(t.Context(), "sid-alice-w", requestHash("x"), serverConfirm("x"), deviceRecord("alice", "dev-x", "sid-alice-w", now), 100, now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "a waiting activation erased")
		_, err = s.TOTP(t.Context(), "alice")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "TOTP key erased")
		require.Zero(t, codesLeft(t, s, "alice"), "recovery codes erased")
		ds, err := s.DevicesPage(t.Context(), "", "", 100)
		require.NoError(t, err)
		for _, d := range ds {
			require.Equal(t, "bob", d.User, "DevicesPage after DeleteUser")
		}
		// Challenges, questions and the per-minute budget erased.
		e := userState(t, s, "alice", now).Epoch
		require.NoError(t, s.PutChallenge(t.Context(), newChallenge("alice", "ch-alice-3", e, now), lim, now), "the per-minute budget erased")
		again := newChallenge("alice", "ch-alice-4", e, now)
		again.Question = "q-ch-alice-1"
		require.NoError(t, s.PutChallenge(t.Context(), again, lim, now), "the questions' horizon erased")
		for i, m := range [][16]byte{mac(1), mac(2)} {
			r := attempt(t, s, "alice", fmt.Sprintf("ch-alice-%d", i+1), m, step0, policy, now)
			requireOutcome(t, authn.AttemptNoChallenge, r, "challenge ch-alice-%d erased", i+1)
		}
		putTOTP(t, s, totpRecord("alice", "totp-new", now), now) // the active key is gone: no conflict

		// Bob: untouched.
		require.Equal(t, bobBefore, userState(t, s, "bob", now), "another user's state")
		require.Equal(t, []string{"dev-bob-1", "dev-bob-p"}, deviceIDs(t, s, "bob"))
		requireActivationState(t, s, "sid-dev-bob-1", now, authn.ActivationActive)
		requireActivationState(t, s, "sid-dev-bob-p", now, authn.ActivationCompleted)
		requireActivationState(t, s, "sid-bob-w", now, authn.ActivationWaiting)
		got := getTOTP(t, s, "bob")
		require.True(t, got.Active)
		require.Equal(t, uint64(step0), got.LastStep)
		require.Equal(t, 2, codesLeft(t, s, "bob"))
		require.ErrorIs(t, s.PutChallenge(t.Context(), newChallenge("bob", "ch-bob-3", bobBefore.Epoch, now), lim, now), authn.ErrStoreLimit,
			"another user's per-minute budget")
		requireOutcome(t, authn.AttemptMatch, attempt(t, s, "bob", "ch-bob-1", mac(1), step0, policy, now), "another user's challenge")

		require.NoError(t, s.DeleteUser(t.Context(), "nobody", now), "a user never seen")
	})
}

// ---------------------------------------------------------------------
// TOTP and recovery codes through the Service: two instances on one
// store.

// importTOTP imports a fresh TOTP key (SHA1, 6 digits, 30 s) for user,
// active, and returns it.
func (c *cluster) importTOTP(t *testing.T, user string) []byte {
	t.Helper()
	key := make([]byte, 20)
	rand.Read(key)
	require.NoError(t, c.svc[0].ImportTOTP(t.Context(), user, key, challenge.TOTP{}, authn.ImportOptions{}))
	return key
}

func totpCode(t *testing.T, key []byte, at time.Time) string {
	t.Helper()
	code, err := challenge.TOTP{}.Code(key, at)
	require.NoError(t, err)
	return code
}

// wrongTOTP is a well-formed code that key gives at no step near now.
func wrongTOTP(t *testing.T, key []byte, now time.Time) string {
	t.Helper()
	right := map[string]bool{}
	for i := -3; i <= 3; i++ {
		right[totpCode(t, key, now.Add(time.Duration(i)*30*time.Second))] = true
	}
	for n := 0; ; n++ {
		if w := fmt.Sprintf("%06d", n); !right[w] {
			return w
		}
	}
}

func testServiceFactors(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("TOTPNoGuessPastTheLock", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		key := c.importTOTP(t, "alice")
		wrong := wrongTOTP(t, key, c.clock.Now())
		checks := c.obs.count("check")

		const n = 500
		errs := concurrently(n, func(i int) error {
			_, err := c.svc[i%2].VerifyTOTP(context.Background(), "alice", wrong)
			return err
		})
		c.requireStopped(t, "alice", errs, checks, "codes checked (the store must refuse before the check once locked)")
		_, err := c.svc[1].VerifyTOTP(t.Context(), "alice", totpCode(t, key, c.clock.Now()))
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "the right code while locked")
		require.Positive(t, le.RetryAfter)
		rec, err := c.store.TOTP(t.Context(), "alice")
		require.NoError(t, err)
		require.Zero(t, rec.LastStep, "the right code refused by the lock is not spent")
	})

	t.Run("RecoveryNoGuessPastTheLock", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		proof, err := c.svc[0].Operator("op-1").Proof(t.Context(), "alice", "conformance suite")
		require.NoError(t, err)
		codes, err := c.svc[1].NewRecoveryCodes(t.Context(), "alice", proof)
		require.NoError(t, err)
		wrong := "0000-0000-0000-0000"
		require.NotContains(t, codes, wrong)
		checks := c.obs.count("check")

		const n = 500
		errs := concurrently(n, func(i int) error {
			typed := wrong
			if i%5 == 0 {
				typed = "not a code" // no candidates: counted all the same
			}
			_, err := c.svc[i%2].VerifyRecoveryCode(context.Background(), "alice", typed)
			return err
		})
		c.requireStopped(t, "alice", errs, checks, "codes checked (the store must refuse before comparing once locked)")
		_, err = c.svc[0].VerifyRecoveryCode(t.Context(), "alice", codes[0])
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "a right code while locked")
		left, err := c.store.RecoveryCodesLeft(t.Context(), "alice")
		require.NoError(t, err)
		require.Equal(t, len(codes), left, "no code consumed")
	})

	t.Run("TOTPCodeUsedOnce", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		key := c.importTOTP(t, "alice")
		now := c.clock.Now()
		code := totpCode(t, key, now)
		succeeded := c.obs.count("login_succeeded")

		const n = 50
		results := make([]authn.Result, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = c.svc[i%2].VerifyTOTP(context.Background(), "alice", code)
			return err
		})
		var ty tally
		for i, err := range errs {
			ty.add(err)
			if err == nil {
				require.Equal(t, authn.MethodTOTP, results[i].Method)
				require.NotNil(t, results[i].Proof)
			}
		}
		require.Empty(t, ty.other, "only ErrInvalidCode (ErrReplay) or ErrLocked besides the success")
		require.Equal(t, 1, ty.ok, "successes of one TOTP code submitted %d times at once (invalid %d, locked %d)", n, ty.invalid, ty.locked)
		require.Equal(t, n-1, ty.invalid+ty.locked)
		require.Equal(t, succeeded+1, c.obs.count("login_succeeded"))

		step, err := challenge.TOTP{}.Step(now)
		require.NoError(t, err)
		rec, err := c.store.TOTP(t.Context(), "alice")
		require.NoError(t, err)
		require.Equal(t, step, rec.LastStep, "the code's step is the last accepted")
	})
}

// ---------------------------------------------------------------------
// Push requests: the Store methods.

// pushContext is what the server saw, shown by the phone.
var pushContext = [4]string{"Login", "203.0.113.7", "Zürich, CH", "Firefox on macOS"}

// newPush is a pending push request of user made at now, live two
// minutes, that notified devices.
func newPush(user, id string, epoch uint64, now time.Time, devices ...string) authn.PushRecord {
	return authn.PushRecord{ID: id, User: user, Number: "42", Nonce: []byte("nonce of " + id), Context: pushContext,
		Devices: devices, State: authn.PushPending, Epoch: epoch, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
}

func putPush(t *testing.T, s authn.Store, p authn.PushRecord, now time.Time) {
	t.Helper()
	require.NoError(t, s.PutPush(t.Context(), p, now), "PutPush %s", p.ID)
}

func getPush(t *testing.T, s authn.Store, id string, now time.Time) authn.PushRecord {
	t.Helper()
	p, err := s.Push(t.Context(), id, now)
	require.NoError(t, err, "Push %s", id)
	return p
}

func requirePushState(t *testing.T, s authn.Store, id string, now time.Time, want authn.PushState, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want, getPush(t, s, id, now).State, msgAndArgs...)
}

// requirePush checks that got is want, comparing times as instants.
func requirePush(t *testing.T, want, got authn.PushRecord, msgAndArgs ...any) {
	t.Helper()
	require.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt %v, want %v", got.CreatedAt, want.CreatedAt)
	require.True(t, want.ExpiresAt.Equal(got.ExpiresAt), "ExpiresAt %v, want %v", got.ExpiresAt, want.ExpiresAt)
	got.CreatedAt, got.ExpiresAt = want.CreatedAt, want.ExpiresAt
	require.Equal(t, want, got, msgAndArgs...)
}

func pendingPushIDs(t *testing.T, s authn.Store, user, deviceID string, now time.Time) []string {
	t.Helper()
	ps, err := s.PendingPushes(t.Context(), user, deviceID, now)
	require.NoError(t, err)
	ids := []string{}
	for _, p := range ps {
		require.Equal(t, user, p.User)
		require.Equal(t, authn.PushPending, p.State)
		require.Contains(t, p.Devices, deviceID)
		ids = append(ids, p.ID)
	}
	return ids
}

func testPush(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("PutPush", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Push(t.Context(), "push-none", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		p := newPush("alice", "push-1", 0, t0, "dev-1", "dev-2")
		want := newPush("alice", "push-1", 0, t0, "dev-1", "dev-2")
		putPush(t, s, p, t0)
		// Copied in: the caller's slices are its own.
		p.Nonce[0], p.Devices[0] = 'X', "dev-X"
		got := getPush(t, s, "push-1", t0)
		requirePush(t, want, got, "Push returns the record as put")
		// Copied out.
		got.Nonce[0], got.Devices[0] = 'Y', "dev-Y"
		requirePush(t, want, getPush(t, s, "push-1", t0), "Push returns a copy")
		ps, err := s.PendingPushes(t.Context(), "alice", "dev-1", t0)
		require.NoError(t, err)
		require.Len(t, ps, 1)
		requirePush(t, want, ps[0], "PendingPushes returns the record as put")
		ps[0].Nonce[0], ps[0].Devices[1] = 'Z', "dev-Z"
		requirePush(t, want, getPush(t, s, "push-1", t0), "PendingPushes returns a copy")

		// A second request with the ID: conflict, the first kept.
		require.ErrorIs(t, s.PutPush(t.Context(), newPush("alice", "push-1", 0, t0, "dev-3"), t0), authn.ErrStoreConflict)
		require.ErrorIs(t, s.PutPush(t.Context(), newPush("bob", "push-1", 0, t0, "dev-b"), t0), authn.ErrStoreConflict, "another user's request with the ID")
		requirePush(t, want, getPush(t, s, "push-1", t0), "a refused PutPush changes nothing")
		require.ErrorIs(t, s.PutPush(t.Context(), want, t0), authn.ErrStoreConflict, "the same request again")
	})

	t.Run("Expiry", func(t *testing.T) {
		s := newStore(t)
		p := newPush("alice", "push-1", 0, t0, "dev-1")
		putPush(t, s, p, t0)
		putPush(t, s, newPush("alice", "push-2", 0, t0, "dev-1"), t0)
		putPush(t, s, newPush("alice", "push-3", 0, t0, "dev-1"), t0)
		_, err := s.SetPushState(t.Context(), "alice", "push-3", authn.PushPending, authn.PushDenied, "dev-1", t0)
		require.NoError(t, err)

		requirePushState(t, s, "push-1", p.ExpiresAt.Add(-time.Second), authn.PushPending, "live before ExpiresAt")
		requirePushState(t, s, "push-1", p.ExpiresAt, authn.PushExpired, "expired at ExpiresAt")
		requirePushState(t, s, "push-1", p.ExpiresAt.Add(time.Minute), authn.PushExpired)
		// Expired, it cannot move.
		rec, err := s.SetPushState(t.Context(), "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", p.ExpiresAt)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "an expired request approved")
		require.Equal(t, "push-1", rec.ID, "a conflict returns the record")
		require.Equal(t, authn.PushExpired, rec.State)
		require.Empty(t, rec.Answered)
		// Not read since it expired: SetPushState itself sees the expiry.
		rec, err = s.SetPushState(t.Context(), "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", p.ExpiresAt)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "an expired request approved")
		require.Equal(t, authn.PushExpired, rec.State)
		requirePushState(t, s, "push-2", p.ExpiresAt, authn.PushExpired)
		// Only a pending request expires: an answered one keeps its state.
		requirePushState(t, s, "push-3", p.ExpiresAt.Add(time.Minute), authn.PushDenied, "a denied request past ExpiresAt")
	})

	t.Run("Epoch", func(t *testing.T) {
		s := newStore(t)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		e := userState(t, s, "alice", t0).Epoch
		putPush(t, s, newPush("alice", "push-1", e, t0, "dev-1", "dev-2"), t0)
		putPush(t, s, newPush("alice", "push-2", e, t0, "dev-1", "dev-2"), t0)
		putPush(t, s, newPush("bob", "push-b", userState(t, s, "bob", t0).Epoch, t0, "dev-b"), t0)
		now := t0.Add(time.Second)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", now))
		e2 := userState(t, s, "alice", now).Epoch
		require.NotEqual(t, e, e2)

		requirePushState(t, s, "push-1", now, authn.PushExpired, "a request made before a revocation")
		rec, err := s.SetPushState(t.Context(), "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a request made before a revocation approved")
		require.Equal(t, authn.PushExpired, rec.State)
		// Not read since: SetPushState itself compares the epoch.
		rec, err = s.SetPushState(t.Context(), "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a request made before a revocation approved")
		require.Equal(t, authn.PushExpired, rec.State)
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now), "requests made before a revocation")

		// Made before the revocation but stored after it (BeginPush read
		// the epoch, then the revocation landed): expired all the same.
		putPush(t, s, newPush("alice", "push-3", e, now, "dev-1"), now)
		requirePushState(t, s, "push-3", now, authn.PushExpired, "a request of the old epoch stored after the revocation")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now))

		// The new epoch's requests are live; another user's are untouched.
		putPush(t, s, newPush("alice", "push-4", e2, now, "dev-1"), now)
		require.Equal(t, []string{"push-4"}, pendingPushIDs(t, s, "alice", "dev-1", now))
		_, err = s.SetPushState(t.Context(), "alice", "push-4", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.NoError(t, err)
		requirePushState(t, s, "push-b", now, authn.PushPending, "another user's request")
	})

	t.Run("SetPushState", func(t *testing.T) {
		s := newStore(t)
		putPush(t, s, newPush("alice", "push-1", 0, t0, "dev-1", "dev-2"), t0)
		now := t0.Add(10 * time.Second)

		_, err := s.SetPushState(t.Context(), "alice", "push-none", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an unknown request")
		_, err = s.SetPushState(t.Context(), "bob", "push-1", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's request")
		rec, err := s.SetPushState(t.Context(), "alice", "push-1", authn.PushApproved, authn.PushFinished, "", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "finishing a pending request")
		require.Equal(t, "push-1", rec.ID, "a conflict returns the record")
		require.Equal(t, authn.PushPending, rec.State)
		got := getPush(t, s, "push-1", now)
		require.Equal(t, authn.PushPending, got.State, "refused moves change nothing")
		require.Empty(t, got.Answered)

		// The right from-state moves, and records the device.
		rec, err = s.SetPushState(t.Context(), "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-2", now)
		require.NoError(t, err)
		require.Equal(t, authn.PushApproved, rec.State)
		require.Equal(t, "dev-2", rec.Answered)
		require.Equal(t, "alice", rec.User)
		require.Equal(t, "42", rec.Number)
		got = getPush(t, s, "push-1", now)
		require.Equal(t, authn.PushApproved, got.State)
		require.Equal(t, "dev-2", got.Answered)
		rec.Devices[0] = "dev-X"
		require.Equal(t, []string{"dev-1", "dev-2"}, getPush(t, s, "push-1", now).Devices, "SetPushState returns a copy")

		// A second answer: conflict, the first answer's record.
		rec, err = s.SetPushState(t.Context(), "alice", "push-1", authn.PushPending, authn.PushDenied, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a second answer")
		require.Equal(t, authn.PushApproved, rec.State)
		require.Equal(t, "dev-2", rec.Answered)

		// Finishing names no device: the answering one stays recorded
		// (FinishPush reports it).
		rec, err = s.SetPushState(t.Context(), "alice", "push-1", authn.PushApproved, authn.PushFinished, "", now)
		require.NoError(t, err)
		require.Equal(t, authn.PushFinished, rec.State)
		require.Equal(t, "dev-2", rec.Answered, "a move without a device keeps the answering one")
		rec, err = s.SetPushState(t.Context(), "alice", "push-1", authn.PushApproved, authn.PushFinished, "", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "finished twice")
		require.Equal(t, authn.PushFinished, rec.State)
		// A finished request does not expire.
		requirePushState(t, s, "push-1", now.Add(time.Hour), authn.PushFinished)

		// A cancellation is take-once too.
		putPush(t, s, newPush("alice", "push-2", 0, now, "dev-1"), now)
		_, err = s.SetPushState(t.Context(), "alice", "push-2", authn.PushPending, authn.PushCancelled, "", now)
		require.NoError(t, err)
		rec, err = s.SetPushState(t.Context(), "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", now)
		require.ErrorIs(t, err, authn.ErrStoreConflict, "a cancelled request approved")
		require.Equal(t, authn.PushCancelled, rec.State)
		require.Empty(t, rec.Answered)
	})

	t.Run("SetPushStateConcurrent", func(t *testing.T) {
		s := newStore(t)
		putPush(t, s, newPush("alice", "push-1", 0, t0, "dev-1"), t0)
		_, err := s.SetPushState(t.Context(), "alice", "push-1", authn.PushPending, authn.PushApproved, "dev-1", t0)
		require.NoError(t, err)
		const n = 100
		recs := make([]authn.PushRecord, n)
		errs := concurrently(n, func(i int) error {
			var err error
			recs[i], err = s.SetPushState(context.Background(), "alice", "push-1", authn.PushApproved, authn.PushFinished, "", t0)
			return err
		})
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, authn.ErrStoreConflict, "finish %d", i)
			}
			require.Equal(t, authn.PushFinished, recs[i].State, "finish %d", i)
			require.Equal(t, "dev-1", recs[i].Answered, "finish %d", i)
		}
		require.Equal(t, 1, wins, "successes of %d concurrent finishes of one request", n)

		// Concurrent answers, approvals and denials: one wins.
		putPush(t, s, newPush("alice", "push-2", 0, t0, "dev-1", "dev-2"), t0)
		to := []authn.PushState{authn.PushApproved, authn.PushDenied}
		dev := []string{"dev-1", "dev-2"}
		errs = concurrently(n, func(i int) error {
			_, err := s.SetPushState(context.Background(), "alice", "push-2", authn.PushPending, to[i%2], dev[i/2%2], t0)
			return err
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two answers won: %d and %d", winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, authn.ErrStoreConflict, "answer %d", i)
		}
		require.NotEqual(t, -1, winner, "no answer won")
		got := getPush(t, s, "push-2", t0)
		require.Equal(t, to[winner%2], got.State, "the winner's state")
		require.Equal(t, dev[winner/2%2], got.Answered, "the winner's device")
	})

	t.Run("PendingPushes", func(t *testing.T) {
		s := newStore(t)
		// IDs that do not sort in the order the requests were made.
		putPush(t, s, newPush("alice", "push-c", 0, t0, "dev-1", "dev-2"), t0)
		putPush(t, s, newPush("alice", "push-a", 0, t0.Add(time.Second), "dev-2"), t0.Add(time.Second))
		short := newPush("alice", "push-b", 0, t0.Add(2*time.Second), "dev-1")
		short.ExpiresAt = t0.Add(10 * time.Second)
		putPush(t, s, short, t0.Add(2*time.Second))
		putPush(t, s, newPush("alice", "push-e", 0, t0.Add(3*time.Second), "dev-1"), t0.Add(3*time.Second))
		putPush(t, s, newPush("alice", "push-d", 0, t0.Add(4*time.Second), "dev-1", "dev-2"), t0.Add(4*time.Second))
		_, err := s.SetPushState(t.Context(), "alice", "push-e", authn.PushPending, authn.PushDenied, "dev-1", t0.Add(4*time.Second))
		require.NoError(t, err)
		// Bob's request names alice's device ID: it is still bob's.
		putPush(t, s, newPush("bob", "push-bob", 0, t0.Add(5*time.Second), "dev-1"), t0.Add(5*time.Second))

		now := t0.Add(5 * time.Second)
		require.Equal(t, []string{"push-c", "push-b", "push-d"}, pendingPushIDs(t, s, "alice", "dev-1", now), "live, pending, of the device, oldest first")
		require.Equal(t, []string{"push-c", "push-a", "push-d"}, pendingPushIDs(t, s, "alice", "dev-2", now))
		require.Equal(t, []string{"push-bob"}, pendingPushIDs(t, s, "bob", "dev-1", now), "another user's")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-none", now), "a device never notified")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "carol", "dev-1", now), "a user without requests")

		// push-b expires; push-c is answered.
		now = short.ExpiresAt
		_, err = s.SetPushState(t.Context(), "alice", "push-c", authn.PushPending, authn.PushApproved, "dev-2", now)
		require.NoError(t, err)
		require.Equal(t, []string{"push-d"}, pendingPushIDs(t, s, "alice", "dev-1", now))
		require.Equal(t, []string{"push-a", "push-d"}, pendingPushIDs(t, s, "alice", "dev-2", now))
		// All expire.
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-2", t0.Add(time.Hour)))
	})

	t.Run("PushMode", func(t *testing.T) {
		s := newStore(t)
		u := userState(t, s, "alice", t0)
		require.False(t, u.PushOff, "a user never seen")
		require.True(t, u.PushSuspended.IsZero(), "PushSuspended %v", u.PushSuspended)
		activeDevice(t, s, "alice", "dev-1", t0)
		activeDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", t0))
		_, err := s.RecordFailure(t.Context(), "alice", policy, t0)
		require.NoError(t, err)
		before := userState(t, s, "alice", t0)

		mode := func(off bool, until time.Time) authn.UserState {
			t.Helper()
			require.NoError(t, setPushMode(t, s, "alice", off, until, t0))
			u := userState(t, s, "alice", t0)
			require.Equal(t, off, u.PushOff)
			require.True(t, u.PushSuspended.Equal(until), "PushSuspended %v, want %v", u.PushSuspended, until)
			require.Equal(t, before.Epoch, u.Epoch, "setting the push mode keeps the epoch")
			require.Equal(t, before.Failures, u.Failures, "setting the push mode keeps the failures")
			require.Equal(t, before.Level, u.Level)
			require.True(t, before.LockedUntil.Equal(u.LockedUntil))
			return u
		}
		mode(true, time.Time{})
		mode(false, t0.Add(time.Hour))
		mode(true, t0.Add(2*time.Hour))
		mode(false, time.Time{})
		u = mode(true, t0.Add(time.Hour))

		// Other user state changes keep the push mode.
		_, err = s.RecordFailure(t.Context(), "alice", policy, t0)
		require.NoError(t, err)
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-1", t0))
		after := userState(t, s, "alice", t0)
		require.True(t, after.PushOff, "a failure and a revocation keep push off")
		require.True(t, after.PushSuspended.Equal(u.PushSuspended), "a failure and a revocation keep the suspension")
		u = userState(t, s, "bob", t0)
		require.False(t, u.PushOff, "another user")
		require.True(t, u.PushSuspended.IsZero(), "another user")

		require.NoError(t, setPushMode(t, s, "bob", true, time.Time{}, t0), "a user never seen")
		require.True(t, userState(t, s, "bob", t0).PushOff)
	})

	t.Run("PushToken", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-1", t0), t0))
		d := deviceRecord("alice", "dev-1", "sid-1", t0)
		d.PushToken = "token at activation"
		_, err := s.CompleteActivation(t.Context(), "sid-1", requestHash("dev-1"), serverConfirm("dev-1"), d, 100, t0)
		require.NoError(t, err)
		_, err = s.ActivateDevice(t.Context(), "alice", "dev-1", t0)
		require.NoError(t, err)
		activeDevice(t, s, "alice", "dev-2", t0)
		activeDevice(t, s, "bob", "dev-b", t0)
		token := func(user, id string) string {
			t.Helper()
			d, err := s.Device(t.Context(), user, id)
			require.NoError(t, err)
			ds, err := s.Devices(t.Context(), user)
			require.NoError(t, err)
			for _, x := range ds {
				if x.ID == id {
					require.Equal(t, d.PushToken, x.PushToken, "Devices and Device agree")
				}
			}
			return d.PushToken
		}
		require.Equal(t, "token at activation", token("alice", "dev-1"), "the token stored with the device")
		require.Empty(t, token("alice", "dev-2"))

		require.NoError(t, s.SetPushToken(t.Context(), "alice", "dev-2", "token 2"))
		require.Equal(t, "token 2", token("alice", "dev-2"))
		require.Equal(t, "token at activation", token("alice", "dev-1"), "another device's token")
		long := strings.Repeat("t", 4096) // the longest the Service accepts
		require.NoError(t, s.SetPushToken(t.Context(), "alice", "dev-1", long))
		require.Equal(t, long, token("alice", "dev-1"))
		require.NoError(t, s.SetPushToken(t.Context(), "alice", "dev-1", ""))
		require.Empty(t, token("alice", "dev-1"), "a token cleared")

		require.ErrorIs(t, s.SetPushToken(t.Context(), "alice", "dev-none", "x"), authn.ErrStoreNotFound, "an unknown device")
		require.ErrorIs(t, s.SetPushToken(t.Context(), "alice", "dev-b", "x"), authn.ErrStoreNotFound, "another user's device")
		require.Empty(t, token("bob", "dev-b"))
		require.NoError(t, s.RevokeDevice(t.Context(), "alice", "dev-2", t0))
		require.ErrorIs(t, s.SetPushToken(t.Context(), "alice", "dev-2", "x"), authn.ErrStoreNotFound, "a revoked device")
	})

	t.Run("DeleteUser", func(t *testing.T) {
		s := newStore(t)
		for _, user := range []string{"alice", "bob"} {
			putPush(t, s, newPush(user, "push-"+user+"-1", 0, t0, "dev-1"), t0)
			putPush(t, s, newPush(user, "push-"+user+"-2", 0, t0, "dev-1"), t0)
			_, err := s.SetPushState(t.Context(), user, "push-"+user+"-2", authn.PushPending, authn.PushApproved, "dev-1", t0)
			require.NoError(t, err)
			require.NoError(t, setPushMode(t, s, user, true, t0.Add(time.Hour), t0))
		}
		now := t0.Add(time.Second)
		require.NoError(t, s.DeleteUser(t.Context(), "alice", now))
		for _, id := range []string{"push-alice-1", "push-alice-2"} {
			_, err := s.Push(t.Context(), id, now)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "request %s erased", id)
		}
		_, err := s.SetPushState(t.Context(), "alice", "push-alice-2", authn.PushApproved, authn.PushFinished, "", now)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an erased approval finished")
		require.Equal(t, []string{}, pendingPushIDs(t, s, "alice", "dev-1", now))
		u := userState(t, s, "alice", now)
		require.False(t, u.PushOff, "push mode erased")
		require.True(t, u.PushSuspended.IsZero(), "suspension erased")

		require.Equal(t, []string{"push-bob-1"}, pendingPushIDs(t, s, "bob", "dev-1", now), "another user's requests")
		requirePushState(t, s, "push-bob-2", now, authn.PushApproved)
		require.True(t, userState(t, s, "bob", now).PushOff, "another user's push mode")
	})

	t.Run("Sweep", func(t *testing.T) {
		s := newStore(t)
		putPush(t, s, newPush("alice", "push-1", 0, t0, "dev-1"), t0)
		putPush(t, s, newPush("alice", "push-2", 0, t0, "dev-1"), t0)
		_, err := s.SetPushState(t.Context(), "alice", "push-2", authn.PushPending, authn.PushApproved, "dev-1", t0)
		require.NoError(t, err)
		n, err := s.Sweep(t.Context(), t0.Add(time.Minute))
		require.NoError(t, err)
		require.Zero(t, n, "nothing has expired")
		requirePushState(t, s, "push-1", t0.Add(time.Minute), authn.PushPending, "Sweep keeps live requests")
		requirePushState(t, s, "push-2", t0.Add(time.Minute), authn.PushApproved, "Sweep keeps live requests")

		// Long after, the requests go, and a live one stays.
		late := t0.Add(7 * 24 * time.Hour)
		putPush(t, s, newPush("alice", "push-3", 0, late, "dev-1"), late)
		n, err = s.Sweep(t.Context(), late)
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, 2, "two old requests")
		for _, id := range []string{"push-1", "push-2"} {
			_, err := s.Push(t.Context(), id, late)
			require.ErrorIs(t, err, authn.ErrStoreNotFound, "request %s swept", id)
		}
		requirePushState(t, s, "push-3", late, authn.PushPending, "Sweep keeps live requests")
	})
}

// ---------------------------------------------------------------------
// Push through the Service: two instances on one store.

var loginContext = enroll.PushContext{Action: pushContext[0], IP: pushContext[1], Place: pushContext[2], Browser: pushContext[3]}

// newPushCluster is newCluster with one ChanNotifier for both instances.
func newPushCluster(t *testing.T, store authn.Store) (*cluster, *authn.ChanNotifier) {
	t.Helper()
	nt := authn.NewChanNotifier(16)
	return newCluster(t, store, func(cfg *authn.Config) { cfg.Notifier = nt }), nt
}

// enrollPush is enroll for a phone with a push token.
func (c *cluster) enrollPush(t *testing.T, user string, proof *authn.Proof) (*phone, authn.Device) {
	t.Helper()
	return c.enrollPhone(t, user, proof, "push-token-"+rand.Text())
}

// receive takes the next prompt (not a retraction) from nt: it must be
// for p, with its push token. It opens the prompt.
func receive(t *testing.T, nt *authn.ChanNotifier, p *phone) enroll.PushPrompt {
	t.Helper()
	for {
		select {
		case d := <-nt.C:
			if d.Retract {
				continue
			}
			require.Equal(t, p.cred.DeviceID(), d.Device)
			require.Equal(t, p.cred.Device().PushToken, d.PushToken)
			pr, err := p.cred.OpenPrompt(d.Prompt, p.clock.Now())
			require.NoError(t, err)
			return pr
		default:
			t.Fatal("no delivery")
		}
	}
}

// device is the phone's device as instance i's device API sees it: a
// request the phone signed now, authenticated there.
func (c *cluster) device(t *testing.T, i int, p *phone) *authn.AuthenticatedDevice {
	t.Helper()
	h, err := p.cred.SignAPIRequest("POST", "/v1/push/answer", "", nil, c.clock.Now())
	require.NoError(t, err)
	r, mac, err := enroll.ParseAPIAuthorization(h)
	require.NoError(t, err)
	r.Method, r.Path, r.BodyHash = "POST", "/v1/push/answer", sha256.Sum256(nil)
	d, err := c.svc[i].AuthenticateDevice(t.Context(), r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	return d
}

func testServicePush(t *testing.T, newStore func(t *testing.T) authn.Store) {
	t.Run("ApprovedAcrossInstances", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, dev := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		pr := receive(t, nt, p)
		require.Equal(t, req.ID, pr.RequestID)
		require.Equal(t, loginContext, pr.Context)
		pending, err := c.device(t, 1, p).PendingPushes(ctx)
		require.NoError(t, err)
		require.Len(t, pending, 1, "the device API on the other instance")
		_, err = c.svc[1].FinishPush(ctx, "alice", req.ID)
		require.ErrorIs(t, err, authn.ErrPushPending)

		c.clock.Advance(5 * time.Second)
		a, err := p.cred.AnswerPush(pr, true, req.Number, c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a))
		require.ErrorIs(t, c.device(t, 0, p).AnswerPush(ctx, a), authn.ErrAlreadyUsed, "the answer replayed on the other instance")
		st, err := c.svc[0].PushStatus(ctx, "alice", req.ID, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushApproved, st, "the approval seen on the other instance")

		succeeded := c.obs.count("login_succeeded")
		const n = 20
		results := make([]authn.Result, n)
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = c.svc[i%2].FinishPush(context.Background(), "alice", req.ID)
			return err
		})
		wins := 0
		for i, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, authn.ErrAlreadyUsed, "finish %d", i)
				continue
			}
			wins++
			require.Equal(t, dev.ID, results[i].DeviceID)
			require.Equal(t, dev.Name, results[i].DeviceName)
			require.Equal(t, authn.MethodPush, results[i].Method)
			require.NotNil(t, results[i].Proof)
		}
		require.Equal(t, 1, wins, "successes of %d concurrent FinishPush of one approval", n)
		require.Equal(t, succeeded+1, c.obs.count("login_succeeded"))
		st, err = c.svc[1].PushStatus(ctx, "alice", req.ID, 0)
		require.NoError(t, err)
		require.Equal(t, authn.PushFinished, st)
	})

	t.Run("DenialSuspendsAcrossInstances", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		req, err := c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err)
		a, err := p.cred.AnswerPush(receive(t, nt, p), false, "", c.clock.Now())
		require.NoError(t, err)
		require.NoError(t, c.device(t, 1, p).AnswerPush(ctx, a))
		_, err = c.svc[0].FinishPush(ctx, "alice", req.ID)
		require.ErrorIs(t, err, authn.ErrPushDenied)
		_, err = c.svc[0].BeginPush(ctx, "alice", loginContext)
		require.ErrorIs(t, err, authn.ErrPushUnavailable, "push suspended by a denial on the other instance")
		require.Zero(t, len(nt.C), "a suspended user is not notified")
	})

	t.Run("LockedUserNotNotified", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		for i := range authn.DefaultMaxFailures {
			ch, err := c.svc[i%2].BeginChallenge(ctx, "alice")
			require.NoError(t, err)
			_, err = c.svc[(i+1)%2].FinishChallenge(ctx, "alice", ch.ID, wrongResponse(t, p, ch.Question))
			require.Error(t, err)
		}
		u, err := c.store.User(ctx, "alice", c.clock.Now())
		require.NoError(t, err)
		require.True(t, u.LockedUntil.After(c.clock.Now()), "the user is locked")
		for _, svc := range c.svc {
			_, err := svc.BeginPush(ctx, "alice", loginContext)
			require.ErrorIs(t, err, authn.ErrPushUnavailable, "a locked user")
		}
		require.Zero(t, len(nt.C), "a locked user is not notified")
	})

	t.Run("BudgetAcrossInstances", func(t *testing.T) {
		c, nt := newPushCluster(t, newStore(t))
		ctx := t.Context()
		p, _ := c.enrollPush(t, "alice", nil)
		for i := range 3 {
			_, err := c.svc[i%2].BeginPush(ctx, "alice", loginContext)
			require.NoError(t, err, "push %d", i+1)
			receive(t, nt, p)
			c.clock.Advance(time.Minute)
		}
		for _, svc := range c.svc {
			_, err := svc.BeginPush(ctx, "alice", loginContext)
			require.ErrorIs(t, err, authn.ErrPushUnavailable, "a 4th push within 15 minutes")
		}
		require.Zero(t, len(nt.C), "a refused push notifies no one")
		c.clock.Advance(12 * time.Minute) // 15 minutes after the first
		_, err := c.svc[1].BeginPush(ctx, "alice", loginContext)
		require.NoError(t, err, "a new window")
		receive(t, nt, p)
	})
}

// setPushMode sets both halves of a user's push mode.
func setPushMode(t *testing.T, s authn.Store, user string, off bool, until, now time.Time) error {
	t.Helper()
	if err := s.SetPushOff(t.Context(), user, off, now); err != nil {
		return err
	}
	return s.SuspendPush(t.Context(), user, until, now)
}
