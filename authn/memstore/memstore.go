// Package memstore is an in-process authn.Store (both halves,
// authn.HotStore and authn.RecordStore, passed to authn.Config as Hot and
// as Records): a map behind a mutex.
// It is for tests, examples and single-process services that accept
// losing their devices on restart. Every operation is atomic: it holds
// the one lock from start to end.
package memstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
)

// Store is an in-memory authn.Store. The zero value is not usable; call
// New.
type Store struct {
	mu          sync.Mutex
	activations map[string]*authn.ActivationRecord
	devices     map[string][]*authn.DeviceRecord       // by user, oldest first
	users       map[string]*authn.UserState            // epoch and push settings
	buckets     map[string]map[string]*authn.UserState // user → client → lockout bucket ("": unknown clients)
	challenges  map[string]*authn.ChallengeRecord
	byUser      map[string][]string             // user → the IDs of challenges issued live, oldest first (some may be gone: see putChallenge)
	questions   map[string]map[string]time.Time // user → question → reusable from
	issued      map[string][]time.Time          // user → issue times within the last minute
	taken       map[string]time.Time            // TakeOnce key → expiry
	budgets     map[string]*budget              // Spend key → budget
	totp        map[string]*authn.TOTPRecord    // by user
	recovery    map[string][][32]byte           // by user
	pushes      map[string]*authn.PushRecord    // by ID
	userPushes  map[string][]string             // user → the IDs of their push requests, oldest first (pruned by Sweep and DeleteUser)
	removed     map[string]*authn.RemovedRecord // by user and device ID (removedKey)
	devVersion  map[string]uint64               // by user: the devices version (devversion.go)
	devSeq      uint64                          // the last devices version given to any user
}

type budget struct {
	used     int
	ends     time.Time
	refunded map[string]bool // Refund's marks in this window
}

var (
	_ authn.HotStore    = (*Store)(nil)
	_ authn.RecordStore = (*Store)(nil)
	_ authn.Store       = (*Store)(nil)
)

// String describes the store without its records (sealed secrets and
// MACs are not for printing either).
func (s *Store) String() string { return "memstore.Store" }

// Format prints String for every verb.
func (s *Store) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// New returns an empty store.
func New() *Store {
	return &Store{
		activations: map[string]*authn.ActivationRecord{},
		devices:     map[string][]*authn.DeviceRecord{},
		users:       map[string]*authn.UserState{},
		buckets:     map[string]map[string]*authn.UserState{},
		challenges:  map[string]*authn.ChallengeRecord{},
		byUser:      map[string][]string{},
		userPushes:  map[string][]string{},
		questions:   map[string]map[string]time.Time{},
		issued:      map[string][]time.Time{},
		taken:       map[string]time.Time{},
		budgets:     map[string]*budget{},
		totp:        map[string]*authn.TOTPRecord{},
		recovery:    map[string][][32]byte{},
		pushes:      map[string]*authn.PushRecord{},
	}
}

func clonePush(p *authn.PushRecord) authn.PushRecord {
	c := *p
	c.Nonce = bytes.Clone(p.Nonce)
	c.Devices = slices.Clone(p.Devices)
	c.Transaction = bytes.Clone(p.Transaction)
	return c
}

// expirePush marks a pending or approved push past its expiry, or from an
// old epoch, as expired.
func (s *Store) expirePush(p *authn.PushRecord, now time.Time) {
	live := p.State == authn.PushPending || p.State == authn.PushApproved
	if live && (!now.Before(p.ExpiresAt) || s.user(p.User).Epoch != p.Epoch) {
		p.State = authn.PushExpired
	}
}

// PutPush implements authn.Store.
func (s *Store) PutPush(_ context.Context, p authn.PushRecord, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pushes[p.ID]; ok {
		return authn.ErrStoreConflict
	}
	c := clonePush(&p)
	s.pushes[p.ID] = &c
	s.userPushes[p.User] = append(s.userPushes[p.User], p.ID)
	return nil
}

// Push implements authn.Store.
func (s *Store) Push(_ context.Context, id string, now time.Time) (authn.PushRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pushes[id]
	if !ok {
		return authn.PushRecord{}, authn.ErrStoreNotFound
	}
	s.expirePush(p, now)
	return clonePush(p), nil
}

// PendingPushes implements authn.HotStore.
//
// epoch is not read: the store checks the user's epoch in its own records.
func (s *Store) PendingPushes(_ context.Context, user, deviceID string, _ uint64, now time.Time) ([]authn.PushRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []authn.PushRecord
	for _, id := range s.userPushes[user] {
		p, ok := s.pushes[id]
		if !ok {
			continue
		}
		s.expirePush(p, now)
		if p.User == user && p.State == authn.PushPending && slices.Contains(p.Devices, deviceID) {
			out = append(out, clonePush(p))
		}
	}
	slices.SortFunc(out, func(a, b authn.PushRecord) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// SetPushState implements authn.HotStore.
//
// epoch is not read: the store checks the user's epoch in its own records.
func (s *Store) SetPushState(_ context.Context, user, id string, _ uint64, from, to authn.PushState, device string, now time.Time) (authn.PushRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pushes[id]
	if !ok || p.User != user {
		return authn.PushRecord{}, authn.ErrStoreNotFound
	}
	s.expirePush(p, now)
	if p.State != from {
		return clonePush(p), authn.ErrStoreConflict
	}
	p.State = to
	if device != "" {
		p.Answered = device
	}
	return clonePush(p), nil
}

// setPushOff is ChangeUser with PushOff set (authn.UserChange).
func (s *Store) setPushOff(_ context.Context, user string, off bool, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user(user).PushOff = off
	return nil
}

// suspendPush is ChangeUser with PushSuspended set (authn.UserChange).
func (s *Store) suspendPush(_ context.Context, user string, until, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.user(user).PushSuspended = until
	return nil
}

func cloneTOTP(t *authn.TOTPRecord) authn.TOTPRecord {
	c := *t
	c.Secret = bytes.Clone(t.Secret)
	return c
}

// putTOTP is ChangeUser with TOTP set (authn.UserChange).
func (s *Store) putTOTP(_ context.Context, t authn.TOTPRecord, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.totp[t.User]; ok && old.Active {
		return authn.ErrStoreConflict
	}
	c := cloneTOTP(&t)
	c.Active = false
	s.totp[t.User] = &c
	return nil
}

// CommitTOTP implements authn.Store.
func (s *Store) CommitTOTP(_ context.Context, user, id string, step uint64, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.totp[user]
	if !ok || t.ID != id {
		return authn.ErrStoreNotFound
	}
	if t.Active && step <= t.LastStep {
		return authn.ErrStoreConflict
	}
	t.Active, t.LastStep = true, step
	return nil
}

// deleteTOTP is ChangeUser with DeleteTOTP set (authn.UserChange).
func (s *Store) deleteTOTP(_ context.Context, user string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.totp[user]; !ok {
		return authn.ErrStoreNotFound
	}
	delete(s.totp, user)
	return nil
}

// TOTP implements authn.Store.
func (s *Store) TOTP(_ context.Context, user string) (authn.TOTPRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.totp[user]
	if !ok {
		return authn.TOTPRecord{}, authn.ErrStoreNotFound
	}
	return cloneTOTP(t), nil
}

// putRecoveryCodes is ChangeUser with RecoveryCodes set (authn.UserChange).
func (s *Store) putRecoveryCodes(_ context.Context, user string, macs [][32]byte, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recovery[user] = slices.Clone(macs)
	return nil
}

// TakeRecoveryCode implements authn.Store.
func (s *Store) TakeRecoveryCode(_ context.Context, user string, candidates [][32]byte) (bool, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := s.recovery[user]
	match := -1
	for i := range codes {
		for _, c := range candidates {
			if subtle.ConstantTimeCompare(codes[i][:], c[:]) == 1 && match < 0 {
				match = i
			}
		}
	}
	if match < 0 {
		return false, len(codes), nil
	}
	s.recovery[user] = slices.Delete(slices.Clone(codes), match, match+1)
	return true, len(s.recovery[user]), nil
}

// ResetUser implements authn.Store.
func (s *Store) ResetUser(_ context.Context, user, client string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.buckets[user][client]; ok {
		u.Reset()
	}
	return nil
}

// ClearLockout implements authn.Store.
func (s *Store) ClearLockout(_ context.Context, user string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.buckets, user)
	return nil
}

// Lockout implements authn.Store.
func (s *Store) Lockout(_ context.Context, user string, now time.Time) ([]authn.ClientLockout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []authn.ClientLockout{{Client: ""}}
	for _, c := range slices.Sorted(maps.Keys(s.buckets[user])) {
		if c == "" {
			out[0].State = *s.buckets[user][c]
			continue
		}
		out = append(out, authn.ClientLockout{Client: c, State: *s.buckets[user][c]})
	}
	return out, nil
}

// bucket returns the lockout bucket an attempt of the user's client
// counts in, made if missing (authn.HotStore.Attempt): the client's own,
// or the shared one past p.MaxClients live buckets of known clients.
func (s *Store) bucket(user, client string, p authn.LockPolicy, now time.Time) (*authn.UserState, string) {
	m := s.buckets[user]
	if m == nil {
		m = map[string]*authn.UserState{}
		s.buckets[user] = m
	}
	if u, ok := m[client]; ok {
		return u, client
	}
	if client != "" {
		live := 0
		for c, u := range m {
			switch {
			case c == "":
			case p.Stale(*u, now):
				delete(m, c)
			default:
				live++
			}
		}
		if live >= p.MaxClients {
			return s.bucket(user, "", p, now)
		}
	}
	u := &authn.UserState{}
	m[client] = u
	return u, client
}

// DeleteUser implements authn.Store.
func (s *Store) DeleteUser(_ context.Context, user string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, a := range s.activations {
		if a.User == user {
			delete(s.activations, id)
		}
	}
	for id, ch := range s.challenges {
		if ch.User == user {
			delete(s.challenges, id)
		}
	}
	delete(s.byUser, user)
	delete(s.devices, user)
	delete(s.devVersion, user) // the counter goes on: a returning user never sees an old version
	delete(s.users, user)
	delete(s.buckets, user)
	delete(s.questions, user)
	delete(s.issued, user)
	delete(s.totp, user)
	delete(s.recovery, user)
	s.dropRemoved(user)
	for _, id := range s.userPushes[user] {
		delete(s.pushes, id)
	}
	delete(s.userPushes, user)
	return nil
}

// TakeOnce implements authn.Store.
func (s *Store) TakeOnce(_ context.Context, key string, expiresAt, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.taken[key]; ok && now.Before(until) {
		return authn.ErrStoreConflict
	}
	s.taken[key] = expiresAt
	return nil
}

// Spend implements authn.Store.
func (s *Store) Spend(_ context.Context, key string, limit int, window time.Duration, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.budgets[key]
	if !ok || !now.Before(b.ends) {
		b = &budget{ends: now.Add(window)}
		s.budgets[key] = b
	}
	if b.used >= limit {
		return 0, authn.ErrStoreLimit
	}
	b.used++
	return limit - b.used, nil
}

// Refund implements authn.HotStore.
func (s *Store) Refund(_ context.Context, key, mark string, window time.Duration, spentAt, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.budgets[key]
	if !ok || !now.Before(b.ends) || b.ends.Add(-window).After(spentAt) || b.used <= 0 || b.refunded[mark] {
		return false, nil
	}
	if b.refunded == nil {
		b.refunded = map[string]bool{}
	}
	b.refunded[mark] = true
	b.used--
	return true, nil
}

func cloneActivation(a *authn.ActivationRecord) authn.ActivationRecord {
	c := *a
	c.Pending = bytes.Clone(a.Pending)
	c.RequestHash = bytes.Clone(a.RequestHash)
	c.ServerConfirm = bytes.Clone(a.ServerConfirm)
	return c
}

func cloneDevice(d *authn.DeviceRecord) authn.DeviceRecord {
	c := *d
	c.Secret = bytes.Clone(d.Secret)
	return c
}

func cloneChallenge(ch *authn.ChallengeRecord) authn.ChallengeRecord {
	c := *ch
	c.Tags = slices.Clone(ch.Tags)
	c.Names = maps.Clone(ch.Names)
	c.Payload = bytes.Clone(ch.Payload)
	return c
}

// expire marks an activation past its expiry (a waiting one's offer, a
// completed one's pairing deadline) as expired, and deletes the pending
// device of a completed one.
func (s *Store) expire(a *authn.ActivationRecord, now time.Time) {
	if (a.State == authn.ActivationWaiting || a.State == authn.ActivationCompleted) && !now.Before(a.ExpiresAt) {
		s.end(a, authn.ActivationExpired)
	}
}

// PutActivation implements authn.Store.
func (s *Store) PutActivation(_ context.Context, a authn.ActivationRecord, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.activations[a.SessionID]; ok {
		return authn.ErrStoreConflict
	}
	// One offer at a time: the user's activations not yet paired are
	// void, and their pending devices go.
	for _, old := range s.activations {
		if old.User == a.User && (old.State == authn.ActivationWaiting || old.State == authn.ActivationCompleted) {
			s.cancel(old)
		}
	}
	c := cloneActivation(&a)
	s.activations[a.SessionID] = &c
	return nil
}

// GetActivation implements authn.Store.
func (s *Store) GetActivation(_ context.Context, sessionID string, now time.Time) (authn.ActivationRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.activations[sessionID]
	if !ok {
		return authn.ActivationRecord{}, authn.ErrStoreNotFound
	}
	s.expire(a, now)
	return cloneActivation(a), nil
}

// CompleteActivation implements authn.Store.
func (s *Store) CompleteActivation(_ context.Context, sessionID string, requestHash, serverConfirm []byte, dev authn.DeviceRecord, maxDevices int, now time.Time) (authn.ActivationRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.activations[sessionID]
	if !ok {
		return authn.ActivationRecord{}, authn.ErrStoreNotFound
	}
	s.expire(a, now)
	switch a.State {
	case authn.ActivationWaiting:
	case authn.ActivationCompleted, authn.ActivationActive:
		return cloneActivation(a), authn.ErrStoreConflict
	default:
		return authn.ActivationRecord{}, authn.ErrStoreNotFound
	}
	// Pending devices do not count: only the active ones fill the limit.
	active := 0
	for _, d := range s.devices[a.User] {
		if d.State == authn.DeviceActive {
			active++
		}
	}
	if active >= maxDevices {
		return authn.ActivationRecord{}, authn.ErrStoreLimit
	}
	a.State = authn.ActivationCompleted
	// The pairing deadline: the offer's lifetime again, from now.
	a.ExpiresAt = now.Add(a.ExpiresAt.Sub(a.CreatedAt))
	clear(a.Pending)
	a.Pending = nil
	a.RequestHash = bytes.Clone(requestHash)
	a.ServerConfirm = bytes.Clone(serverConfirm)
	a.DeviceID = dev.ID
	d := cloneDevice(&dev)
	d.State = authn.DevicePending
	s.devices[a.User] = append(s.devices[a.User], &d)
	return cloneActivation(a), nil
}

// CancelActivation implements authn.Store.
func (s *Store) CancelActivation(_ context.Context, user, sessionID string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.activations[sessionID]
	if !ok || a.User != user {
		return authn.ErrStoreNotFound
	}
	s.expire(a, now)
	if a.State != authn.ActivationWaiting && a.State != authn.ActivationCompleted {
		return authn.ErrStoreNotFound
	}
	s.cancel(a)
	return nil
}

// cancel cancels an activation and drops the pending device it made.
func (s *Store) cancel(a *authn.ActivationRecord) { s.end(a, authn.ActivationCancelled) }

// end ends an activation in state st and drops the pending device it
// made.
func (s *Store) end(a *authn.ActivationRecord, st authn.ActivationState) {
	a.State = st
	clear(a.Pending)
	a.Pending = nil
	if a.DeviceID != "" {
		s.devices[a.User] = slices.DeleteFunc(s.devices[a.User], func(d *authn.DeviceRecord) bool {
			return d.ID == a.DeviceID && d.State == authn.DevicePending
		})
	}
}

func (s *Store) device(user, id string) *authn.DeviceRecord {
	for _, d := range s.devices[user] {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// pendingDevice returns the user's device of that ID if it is pending
// and its activation has not lapsed (a lapsed one is expired now, and
// its device deleted); nil otherwise.
func (s *Store) pendingDevice(user, deviceID string, now time.Time) *authn.DeviceRecord {
	d := s.device(user, deviceID)
	if d == nil || d.State != authn.DevicePending {
		return nil
	}
	if a, ok := s.activations[d.SessionID]; ok {
		s.expire(a, now)
	}
	if d = s.device(user, deviceID); d == nil || d.State != authn.DevicePending {
		return nil
	}
	return d
}

// countPairingTry is ChangeDevice with PairingTry set (authn.DeviceChange).
func (s *Store) countPairingTry(_ context.Context, user, deviceID string, max int, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.pendingDevice(user, deviceID, now)
	if d == nil {
		return 0, authn.ErrStoreNotFound
	}
	if d.PairTries >= max {
		s.discard(d)
		return d.PairTries, authn.ErrStoreLimit
	}
	d.PairTries++
	return d.PairTries, nil
}

// discardDevice is ChangeDevice with Discard set (authn.DeviceChange).
func (s *Store) discardDevice(_ context.Context, user, deviceID string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.pendingDevice(user, deviceID, now)
	if d == nil {
		return authn.ErrStoreNotFound
	}
	s.discard(d)
	return nil
}

// discard deletes a pending device and sets its activation discarded.
func (s *Store) discard(d *authn.DeviceRecord) {
	if a, ok := s.activations[d.SessionID]; ok && a.DeviceID == d.ID {
		s.end(a, authn.ActivationDiscarded)
	}
	s.devices[d.User] = slices.DeleteFunc(s.devices[d.User], func(x *authn.DeviceRecord) bool { return x.ID == d.ID })
}

// activateDevice is ChangeDevice with Activate set (authn.DeviceChange).
func (s *Store) activateDevice(_ context.Context, user, deviceID string, removedUntil, now time.Time) (authn.DeviceRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.pendingDevice(user, deviceID, now)
	if d == nil {
		return authn.DeviceRecord{}, authn.ErrStoreNotFound
	}
	d.State = authn.DeviceActive
	s.raiseDevices(user)
	if a, ok := s.activations[d.SessionID]; ok && a.State == authn.ActivationCompleted {
		a.State = authn.ActivationActive
	}
	if d.Replacing != "" {
		if old := s.device(user, d.Replacing); old != nil {
			s.keepRemoved(old, removedUntil, now)
			s.devices[user] = slices.DeleteFunc(s.devices[user], func(x *authn.DeviceRecord) bool { return x.ID == d.Replacing })
			s.user(user).Epoch++
		}
		d.Replacing = ""
	}
	return cloneDevice(d), nil
}

// Devices implements authn.Store.
func (s *Store) Devices(_ context.Context, user string) ([]authn.DeviceRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]authn.DeviceRecord, 0, len(s.devices[user]))
	for _, d := range s.devices[user] {
		out = append(out, cloneDevice(d))
	}
	return out, nil
}

// renameDevice is ChangeDevice with Name set (authn.DeviceChange).
func (s *Store) renameDevice(_ context.Context, user, deviceID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.device(user, deviceID)
	if d == nil {
		return authn.ErrStoreNotFound
	}
	d.Name = name
	s.raiseDevices(user)
	return nil
}

// setPushToken is ChangeDevice with PushToken set (authn.DeviceChange),
// and PushTokenWas as was.
func (s *Store) setPushToken(_ context.Context, user, deviceID, token string, was *string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.device(user, deviceID)
	if d == nil {
		return authn.ErrStoreNotFound
	}
	if was != nil && d.PushToken != *was {
		return authn.ErrStoreConflict
	}
	d.PushToken = token
	return nil
}

// revokeDevice is ChangeDevice with Revoke set (authn.DeviceChange).
func (s *Store) revokeDevice(_ context.Context, user, deviceID string, removedUntil, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.device(user, deviceID)
	if d == nil {
		return authn.ErrStoreNotFound
	}
	if a, ok := s.activations[d.SessionID]; ok && a.State == authn.ActivationCompleted {
		a.State = authn.ActivationCancelled
	}
	s.keepRemoved(d, removedUntil, now)
	s.devices[user] = slices.DeleteFunc(s.devices[user], func(x *authn.DeviceRecord) bool { return x.ID == deviceID })
	s.user(user).Epoch++
	s.raiseDevices(user)
	return nil
}

// DevicesPage implements authn.Store.
func (s *Store) DevicesPage(_ context.Context, afterUser, afterID string, limit int) ([]authn.DeviceRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*authn.DeviceRecord
	for _, ds := range s.devices {
		for _, d := range ds {
			if d.User > afterUser || (d.User == afterUser && d.ID > afterID) {
				all = append(all, d)
			}
		}
	}
	slices.SortFunc(all, func(a, b *authn.DeviceRecord) int {
		if c := strings.Compare(a.User, b.User); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	out := make([]authn.DeviceRecord, 0, min(limit, len(all)))
	for _, d := range all[:min(limit, len(all))] {
		out = append(out, cloneDevice(d))
	}
	return out, nil
}

// updateSecret is ChangeDevice with Secret set (authn.DeviceChange).
func (s *Store) updateSecret(_ context.Context, user, deviceID string, old, sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.device(user, deviceID)
	if d == nil {
		return authn.ErrStoreNotFound
	}
	if !bytes.Equal(d.Secret, old) {
		return authn.ErrStoreConflict
	}
	d.Secret = bytes.Clone(sealed)
	s.raiseDevices(user)
	return nil
}

func (s *Store) user(user string) *authn.UserState {
	u, ok := s.users[user]
	if !ok {
		u = &authn.UserState{}
		s.users[user] = u
	}
	return u
}

// User implements authn.Store.
func (s *Store) User(_ context.Context, user string, now time.Time) (authn.UserState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var u authn.UserState
	if r, ok := s.users[user]; ok {
		u = *r
	}
	// The lockout fields: those of the shared bucket of unknown clients.
	if b, ok := s.buckets[user][""]; ok {
		u.Failures, u.Level, u.LockedUntil, u.LastFailure, u.Slow, u.SlowSince = b.Failures, b.Level, b.LockedUntil, b.LastFailure, b.Slow, b.SlowSince
	}
	return u, nil
}

// PutChallenge implements authn.Store.
func (s *Store) PutChallenge(_ context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putChallenge(c, lim, now)
}

// putChallenge is PutChallenge, with s.mu held.
func (s *Store) putChallenge(c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	if _, ok := s.challenges[c.ID]; ok {
		return authn.ErrStoreConflict
	}
	if s.user(c.User).Epoch != c.Epoch {
		return authn.ErrStoreConflict
	}
	qs := s.questions[c.User]
	if until, ok := qs[c.Question]; ok && now.Before(until) {
		return authn.ErrStoreConflict
	}
	recent := slices.DeleteFunc(s.issued[c.User], func(t time.Time) bool { return !now.Before(t.Add(time.Minute)) })
	if len(recent) >= lim.PerMinute {
		s.issued[c.User] = recent
		return authn.ErrStoreLimit
	}
	// Void the oldest live challenges beyond the outstanding budget. The
	// user's live ones are found through byUser, not by a scan of every
	// user's: an ID there whose challenge was consumed, voided, swept or
	// has expired is dropped from the list here.
	var live []*authn.ChallengeRecord
	for _, id := range s.byUser[c.User] {
		if ch, ok := s.challenges[id]; ok && now.Before(ch.ExpiresAt) {
			live = append(live, ch)
		}
	}
	slices.SortFunc(live, func(a, b *authn.ChallengeRecord) int { return a.IssuedAt.Compare(b.IssuedAt) })
	for len(live) > 0 && len(live) >= lim.Outstanding {
		delete(s.challenges, live[0].ID)
		live = live[1:]
	}
	ids := s.byUser[c.User][:0]
	for _, ch := range live {
		ids = append(ids, ch.ID)
	}
	s.byUser[c.User] = append(ids, c.ID)
	if qs == nil {
		qs = map[string]time.Time{}
		s.questions[c.User] = qs
	}
	qs[c.Question] = now.Add(lim.Horizon)
	s.issued[c.User] = append(recent, now)
	cc := cloneChallenge(&c)
	s.challenges[c.ID] = &cc
	return nil
}

// Attempt implements authn.Store.
func (s *Store) Attempt(_ context.Context, user, client string, a *authn.ChallengeAnswer, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempt(user, client, a, p, now)
}

// attempt is Attempt, with s.mu held.
func (s *Store) attempt(user, client string, a *authn.ChallengeAnswer, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	u, client := s.bucket(user, client, p, now)
	if now.Before(u.LockedUntil) {
		return authn.AttemptResult{Outcome: authn.AttemptLocked, RetryAfter: u.LockedUntil.Sub(now), Failures: u.Failures, Slow: u.Slow, Client: client}, nil
	}
	if a == nil {
		// Counted; the caller checks.
		lock := p.Fail(u, now)
		return authn.AttemptResult{Outcome: authn.AttemptMismatch, RetryAfter: lock, Failures: u.Failures, Slow: u.Slow, Client: client}, nil
	}
	challengeID, mac, serverStep := a.ID, a.MAC, a.ServerStep
	ch, ok := s.challenges[challengeID]
	if ok && ch.User != user {
		ok = false
	}
	if ok && (!now.Before(ch.ExpiresAt) || ch.Epoch != s.user(user).Epoch) {
		delete(s.challenges, challengeID)
		return authn.AttemptResult{Outcome: authn.AttemptExpired, Failures: u.Failures, Slow: u.Slow, Client: client}, nil
	}
	// Counted before checked.
	lock := p.Fail(u, now)
	res := authn.AttemptResult{RetryAfter: lock, Failures: u.Failures, Slow: u.Slow, Client: client}
	if !ok {
		res.Outcome = authn.AttemptNoChallenge
		return res, nil
	}
	ch.Attempts++
	if ch.Attempts > p.MaxAttempts {
		delete(s.challenges, challengeID)
		res.Outcome = authn.AttemptExhausted
		return res, nil
	}
	res.Challenge = *ch
	res.Challenge.Tags = nil // the caller needs the question and epoch, not the tags
	res.Challenge.Names = maps.Clone(ch.Names)
	res.Challenge.Payload = bytes.Clone(ch.Payload)
	match := -1
	for i, t := range ch.Tags {
		eq := subtle.ConstantTimeCompare(mac[:], t.MAC[:])
		if eq == 1 && match < 0 && t.Admissible(serverStep, ch.Window) {
			match = i
		}
	}
	if match < 0 {
		res.Outcome = authn.AttemptMismatch
		return res, nil
	}
	delete(s.challenges, challengeID)
	u.Reset()
	res.Outcome = authn.AttemptMatch
	res.Match = ch.Tags[match]
	res.RetryAfter, res.Failures = 0, 0
	return res, nil
}

// CommitStep implements authn.Store.
func (s *Store) CommitStep(_ context.Context, user, deviceID string, epoch, step uint64, drift int, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commitStep(user, deviceID, epoch, step, drift)
}

// commitStep is CommitStep, with s.mu held.
func (s *Store) commitStep(user, deviceID string, epoch, step uint64, drift int) error {
	d := s.device(user, deviceID)
	if d == nil || d.State != authn.DeviceActive {
		return authn.ErrStoreNotFound
	}
	if s.user(user).Epoch != epoch || step < d.LastStep {
		return authn.ErrStoreConflict
	}
	if d.Drift != drift {
		s.raiseDevices(user)
	}
	d.LastStep, d.Drift = step, drift
	return nil
}

// RecordFailure implements authn.Store.
func (s *Store) RecordFailure(_ context.Context, user, client string, p authn.LockPolicy, now time.Time) (authn.UserState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, _ := s.bucket(user, client, p, now)
	p.Fail(u, now)
	return *u, nil
}

// Sweep implements authn.Store.
func (s *Store) Sweep(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, ch := range s.challenges {
		if !now.Before(ch.ExpiresAt) {
			delete(s.challenges, id)
			n++
		}
	}
	for user, ids := range s.byUser {
		ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := s.challenges[id]; return !ok })
		if len(ids) == 0 {
			delete(s.byUser, user)
		} else {
			s.byUser[user] = ids
		}
	}
	for id, a := range s.activations {
		if a.State == authn.ActivationCompleted && !now.Before(a.ExpiresAt) && s.device(a.User, a.DeviceID) != nil {
			n++ // the pending device expire deletes
		}
		s.expire(a, now)
		// Keep finished activations a day as tombstones, then drop them.
		if a.State != authn.ActivationWaiting && a.State != authn.ActivationCompleted && now.Sub(a.ExpiresAt) > 24*time.Hour {
			delete(s.activations, id)
			n++
		}
	}
	for user, qs := range s.questions {
		for q, until := range qs {
			if !now.Before(until) {
				delete(qs, q)
				n++
			}
		}
		if len(qs) == 0 {
			delete(s.questions, user)
		}
	}
	for id, p := range s.pushes {
		if now.Sub(p.ExpiresAt) > time.Hour {
			delete(s.pushes, id)
			n++
		}
	}
	for user, ids := range s.userPushes {
		ids = slices.DeleteFunc(ids, func(id string) bool { _, ok := s.pushes[id]; return !ok })
		if len(ids) == 0 {
			delete(s.userPushes, user)
		} else {
			s.userPushes[user] = ids
		}
	}
	for k, until := range s.taken {
		if !now.Before(until) {
			delete(s.taken, k)
			n++
		}
	}
	for k, b := range s.budgets {
		if !now.Before(b.ends) {
			delete(s.budgets, k)
			n++
		}
	}
	n += s.sweepRemoved(now)
	for user, ts := range s.issued {
		ts = slices.DeleteFunc(ts, func(t time.Time) bool { return !now.Before(t.Add(time.Minute)) })
		if len(ts) == 0 {
			delete(s.issued, user)
		} else {
			s.issued[user] = ts
		}
	}
	return n, nil
}
