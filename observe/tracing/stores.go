package tracing

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/keyline/keyline/authn"
)

// The store calls' spans come from wrappers of the store interfaces
// rather than from a hook in the Service: the Service calls its stores
// in many places, and a wrapper sees every call without a line in
// them. The Service asserts two optional interfaces on one engine kept
// as both halves (authn.IssueStore, authn.FinishStore: a login step in
// one round trip), and Config checks that an engine keeping both halves
// is passed as both; WrapStores preserves all three, and the split
// stores' own (authn.MirroredIssuer, authn.LoginRecords: mirror.go).
//
// Each wrapper embeds the interface it wraps, so that a method added to
// it later still compiles and is forwarded, untraced until it gets a
// method here: TestEveryStoreCallTraced fails until then.

// WrapStores returns hot and records wrapped so that each of their calls
// made within a recording call's span is a span, counted in the call's
// keyline.store.round_trips. One engine passed as both (a memstore, an
// sqlstore) is wrapped once, as an authn.Store, and returned as both;
// an engine keeping both halves passed as Hot beside another Records
// stays one that keeps both, so that authn.New still refuses the pair.
// A nil store stays nil (authn.New reports it).
func (t *Tracer) WrapStores(hot authn.HotStore, records authn.RecordStore) (authn.HotStore, authn.RecordStore) {
	if st, ok := hot.(authn.Store); ok && sameStore(hot, records) {
		b := t.wrapBoth(st)
		return b, b
	}
	var h authn.HotStore
	switch st := hot.(type) {
	case nil:
	case authn.Store:
		h = t.wrapBoth(st)
	default:
		h = t.wrapHot(st)
	}
	var r authn.RecordStore
	if records != nil {
		r = t.wrapRecords(records)
	}
	return h, r
}

// wrapBoth wraps one engine's two halves, keeping the one-step login
// calls it offers (authn.IssueStore, authn.FinishStore): the Service
// asserts them on its store, and a wrapper hiding them would cost a
// traced service a round trip more per login step than an untraced one.
func (t *Tracer) wrapBoth(st authn.Store) authn.Store {
	b := &bothStores{&hotStore{st, t}, &recordStore{st, t}}
	is, issue := st.(authn.IssueStore)
	fs, finish := st.(authn.FinishStore)
	lr, login := st.(authn.LoginRecords)
	switch {
	case issue && finish && login:
		return &issueFinishLoginStores{b, issueStep{is, t}, finishStep{fs, t}, userDevicesStep{lr, t}}
	case issue && finish:
		return &issueFinishStores{b, issueStep{is, t}, finishStep{fs, t}}
	case issue:
		return &issueStores{b, issueStep{is, t}}
	case finish:
		return &finishStores{b, finishStep{fs, t}}
	}
	return b
}

// issueStep and finishStep trace the one-step login calls of an engine
// that offers them; issueStores, finishStores and issueFinishStores are
// one engine's wrapper with the ones it offers.
type issueStep struct {
	is authn.IssueStore
	t  *Tracer
}

type finishStep struct {
	fs authn.FinishStore
	t  *Tracer
}

type issueStores struct {
	*bothStores
	issueStep
}

type finishStores struct {
	*bothStores
	finishStep
}

type issueFinishStores struct {
	*bothStores
	issueStep
	finishStep
}

var (
	_ authn.IssueStore  = (*issueStores)(nil)
	_ authn.FinishStore = (*finishStores)(nil)
	_ authn.IssueStore  = (*issueFinishStores)(nil)
	_ authn.FinishStore = (*issueFinishStores)(nil)
)

func (s issueStep) IssueChallenge(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, expect []authn.DeviceRecord, now time.Time) (authn.UserDevices, bool, error) {
	ctx, sp := s.t.store(ctx, "Store.IssueChallenge")
	fresh, stale, err := s.is.IssueChallenge(ctx, c, lim, expect, now)
	sp.end(err)
	return fresh, stale, err
}

func (s finishStep) AttemptCommit(ctx context.Context, user, client string, answer authn.ChallengeAnswer, maxDrift int, policy authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	ctx, sp := s.t.store(ctx, "Store.AttemptCommit")
	r, err := s.fs.AttemptCommit(ctx, user, client, answer, maxDrift, policy, now)
	sp.end(err)
	return r, err
}

// sameStore reports whether the halves are one value, without panicking
// on values that cannot be compared.
func sameStore(hot authn.HotStore, records authn.RecordStore) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return any(hot) == any(records)
}

// hotStore, recordStore and bothStores are the wrappers.
type hotStore struct {
	authn.HotStore
	t *Tracer
}

type recordStore struct {
	authn.RecordStore
	t *Tracer
}

// bothStores is one engine's two halves; DeleteUser and Sweep, which
// serve both, are one call.
type bothStores struct {
	*hotStore
	*recordStore
}

var (
	_ authn.HotStore    = (*hotStore)(nil)
	_ authn.RecordStore = (*recordStore)(nil)
	_ authn.Store       = (*bothStores)(nil)
)

// storeSpan is a store call's span, nil when its call does not record.
type storeSpan struct{ span trace.Span }

// store starts the span of a store call named name, and counts the
// round trip, if ctx is in a recording call.
func (t *Tracer) store(ctx context.Context, name string) (context.Context, storeSpan) {
	c := callOf(ctx)
	if c == nil {
		return ctx, storeSpan{}
	}
	c.trips.Add(1)
	ctx, span := t.tracer.Start(ctx, name)
	return ctx, storeSpan{span}
}

// The outcomes of a store call, the values of keyline.store.outcome.
const (
	StoreOK       = "ok"
	StoreNotFound = "not_found" // ErrStoreNotFound
	StoreConflict = "conflict"  // ErrStoreConflict
	StoreLimit    = "limit"     // ErrStoreLimit
	StoreError    = "error"     // any other error: a system failure
)

// storeOutcome is the keyline.store.outcome of err.
func storeOutcome(err error) string {
	switch {
	case err == nil:
		return StoreOK
	case errors.Is(err, authn.ErrStoreNotFound):
		return StoreNotFound
	case errors.Is(err, authn.ErrStoreConflict):
		return StoreConflict
	case errors.Is(err, authn.ErrStoreLimit):
		return StoreLimit
	}
	return StoreError
}

// end ends the span with the call's outcome.
func (s storeSpan) end(err error) {
	if s.span == nil {
		return
	}
	out := storeOutcome(err)
	s.span.SetAttributes(AttrStoreOut.String(out))
	if out == StoreError {
		s.span.SetStatus(codes.Error, out)
	}
	s.span.End()
}

func (h *hotStore) PutChallenge(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.PutChallenge")
	err := h.HotStore.PutChallenge(ctx, c, lim, now)
	sp.end(err)
	return err
}

func (h *hotStore) Attempt(ctx context.Context, user, client string, answer *authn.ChallengeAnswer, policy authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	ctx, sp := h.t.store(ctx, "HotStore.Attempt")
	r, err := h.HotStore.Attempt(ctx, user, client, answer, policy, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) RecordFailure(ctx context.Context, user, client string, policy authn.LockPolicy, now time.Time) (authn.UserState, error) {
	ctx, sp := h.t.store(ctx, "HotStore.RecordFailure")
	r, err := h.HotStore.RecordFailure(ctx, user, client, policy, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) ResetUser(ctx context.Context, user, client string, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.ResetUser")
	err := h.HotStore.ResetUser(ctx, user, client, now)
	sp.end(err)
	return err
}

func (h *hotStore) ClearLockout(ctx context.Context, user string, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.ClearLockout")
	err := h.HotStore.ClearLockout(ctx, user, now)
	sp.end(err)
	return err
}

func (h *hotStore) Lockout(ctx context.Context, user string, now time.Time) ([]authn.ClientLockout, error) {
	ctx, sp := h.t.store(ctx, "HotStore.Lockout")
	r, err := h.HotStore.Lockout(ctx, user, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) RaiseEpoch(ctx context.Context, user string, epoch uint64, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.RaiseEpoch")
	err := h.HotStore.RaiseEpoch(ctx, user, epoch, now)
	sp.end(err)
	return err
}

func (h *hotStore) PutPush(ctx context.Context, p authn.PushRecord, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.PutPush")
	err := h.HotStore.PutPush(ctx, p, now)
	sp.end(err)
	return err
}

func (h *hotStore) Push(ctx context.Context, id string, now time.Time) (authn.PushRecord, error) {
	ctx, sp := h.t.store(ctx, "HotStore.Push")
	r, err := h.HotStore.Push(ctx, id, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) PendingPushes(ctx context.Context, user, deviceID string, epoch uint64, now time.Time) ([]authn.PushRecord, error) {
	ctx, sp := h.t.store(ctx, "HotStore.PendingPushes")
	r, err := h.HotStore.PendingPushes(ctx, user, deviceID, epoch, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) SetPushState(ctx context.Context, user, id string, epoch uint64, from, to authn.PushState, device string, now time.Time) (authn.PushRecord, error) {
	ctx, sp := h.t.store(ctx, "HotStore.SetPushState")
	r, err := h.HotStore.SetPushState(ctx, user, id, epoch, from, to, device, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) TakeOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.TakeOnce")
	err := h.HotStore.TakeOnce(ctx, key, expiresAt, now)
	sp.end(err)
	return err
}

func (h *hotStore) Spend(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (int, error) {
	ctx, sp := h.t.store(ctx, "HotStore.Spend")
	r, err := h.HotStore.Spend(ctx, key, limit, window, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) Refund(ctx context.Context, key, mark string, window time.Duration, spentAt, now time.Time) (bool, error) {
	ctx, sp := h.t.store(ctx, "HotStore.Refund")
	r, err := h.HotStore.Refund(ctx, key, mark, window, spentAt, now)
	sp.end(err)
	return r, err
}

func (h *hotStore) BudgetLeft(ctx context.Context, key string, limit int, now time.Time) (int, time.Time, error) {
	ctx, sp := h.t.store(ctx, "HotStore.BudgetLeft")
	left, ends, err := h.HotStore.BudgetLeft(ctx, key, limit, now)
	sp.end(err)
	return left, ends, err
}

func (h *hotStore) DeleteUser(ctx context.Context, user string, now time.Time) error {
	ctx, sp := h.t.store(ctx, "HotStore.DeleteUser")
	err := h.HotStore.DeleteUser(ctx, user, now)
	sp.end(err)
	return err
}

func (h *hotStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	ctx, sp := h.t.store(ctx, "HotStore.Sweep")
	r, err := h.HotStore.Sweep(ctx, now)
	sp.end(err)
	return r, err
}

func (rs *recordStore) PutActivation(ctx context.Context, a authn.ActivationRecord, now time.Time) error {
	ctx, sp := rs.t.store(ctx, "RecordStore.PutActivation")
	err := rs.RecordStore.PutActivation(ctx, a, now)
	sp.end(err)
	return err
}

func (rs *recordStore) GetActivation(ctx context.Context, sessionID string, now time.Time) (authn.ActivationRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.GetActivation")
	r, err := rs.RecordStore.GetActivation(ctx, sessionID, now)
	sp.end(err)
	return r, err
}

func (rs *recordStore) CompleteActivation(ctx context.Context, sessionID string, requestHash, serverConfirm []byte, dev authn.DeviceRecord, maxDevices int, now time.Time) (authn.ActivationRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.CompleteActivation")
	r, err := rs.RecordStore.CompleteActivation(ctx, sessionID, requestHash, serverConfirm, dev, maxDevices, now)
	sp.end(err)
	return r, err
}

func (rs *recordStore) CancelActivation(ctx context.Context, user, sessionID string, now time.Time) error {
	ctx, sp := rs.t.store(ctx, "RecordStore.CancelActivation")
	err := rs.RecordStore.CancelActivation(ctx, user, sessionID, now)
	sp.end(err)
	return err
}

func (rs *recordStore) Devices(ctx context.Context, user string) ([]authn.DeviceRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.Devices")
	r, err := rs.RecordStore.Devices(ctx, user)
	sp.end(err)
	return r, err
}

func (rs *recordStore) DevicesPage(ctx context.Context, afterUser, afterID string, limit int) ([]authn.DeviceRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.DevicesPage")
	r, err := rs.RecordStore.DevicesPage(ctx, afterUser, afterID, limit)
	sp.end(err)
	return r, err
}

func (rs *recordStore) ChangeDevice(ctx context.Context, user, deviceID string, c authn.DeviceChange, now time.Time) (authn.DeviceRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.ChangeDevice")
	r, err := rs.RecordStore.ChangeDevice(ctx, user, deviceID, c, now)
	sp.end(err)
	return r, err
}

func (rs *recordStore) CommitStep(ctx context.Context, user, deviceID string, epoch, step uint64, drift int, now time.Time) error {
	ctx, sp := rs.t.store(ctx, "RecordStore.CommitStep")
	err := rs.RecordStore.CommitStep(ctx, user, deviceID, epoch, step, drift, now)
	sp.end(err)
	return err
}

func (rs *recordStore) User(ctx context.Context, user string, now time.Time) (authn.UserState, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.User")
	r, err := rs.RecordStore.User(ctx, user, now)
	sp.end(err)
	return r, err
}

func (rs *recordStore) ChangeUser(ctx context.Context, user string, c authn.UserChange, now time.Time) error {
	ctx, sp := rs.t.store(ctx, "RecordStore.ChangeUser")
	err := rs.RecordStore.ChangeUser(ctx, user, c, now)
	sp.end(err)
	return err
}

func (rs *recordStore) TOTP(ctx context.Context, user string) (authn.TOTPRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.TOTP")
	r, err := rs.RecordStore.TOTP(ctx, user)
	sp.end(err)
	return r, err
}

func (rs *recordStore) CommitTOTP(ctx context.Context, user, id string, step uint64, now time.Time) error {
	ctx, sp := rs.t.store(ctx, "RecordStore.CommitTOTP")
	err := rs.RecordStore.CommitTOTP(ctx, user, id, step, now)
	sp.end(err)
	return err
}

func (rs *recordStore) TakeRecoveryCode(ctx context.Context, user string, candidates [][32]byte) (bool, int, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.TakeRecoveryCode")
	r0, r1, err := rs.RecordStore.TakeRecoveryCode(ctx, user, candidates)
	sp.end(err)
	return r0, r1, err
}

func (rs *recordStore) RemovedDevice(ctx context.Context, user, deviceID string, now time.Time) (authn.RemovedRecord, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.RemovedDevice")
	r, err := rs.RecordStore.RemovedDevice(ctx, user, deviceID, now)
	sp.end(err)
	return r, err
}

func (rs *recordStore) DeleteUser(ctx context.Context, user string, now time.Time) error {
	ctx, sp := rs.t.store(ctx, "RecordStore.DeleteUser")
	err := rs.RecordStore.DeleteUser(ctx, user, now)
	sp.end(err)
	return err
}

func (rs *recordStore) Sweep(ctx context.Context, now time.Time) (int, error) {
	ctx, sp := rs.t.store(ctx, "RecordStore.Sweep")
	r, err := rs.RecordStore.Sweep(ctx, now)
	sp.end(err)
	return r, err
}

func (b *bothStores) DeleteUser(ctx context.Context, user string, now time.Time) error {
	ctx, sp := b.hotStore.t.store(ctx, "Store.DeleteUser")
	err := b.hotStore.HotStore.DeleteUser(ctx, user, now)
	sp.end(err)
	return err
}

func (b *bothStores) Sweep(ctx context.Context, now time.Time) (int, error) {
	ctx, sp := b.hotStore.t.store(ctx, "Store.Sweep")
	r, err := b.hotStore.HotStore.Sweep(ctx, now)
	sp.end(err)
	return r, err
}
