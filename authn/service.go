package authn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

// Service is the server's side of keyline: activation with pairing,
// challenge/response with lockout, drift and replay protection, step-up
// proofs, sealed secrets and audit. It holds no state beyond what its
// stores keep, so many instances may share one pair of stores. It is safe for
// concurrent use.
//
// Printing a Service shows nothing of it: its one field is a pointer to
// its state, which fmt, slog and encoding/json print as an address (or
// not at all), so no method is needed to keep its keyring or store out of
// a log.
type Service struct {
	*service
}

// service is a Service's state, behind a pointer so that printing a
// Service, with any verb, never reaches it.
type service struct {
	cfg     Config
	hot     HotStore
	records RecordStore
	// oneStore: Hot and Records are one value, which checks epochs in
	// its own records; the Service reads none for it.
	oneStore bool
	keys     *Keyring
	now      func() time.Time
	log      *slog.Logger
	dummy    []byte // a sealed root secret for users without devices: the same work, no device
	macs     *macKeys
	devices  deviceCache // each user's devices as last read, for BeginChallenge (see IssueStore)
	keyCache *keyCache   // device keys derived once: keycache.go
}

// Sealed record kinds (associated data of Keyring.Seal).
const (
	kindDeviceRoot = "device-root"
	kindPending    = "pending-activation"
	kindDummy      = "dummy"
)

// MAC purposes (Keyring.MACKey).
const (
	purposeTag   = "challenge-tag"
	purposeProof = "proof"
)

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	s := &Service{&service{cfg: c, hot: c.Hot, records: c.Records, oneStore: sameValue(c.Hot, c.Records), keys: c.Keys, now: c.Clock, log: c.Logger, keyCache: newKeyCache()}}
	if s.macs, err = deriveMACKeys(c.Keys, purposeTag, purposeProof, purposeRecov, purposeClient); err != nil {
		return nil, err
	}
	root := make([]byte, 32)
	rand.Read(root)
	s.dummy, err = c.Keys.Seal(kindDummy, "", "", root)
	clear(root)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Method is how a user proved the second factor.
type Method string

// Methods.
const (
	MethodChallenge Method = "challenge" // OCRA challenge/response with a keyline phone
	MethodTOTP      Method = "totp"      // an authenticator app's TOTP code
	MethodRecovery  Method = "recovery"  // a single-use recovery code
	MethodPush      Method = "push"      // a push approval with the number typed on the phone
	MethodOperator  Method = "operator"  // an operator's decision (Operator.Proof), no factor
)

// AMR returns the method's RFC 8176 authentication method reference:
// "otp" for challenge/response, TOTP and recovery codes (each a one-time
// value), "swk" for a push approval (proof of a software-held key), ""
// for an operator's proof, which authenticates nobody.
func (m Method) AMR() string {
	switch m {
	case MethodChallenge, MethodTOTP, MethodRecovery:
		return "otp"
	case MethodPush:
		return "swk"
	}
	return ""
}

// Result is a second-factor success.
type Result struct {
	User        string
	DeviceID    string
	DeviceName  string
	Method      Method
	Step        uint64 // the time step the device answered for
	Drift       int    // the device's drift, in steps, as now stored
	At          time.Time
	Proof       *Proof           // a step-up proof from this success, valid for ProofTTL
	Transaction *txn.Transaction // the transaction signed, for FinishTransaction
	// KnownClient is a fresh known-client token for the client that
	// passed the factor (not set for a transaction): the login service
	// keeps it in a cookie (HttpOnly, Secure, SameSite=Lax) until
	// KnownClientExpires and presents it to every later login call with
	// [KnownClient]. It is a bearer credential for the client's lockout
	// bucket, not a login: it never replaces a factor.
	KnownClient        KnownClientToken
	KnownClientExpires time.Time
}

// Device is a device as the Service shows it: no secret.
type Device struct {
	ID          string
	User        string
	Name        string
	Platform    string
	AccountName string
	State       DeviceState
	Drift       int
	CreatedAt   time.Time
}

func deviceOf(r DeviceRecord) Device {
	return Device{ID: r.ID, User: r.User, Name: r.Name, Platform: r.Platform, AccountName: r.AccountName,
		State: r.State, Drift: r.Drift, CreatedAt: r.CreatedAt}
}

// Challenge is what the login page shows: the question to type into the
// phone, and what to send back with the answer.
type Challenge struct {
	ID        string
	Question  string
	ExpiresAt time.Time
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// checkUser is the check of a user ID at every entry point: see
// validUserID.
func checkUser(user string) error { return validUserID(user) }

// activeDevices returns the user's active devices.
func (s *Service) activeDevices(ctx context.Context, user string) ([]DeviceRecord, error) {
	all, err := s.records.Devices(ctx, user)
	if err != nil {
		return nil, storeErr(err)
	}
	out := all[:0]
	for _, d := range all {
		if d.State == DeviceActive {
			out = append(out, d)
		}
	}
	return out, nil
}

// openRoot unseals a device's root secret.
func (s *Service) openRoot(d DeviceRecord) (enroll.Secret, error) {
	b, err := s.keys.Open(kindDeviceRoot, d.User, d.ID, d.Secret)
	if err != nil {
		return nil, err
	}
	return enroll.Secret(b), nil
}

// challengeKind is what a challenge is for: a login or a transaction.
// The kind enters every tag, so that a response of one kind never
// matches a challenge of the other, even with the same ID.
type challengeKind struct {
	tag   byte
	suite challenge.Suite
	key   func(root enroll.Secret) enroll.Secret
}

func (s *Service) login() challengeKind {
	return challengeKind{tag: 1, suite: s.cfg.Suite, key: func(r enroll.Secret) enroll.Secret { return enroll.OCRAKey(r, s.cfg.Suite) }}
}

var transactionKind = challengeKind{tag: 2, suite: txn.Suite, key: enroll.TransactionKey}

// tagMAC is the keyed MAC the store compares: HMAC-SHA256 under the
// keyring's tag key of the kind, the challenge ID and the canonical
// response, truncated to 128 bits.
func (s *Service) tagMAC(kind byte, challengeID, response string) [16]byte {
	t := s.macs.primary[purposeTag].newTagger(kind, challengeID)
	defer t.release()
	return t.tagString(response)
}

func serverStep(suite challenge.Suite, t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(suite.TimeStep()/time.Second)
}

func (s *Service) lockPolicy() LockPolicy {
	return LockPolicy{MaxFailures: s.cfg.MaxFailures, Base: s.cfg.LockoutBase, Max: s.cfg.LockoutMax,
		Window: failureWindow, MaxAttempts: s.cfg.MaxAttemptsPerChallenge,
		Horizon: s.cfg.SlowHorizon, SlowLock: s.cfg.SlowLock, MaxClients: MaxKnownClients}
}

// BeginChallenge issues a challenge to user: a fresh question, and, in
// the store, keyed tags of every response the user's active devices could
// give to it while it is live. Unknown users and users without a device
// get a challenge too, made with the same work, so that the answer does
// not say whether the user exists; it can never be answered.
func (s *Service) BeginChallenge(ctx context.Context, user string, opts ...LoginOption) (_ Challenge, err error) {
	ctx, sp := s.trace(ctx, "BeginChallenge", MethodChallenge, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodChallenge, user, opts); err != nil {
		return Challenge{}, err
	}
	now := s.now()
	// See IssueStore and MirroredIssuer: one round trip when nothing moved.
	ud, fresh, err := s.loginDevices(ctx, user, now)
	if err != nil {
		return Challenge{}, err
	}
	for range 3 { // a revocation between reading the devices and storing: read again
		ch, err := s.issue(ctx, s.login(), user, ud.Epoch, ud.Devices,
			issueOptions{life: s.cfg.ChallengeTTL, expect: ud.Devices, version: ud.Version, fresh: fresh}, now)
		if found, reread, ok := movedDevices(err); ok && !reread {
			ud = found // what the store found, in the same round trip
			s.rememberDevices(user, ud)
			continue
		}
		if _, reread, _ := movedDevices(err); reread || errors.Is(err, errEpochMoved) {
			s.devices.drop(user)
			if ud, fresh, err = s.loginDevices(ctx, user, now); err != nil {
				return Challenge{}, err
			}
			continue
		}
		if err == nil {
			s.rememberDevices(user, ud)
		}
		return ch, err
	}
	return Challenge{}, fmt.Errorf("%w: the user's devices keep changing", ErrStoreUnavailable)
}

// errEpochMoved: the user's devices changed while a challenge was made.
var errEpochMoved = errors.New("authn: the user's epoch moved")

// issueOptions are the parts of a challenge beyond its kind and user.
type issueOptions struct {
	life        time.Duration
	question    string // fixed (a transaction's); "" draws one
	payload     []byte // kept with the challenge (a transaction's nonce and bytes)
	resync      string // only this device, at drift resyncDrift, matching exactly
	resyncDrift int
	expect      []DeviceRecord // the user's active devices, as devs: checked as the challenge is stored (IssueStore)
	version     uint64         // their devices version: checked as the challenge is stored (MirroredIssuer)
	fresh       bool           // expect was read from the records in this call, not the cache's
}

// issue draws a question (or takes o.question) and stores the challenge,
// live for o.life, with its tags.
func (s *Service) issue(ctx context.Context, kind challengeKind, user string, epoch uint64, devs []DeviceRecord, o issueOptions, now time.Time) (Challenge, error) {
	resync, resyncDrift := o.resync, o.resyncDrift
	window := s.cfg.Window
	if resync != "" {
		window = 0
	}
	expires := now.Add(o.life)
	first, last := serverStep(kind.suite, now), serverStep(kind.suite, expires)
	step := kind.suite.TimeStep()
	lim := ChallengeLimits{
		Outstanding: s.cfg.ChallengeBudget.Outstanding,
		PerMinute:   s.cfg.ChallengeBudget.PerMinute,
		// A question is not reissued while an answer to it could still be
		// accepted: the TTL and the window either side.
		Horizon: o.life + time.Duration(2*(s.cfg.Window+1))*step,
	}
	names := map[string]string{}
	if resync == "" {
		devs = s.withPhantoms(devs) // the same work for every user: see phantom.go
	}
	// The devices that can answer, kept in place: devs is the new slice
	// withPhantoms made, or the caller's one-device list of a resync.
	can := devs[:0]
	for _, d := range devs {
		if resync != "" && d.ID != resync {
			continue
		}
		if d.ID != "" && d.Suite != "" && d.Suite != s.cfg.Suite.String() {
			// Enrolled under another suite (Config.Suite changed since):
			// it cannot answer this question; it must be re-enrolled.
			continue
		}
		can = append(can, d)
		if d.ID != "" {
			names[d.ID] = d.Name
		}
	}
	sc := getIssueScratch(len(can))
	defer sc.release()
	n, err := s.challengeKeys(kind, user, can, sc.keys, resync == "")
	if err != nil {
		return Challenge{}, fmt.Errorf("authn: device secret does not open: %w", err)
	}
	reals := len(names)
	for range 8 { // a question reused within the horizon is drawn again
		q := o.question
		if q == "" {
			q = kind.suite.NewQuestion()
		}
		c := ChallengeRecord{ID: newID(), User: user, Question: q, Epoch: epoch, Window: window, IssuedAt: now,
			ExpiresAt: expires, Resync: resync, ResyncDrift: resyncDrift, Names: names, Payload: o.payload}
		c.Tags = make([]Tag, 0, reals*(int(last-first)+2*window+1))
		rl := kind.suite.ResponseLen()
		tg := s.macs.primary[purposeTag].newTagger(kind.tag, c.ID)
		for i, d := range can {
			drift := d.Drift
			if resync != "" {
				drift = resyncDrift
			}
			lo := int64(first) + int64(drift) - int64(window)
			hi := int64(last) + int64(drift) + int64(window)
			if lo < 0 {
				lo = 0
			}
			centre := uint64(lo)
			w := challenge.Window{Ahead: int(hi - lo)}
			key := sc.keys[i*maxKeyLen : i*maxKeyLen+n]
			resp, err := kind.suite.AppendResponsesOnce(sc.resp[:0], key, challenge.Input{Question: c.Question, Time: time.Unix(int64(centre)*int64(step/time.Second), 0)}, w)
			if err != nil {
				tg.release()
				return Challenge{}, err
			}
			sc.resp = resp[:0]
			for j := 0; j*rl < len(resp); j++ {
				mac := tg.tag(resp[j*rl : (j+1)*rl])
				if d.ID != "" {
					c.Tags = append(c.Tags, Tag{MAC: mac, Device: d.ID, Step: centre + uint64(j), Drift: drift})
				}
			}
			clear(resp)
		}
		tg.release()
		err := s.putChallenge(ctx, c, lim, o, now)
		if _, _, moved := movedDevices(err); moved {
			return Challenge{}, err // nothing stored: the caller makes it again
		}
		switch {
		case err == nil:
			s.event(ctx, EventChallengeIssued, MethodChallenge, user, "", "")
			return Challenge{ID: c.ID, Question: c.Question, ExpiresAt: c.ExpiresAt}, nil
		case errors.Is(err, ErrStoreConflict):
			// A question used within the horizon, or the epoch moved.
			st, uerr := s.records.User(ctx, user, now)
			if uerr != nil {
				return Challenge{}, storeErr(uerr)
			}
			if st.Epoch != epoch {
				return Challenge{}, errEpochMoved
			}
			continue
		case errors.Is(err, ErrStoreLimit):
			s.event(ctx, EventChallengeRefused, MethodChallenge, user, "", ReasonBudget)
			return Challenge{}, ErrTooManyChallenges
		default:
			return Challenge{}, storeErr(err)
		}
	}
	return Challenge{}, fmt.Errorf("%w: no fresh question could be drawn", ErrStoreUnavailable)
}

// FinishChallenge checks the response to a challenge of user, once. The
// attempt is counted (against the challenge and as a user failure) in
// the same atomic store step that compares it, before its result is
// used; a success resets the failures. See the package documentation for
// what each error means for the challenge and the user.
func (s *Service) FinishChallenge(ctx context.Context, user, id, response string, opts ...LoginOption) (_ Result, err error) {
	ctx, sp := s.trace(ctx, "FinishChallenge", MethodChallenge, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodChallenge, user, opts); err != nil {
		return Result{}, err
	}
	c, err := s.client(ctx, user, opts, s.now())
	if err != nil {
		return Result{}, err
	}
	r, _, err := s.finish(ctx, s.login(), user, c, id, response)
	return r, err
}

// finish is FinishChallenge for a kind; it also returns the challenge's
// payload.
// c is the client the attempt comes from: its lockout bucket, and, for a
// login, the client the Result's known-client token is for. user was
// admitted by the caller (or read from a push record it made).
func (s *Service) finish(ctx context.Context, kind challengeKind, user string, c loginClient, id, response string) (Result, []byte, error) {
	now := s.now()
	canon, perr := kind.suite.CanonicalResponse(response)
	var mac [16]byte // a malformed response is counted, and matches nothing
	if len(id) > 64 {
		id = id[:64] // IDs are 32 hex digits; a longer one names nothing
	}
	if perr == nil {
		mac = s.tagMAC(kind.tag, id, canon)
	}
	serverStep := serverStep(kind.suite, now)
	// Counted, compared and, on a match, committed: see attemptAndCommit.
	res, err := s.attemptAndCommit(ctx, user, c.bucket, ChallengeAnswer{ID: id, MAC: mac, ServerStep: serverStep}, now)
	if err != nil {
		return Result{}, nil, storeErr(err)
	}
	if res.Outcome != AttemptLocked && res.Outcome != AttemptExpired && res.Outcome != AttemptMatch {
		s.slowGuessing(ctx, MethodChallenge, user, res.Slow)
	}
	switch res.Outcome {
	case AttemptLocked:
		s.event(ctx, EventLoginRefused, MethodChallenge, user, "", ReasonLocked)
		return Result{}, nil, &LockedError{RetryAfter: res.RetryAfter}
	case AttemptExpired:
		s.event(ctx, EventLoginFailed, MethodChallenge, user, "", ReasonExpired)
		return Result{}, nil, errChallengeExpired
	}
	if res.Outcome == AttemptMatch || res.Outcome == AttemptMismatch {
		// One response compared with what the devices could answer.
		s.observe(ctx, EventCheck, MethodChallenge, user, "")
	}
	// failed reports a failure; if it locked the user, the error says so
	// too.
	failed := func(reason Reason, err error) (Result, []byte, error) {
		s.event(ctx, EventLoginFailed, MethodChallenge, user, "", reason)
		if res.RetryAfter > 0 {
			s.event(ctx, EventUserLocked, MethodChallenge, user, "", ReasonFailures)
			return Result{}, nil, &LockedError{RetryAfter: res.RetryAfter, cause: err}
		}
		return Result{}, nil, err
	}
	switch res.Outcome {
	case AttemptNoChallenge:
		return failed(ReasonNoChallenge, ErrInvalidCode)
	case AttemptExhausted:
		return failed(ReasonAttemptsExhausted, ErrTooManyAttempts)
	case AttemptMismatch:
		if perr != nil {
			return failed(ReasonMalformed, perr)
		}
		// A drifted phone is looked for even when this failure locked the
		// user: otherwise a phone whose clock ran off after a lock could
		// never resynchronise. Its next challenge then outlives the lock.
		if kind.tag != s.login().tag {
			return failed(ReasonMismatch, ErrInvalidCode) // transactions are never resynchronised
		}
		if rerr := s.tryResync(ctx, user, res.Challenge, canon, res.RetryAfter, now); rerr != nil {
			if res.RetryAfter > 0 {
				s.event(ctx, EventUserLocked, MethodChallenge, user, "", ReasonFailures)
			}
			return Result{}, nil, rerr
		}
		return failed(ReasonMismatch, ErrInvalidCode)
	case AttemptMatch:
	default:
		return Result{}, nil, fmt.Errorf("%w: unknown attempt outcome", ErrStoreUnavailable)
	}
	t := res.Match
	drift := s.boundDrift(int(int64(t.Step) - int64(serverStep))) // as committed: CommitDrift
	switch err = res.Commit; {
	case errors.Is(err, ErrStoreNotFound):
		// The device was revoked between the match and the commit: the
		// login fails, but it is not the user's doing, so no failure is
		// counted.
		s.event(ctx, EventLoginFailed, MethodChallenge, user, t.Device, ReasonDeviceGone)
		return Result{}, nil, ErrInvalidCode
	case errors.Is(err, ErrStoreConflict):
		st, ferr := s.hot.RecordFailure(ctx, user, res.Client, s.lockPolicy(), now)
		if ferr != nil {
			return Result{}, nil, storeErr(ferr)
		}
		s.slowGuessing(ctx, MethodChallenge, user, st.Slow)
		s.event(ctx, EventLoginFailed, MethodChallenge, user, t.Device, ReasonReplay)
		if now.Before(st.LockedUntil) {
			s.event(ctx, EventUserLocked, MethodChallenge, user, "", ReasonFailures)
			return Result{}, nil, &LockedError{RetryAfter: st.LockedUntil.Sub(now), cause: ErrReplay}
		}
		return Result{}, nil, ErrReplay
	case err != nil:
		return Result{}, nil, storeErr(err)
	}
	name := res.Challenge.Names[t.Device]
	if res.Challenge.Resync != "" {
		s.event(ctx, EventDeviceResynced, MethodChallenge, user, t.Device, "")
	}
	s.event(ctx, EventLoginSucceeded, MethodChallenge, user, t.Device, "")
	r := Result{User: user, DeviceID: t.Device, DeviceName: name, Method: MethodChallenge, Step: t.Step, Drift: drift, At: now}
	r.Proof = s.newProof(user, MethodChallenge, now)
	if kind.tag == s.login().tag {
		// The challenge's epoch is the user's: CommitStep just checked it.
		r.KnownClient, r.KnownClientExpires = s.newClientToken(user, c.clientID(), res.Challenge.Epoch, now)
	}
	return r, res.Challenge.Payload, nil
}

// tryResync looks for the response in the wide resync window of each
// active device. A match moves nothing: it returns a *ResyncError with a
// challenge that must match exactly at the drift found, live for the
// challenge TTL after the lock (locked, if this failure locked the user)
// lifts. It returns nil when there is no match (or resync is off).
func (s *Service) tryResync(ctx context.Context, user string, ch ChallengeRecord, canon string, locked time.Duration, now time.Time) error {
	if s.cfg.DisableResync || ch.Resync != "" {
		return nil
	}
	serverStep := serverStep(s.cfg.Suite, now)
	if !s.keyCache.claimSearch(keyCacheID{s.login().tag, user}, serverStep) {
		return nil // searched already in this time step: see resyncbound.go
	}
	devs, err := s.activeDevices(ctx, user)
	if err != nil {
		return err
	}
	all := s.withPhantoms(devs) // the same work for every user: see phantom.go
	sc := getIssueScratch(len(all))
	defer sc.release()
	n, err := s.challengeKeys(s.login(), user, all, sc.keys, true)
	if err != nil {
		return nil // a root that does not open: nothing to offer
	}
	for i, d := range all {
		m, err := s.cfg.Suite.VerifyOnce(sc.keys[i*maxKeyLen:i*maxKeyLen+n], challenge.Input{Question: ch.Question, Time: now}, canon,
			challenge.Window{Behind: s.cfg.ResyncWindow, Ahead: s.cfg.ResyncWindow})
		if err != nil || d.ID == "" || m.Step < d.LastStep {
			continue
		}
		drift := int(int64(m.Step) - int64(serverStep))
		next, err := s.issue(ctx, s.login(), user, ch.Epoch, []DeviceRecord{d}, issueOptions{life: s.cfg.ChallengeTTL + locked, resync: d.ID, resyncDrift: drift}, now)
		if errors.Is(err, errEpochMoved) {
			return nil // a device was revoked meanwhile: no resync
		}
		if err != nil {
			return err
		}
		s.event(ctx, EventResyncOffered, MethodChallenge, user, d.ID, ReasonDrift)
		return &ResyncError{Next: next, RetryAfter: locked}
	}
	return nil
}
