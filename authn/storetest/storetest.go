// Package storetest is the conformance suite of the stores a Service
// runs on: an [authn.HotStore] and an [authn.RecordStore]. It has one
// entry point per half and one for the pair:
//
//   - [RunHot] tests a hot store alone: the lockout arithmetic of Attempt
//     and RecordFailure, ResetUser, TakeOnce, Spend, Refund and BudgetLeft;
//   - [RunRecords] tests a record store alone: pairing tries, devices and
//     their changes, epochs, the compare-and-set of CommitStep, and
//     activations that end (unpaired by the pairing deadline, voided by
//     a newer offer, discarded by the last pairing try), taking their
//     pending devices with them, and the devices version
//     (authn.LoginRecords) that every change a challenge depends on
//     raises;
//   - [RunPair] tests the steps that span the halves on a pair, called as
//     the Service calls them (a revocation in the records, then
//     RaiseEpoch in the hot store): take-once activation, challenge
//     issuance, its limits and epoch, attempts, Sweep; TOTP keys (the
//     counted Attempt with no answer before the check, the once-only step
//     of CommitTOTP), recovery codes (each taken once by
//     TakeRecoveryCode, under the same lockout), the operator's ResetUser
//     and DeleteUser; and push requests (the compare-and-set of
//     SetPushState, a pending request voided by its expiry or a
//     revocation, the pending prompts of a device, the push mode and push
//     tokens, erasure and Sweep); and a hot store's mirror of the
//     devices version (authn.MirroredIssuer);
//   - [RunService] checks what the Service promises when it runs on a
//     pair, with two Services sharing the stores, keyring and clock, as a
//     load-balanced pair of instances would: a challenge is answered
//     once, no guess is compared past the lock (responses, TOTP codes or
//     recovery codes), a TOTP code is accepted once, a question is not
//     reissued within its horizon, an activation is completed once, a
//     revocation voids the challenges issued before it, a push approval
//     answered on one instance is finished once, on either, no push
//     is sent to a locked or suspended user or beyond the push budget,
//     every factor that logs a user in (recovery codes included) makes
//     factor changes need a proof, offers snatched by someone else do
//     not fill the device limit, and at most 3 pairing codes are
//     compared however many guesses race, each answered as a wrong
//     code, a discarded device or a success;
//     [RunShared] races two Services on two handles of one pair's data.
//
// Every store runs the entry points that apply to it, on fresh stores. An
// engine keeping both halves runs them all ([Run] is RunHot, RunRecords
// and RunPair on it; [Both] makes it a pair):
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(testing.TB) authn.Store { return memstore.New() })
//		storetest.RunService(t, func(testing.TB) storetest.Stores { return storetest.Both(memstore.New()) })
//	}
//
// A hot store alone runs RunHot, and RunPair and RunService paired with
// a record store (redisstore with SQLite or PostgreSQL). The store tests
// call the methods directly with hand-made records (a sealed secret is
// arbitrary bytes at this level).
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
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
)

// RunShared runs the tests of two Services racing on one store's data —
// one right response sent 200 times, 500 wrong guesses, one activation
// completed by eight phones — with each Service on its own store value
// from newPair: two handles on the same data with separate connections,
// as two processes would have. tb runs them as subtests (see RunHot).
func RunShared(tb testing.TB, newPair func(tb testing.TB) [2]Stores) {
	run(tb, "Shared", func(t *testing.T) {
		testSharedService(t, func(t *testing.T, mod func(*authn.Config)) *cluster {
			p := newPair(t)
			return newClusterOn(t, [2]authn.Store{p[0].pair(), p[1].pair()}, mod)
		})
	})
}

// RunHot runs the tests of a hot store alone (no record store beside
// it): the lockout arithmetic of Attempt and RecordFailure, ResetUser,
// and TakeOnce, Spend, Refund and BudgetLeft, alone and under concurrency. newHot is called
// for a fresh, empty store in each subtest and may register cleanups on
// the tb it is given. The suite is made of subtests: tb must be able to
// run them, as a *testing.T can (RunHot fails tb otherwise).
func RunHot(tb testing.TB, newHot func(tb testing.TB) authn.HotStore) {
	fresh := func(t *testing.T) authn.Store { return pair{HotStore: newHot(t)} }
	run(tb, "Lockout", func(t *testing.T) { testLockout(t, fresh) })
	run(tb, "Buckets", func(t *testing.T) { testBuckets(t, fresh) })
	run(tb, "Generic", func(t *testing.T) { testGeneric(t, fresh) })
	run(tb, "Refund", func(t *testing.T) { testRefund(t, fresh) })
	run(tb, "BudgetLeft", func(t *testing.T) { testBudgetLeft(t, fresh) })
}

// RunRecords runs the tests of a record store alone (no hot store
// beside it): pairing tries, devices and their changes, epochs, the
// compare-and-set of CommitStep, activations that end, removed
// devices kept for their phones (RemovedDevice), the
// compare-and-set of a push token (DeviceChange.PushTokenWas), and the
// devices version of authn.LoginRecords. Like RunHot,
// with newRecords.
func RunRecords(tb testing.TB, newRecords func(tb testing.TB) authn.RecordStore) {
	fresh := func(t *testing.T) authn.Store { return pair{RecordStore: newRecords(t)} }
	run(tb, "Pairing", func(t *testing.T) { testPairing(t, fresh) })
	run(tb, "Devices", func(t *testing.T) { testDevices(t, fresh) })
	run(tb, "CommitStep", func(t *testing.T) { testCommitStep(t, fresh) })
	run(tb, "ActivationEnds", func(t *testing.T) { testActivationEnds(t, fresh) })
	run(tb, "Removed", func(t *testing.T) { testRemoved(t, fresh) })
	run(tb, "PushTokenWas", func(t *testing.T) { testPushTokenWas(t, fresh) })
	run(tb, "DevicesVersion", func(t *testing.T) { testDevicesVersion(t, fresh) })
	run(tb, "DevicesVersionConcurrent", func(t *testing.T) { testDevicesVersionConcurrent(t, fresh) })
}

// RunPair runs the tests whose steps span the two halves, on a fresh
// pair from newStores in each subtest, called as the Service calls them
// (a revocation or an activation in the records followed by RaiseEpoch
// in the hot store; push steps handed the records' epoch): activations
// (and a replacement voiding challenges), challenge issuance and its
// epoch, attempts, Sweep, TOTP keys and recovery codes under the counted
// attempt, the operator's DeleteUser, push requests, and what holds when
// the hot store misses a revocation; and a hot store's mirror of the
// devices version (authn.MirroredIssuer). Like RunHot, with newStores.
func RunPair(tb testing.TB, newStores func(tb testing.TB) Stores) {
	fresh := func(t *testing.T) authn.Store { return newStores(t).pair() }
	run(tb, "Activation", func(t *testing.T) { testActivation(t, fresh) })
	run(tb, "PutChallenge", func(t *testing.T) { testPutChallenge(t, fresh) })
	run(tb, "Attempt", func(t *testing.T) { testAttempt(t, fresh) })
	run(tb, "AttemptCommit", func(t *testing.T) { testAttemptCommit(t, newStores) })
	run(tb, "IssueChallenge", func(t *testing.T) { testIssueChallenge(t, newStores) })
	run(tb, "DevicesVersionFinish", func(t *testing.T) { testDevicesVersionFinish(t, newStores) })
	run(tb, "MirroredIssue", func(t *testing.T) { testMirroredIssue(t, newStores) })
	run(tb, "Sweep", func(t *testing.T) { testSweep(t, fresh) })
	run(tb, "TOTP", func(t *testing.T) { testTOTP(t, fresh) })
	run(tb, "RecoveryCodes", func(t *testing.T) { testRecoveryCodes(t, fresh) })
	run(tb, "Operator", func(t *testing.T) { testOperator(t, fresh) })
	run(tb, "Push", func(t *testing.T) { testPush(t, fresh) })
	run(tb, "LostRaiseEpoch", func(t *testing.T) { testLostRaise(t, fresh) })
}

// Run runs every store test on an engine that keeps both halves: RunHot
// and RunRecords on s's halves, and RunPair on s as both.
func Run(tb testing.TB, newStore func(tb testing.TB) authn.Store) {
	RunHot(tb, func(tb testing.TB) authn.HotStore { return newStore(tb) })
	RunRecords(tb, func(tb testing.TB) authn.RecordStore { return newStore(tb) })
	RunPair(tb, func(tb testing.TB) Stores { return Both(newStore(tb)) })
}

// RunService runs what the Service promises on a store, with two Services
// sharing one fresh store from newStore (and one keyring and clock) in
// each subtest, as a load-balanced pair of instances would: logins,
// lockout, revocation (and the status call that tells a removed
// device), TOTP and recovery codes, push, and the user IDs
// every entry point refuses before a store sees them. Like RunHot, it
// needs a tb that runs subtests.
func RunService(tb testing.TB, newStores func(tb testing.TB) Stores) {
	fresh := func(t *testing.T) authn.Store { return newStores(t).pair() }
	run(tb, "Service", func(t *testing.T) { testService(t, fresh) })
	run(tb, "ServiceFactors", func(t *testing.T) { testServiceFactors(t, fresh) })
	run(tb, "ServicePush", func(t *testing.T) { testServicePush(t, fresh) })
	run(tb, "ServiceBuckets", func(t *testing.T) { testServiceBuckets(t, fresh) })
	run(tb, "ServiceStepUp", func(t *testing.T) { testServiceStepUp(t, fresh) })
	run(tb, "ServiceActivation", func(t *testing.T) { testServiceActivation(t, fresh) })
	run(tb, "UserIDs", func(t *testing.T) { testUserIDs(t, fresh) })
	run(tb, "ServicePushRefund", func(t *testing.T) { testServicePushRefund(t, fresh) })
	run(tb, "ServicePushAnswer", func(t *testing.T) { testServicePushAnswer(t, fresh) })
	run(tb, "ServiceQRLogin", func(t *testing.T) { testServiceQRLogin(t, fresh) })
	run(tb, "ServiceMaintain", func(t *testing.T) { testServiceMaintain(t, fresh) })
	run(tb, "ServiceRemoved", func(t *testing.T) { testServiceRemoved(t, fresh) })
	run(tb, "ServiceBegin", func(t *testing.T) { testServiceBegin(t, fresh) })
	run(tb, "ServicePushToken", func(t *testing.T) { testServicePushToken(t, fresh) })
	run(tb, "ServicePushBudget", func(t *testing.T) { testServicePushBudget(t, fresh) })
}

// subtests is what runs subtests: a *testing.T.
type subtests interface {
	Run(name string, f func(t *testing.T)) bool
}

// run runs f as tb's subtest name.
func run(tb testing.TB, name string, f func(t *testing.T)) {
	tb.Helper()
	st, ok := tb.(subtests)
	if !ok {
		tb.Fatalf("storetest: %T cannot run the subtest %s: pass a *testing.T", tb, name)
		return
	}
	st.Run(name, f)
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
	d, err := activate(t.Context(), s, user, id, now)
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
	r, err := s.Attempt(t.Context(), user, "", &authn.ChallengeAnswer{ID: id, MAC: m, ServerStep: step}, p, now)
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
