package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/stretchr/testify/require"
)

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
		// A paired activation of alice, and a waiting one of bob.
		sidDone := activeDevice(t, s, "alice", "dev-1", t0)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("bob", "sid-bob", t0), t0))

		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-a1", t0), t0))
		now := t0.Add(time.Second)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-a2", now), now))

		requireActivationState(t, s, "sid-a1", now, authn.ActivationCancelled)
		requireActivationState(t, s, "sid-a2", now, authn.ActivationWaiting)
		requireActivationState(t, s, sidDone, now, authn.ActivationActive)
		requireActivationState(t, s, "sid-bob", now, authn.ActivationWaiting)
		require.Equal(t, []string{"dev-1"}, deviceIDs(t, s, "alice"), "voiding waiting activations leaves active devices")

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

		d, err := getDevice(t.Context(), s, "alice", "dev-1")
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
		_, err = activate(t.Context(), s, "alice", "dev-1", now)
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
		activeDevice(t, s, "alice", "dev-2", t0)
		require.NoError(t, s.PutActivation(t.Context(), waitingActivation("alice", "sid-3", t0), t0))
		_, err := s.CompleteActivation(t.Context(), "sid-3", requestHash("dev-3"), serverConfirm("dev-3"), deviceRecord("alice", "dev-3", "sid-3", t0), 2, t0)
		require.ErrorIs(t, err, authn.ErrStoreLimit, "active devices fill maxDevices")
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
		_, err := getDevice(t.Context(), s, "alice", "dev-2")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the pending device is deleted")
		_, err = activate(t.Context(), s, "alice", "dev-2", t0)
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
		dd, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, []byte("sealed root of dev-1"), dd.Secret, "CompleteActivation keeps its own copy")
		dd.Secret[0] ^= 0xff
		dd, err = getDevice(t.Context(), s, "alice", "dev-1")
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
		_, err := pairingTry(t.Context(), s, "bob", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = pairingTry(t.Context(), s, "alice", "dev-none", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "unknown device")
		for want := 1; want <= 3; want++ {
			n, err := pairingTry(t.Context(), s, "alice", "dev-1", 3, t0)
			require.NoError(t, err, "try %d", want)
			require.Equal(t, want, n)
		}
		d, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, 3, d.PairTries)

		_, err = pairingTry(t.Context(), s, "alice", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreLimit, "the fourth try of three")
		_, err = getDevice(t.Context(), s, "alice", "dev-1")
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "the device is deleted")
		requireActivationState(t, s, sid, t0, authn.ActivationDiscarded)
		_, err = pairingTry(t.Context(), s, "alice", "dev-1", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		_, err = activate(t.Context(), s, "alice", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.ErrorIs(t, s.CancelActivation(t.Context(), "alice", sid, t0), authn.ErrStoreNotFound)

		// An active device is not pending.
		activeDevice(t, s, "alice", "dev-2", t0)
		_, err = pairingTry(t.Context(), s, "alice", "dev-2", 3, t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "an active device")
	})

	t.Run("ActivateDevice", func(t *testing.T) {
		s := newStore(t)
		sid := pendingDevice(t, s, "alice", "dev-1", t0)
		_, err := activate(t.Context(), s, "bob", "dev-1", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound, "another user's device")
		_, err = activate(t.Context(), s, "alice", "dev-none", t0)
		require.ErrorIs(t, err, authn.ErrStoreNotFound)

		epoch := userState(t, s, "alice", t0).Epoch
		d, err := activate(t.Context(), s, "alice", "dev-1", t0)
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, d.State)
		require.Equal(t, "dev-1", d.ID)
		requireActivationState(t, s, sid, t0, authn.ActivationActive)
		got, err := getDevice(t.Context(), s, "alice", "dev-1")
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, got.State)
		require.Equal(t, epoch, userState(t, s, "alice", t0).Epoch, "pairing without Replacing leaves the epoch")

		_, err = activate(t.Context(), s, "alice", "dev-1", t0)
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
		d, err := activate(t.Context(), s, "alice", "dev-new", t0)
		require.NoError(t, err)
		require.Equal(t, authn.DeviceActive, d.State)
		require.Equal(t, []string{"dev-keep", "dev-new"}, deviceIDs(t, s, "alice"), "pairing deletes the replaced device")
		_, err = getDevice(t.Context(), s, "alice", "dev-old")
		require.ErrorIs(t, err, authn.ErrStoreNotFound)
		require.Equal(t, epoch+1, userState(t, s, "alice", t0).Epoch, "replacing bumps the epoch")
	})
}
