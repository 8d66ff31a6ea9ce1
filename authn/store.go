package authn

import (
	"context"
	"errors"
	"math"
	"time"
)

// Store errors. Implementations return exactly these (wrapped or not) for
// the outcomes they name, and any other error only for system failures
// (the Service reports those as ErrStoreUnavailable).
var (
	// ErrStoreNotFound: the record does not exist, has expired, or
	// belongs to another user.
	ErrStoreNotFound = errors.New("authn: store: not found")
	// ErrStoreConflict: a take-once record was taken already, or a
	// compare-and-set found another value.
	ErrStoreConflict = errors.New("authn: store: conflict")
	// ErrStoreLimit: a budget or limit refused the operation.
	ErrStoreLimit = errors.New("authn: store: limit reached")
)

// DeviceState is where a device is in its life.
type DeviceState string

// Device states.
const (
	// DevicePending: activated by a phone but not yet paired by the
	// portal session that started it; it answers nothing.
	DevicePending DeviceState = "pending"
	// DeviceActive: paired; it answers challenges.
	DeviceActive DeviceState = "active"
)

// DeviceRecord is a device as the store keeps it. Secret is sealed by the
// Keyring; the store never sees a key in the clear.
type DeviceRecord struct {
	ID          string
	User        string
	Name        string
	Platform    string
	AccountName string
	Suite       string
	InstallID   string // the phone's install ID, as bound into the activation
	State       DeviceState
	Secret      []byte // the root secret, sealed (kind "device-root", record ID = device ID)
	LastStep    uint64 // the last time step accepted (0: none yet)
	Drift       int    // steps: phone minus server, as last measured
	PairTries   int    // wrong pairing codes so far
	SessionID   string // the activation that created it
	Replacing   string // a device to revoke when this one is paired
	PushToken   string // the OS push token, for the Notifier ("" : no push)
	CreatedAt   time.Time
}

// ActivationState is where an activation is.
type ActivationState string

// Activation states.
const (
	ActivationWaiting   ActivationState = "waiting"   // offered; no phone yet
	ActivationCompleted ActivationState = "completed" // a phone completed it; pairing pending until ExpiresAt
	ActivationActive    ActivationState = "active"    // paired
	ActivationExpired   ActivationState = "expired"   // not completed, or not paired, in time
	ActivationCancelled ActivationState = "cancelled" // cancelled, or voided by a newer offer for the user
	ActivationDiscarded ActivationState = "discarded" // the third wrong pairing code discarded the device
)

// ActivationRecord is an activation as the store keeps it. ExpiresAt is
// the offer's expiry while the activation waits; once completed, the
// pairing deadline: the completion time plus the offer's lifetime
// (ExpiresAt − CreatedAt as offered, which the Service makes
// Config.ActivationTTL). A completed activation not paired by then is
// void (ActivationExpired) and its pending device deleted.
type ActivationRecord struct {
	SessionID     string
	User          string
	State         ActivationState
	Pending       []byte // the enroll.Pending, sealed (kind "pending-activation"); nil once completed
	ExpiresAt     time.Time
	Replacing     string
	RequestHash   []byte // the winning request's hash, once completed
	DeviceID      string // once completed
	ServerConfirm []byte // once completed
	CreatedAt     time.Time
}

// Tag is a keyed MAC of one response a device could give to one
// challenge at one time step (see the package documentation), with the
// device, the step and the device's drift when the challenge was issued.
// The store compares MACs, never responses, and never holds a key.
type Tag struct {
	MAC    [16]byte
	Device string
	Step   uint64
	Drift  int
}

// ChallengeRecord is an outstanding challenge.
type ChallengeRecord struct {
	ID        string
	User      string
	Question  string
	Epoch     uint64 // the user's epoch when issued; a revocation voids it
	Tags      []Tag  // every response the user's devices could give, as tags
	Window    int    // steps either side of a device's expected step a match may be
	Attempts  int
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Payload is kept with the challenge and returned with a match: a
	// transaction's nonce and canonical bytes.
	Payload []byte
	// Names are the devices' names when the challenge was issued, for
	// the Result (so that a login reads no device record).
	Names map[string]string
	// Resync, when set, names the device whose drift this challenge
	// confirms: it was issued by a ResyncError.
	Resync      string
	ResyncDrift int
}

// TOTPRecord is a user's TOTP key (RFC 6238). Secret is sealed (kind
// "totp", record ID = ID).
type TOTPRecord struct {
	ID        string
	User      string
	Secret    []byte
	Hash      string // "SHA1", "SHA256" or "SHA512"
	Digits    int
	Period    time.Duration
	ShortKey  bool // imported with a key under 16 bytes
	Active    bool
	LastStep  uint64 // the last accepted step (0: none)
	CreatedAt time.Time
}

// PushState is where a push request is.
type PushState string

// Push states.
const (
	PushPending     PushState = "pending"     // delivered; no answer yet
	PushApproved    PushState = "approved"    // approved with the right number; FinishPush logs in
	PushDenied      PushState = "denied"      // the user said no
	PushFailed      PushState = "failed"      // approved with a wrong number: counted as a failure
	PushExpired     PushState = "expired"     // no answer in time
	PushCancelled   PushState = "cancelled"   // withdrawn (the user chose another factor)
	PushUndelivered PushState = "undelivered" // no device could be notified
	PushFinished    PushState = "finished"    // approved and taken by FinishPush
)

// PushRecord is a push request: what was shown on the login page (the
// number) and what each notified device is asked to approve.
type PushRecord struct {
	ID       string
	User     string
	Number   string // the 2 digits the login page shows
	Nonce    []byte
	Context  [4]string // action, IP, place, browser, as the server saw them
	Devices  []string  // the devices notified
	State    PushState
	Answered string // the answer taken, as the Service marks it (the device's ID, ":", a hash of the answer); kept as given
	Epoch    uint64 // the user's epoch when it was made; a revocation voids it
	// Transaction, for a transaction push: its canonical bytes (signed
	// with Nonce as the server nonce) and the transaction challenge that
	// checks the signature.
	Transaction []byte
	Challenge   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// ChallengeLimits bound issuance for one user.
type ChallengeLimits struct {
	Outstanding int           // live challenges at most; the oldest is voided beyond
	PerMinute   int           // challenges issued in the last minute at most
	Horizon     time.Duration // a question is not reissued to the user within this
}

// LockPolicy is the lockout policy the store applies atomically, to
// each lockout bucket of a user alone (see [HotStore]).
type LockPolicy struct {
	MaxFailures int           // consecutive failures before the lock
	Base, Max   time.Duration // lock durations: Base·2^level, at most Max (see Lengths)
	Window      time.Duration // consecutive failures are forgotten after this long without one (the level stays)
	MaxAttempts int           // attempts per challenge
	// Horizon and SlowLock are the long horizon: the failures of a
	// bucket are also counted in a window of Horizon that starts at the
	// first failure after the previous window ended (UserState.Slow,
	// SlowSince), which no success clears; once that count reaches
	// SlowLock, every failure locks the bucket for Max. SlowLock 0: no
	// such lock.
	Horizon  time.Duration
	SlowLock int
	// MaxClients is how many known clients of a user keep a bucket of
	// their own at a time (stale ones, see Stale, not counted): the
	// attempt of a known client without a bucket when MaxClients live
	// ones exist is counted in the shared bucket "" instead.
	MaxClients int
}

// AttemptOutcome is what an attempt found.
type AttemptOutcome int

// Attempt outcomes.
const (
	// AttemptMismatch: counted as a failure; no tag matched (the
	// challenge stays live unless its attempts are exhausted), or, for an
	// attempt with no answer, counted and left to the caller to check.
	AttemptMismatch AttemptOutcome = iota
	// AttemptMatch: a tag matched; the challenge is consumed.
	AttemptMatch
	// AttemptLocked: the user is locked; nothing was counted or compared.
	AttemptLocked
	// AttemptNoChallenge: no live challenge of that ID for this user
	// (unknown, another user's, consumed); counted as a failure.
	AttemptNoChallenge
	// AttemptExpired: the challenge expired or was voided by a
	// revocation; not counted.
	AttemptExpired
	// AttemptExhausted: this attempt was one too many for the challenge;
	// counted, and the challenge is void.
	AttemptExhausted
)

// ChallengeAnswer is an answer to a challenge, as Store.Attempt compares
// it: the keyed MAC of the response, and the server's time step.
type ChallengeAnswer struct {
	ID         string // the challenge
	MAC        [16]byte
	ServerStep uint64
}

// AttemptResult is the outcome of Store.Attempt.
type AttemptResult struct {
	Outcome    AttemptOutcome
	Match      Tag             // for AttemptMatch
	Challenge  ChallengeRecord // the challenge as it was, without its tags (for AttemptMatch and AttemptMismatch)
	RetryAfter time.Duration   // for AttemptLocked, and when this failure locked the bucket
	Failures   int             // consecutive failures of the bucket after this attempt
	Slow       int             // the bucket's failures over the long horizon after this attempt (UserState.Slow)
	Client     string          // the bucket the attempt was counted in: the client asked for, or "" past MaxClients
	// Commit is, for an AttemptMatch of FinishStore.AttemptCommit, the
	// outcome of the step commit made in the same atomic step: nil (the
	// step was recorded), ErrStoreConflict or ErrStoreNotFound, as
	// CommitStep reports them. Attempt leaves it nil.
	Commit error
}

// UserState is a user's lockout state (of one bucket), epoch and push
// mode.
type UserState struct {
	Failures      int
	Level         int
	LockedUntil   time.Time
	LastFailure   time.Time
	Slow          int       // failures in the long-horizon window that began at SlowSince (LockPolicy.Horizon)
	SlowSince     time.Time // the start of that window (zero: none yet)
	Epoch         uint64
	PushOff       bool      // the user turned push off
	PushSuspended time.Time // push is suspended until then (after a denial)
}

// ClientLockout is one lockout bucket of a user: the bucket of a known
// client, or the one ("") that every unknown client shares.
type ClientLockout struct {
	Client string
	State  UserState
}

// DeviceChange is one change RecordStore.ChangeDevice makes to a device:
// exactly one field is set (a store returns [ErrInvalidChange]
// otherwise). PairingTry, Discard and Activate act on a pending device
// whose activation is within its pairing deadline: one past it is ended
// first, as GetActivation ends it, and the change is ErrStoreNotFound.
type DeviceChange struct {
	// PairingTry counts one pairing attempt on a pending device before
	// the code is checked, if fewer than PairingTry were counted (the
	// record returned carries the count, this try included, in
	// PairTries). When PairingTry tries were counted already, it counts
	// nothing, discards the device as Discard does, and returns
	// ErrStoreLimit. ErrStoreNotFound if the device is not pending.
	PairingTry int
	// Discard deletes a pending device and sets its activation
	// discarded: what the last wrong pairing code does.
	// ErrStoreNotFound if the device is not pending.
	Discard bool
	// Activate makes a pending device active and its activation active;
	// if the device replaces another, that one is deleted and the user's
	// epoch bumped in the same step. ErrStoreNotFound if the device is
	// not pending.
	Activate bool
	// Name sets the device's name.
	Name *string
	// PushToken sets the device's OS push token ("" : no push).
	PushToken *string
	// PushTokenWas is not a change of its own but a condition on
	// PushToken: when set, the token is set only if the device holds
	// *PushTokenWas at that moment, compared and set in one atomic step
	// (so that a token the phone set meanwhile is never overwritten):
	// ErrStoreConflict, nothing changed, if it holds another. Set without
	// PushToken, the change is [ErrInvalidChange].
	PushTokenWas *string
	// Secret replaces the sealed secret if it still equals Secret.Old
	// (key rotation): ErrStoreConflict if it changed meanwhile.
	Secret *SecretSwap
	// Revoke deletes the device and bumps the user's epoch in the same
	// step, so that no challenge issued before can be answered by it.
	Revoke bool

	// RemovedUntil is not a change of its own but goes with Revoke, and
	// with Activate of a device that replaces another: when set, the
	// store keeps, in the same atomic step, the removed device's record
	// as it was (sealed secret included) until then, for
	// [RecordStore.RemovedDevice]. The zero time keeps nothing.
	RemovedUntil time.Time
}

// SecretSwap is a compare-and-set of a device's sealed secret.
type SecretSwap struct {
	Old, New []byte
}

// UserChange is one change RecordStore.ChangeUser makes to a user's
// records: exactly one field is set (see [ErrInvalidChange]).
type UserChange struct {
	// PushOff turns push off (true) or on (false), leaving a suspension
	// as it is.
	PushOff *bool
	// PushSuspended suspends push until the time given (the zero time
	// lifts a suspension), leaving the on/off mode as it is. The two are
	// separate changes so that neither undoes the other.
	PushSuspended *time.Time
	// RecoveryCodes replaces the user's recovery codes with these keyed
	// MACs of the codes (the store never sees a code); an empty, non-nil
	// slice removes them.
	RecoveryCodes [][32]byte
	// TOTP stores a new, inactive TOTP key for the user, replacing an
	// inactive one: ErrStoreConflict if the user has an active one.
	TOTP *TOTPRecord
	// DeleteTOTP removes the user's TOTP key: ErrStoreNotFound if none.
	DeleteTOTP bool
}

// ErrInvalidChange: a DeviceChange or UserChange sets no field or more
// than one. A Service never makes one; a store reports it as a bug.
var ErrInvalidChange = errors.New("authn: store: a change must set exactly one field")

// Valid reports whether exactly one field is set (PushTokenWas, a
// condition, only with PushToken).
func (c DeviceChange) Valid() bool {
	if c.PushTokenWas != nil && c.PushToken == nil {
		return false
	}
	return exactlyOne(c.PairingTry != 0, c.Discard, c.Activate, c.Name != nil, c.PushToken != nil, c.Secret != nil, c.Revoke)
}

// Valid reports whether exactly one field is set.
func (c UserChange) Valid() bool {
	return exactlyOne(c.PushOff != nil, c.PushSuspended != nil, c.RecoveryCodes != nil, c.TOTP != nil, c.DeleteTOTP)
}

func exactlyOne(set ...bool) bool {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n == 1
}

// HotStore keeps the short-lived state of logins, and makes each step
// that must be atomic one operation: outstanding challenges with their
// tags, the counted attempt and the user's failures, level and lock,
// push requests, take-once marks and budgets, and a copy of each user's
// epoch (see RaiseEpoch) with which it refuses challenges and push
// requests made before a revocation. A backend author may implement this
// half alone and pair it with any [RecordStore] in [Config] (redisstore
// does).
//
// Every method receives now from the Service and must not read a clock
// for its logic. Methods return ErrStoreNotFound, ErrStoreConflict or
// ErrStoreLimit for the outcomes they document, and other errors only for
// system failures. What the hot side loses (a restart without
// persistence) costs logins in progress and counters, never a device or
// a replay: the records' CommitStep and CommitTOTP refuse an old step.
//
// Round trips: FinishChallenge costs Attempt here and, on a match,
// CommitStep in the records: two operations, which a networked engine
// should each make one statement or script; an engine keeping both
// halves makes them one with [FinishStore]. (A call presenting a
// known-client token reads the user's epoch in the records first: one
// more.)
type HotStore interface {
	// PutChallenge stores a challenge within the limits, atomically: it
	// refuses a question issued to the same user within lim.Horizon
	// (ErrStoreConflict: draw another), refuses when lim.PerMinute
	// challenges were issued in the last minute (ErrStoreLimit), and voids
	// the user's oldest live challenges beyond lim.Outstanding - 1.
	// c.Epoch is the user's epoch as the caller read it from the records:
	// a store that keeps an epoch copy raises it to c.Epoch, and refuses
	// a challenge whose Epoch is older than its copy (ErrStoreConflict);
	// a store that keeps the records itself refuses one whose Epoch is not
	// the user's current one.
	PutChallenge(ctx context.Context, c ChallengeRecord, lim ChallengeLimits, now time.Time) error

	// Attempt is one counted attempt of the user's from client, counted
	// before it is checked, in one atomic step: the one lockout gate of
	// every factor.
	//
	// The lockout state is kept per bucket: client "" is the bucket every
	// unknown client of the user shares, any other client (a known
	// client's ID) a bucket of its own. A known client without a bucket
	// gets one, first dropping the user's stale ones (LockPolicy.Stale),
	// unless the user has policy.MaxClients buckets of known clients
	// already: then the attempt is counted in the bucket "". The result's
	// Client names the bucket used; failures, lock and reset below are
	// that bucket's alone.
	//
	// If the bucket is locked, nothing happens (AttemptLocked). Otherwise
	// the attempt is counted as a failure of the bucket (LockPolicy.Fail:
	// locking it, for the policy's lock length at its level, when the
	// failures reach the policy's maximum, or for Max past SlowLock).
	//
	// With answer nil (a TOTP code, a recovery code: the caller checks
	// the code itself, after this, and reports a success with ResetUser)
	// that is all, and the outcome is AttemptMismatch.
	//
	// With an answer to a challenge, the attempt is also counted on the
	// challenge, and only then is answer.MAC compared, in constant time,
	// with the MACs of the challenge's tags whose step is admissible now:
	// within the challenge's Window of answer.ServerStep + the tag's
	// Drift. A challenge of an older epoch than the user's reads as
	// expired. On a match the challenge is consumed and the bucket's
	// failures and level are reset as by ResetUser (AttemptMatch), all in
	// the same step.
	Attempt(ctx context.Context, user, client string, answer *ChallengeAnswer, policy LockPolicy, now time.Time) (AttemptResult, error)

	// RecordFailure counts one failure for the user's client outside an
	// attempt (a replay detected at commit), in the bucket Attempt would
	// use, and returns that bucket's resulting lockout state.
	RecordFailure(ctx context.Context, user, client string, policy LockPolicy, now time.Time) (UserState, error)

	// ResetUser clears the failures, level, lock and last failure of the
	// user's bucket client (a success from it); its long-horizon count
	// stays until its window ends. A bucket that does not exist is not
	// made. The epoch is kept.
	ResetUser(ctx context.Context, user, client string, now time.Time) error

	// ClearLockout deletes every lockout bucket of the user, long-horizon
	// counts included (an operator's unlock). The epoch is kept.
	ClearLockout(ctx context.Context, user string, now time.Time) error

	// Lockout returns the user's lockout buckets: the shared one ("")
	// first, always (the zero state if never seen), then every known
	// client's, by client. Each State holds Failures, Level, LockedUntil,
	// LastFailure, Slow and SlowSince.
	Lockout(ctx context.Context, user string, now time.Time) ([]ClientLockout, error)

	// RaiseEpoch tells the hot side that the user's epoch in the records
	// is now epoch (after a revocation or a replacement): challenges and
	// push requests of older epochs read as expired from then on. The
	// copy only rises. A store that keeps the records itself reads the
	// epoch there, and may do nothing.
	RaiseEpoch(ctx context.Context, user string, epoch uint64, now time.Time) error

	// PutPush stores a new push request. p.Epoch is the user's epoch as
	// the caller read it from the records; a store keeping an epoch copy
	// raises it to p.Epoch. ErrStoreConflict if its ID is taken.
	PutPush(ctx context.Context, p PushRecord, now time.Time) error

	// Push returns a push request by ID; a pending or approved one past
	// its expiry, or whose epoch is older than the user's as this store
	// knows it, reads as PushExpired (an approval must be finished in
	// time, and a revocation voids it). ErrStoreNotFound if there is none.
	// (The caller, which learns the user from the record, checks the
	// epoch against the records too.)
	Push(ctx context.Context, id string, now time.Time) (PushRecord, error)

	// PendingPushes returns the live, pending push requests that notified
	// the device, oldest first. epoch is the user's epoch as the caller
	// read it from the records (0 when this store keeps the records and
	// checks its own): requests of an older epoch, or older than this
	// store's copy, are not pending.
	PendingPushes(ctx context.Context, user, deviceID string, epoch uint64, now time.Time) ([]PushRecord, error)

	// SetPushState moves a push request from one state to another, by
	// compare-and-set, recording device (the answer's mark, if any; see
	// PushRecord.Answered) in Answered in the same step: the
	// step that makes an answer, a FinishPush or a cancellation
	// take-once. A pending or approved request past its expiry, or of an
	// epoch older than epoch (the user's, as the caller read it from the
	// records; 0 as for PendingPushes) or than this store's copy, cannot
	// move: it reads as PushExpired.
	// ErrStoreConflict if the request is not in state from;
	// ErrStoreNotFound if there is none for that user.
	SetPushState(ctx context.Context, user, id string, epoch uint64, from, to PushState, device string, now time.Time) (PushRecord, error)

	// TakeOnce records key as used until expiresAt, once: a second take
	// of a live key is ErrStoreConflict. For single-use values (device
	// API nonces, push answers). Keys are chosen by the Service and carry
	// the user's encoding.
	TakeOnce(ctx context.Context, key string, expiresAt, now time.Time) error

	// Spend takes one unit from the budget key, which allows limit units
	// per window (a fixed window starting at the first spend): it returns
	// the units left after this one, or ErrStoreLimit, spending nothing,
	// when none is left. For rate limits (pushes).
	Spend(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (int, error)

	// Refund gives back one unit spent from the budget key at spentAt,
	// once per mark, in one atomic step: when the budget's window (of
	// length window, as Spend was given) is still running at now and
	// began at or before spentAt (the unit was spent in it), no refund
	// with this mark was made in this window, and a unit is spent, one
	// unit is given back and it reports true; otherwise it changes
	// nothing and reports false. A refund never gives a later window a
	// unit of an earlier one, nor a budget more than its limit. The
	// Service refunds a push request that ended unanswered (withdrawn,
	// undelivered, expired), marked with the request's ID, so that of a
	// withdrawal, an expiry and a retry racing, one gives the unit back.
	Refund(ctx context.Context, key, mark string, window time.Duration, spentAt, now time.Time) (bool, error)

	// BudgetLeft reads the budget key as Spend keeps it, changing
	// nothing: the units left of limit at now, and when the running
	// window ends (the window's first spend plus its length; all its
	// units come back then). With no window running at now (none spent,
	// or the last window over) it returns limit and the zero time. For
	// showing when a rate limit frees up (the Service's PushBudget).
	BudgetLeft(ctx context.Context, key string, limit int, now time.Time) (int, time.Time, error)

	// DeleteUser erases the user's hot state: challenges, questions,
	// budgets of the user's challenges, push requests and lockout state.
	DeleteUser(ctx context.Context, user string, now time.Time) error

	// Sweep removes what has expired: challenges, recent questions, push
	// requests, take-once marks, budgets. It returns how many records it
	// removed.
	Sweep(ctx context.Context, now time.Time) (int, error)
}

// RecordStore keeps the durable records: activations, devices with their
// sealed secrets, last accepted steps and drifts, TOTP keys, recovery
// codes, each user's epoch (bumped with a revocation, in the same step)
// and push settings. It never holds a key in the clear. A backend author
// may implement this half alone and pair it with any [HotStore] in
// [Config].
//
// Every method receives now from the Service (where it needs a time) and
// must not read a clock for its logic. Methods return ErrStoreNotFound,
// ErrStoreConflict or ErrStoreLimit for the outcomes they document, and
// other errors only for system failures.
type RecordStore interface {
	// PutActivation stores a new activation and voids (state cancelled)
	// the user's earlier ones that are not paired, waiting or completed,
	// deleting the pending devices of the completed ones: one offer at a
	// time. ErrStoreConflict if the session ID is taken.
	PutActivation(ctx context.Context, a ActivationRecord, now time.Time) error

	// GetActivation returns an activation by session ID; a waiting one
	// past its expiry reads as ActivationExpired, and so does a completed
	// one past its pairing deadline (ExpiresAt), whose pending device
	// this read deletes. ErrStoreNotFound if none.
	GetActivation(ctx context.Context, sessionID string, now time.Time) (ActivationRecord, error)

	// CompleteActivation takes a waiting activation once: it records the
	// winning request's hash, the device ID and the server confirmation,
	// drops the sealed pending key, moves ExpiresAt to the pairing
	// deadline (now plus the offer's lifetime, ExpiresAt − CreatedAt), and
	// inserts dev (state pending) — all or nothing. If the activation was
	// completed before, it returns ErrStoreConflict and the record as it
	// stands (so that the caller can recognise a retry of the winning
	// request). ErrStoreNotFound if there is no such activation or it is
	// not waiting or has expired; ErrStoreLimit if the user already has
	// maxDevices active devices (pending ones do not count).
	CompleteActivation(ctx context.Context, sessionID string, requestHash, serverConfirm []byte, dev DeviceRecord, maxDevices int, now time.Time) (ActivationRecord, error)

	// CancelActivation sets a waiting or completed activation cancelled
	// and deletes the pending device it created, if any.
	// ErrStoreNotFound if none is waiting or completed.
	CancelActivation(ctx context.Context, user, sessionID string, now time.Time) error

	// Devices returns the user's devices, any state, oldest first.
	Devices(ctx context.Context, user string) ([]DeviceRecord, error)

	// DevicesPage returns up to limit devices of any user, in (User, ID)
	// order, after the device (afterUser, afterID) ("", "" for the first
	// page): for maintenance such as key rotation.
	DevicesPage(ctx context.Context, afterUser, afterID string, limit int) ([]DeviceRecord, error)

	// ChangeDevice makes one change to a device of the user, in one
	// atomic step: see [DeviceChange] for each change and its outcomes.
	// It returns the device as it stands after Activate, and after
	// PairingTry a record whose PairTries is the count, this try
	// included; after the other changes, the zero record.
	// ErrStoreNotFound if the user has no such device; ErrInvalidChange
	// unless exactly one field is set.
	ChangeDevice(ctx context.Context, user, deviceID string, c DeviceChange, now time.Time) (DeviceRecord, error)

	// CommitStep records a device's accepted step and drift if step is
	// not before its last accepted one and epoch is still the user's
	// (compare-and-set). ErrStoreConflict if the step is older (a replay)
	// or the epoch moved; ErrStoreNotFound if the device is gone or not
	// active.
	CommitStep(ctx context.Context, user, deviceID string, epoch, step uint64, drift int, now time.Time) error

	// User returns the user's epoch and push settings (Epoch, PushOff,
	// PushSuspended; the lockout fields are the hot side's, and a store
	// keeping both may fill them); a user never seen reads as the zero
	// UserState.
	User(ctx context.Context, user string, now time.Time) (UserState, error)

	// ChangeUser makes one change to the user's records: push mode,
	// suspension, recovery codes or TOTP key (see [UserChange]).
	// ErrInvalidChange unless exactly one field is set.
	ChangeUser(ctx context.Context, user string, c UserChange, now time.Time) error

	// TOTP returns the user's TOTP record. ErrStoreNotFound if none.
	TOTP(ctx context.Context, user string) (TOTPRecord, error)

	// CommitTOTP records a TOTP success, by compare-and-set: the record
	// id must still be the user's, and step must be after its last
	// accepted step (RFC 6238 §5.2: a code is used once) — for an
	// inactive record, any step, including 0, activates it; it sets the
	// record active. A refused commit changes nothing. (The caller counts
	// the attempt in the hot store first, and resets the user's failures
	// there after a commit.) ErrStoreConflict for a step not after the
	// last; ErrStoreNotFound if the record is gone.
	CommitTOTP(ctx context.Context, user, id string, step uint64, now time.Time) error

	// TakeRecoveryCode consumes one of the user's recovery codes that
	// equals a candidate (compared in constant time), once: of concurrent
	// takes of one code, one finds it. It reports whether a code was
	// taken and how many are left; with no candidates it takes nothing
	// and only counts. The caller counts the attempt first (HotStore's
	// Attempt with no answer).
	TakeRecoveryCode(ctx context.Context, user string, candidates [][32]byte) (bool, int, error)

	// RemovedDevice returns what the store kept of a device of the user
	// removed (revoked or replaced) with DeviceChange.RemovedUntil set.
	// ErrStoreNotFound if there is none, or its Until is not after now.
	RemovedDevice(ctx context.Context, user, deviceID string, now time.Time) (RemovedRecord, error)

	// DeleteUser erases every durable record of the user: devices,
	// removed devices, activations, TOTP key, recovery codes, epoch and
	// push settings.
	DeleteUser(ctx context.Context, user string, now time.Time) error

	// Sweep removes what has expired (activations, removed devices past
	// their RemovedUntil), and ends the
	// completed activations past their pairing deadline as GetActivation
	// would, deleting their pending devices. It returns how many records
	// it removed.
	Sweep(ctx context.Context, now time.Time) (int, error)
}

// Store is both halves in one engine (memstore, sqlstore): one value
// passed as Config.Hot and Config.Records. Its DeleteUser and Sweep serve
// both halves: each erases or removes everything of its kind.
type Store interface {
	HotStore
	RecordStore
}

// Fail counts one failure of u under the policy, at now: failures older
// than Window are forgotten first (the level stays); at MaxFailures the
// user is locked for the lock length of the current level (see Lengths)
// and the level rises, and the failures stay at the maximum, so that once
// the lock lifts the next failure locks again. It returns the lock's
// length when it locked, else 0. Stores written in Go apply it inside
// their atomic step; others (a Lua script, a PL/pgSQL function) do the
// same steps with the table Lengths returns, looking the level up in it.
//
// The failure is also counted over the long horizon: if the bucket's
// window (SlowSince) is unset or Horizon old, a new one starts now with
// no failure; Slow rises; at SlowLock (if not 0) and beyond, the bucket
// is locked for Max (the level and failures as above).
func (p LockPolicy) Fail(u *UserState, now time.Time) time.Duration {
	if !u.LastFailure.IsZero() && now.Sub(u.LastFailure) >= p.Window {
		u.Failures = 0
	}
	if u.SlowSince.IsZero() || now.Sub(u.SlowSince) >= p.Horizon {
		u.Slow, u.SlowSince = 0, now
	}
	u.Failures++
	u.Slow++
	u.LastFailure = now
	var d time.Duration
	if u.Failures >= p.MaxFailures {
		d = p.lockFor(u.Level)
		u.Level++
		u.Failures = p.MaxFailures
	}
	if p.SlowLock > 0 && u.Slow >= p.SlowLock {
		d = p.Max
	}
	if d > 0 {
		u.LockedUntil = now.Add(d)
	}
	return d
}

// Stale reports whether a known client's bucket may be dropped when
// another is made: it is not locked at now, and its last failure is
// unset or at least Horizon old (so its consecutive failures and long
// count are over too; only its level is lost). The shared bucket "" is
// never dropped.
func (p LockPolicy) Stale(u UserState, now time.Time) bool {
	return !now.Before(u.LockedUntil) && (u.LastFailure.IsZero() || now.Sub(u.LastFailure) >= p.Horizon)
}

// Lengths is the lockout rule as data: entry i is the length of the lock
// a user at level i gets, min(Base·2^i, Max); the table ends with its
// first entry equal to Max (at most 64 entries), and a level past its
// end, or a negative level, locks for that last entry. Engines that
// apply the rule inside the database (a Lua script, a SQL function) take
// this table and only look the level up, compare and store: the lock's
// length is computed here alone.
func (p LockPolicy) Lengths() []time.Duration {
	var t []time.Duration
	for level := 0; ; level++ {
		d := p.lockFor(level)
		t = append(t, d)
		if d == p.Max || level >= 63 {
			return t
		}
	}
}

// lockFor is the lock's length at level, computed without overflow: it is
// Base<<level only when 0 <= level < 63, Base > 0, Base <=
// math.MaxInt64>>level (so that the shift loses no bit) and Base<<level <
// Max; in every other case it is Max. A Base·2^level beyond the int64
// range is more than any Max, so it locks for Max, never for a wrapped,
// shorter time; a Base of 0 or less, and a negative level (which Fail
// never makes), lock for Max too. It rises with the level until Max and
// stays there, so that Lengths' table, looked up with its last entry
// beyond its end, gives the same length at every level.
func (p LockPolicy) lockFor(level int) time.Duration {
	if level >= 0 && level < 63 && p.Base > 0 && p.Base <= math.MaxInt64>>level && p.Base<<level < p.Max {
		return p.Base << level
	}
	return p.Max
}

// Reset clears u's failures, level, lock and last failure: what a
// success does. The long-horizon count (Slow, SlowSince) stays: a
// success from a client that shares the bucket must not erase another's
// slow guessing.
func (u *UserState) Reset() {
	u.Failures, u.Level, u.LockedUntil, u.LastFailure = 0, 0, time.Time{}, time.Time{}
}

// Admissible reports whether a tag's step is within window of the step
// its device is expected at when the server is at serverStep: the rule
// Store.Attempt applies before a tag may match.
func (t Tag) Admissible(serverStep uint64, window int) bool {
	want := int64(serverStep) + int64(t.Drift)
	d := int64(t.Step) - want
	return d >= -int64(window) && d <= int64(window)
}
