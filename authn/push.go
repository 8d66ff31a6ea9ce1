package authn

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/txn"
)

// Push errors.
var (
	// ErrPushUnavailable reports that push cannot be used now: it is off
	// or suspended for the user, the user has no device with push, there
	// is no Notifier or every delivery failed, the push budget is spent,
	// the user is locked, or the context cannot be shown on a phone (then
	// the error also matches ErrInvalidInput). Every refusal of
	// BeginPush and BeginTransactionPush that another factor can stand in
	// for matches it: fall back to challenge/response. (An invalid user ID
	// or transaction, or a store that failed, does not.)
	ErrPushUnavailable = errors.New("authn: push unavailable")
	// ErrPushDenied reports a request the user denied.
	ErrPushDenied = errors.New("authn: push denied")
	// ErrPushPending reports a request not answered yet.
	ErrPushPending = errors.New("authn: push not answered yet")
	// ErrWrongNumber reports an approval with a number other than the one
	// the login page showed: the request is over and a failure counted.
	// It is [keyline.ErrWrongNumber].
	ErrWrongNumber = keyline.ErrWrongNumber
	// ErrInvalidPushAnswer reports an answer that no notified device made.
	// It is [enroll.ErrInvalidPushAnswer].
	ErrInvalidPushAnswer = enroll.ErrInvalidPushAnswer
)

// Push limits.
const (
	pushBudget       = 3
	pushBudgetWindow = 15 * time.Minute
)

// Notifier delivers push notifications to phones. Notify is called once
// per device, for all the devices of a request at once (from as many
// goroutines, under one Config.NotifyTimeout), and from concurrent
// requests: it must be safe for concurrent use. A [MultiNotifier] gets
// all the devices of a request in one call instead. The OS notification itself should
// carry no content: the phone fetches its pending prompts
// ([AuthenticatedDevice.PendingPushes], through the device API) and shows
// what they say. Delivery.Prompt is
// there for in-process notifiers (tests, examples).
type Notifier interface {
	Notify(ctx context.Context, d Delivery) error
}

// Delivery is one notification: a new prompt for a device, or, with
// Retract, word that a request is over and its prompt should go. A
// retraction names the device only: its PushToken, Platform and
// ExpiresAt are empty.
type Delivery struct {
	User      string
	Device    string
	PushToken string
	Platform  string // the device's platform as its phone described it at activation ("ios", "android")
	RequestID string
	ExpiresAt time.Time // when the request expires: a push arriving later is useless
	Prompt    []byte    // the sealed prompt (enroll.SealPrompt); nil for a retraction
	Retract   bool
}

// ChanNotifier is an in-process Notifier: every delivery is sent on C.
// For tests and examples.
type ChanNotifier struct {
	C chan Delivery
}

// NewChanNotifier returns a ChanNotifier whose channel buffers size
// deliveries.
func NewChanNotifier(size int) *ChanNotifier { return &ChanNotifier{C: make(chan Delivery, size)} }

// Notify sends d on C, or fails when ctx ends first.
func (n *ChanNotifier) Notify(ctx context.Context, d Delivery) error {
	select {
	case n.C <- d:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// String returns the state's name ("pending", "approved", ...).
func (st PushState) String() string { return string(st) }

// PushRequest is what the login page shows while the phone buzzes: the
// number the user must type on the phone.
type PushRequest struct {
	ID        string
	Number    string // 2 digits
	ExpiresAt time.Time
}

// SetPush turns push on or off for the user. Turning it off is a factor
// change and takes a step-up proof; turning it on does not lift a
// suspension.
func (s *Service) SetPush(ctx context.Context, user string, on bool, proof *Proof) (err error) {
	ctx, sp := s.trace(ctx, "SetPush", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	now := s.now()
	if !on {
		if err := s.checkProof(user, proof, now); err != nil {
			return err
		}
		s.event(ctx, EventProofUsed, "", user, "", ReasonPushOff)
	}
	off := !on
	if err := s.records.ChangeUser(ctx, user, UserChange{PushOff: &off}, now); err != nil {
		return storeErr(err)
	}
	s.event(ctx, EventPushMode, MethodPush, user, "", map[bool]Reason{true: ReasonOn, false: ReasonOff}[on])
	return nil
}

// updatePushToken records a device's rotated OS push token; see
// AuthenticatedDevice.SetPushToken, which checks it first.
func (s *Service) updatePushToken(ctx context.Context, user, deviceID, token string) error {
	if len(token) > 4096 {
		return fmt.Errorf("authn: %w: push token longer than 4096 bytes", ErrInvalidInput)
	}
	if _, err := s.records.ChangeDevice(ctx, user, deviceID, DeviceChange{PushToken: &token}, s.now()); err != nil {
		if errors.Is(err, ErrStoreNotFound) {
			return ErrNotFound
		}
		return storeErr(err)
	}
	return nil
}

func pushUnavailable(reason string) error {
	return fmt.Errorf("%w: %s", ErrPushUnavailable, reason)
}

// BeginPush asks the user's phones to approve a login: it makes a
// request, with a 2-digit number for the login page, and notifies every
// active device with a push token. The phone shows pc (what the server
// saw: action, IP, place, browser) and asks the user to type the number.
// At most 3 pushes per 15 minutes per user; a request withdrawn
// (CancelPush), undelivered or expired unanswered gives its unit back.
// Everything is checked (the user, pc) before anything is spent. Every
// refusal that another factor can stand in for matches
// ErrPushUnavailable (see there): fall back to challenge/response.
func (s *Service) BeginPush(ctx context.Context, user string, pc enroll.PushContext, opts ...LoginOption) (_ PushRequest, err error) {
	ctx, sp := s.trace(ctx, "BeginPush", MethodPush, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodPush, user, opts); err != nil {
		return PushRequest{}, err
	}
	return s.beginPush(ctx, user, pc, nil, opts)
}

// BeginTransactionPush asks the user's phones to approve and sign a
// transaction: the prompt carries the transaction, the phone shows it,
// and an approval (with the typed number) carries the OCRA response over
// the transaction suite, with the prompt's nonce as the server nonce. The
// response is checked by the same tags as a transaction signed from a QR
// code (BeginTransaction), counted before it is checked; FinishPush then
// returns the transaction in its Result.
func (s *Service) BeginTransactionPush(ctx context.Context, user string, tx txn.Transaction, pc enroll.PushContext, opts ...LoginOption) (_ PushRequest, err error) {
	ctx, sp := s.trace(ctx, "BeginTransactionPush", MethodPush, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodPush, user, opts); err != nil {
		return PushRequest{}, err
	}
	return s.beginPush(ctx, user, pc, &tx, opts)
}

// beginPush checks everything it is handed (the context, the
// transaction; its callers admitted the user) before it reads or spends
// anything: a request that cannot be made costs the user no unit of the
// push budget.
func (s *Service) beginPush(ctx context.Context, user string, pc enroll.PushContext, tx *txn.Transaction, opts []LoginOption) (PushRequest, error) {
	if err := pc.Validate(); err != nil {
		// The caller built a context no phone may be shown (a raw
		// User-Agent too long, an address with a port): push cannot be
		// used for this login, and the caller falls back.
		return PushRequest{}, fmt.Errorf("%w: %w", ErrPushUnavailable, err)
	}
	if tx != nil {
		if _, err := tx.Canonical(); err != nil {
			return PushRequest{}, err
		}
	}
	now := s.now()
	c, err := s.client(ctx, user, opts, now)
	if err != nil {
		return PushRequest{}, err
	}
	st, err := s.userState(ctx, user, c.bucket, now)
	if err != nil {
		return PushRequest{}, storeErr(err)
	}
	switch {
	case now.Before(st.LockedUntil):
		return PushRequest{}, pushUnavailable("the user is locked")
	case st.PushOff:
		return PushRequest{}, pushUnavailable("push is off")
	case now.Before(st.PushSuspended):
		return PushRequest{}, pushUnavailable("push is suspended after a denial")
	case s.cfg.Notifier == nil:
		return PushRequest{}, pushUnavailable("no notifier")
	}
	devs, err := s.activeDevices(ctx, user)
	if err != nil {
		return PushRequest{}, err
	}
	var push []DeviceRecord
	for _, d := range devs {
		if d.PushToken != "" {
			push = append(push, d)
		}
	}
	if len(push) == 0 {
		return PushRequest{}, pushUnavailable("no device with push")
	}
	if _, err := s.hot.Spend(ctx, pushBudgetKey(user), pushBudget, pushBudgetWindow, now); err != nil {
		if errors.Is(err, ErrStoreLimit) {
			return PushRequest{}, pushUnavailable("too many pushes; at most 3 in 15 minutes")
		}
		return PushRequest{}, storeErr(err)
	}
	id := newID()
	req, err := s.makePush(ctx, id, user, st, push, pc, tx, now)
	if err != nil {
		// No request was made (or none could be notified): its unit
		// comes back.
		s.refundPushID(ctx, user, id, now, now)
		return PushRequest{}, err
	}
	return req, nil
}

// makePush makes, stores and sends the push request id, the budget spent.
func (s *Service) makePush(ctx context.Context, id, user string, st UserState, push []DeviceRecord, pc enroll.PushContext, tx *txn.Transaction, now time.Time) (PushRequest, error) {
	var err error
	var nb [1]byte
	for {
		rand.Read(nb[:])
		if nb[0] < 200 { // uniform over 00..99
			break
		}
	}
	rec := PushRecord{ID: id, User: user, Number: fmt.Sprintf("%02d", nb[0]%100), Nonce: make([]byte, enroll.PushNonceSize),
		Context: [4]string{pc.Action, pc.IP, pc.Place, pc.Browser}, State: PushPending, Epoch: st.Epoch,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.PushTTL).Truncate(time.Second)}
	rand.Read(rec.Nonce)
	if tx != nil {
		// The transaction challenge, keyed to the prompt's nonce.
		canon, err := tx.Canonical()
		if err != nil {
			return PushRequest{}, err
		}
		q, err := txn.Question(rec.Nonce, *tx)
		if err != nil {
			return PushRequest{}, err
		}
		payload := append(append([]byte{byte(len(rec.Nonce))}, rec.Nonce...), canon...)
		ch, err := s.issue(ctx, transactionKind, user, st.Epoch, push, issueOptions{life: s.cfg.PushTTL, question: q, payload: payload}, now)
		if err != nil {
			return PushRequest{}, err
		}
		rec.Transaction, rec.Challenge = canon, ch.ID
	}
	prompts := make([][]byte, len(push))
	for i, d := range push {
		rec.Devices = append(rec.Devices, d.ID)
		if prompts[i], err = s.sealPrompt(rec, d); err != nil {
			return PushRequest{}, err
		}
	}
	if err := s.hot.PutPush(ctx, rec, now); err != nil {
		return PushRequest{}, storeErr(err)
	}
	ds := make([]Delivery, len(push))
	for i, d := range push {
		ds[i] = Delivery{User: user, Device: d.ID, PushToken: d.PushToken, Platform: d.Platform, RequestID: rec.ID,
			ExpiresAt: rec.ExpiresAt, Prompt: prompts[i]}
	}
	delivered := 0
	for i, err := range s.deliver(ctx, ds) {
		if err != nil {
			s.event(ctx, EventPushUndelivered, MethodPush, user, push[i].ID, ReasonNotifyFailed)
			continue
		}
		delivered++
	}
	if delivered == 0 {
		// Undelivered: the caller refunds the budget (once, however this
		// state change goes).
		_, _ = s.setPushState(ctx, user, rec.ID, PushPending, PushUndelivered, "", now)
		return PushRequest{}, pushUnavailable("no device could be notified")
	}
	s.event(ctx, EventPushSent, MethodPush, user, "", "")
	return PushRequest{ID: rec.ID, Number: rec.Number, ExpiresAt: rec.ExpiresAt}, nil
}

// promptOf is the prompt a device of rec is shown.
func (s *Service) promptOf(rec PushRecord, deviceID string) enroll.PushPrompt {
	return enroll.PushPrompt{RequestID: rec.ID, Nonce: rec.Nonce, Issuer: s.cfg.Issuer, User: rec.User, DeviceID: deviceID,
		Context:     enroll.PushContext{Action: rec.Context[0], IP: rec.Context[1], Place: rec.Context[2], Browser: rec.Context[3]},
		Transaction: rec.Transaction, ExpiresAt: rec.ExpiresAt}
}

// deviceKeys unseals a device's root secret and derives its keys.
func (s *Service) deviceKeys(d DeviceRecord) (enroll.Keys, error) {
	root, err := s.openRoot(d)
	if err != nil {
		return enroll.Keys{}, fmt.Errorf("authn: device secret does not open: %w", err)
	}
	defer root.Zero()
	return enroll.DeriveKeys(root, s.cfg.Suite), nil
}

func (s *Service) sealPrompt(rec PushRecord, d DeviceRecord) ([]byte, error) {
	keys, err := s.deviceKeys(d)
	if err != nil {
		return nil, err
	}
	defer keys.Zero()
	return enroll.SealPrompt(keys, s.promptOf(rec, d.ID))
}

// pendingPushes returns the sealed prompts waiting for a device, for
// AuthenticatedDevice.PendingPushes.
func (s *Service) pendingPushes(ctx context.Context, user, deviceID string) ([][]byte, error) {
	now := s.now()
	epoch, err := s.epoch(ctx, user, now)
	if err != nil {
		return nil, storeErr(err)
	}
	recs, err := s.hot.PendingPushes(ctx, user, deviceID, epoch, now)
	if err != nil {
		return nil, storeErr(err)
	}
	d, err := s.device(ctx, user, deviceID)
	if err != nil {
		if errors.Is(err, ErrStoreNotFound) {
			return nil, ErrNotFound
		}
		return nil, storeErr(err)
	}
	out := make([][]byte, 0, len(recs))
	for _, rec := range recs {
		if isQRLoginID(rec.ID) {
			// Fetched only by the ID its code carries: listed, a sign-in
			// begun with the password would show a prompt to a user who
			// turned push off, or whose push a denial suspended, without
			// any code scanned.
			continue
		}
		p, err := s.sealPrompt(rec, d)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// answerPush takes a phone's answer, for AuthenticatedDevice.AnswerPush,
// which has checked that the request notified device, the one that
// sent it. The answer's MAC says which notified device made it; a denial
// ends the request and suspends push for the user (PushSuspend) with an
// alert — it is not a lockout failure, so a victim who says no cannot
// lock themselves out; an approval with the wrong number ends the
// request and counts as a failure (ErrWrongNumber). The answer is taken
// with its mark (see pushanswer.go): the same answer again gets the
// first one's outcome.
func (s *Service) answerPush(ctx context.Context, device string, a enroll.PushAnswer) error {
	now := s.now()
	rec, err := s.push(ctx, a.RequestID, now)
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return ErrInvalidPushAnswer
	case err != nil:
		return storeErr(err)
	}
	if rec.State != PushPending && rec.Answered == answerMark(device, a) {
		return answeredOutcome(rec, answerMark(device, a), a) // a retry: no time check, no second effect
	}
	device, err = s.verifyAnswer(ctx, rec, a, now)
	if err != nil {
		s.event(ctx, EventPushAnswerRefused, MethodPush, rec.User, "", ReasonInvalid)
		return err
	}
	mark := answerMark(device, a)
	if rec.State != PushPending {
		return answeredOutcome(rec, mark, a)
	}
	// taken moves the request out of pending with the answer's mark; a
	// request taken meanwhile gives that answer's outcome.
	taken := func(to PushState) (bool, error) {
		got, err := s.setPushState(ctx, rec.User, rec.ID, PushPending, to, mark, now)
		if errors.Is(err, ErrStoreConflict) {
			s.refundPush(ctx, got, now)
			return false, answeredOutcome(got, mark, a)
		}
		if err != nil {
			return false, s.pushStateErr(err)
		}
		return true, nil
	}
	switch {
	case !a.Approve:
		if ok, err := taken(PushDenied); !ok {
			return err
		}
		until := now.Add(s.cfg.PushSuspend)
		if err := s.records.ChangeUser(ctx, rec.User, UserChange{PushSuspended: &until}, now); err != nil {
			return storeErr(err)
		}
		s.event(ctx, EventPushDenied, MethodPush, rec.User, device, ReasonUserDenied)
		s.retract(ctx, rec, device)
		return nil
	case subtle.ConstantTimeCompare([]byte(a.TypedNumber), []byte(rec.Number)) != 1:
		if ok, err := taken(PushFailed); !ok {
			return err
		}
		// Counted in the shared bucket: the phone's answer carries no
		// browser's known-client token.
		st, err := s.hot.RecordFailure(ctx, rec.User, "", s.lockPolicy(), now)
		if err != nil {
			return storeErr(err)
		}
		s.slowGuessing(ctx, MethodPush, rec.User, st.Slow)
		s.event(ctx, EventPushFailed, MethodPush, rec.User, device, ReasonWrongNumber)
		s.retract(ctx, rec, device)
		return ErrWrongNumber
	}
	if rec.Challenge != "" {
		// A transaction push: the approval must also be the signature,
		// checked like any transaction response (counted, take-once). One
		// answer only is checked: a copy racing it must neither consume
		// nor count anything, and waits for its outcome.
		if err := s.takeSigning(ctx, rec, now); err != nil {
			if errors.Is(err, ErrStoreConflict) {
				return s.awaitAnswer(ctx, rec.ID, mark, a)
			}
			return storeErr(err)
		}
		if _, _, err := s.finish(ctx, transactionKind, rec.User, loginClient{}, rec.Challenge, a.TxResponse); err != nil {
			if ok, serr := taken(PushFailed); !ok {
				return serr
			}
			s.event(ctx, EventPushFailed, MethodPush, rec.User, device, ReasonTransactionSignature)
			s.retract(ctx, rec, device)
			return err
		}
	}
	if ok, err := taken(PushApproved); !ok {
		return err
	}
	s.event(ctx, EventPushApproved, MethodPush, rec.User, device, "")
	s.retract(ctx, rec, device)
	return nil
}

func (s *Service) pushStateErr(err error) error {
	switch {
	case errors.Is(err, ErrStoreConflict):
		return errPushUsed
	case errors.Is(err, ErrStoreNotFound):
		return errPushNotFound
	}
	return storeErr(err)
}

// retract tells the other notified devices that the request is over.
func (s *Service) retract(ctx context.Context, rec PushRecord, except string) {
	if s.cfg.Notifier == nil {
		return
	}
	var ds []Delivery
	for _, id := range rec.Devices {
		if id != except {
			ds = append(ds, Delivery{User: rec.User, Device: id, RequestID: rec.ID, Retract: true})
		}
	}
	if len(ds) > 0 {
		_ = s.deliver(ctx, ds)
	}
}

// pushState reports where a push request of user is.
func (s *Service) pushState(ctx context.Context, user, id string) (PushState, error) {
	rec, err := s.push(ctx, id, s.now())
	if errors.Is(err, ErrStoreNotFound) || (err == nil && rec.User != user) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", storeErr(err)
	}
	return rec.State, nil
}

// PushStatus reports where a push request of user is: another user's
// request, or an unknown one, is ErrNotFound. With wait > 0 it waits, for
// a login page's long poll, until the request is no longer pending or
// wait has passed (then it reports PushPending and no error), polling the
// store every Config.PushPoll (the store is shared by instances; the
// answer may arrive at another); if ctx ends first it reports the last
// state read and ctx's error. With wait <= 0 it reads once.
func (s *Service) PushStatus(ctx context.Context, user, id string, wait time.Duration) (_ PushState, err error) {
	ctx, sp := s.trace(ctx, "PushStatus", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return "", err
	}
	if isQRLoginID(id) {
		return "", ErrNotFound // its status is the holder of its handle's (QRLoginStatus)
	}
	return s.pushStatus(ctx, user, id, wait)
}

// pushStatus is PushStatus, for push requests and QR logins.
func (s *Service) pushStatus(ctx context.Context, user, id string, wait time.Duration) (PushState, error) {
	if wait <= 0 {
		return s.pushState(ctx, user, id)
	}
	t := time.NewTicker(s.cfg.PushPoll)
	defer t.Stop()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		st, err := s.pushState(ctx, user, id)
		if err != nil || st != PushPending {
			return st, err
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-deadline.C:
			return st, nil
		case <-t.C:
		}
	}
}

// FinishPush logs the user in with an approved push request, once: two
// polls never both succeed. The lock is checked first: the push path
// never bypasses it.
func (s *Service) FinishPush(ctx context.Context, user, id string, opts ...LoginOption) (_ Result, err error) {
	ctx, sp := s.trace(ctx, "FinishPush", MethodPush, user)
	defer sp.done(&err)
	if err := s.admit(ctx, MethodPush, user, opts); err != nil {
		return Result{}, err
	}
	if isQRLoginID(id) {
		return Result{}, errPushNotFound // only its handle finishes it (FinishQRLogin)
	}
	return s.finishPush(ctx, user, id, opts)
}

// finishPush is FinishPush, for push requests and QR logins.
func (s *Service) finishPush(ctx context.Context, user, id string, opts []LoginOption) (Result, error) {
	now := s.now()
	c, err := s.client(ctx, user, opts, now)
	if err != nil {
		return Result{}, err
	}
	all, err := s.hot.Lockout(ctx, user, now)
	if err != nil {
		return Result{}, storeErr(err)
	}
	if st := bucketOf(all, c.bucket, s.lockPolicy(), now); now.Before(st.LockedUntil) {
		return Result{}, &LockedError{RetryAfter: st.LockedUntil.Sub(now)}
	}
	rec, err := s.setPushState(ctx, user, id, PushApproved, PushFinished, "", now)
	if errors.Is(err, ErrStoreConflict) {
		s.refundPush(ctx, rec, now)
	}
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return Result{}, errPushNotFound
	case errors.Is(err, ErrStoreConflict):
		switch rec.State {
		case PushPending:
			return Result{}, ErrPushPending
		case PushDenied:
			return Result{}, ErrPushDenied
		case PushFailed:
			return Result{}, ErrWrongNumber
		case PushExpired, PushCancelled, PushUndelivered:
			return Result{}, errPushExpired
		}
		return Result{}, errPushUsed
	case err != nil:
		return Result{}, storeErr(err)
	}
	device := answeredDevice(rec.Answered)
	if len(rec.Transaction) > 0 {
		s.event(ctx, EventTransactionSigned, MethodPush, user, device, "")
	} else {
		s.event(ctx, EventLoginSucceeded, MethodPush, user, device, "")
	}
	r := Result{User: user, DeviceID: device, Method: MethodPush, At: now}
	if d, err := s.device(ctx, user, device); err == nil {
		r.DeviceName = d.Name
	}
	if len(rec.Transaction) > 0 {
		tx, err := txn.Parse(rec.Transaction)
		if err != nil {
			return Result{}, fmt.Errorf("authn: stored transaction does not parse: %w", err)
		}
		r.Transaction = &tx
	}
	r.Proof = s.newProof(user, MethodPush, now)
	if r.Transaction == nil {
		if err := s.knownClient(ctx, &r, c, now); err != nil {
			return Result{}, err
		}
	}
	return r, nil
}

// CancelPush withdraws a pending request (the user chose another factor)
// and retracts its prompts.
func (s *Service) CancelPush(ctx context.Context, user, id string) (err error) {
	ctx, sp := s.trace(ctx, "CancelPush", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	if isQRLoginID(id) {
		return errPushNotFound // only its handle withdraws it (CancelQRLogin)
	}
	return s.cancelPush(ctx, user, id)
}

// cancelPush is CancelPush, for push requests and QR logins.
func (s *Service) cancelPush(ctx context.Context, user, id string) error {
	now := s.now()
	rec, err := s.setPushState(ctx, user, id, PushPending, PushCancelled, "", now)
	if err != nil {
		if errors.Is(err, ErrStoreConflict) {
			s.refundPush(ctx, rec, now) // it expired unanswered
		}
		return s.pushStateErr(err)
	}
	s.refundPush(ctx, rec, now)
	s.event(ctx, EventPushCancelled, MethodPush, user, "", "")
	s.retract(ctx, rec, "")
	return nil
}
