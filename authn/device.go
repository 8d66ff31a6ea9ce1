package authn

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyline/keyline"
	"github.com/keyline/keyline/enroll"
)

// The device API's side of the Service: package deviceapi authenticates
// each request a phone makes with [Service.AuthenticateDevice], then
// makes the call through the [AuthenticatedDevice] it returns, which
// carries every call a device may make. The request MAC itself is package
// enroll's ([enroll.APIRequest]), shared with the phone.

// Device API errors. Those shared with package enroll are the same values.
var (
	// ErrDeviceAuth reports a device API request that does not
	// authenticate: an unknown device, a revoked one, one not yet paired,
	// or a MAC that does not verify. AuthenticateDevice returns this very
	// value for each, after the same work, and logs the reason.
	ErrDeviceAuth = enroll.ErrDeviceAuth

	// ErrAPIRequestTime reports a request whose time is more than
	// enroll.APIMaxSkew from the Service's clock.
	ErrAPIRequestTime = enroll.ErrAPIRequestTime

	// ErrAPIReplay reports a request whose nonce was taken before, on
	// any instance sharing the store.
	ErrAPIReplay = enroll.ErrAPIReplay

	// ErrInvalidAPIRequest reports a request that is not well formed.
	ErrInvalidAPIRequest = enroll.ErrInvalidAPIRequest

	// ErrRateLimited reports a device over its request budget
	// ([DeviceLimit]); it may try again when the window ends. It is
	// [keyline.ErrRateLimited], which the phone's client reads back.
	ErrRateLimited = keyline.ErrRateLimited
)

// MethodDeviceAPI is the method of the step-up proof an authenticated
// device API request stands for: possession of the device's api key. It
// only ever lets that device start its own replacement
// ([AuthenticatedDevice.StartMigration]); it never logs anybody in, and it is never
// handed out.
const MethodDeviceAPI Method = "device_api"

// Device request budget defaults.
const (
	DefaultDeviceRequests = 60          // requests per device per DefaultDeviceWindow
	DefaultDeviceWindow   = time.Minute // the budget's window
)

// DeviceLimit is a device's request budget: at most Requests per Window,
// counted in the store (Store.Spend), so that it holds across every
// instance sharing it. The zero value is the default, 60 a minute; a
// field of 0 or less takes its default.
type DeviceLimit struct {
	Requests int           // requests allowed per window
	Window   time.Duration // the window, fixed from the first request in it
}

func (l DeviceLimit) resolve() DeviceLimit {
	if l.Requests <= 0 {
		l.Requests = DefaultDeviceRequests
	}
	if l.Window <= 0 {
		l.Window = DefaultDeviceWindow
	}
	return l
}

// AuthenticatedDevice is a device whose device API request
// [Service.AuthenticateDevice] accepted: active, with a MAC that verified,
// a fresh time and an unused nonce. It is a capability: its fields are
// unexported, only AuthenticateDevice makes one, and the calls a device
// may make hang off it, each acting for this device of this user only. A
// nil or zero AuthenticatedDevice is refused (ErrDeviceAuth) by every
// method, and so is one that AuthenticateDevice did not make or whose
// fields changed since (through reflect and unsafe, or another copied
// over it), and a copy of one: pass it by pointer. Use it for the
// request it came with.
type AuthenticatedDevice struct {
	s   *Service
	dev Device
	at  time.Time // when the request was authenticated; zero: it was not
}

// Device returns the device that made the request, as it was when the
// request was authenticated; the zero Device for a nil or zero
// AuthenticatedDevice, or one that AuthenticateDevice did not make as it
// is.
func (d *AuthenticatedDevice) Device() Device {
	if !d.genuine() {
		return Device{}
	}
	return d.dev
}

// apiUserKey is the user as it appears in store keys of the device API:
// base64url, never raw.
func apiUserKey(user string) string { return base64.RawURLEncoding.EncodeToString([]byte(user)) }

// AuthenticateDevice checks a device API request: r as the server
// received it (the method, path, raw query and body hash it served, and
// the user, device ID, time and nonce of the Authorization header, see
// enroll.ParseAPIAuthorization) and the header's MAC. In this order:
//
//  1. r is well formed (ErrInvalidAPIRequest);
//  2. its time is within enroll.APIMaxSkew of the Service's clock
//     (ErrAPIRequestTime);
//  3. the device exists, its MAC verifies under the device's api key
//     (constant time), and it is active — ErrDeviceAuth otherwise, the
//     same value after the same work (an unknown device costs a dummy
//     unseal and a MAC too), so that the answer does not say which
//     devices exist; a revoked device no longer exists (only
//     [Service.DeviceStatus] tells it that it was removed);
//  4. the nonce was not taken before, on any instance (ErrAPIReplay);
//  5. the device is within its budget lim (ErrRateLimited).
//
// Before step 2, the request's address (FromAddr in opts) is checked
// against Config.Allow for the user the request names
// (ErrAddressNotAllowed; see [AddressPolicy]), before any secret work.
//
// Nothing is stored for a request refused before step 4, so a stranger
// cannot fill the store or spend a device's budget. The reason of every
// refusal goes to the audit log (event "device_auth_failed"), never a
// MAC or nonce.
func (s *Service) AuthenticateDevice(ctx context.Context, r enroll.APIRequest, mac []byte, lim DeviceLimit, opts ...LoginOption) (_ *AuthenticatedDevice, err error) {
	ctx, sp := s.trace(ctx, "AuthenticateDevice", "", "")
	defer sp.done(&err)
	d, _, err := s.authenticateDevice(ctx, r, mac, lim, false, opts)
	return d, err
}

// authenticateDevice is AuthenticateDevice; with status set (the status
// call, [Service.DeviceStatus]) it also reads the removed device of that
// ID, whatever the device is (the same reads for every request), and an
// unknown device that was removed is checked as the device was: a
// request whose MAC verifies under its api key, with a fresh time and an
// unused nonce, within the budget, returns its RemovedRecord and no
// AuthenticatedDevice.
func (s *Service) authenticateDevice(ctx context.Context, r enroll.APIRequest, mac []byte, lim DeviceLimit, status bool, opts []LoginOption) (*AuthenticatedDevice, *RemovedRecord, error) {
	if err := checkUser(r.User); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidAPIRequest, err) // a header that is not well formed, and why
	}
	if _, err := r.Canonical(); err != nil {
		return nil, nil, err
	}
	if err := s.admitAddress(ctx, "", r.User, r.DeviceID, resolveLogin(opts).addr); err != nil {
		return nil, nil, err
	}
	now := s.now()
	if enroll.CheckAPIRequestTime(now, r.Time) != nil {
		s.event(ctx, EventDeviceAuthFailed, "", r.User, r.DeviceID, ReasonTime)
		return nil, nil, ErrAPIRequestTime
	}
	d, err := s.device(ctx, r.User, r.DeviceID)
	found := err == nil
	if err != nil && !errors.Is(err, ErrStoreNotFound) {
		return nil, nil, storeErr(err)
	}
	var gone RemovedRecord
	removed := false
	if status {
		if gone, err = s.records.RemovedDevice(ctx, r.User, r.DeviceID, now); err != nil && !errors.Is(err, ErrStoreNotFound) {
			return nil, nil, storeErr(err)
		}
		removed = err == nil && !found
		if removed {
			d = gone.Device
		}
	}
	// The same work whether or not the device exists: unseal a root
	// secret, derive an api key, compute the MAC.
	var root []byte
	switch {
	case found:
		root, err = s.keys.Open(kindDeviceRoot, d.User, d.ID, d.Secret)
	case removed:
		// A removed device's secret sealed under a key retired since
		// no longer opens: that device is as unknown.
		if root, err = s.keys.Open(kindDeviceRoot, d.User, d.ID, d.Secret); err != nil {
			removed = false
			root, err = s.keys.Open(kindDummy, "", "", s.dummy)
		}
	default:
		root, err = s.keys.Open(kindDummy, "", "", s.dummy)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("authn: device secret does not open: %w", err)
	}
	key := enroll.APIKey(root)
	clear(root)
	verr := enroll.VerifyAPIRequest(key, r, mac)
	key.Zero()
	var reason Reason
	switch {
	case !found && !removed:
		reason = ReasonUnknownDevice
	case verr != nil:
		reason = ReasonBadMAC
	case found && d.State != DeviceActive:
		reason = ReasonNotActive
	}
	if reason != "" {
		s.event(ctx, EventDeviceAuthFailed, "", r.User, r.DeviceID, reason)
		return nil, nil, ErrDeviceAuth
	}
	// Only an authentic request reaches the store's single-use marks and
	// budgets: a replay is refused before it spends the device's budget.
	if err := s.useDeviceNonce(ctx, d.User, d.ID, r.Nonce, r.Time); err != nil {
		if errors.Is(err, ErrAPIReplay) {
			s.event(ctx, EventDeviceAuthFailed, "", d.User, d.ID, ReasonReplay)
		}
		return nil, nil, err
	}
	lim = lim.resolve()
	if _, err := s.hot.Spend(ctx, "api-rate:"+apiUserKey(d.User)+":"+d.ID, lim.Requests, lim.Window, now); err != nil {
		if errors.Is(err, ErrStoreLimit) {
			s.event(ctx, EventDeviceRateLimited, "", d.User, d.ID, "")
			return nil, nil, ErrRateLimited
		}
		return nil, nil, storeErr(err)
	}
	if removed {
		s.event(ctx, EventRemovedDeviceTold, "", d.User, d.ID, "")
		return nil, &gone, nil
	}
	return s.newAuthenticatedDevice(deviceOf(d), now), nil, nil
}

// useDeviceNonce takes a device API request's nonce once, for the device
// of user, across every instance sharing the store (Store.TakeOnce): a
// second use while a request with that time could still be accepted is
// ErrAPIReplay. The mark lives until requestTime + enroll.APIMaxSkew + 1s,
// after which the time check refuses the request anyway; a nonce whose
// request is already too old for that is ErrAPIRequestTime. A nonce other
// than enroll.APINonceSize bytes, or a device ID other than 32 hex digits,
// is ErrInvalidAPIRequest. AuthenticateDevice calls it, after the MAC
// verified.
func (s *Service) useDeviceNonce(ctx context.Context, user, deviceID string, nonce []byte, requestTime time.Time) error {
	if err := checkUser(user); err != nil {
		return err
	}
	if len(nonce) != enroll.APINonceSize || len(deviceID) != 32 {
		return fmt.Errorf("%w: nonce or device ID of the wrong size", ErrInvalidAPIRequest)
	}
	if _, err := hex.DecodeString(deviceID); err != nil {
		return fmt.Errorf("%w: device ID is not hex", ErrInvalidAPIRequest)
	}
	now := s.now()
	until := requestTime.Add(enroll.APIMaxSkew + time.Second)
	if !until.After(now) {
		return ErrAPIRequestTime
	}
	key := "api-nonce:" + apiUserKey(user) + ":" + deviceID + ":" + hex.EncodeToString(nonce)
	switch err := s.hot.TakeOnce(ctx, key, until, now); {
	case errors.Is(err, ErrStoreConflict):
		return ErrAPIReplay
	case err != nil:
		return storeErr(err)
	}
	return nil
}

// authenticated refuses an AuthenticatedDevice that AuthenticateDevice
// did not make, or that was changed since (see capability.go), and
// returns the Service that made it.
func (d *AuthenticatedDevice) authenticated() (*Service, error) {
	if !d.genuine() {
		return nil, ErrDeviceAuth
	}
	return d.s, nil
}

// PendingPushes returns the sealed prompts waiting for the device, oldest
// first: what a phone fetches when the OS notification (which carries no
// content) arrives. A device revoked since it authenticated is
// ErrNotFound.
func (d *AuthenticatedDevice) PendingPushes(ctx context.Context) (_ [][]byte, err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.PendingPushes", MethodPush)
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return nil, err
	}
	return s.pendingPushes(ctx, d.dev.User, d.dev.ID)
}

// PushPrompt returns the sealed prompt of one push request for the
// device: how a phone whose notification carried only the request ID
// fetches it, transaction included (a transaction push carries the
// canonical transaction in its prompt). A request that is not the user's,
// did not notify this device, or does not exist is ErrNotFound; one that
// expired is ErrExpired; one already answered, finished or withdrawn is
// ErrAlreadyUsed.
func (d *AuthenticatedDevice) PushPrompt(ctx context.Context, requestID string) (_ []byte, err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.PushPrompt", MethodPush)
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return nil, err
	}
	if requestID == "" || len(requestID) > 64 {
		return nil, ErrNotFound
	}
	rec, err := s.push(ctx, requestID, s.now())
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return nil, ErrNotFound
	case err != nil:
		return nil, storeErr(err)
	case rec.User != d.dev.User || !slices.Contains(rec.Devices, d.dev.ID):
		return nil, ErrNotFound
	}
	switch rec.State {
	case PushPending:
	case PushExpired:
		return nil, errPushExpired
	default:
		return nil, fmt.Errorf("%w: the push request is over", errPushUsed)
	}
	dev, err := s.device(ctx, d.dev.User, d.dev.ID)
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return nil, ErrDeviceAuth // revoked since it authenticated
	case err != nil:
		return nil, storeErr(err)
	}
	return s.sealPrompt(rec, dev)
}

// AnswerPush takes a push answer the device posted: the request must be
// one of the user's that notified this device (ErrPromptNotForDevice
// otherwise; an unknown request is ErrInvalidPushAnswer, as for an answer
// no device made); then the answer's MAC says which notified device made
// it. A denial ends the request and suspends push for the user
// (Config.PushSuspend) with an alert — it is not a lockout failure, so a
// victim who says no cannot lock themselves out; an approval with the
// wrong number ends the request and counts as a failure
// (ErrWrongNumber); an approval of a transaction push must carry the
// transaction's signature, checked (and counted) like
// [Service.FinishTransaction]'s. An answer to a request that expired or
// was withdrawn is ErrExpired; one whose time step is off the server's
// clock is a *enroll.PushClockError (ErrPushClock) with the server's
// time, and the request stays pending; one to a request answered before
// by another answer is ErrPushAnswered (which matches ErrAlreadyUsed).
// The very same answer sent again gets the first one's outcome, once
// more, without a second effect: a phone that lost the reply may retry.
func (d *AuthenticatedDevice) AnswerPush(ctx context.Context, a enroll.PushAnswer) (err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.AnswerPush", MethodPush)
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return err
	}
	rec, err := s.push(ctx, a.RequestID, s.now())
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return ErrInvalidPushAnswer
	case err != nil:
		return storeErr(err)
	case rec.User != d.dev.User || !slices.Contains(rec.Devices, d.dev.ID):
		s.event(ctx, EventPushAnswerRefused, MethodPush, d.dev.User, d.dev.ID, ReasonNotNotified)
		return ErrPromptNotForDevice
	}
	return s.answerPush(ctx, d.dev.ID, a)
}

// SetPushToken records the device's rotated OS push token: at most 4096
// bytes of UTF-8 without control or bidi characters (ErrInvalidInput), ""
// for none (the device then gets no pushes).
func (d *AuthenticatedDevice) SetPushToken(ctx context.Context, token string) (err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.SetPushToken", MethodPush)
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return err
	}
	if len(token) > 4096 || !utf8.ValidString(token) || strings.ContainsFunc(token, func(r rune) bool {
		return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
	}) {
		return fmt.Errorf("authn: %w: push token is not at most 4096 bytes of printable text", ErrInvalidInput)
	}
	if err := s.updatePushToken(ctx, d.dev.User, d.dev.ID, token); err != nil {
		if errors.Is(err, ErrNotFound) {
			return ErrDeviceAuth // revoked since it authenticated
		}
		return err
	}
	s.event(ctx, EventPushTokenUpdated, "", d.dev.User, d.dev.ID, "")
	return nil
}

// StartMigration starts an activation that replaces the device, for
// the user moving to a new phone: the old phone asks, its authenticated
// request is the step-up proof (of method MethodDeviceAPI, dated when it
// was authenticated, so it lapses after ProofTTL like any proof), and the
// offer it gets — shown on the old phone for the new one to scan or type —
// carries the old device's account name. The new phone completes it like
// any activation; it is paired by the code it shows, typed on the old
// phone ([AuthenticatedDevice.ConfirmMigration]), and the old device is revoked in the
// same store step as the new one becomes active. Like StartActivation,
// it voids the user's earlier activations not yet paired; the new
// device counts toward MaxDevicesPerUser once paired, when the old one
// goes.
func (d *AuthenticatedDevice) StartMigration(ctx context.Context) (_ enroll.Offer, err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.StartMigration", "")
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return enroll.Offer{}, err
	}
	proof := s.newProof(d.dev.User, MethodDeviceAPI, d.at)
	offer, err := s.StartActivation(ctx, d.dev.User, proof, Replacing(d.dev.ID), AccountName(d.dev.AccountName))
	if err != nil {
		return enroll.Offer{}, err
	}
	s.event(ctx, EventMigrationStarted, "", d.dev.User, d.dev.ID, "")
	return offer, nil
}

// migration finds an activation that replaces d: one of another user, or
// that replaces another device or none, is ErrUnknownSession, as an
// unknown one is.
func (s *Service) migration(ctx context.Context, d *AuthenticatedDevice, sessionID string) (ActivationRecord, error) {
	a, err := s.activation(ctx, sessionID)
	if err != nil {
		return ActivationRecord{}, err
	}
	if a.User != d.dev.User || a.Replacing != d.dev.ID {
		return ActivationRecord{}, ErrUnknownSession
	}
	return a, nil
}

// MigrationStatus reports where an activation that replaces the device
// is, as [Service.ActivationStatus] does: the old phone polls it until a
// new phone has completed it (ActivationCompleted), then asks the user
// for the new phone's pairing code, TriesLeft times at most; after the
// third wrong code it reads ActivationDiscarded.
func (d *AuthenticatedDevice) MigrationStatus(ctx context.Context, sessionID string) (_ ActivationProgress, err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.MigrationStatus", "")
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return ActivationProgress{}, err
	}
	a, err := s.migration(ctx, d, sessionID)
	if err != nil {
		return ActivationProgress{}, err
	}
	return s.progress(ctx, a)
}

// ConfirmMigration pairs the new device of an activation that replaces
// this device, with the pairing code the new phone shows, typed on the
// old phone: [Service.ConfirmActivation], restricted to activations this
// device started. On success the new device is active and this one is
// revoked (the user's epoch moves in the same step); it returns the new
// device. Wrong codes count as ConfirmActivation's do: the third wrong
// one discards the new device (ErrPairingDiscarded).
func (d *AuthenticatedDevice) ConfirmMigration(ctx context.Context, sessionID, pairingCode string) (_ Device, err error) {
	ctx, sp := d.trace(ctx, "AuthenticatedDevice.ConfirmMigration", "")
	defer sp.done(&err)
	s, err := d.authenticated()
	if err != nil {
		return Device{}, err
	}
	a, err := s.migration(ctx, d, sessionID)
	if err != nil {
		return Device{}, err
	}
	nd, err := s.ConfirmActivation(ctx, d.dev.User, a.SessionID, pairingCode)
	if err != nil {
		return Device{}, err
	}
	s.event(ctx, EventDeviceMigrated, "", d.dev.User, d.dev.ID, "")
	return nd, nil
}
