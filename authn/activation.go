package authn

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/keyline/keyline/enroll"
)

// ActivationOption tunes StartActivation.
type ActivationOption func(*activationOptions)

type activationOptions struct {
	accountName string
	replacing   string
}

// AccountName sets the label the phone shows for the user (default: the
// user ID).
func AccountName(label string) ActivationOption {
	return func(o *activationOptions) { o.accountName = label }
}

// Replacing makes the new device replace deviceID: the old device is
// revoked when the new one is paired, in the same store step — both or
// neither.
func Replacing(deviceID string) ActivationOption {
	return func(o *activationOptions) { o.replacing = deviceID }
}

// Activation is a completed activation: the device (pending until paired,
// unless SkipPairing) and the server confirmation for the phone.
type Activation struct {
	Device        Device
	ServerConfirm []byte
}

// String returns the state's name ("waiting", "completed", ...): what
// the portal shows while it waits, and what the store keeps.
func (st ActivationState) String() string { return string(st) }

// StartActivation starts activating a phone for user and returns the
// offer to show (as a QR code, and its session ID for typing). A user who
// has a factor that logs them in ([Factors.HasFactor]: an active device,
// an active TOTP key or an unused recovery code) must present a step-up
// proof; a user with none starts without one — trust on first use:
// whoever holds the first factor then enrolls the first device. Starting
// voids the user's earlier activations that are not paired yet, waiting
// or completed (a completed one's pending device is deleted): one offer
// at a time.
func (s *Service) StartActivation(ctx context.Context, user string, proof *Proof, opts ...ActivationOption) (_ enroll.Offer, err error) {
	ctx, sp := s.trace(ctx, "StartActivation", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return enroll.Offer{}, err
	}
	var o activationOptions
	for _, f := range opts {
		f(&o)
	}
	now := s.now()
	has, err := s.hasFactor(ctx, user)
	if err != nil {
		return enroll.Offer{}, err
	}
	// A proof is needed once the user has a factor; one given is checked
	// anyway, so that a stale or foreign proof is never silently taken.
	if has || o.replacing != "" || proof != nil {
		if err := s.checkProof(user, proof, now); err != nil {
			s.event(ctx, EventActivationRefused, "", user, "", ReasonProof)
			return enroll.Offer{}, err
		}
		s.event(ctx, EventProofUsed, "", user, "", ReasonStartActivation)
	}
	if o.replacing != "" {
		if _, err := s.device(ctx, user, o.replacing); err != nil {
			if errors.Is(err, ErrStoreNotFound) {
				return enroll.Offer{}, fmt.Errorf("%w: device to replace", ErrNotFound)
			}
			return enroll.Offer{}, storeErr(err)
		}
	}
	p, err := enroll.Start(s.cfg.Issuer, user, enroll.StartOptions{AccountName: o.accountName, Suite: s.cfg.Suite, Now: now, TTL: s.cfg.ActivationTTL})
	if err != nil {
		return enroll.Offer{}, err
	}
	defer p.Zero()
	raw, err := p.MarshalBinary()
	if err != nil {
		return enroll.Offer{}, err
	}
	sealed, err := s.keys.Seal(kindPending, user, p.SessionID(), raw)
	clear(raw)
	if err != nil {
		return enroll.Offer{}, err
	}
	offer := p.Offer()
	rec := ActivationRecord{SessionID: offer.SessionID, User: user, State: ActivationWaiting, Pending: sealed,
		ExpiresAt: offer.ExpiresAt, Replacing: o.replacing, CreatedAt: now}
	if err := s.records.PutActivation(ctx, rec, now); err != nil {
		return enroll.Offer{}, storeErr(err)
	}
	s.event(ctx, EventActivationStarted, "", user, "", "")
	return offer, nil
}

// activation finds an activation by a session ID as typed or scanned.
func (s *Service) activation(ctx context.Context, sessionID string) (ActivationRecord, error) {
	sid, err := enroll.ParseSessionID(sessionID)
	if err != nil {
		return ActivationRecord{}, err
	}
	a, err := s.records.GetActivation(ctx, sid, s.now())
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return ActivationRecord{}, enroll.ErrUnknownSession
	case err != nil:
		return ActivationRecord{}, storeErr(err)
	}
	return a, nil
}

// pending unseals a waiting activation's enroll.Pending.
func (s *Service) pending(a ActivationRecord) (*enroll.Pending, error) {
	switch a.State {
	case ActivationWaiting:
	case ActivationExpired:
		return nil, errActivationExpired
	case ActivationCancelled:
		return nil, fmt.Errorf("%w: cancelled", enroll.ErrUnknownSession)
	default:
		return nil, errActivationUsed
	}
	raw, err := s.keys.Open(kindPending, a.User, a.SessionID, a.Pending)
	if err != nil {
		return nil, fmt.Errorf("authn: pending activation does not open: %w", err)
	}
	defer clear(raw)
	return enroll.UnmarshalPending(raw)
}

// Offer returns the offer of a waiting activation, for a phone whose user
// typed the session ID: a typo is ErrSessionIDTypo, an unknown session
// ErrUnknownSession. The phone checks it with enroll.Offer.Check.
func (s *Service) Offer(ctx context.Context, sessionID string) (_ enroll.Offer, err error) {
	ctx, sp := s.trace(ctx, "Offer", "", "")
	defer sp.done(&err)
	a, err := s.activation(ctx, sessionID)
	if err != nil {
		return enroll.Offer{}, err
	}
	p, err := s.pending(a)
	if err != nil {
		return enroll.Offer{}, err
	}
	defer p.Zero()
	return p.Offer(), nil
}

// CompleteActivation completes an activation with a phone's request. It
// is take-once: of concurrent completions one wins and the rest get
// ErrAlreadyUsed — except a byte-identical retry of the winner (a phone
// whose reply was lost), which gets *enroll.AlreadyUsedError carrying the
// same device and server confirmation. The device is pending until
// paired (ConfirmActivation), unless Config.SkipPairing.
func (s *Service) CompleteActivation(ctx context.Context, req enroll.Request) (_ Activation, err error) {
	ctx, sp := s.trace(ctx, "CompleteActivation", "", "")
	defer sp.done(&err)
	a, err := s.activation(ctx, req.SessionID)
	if err != nil {
		return Activation{}, err
	}
	now := s.now()
	if a.State == ActivationCompleted || a.State == ActivationActive {
		return Activation{}, s.alreadyUsed(ctx, a, req)
	}
	p, err := s.pending(a)
	if err != nil {
		return Activation{}, err
	}
	defer p.Zero()
	e, err := p.Complete(req, now)
	if err != nil {
		s.event(ctx, EventActivationFailed, "", a.User, "", reasonOf(err))
		return Activation{}, err
	}
	defer e.Secret.Zero()
	if s.cfg.VerifyDevice != nil {
		if err := s.cfg.VerifyDevice(ctx, a.User, req.Device, p.Offer().AttestationChallenge(req.Device.InstallID)); err != nil {
			// The hook's reason (which check refused the attestation) is
			// the audit trail's; the phone gets the one ErrDeviceIntegrity.
			s.emit(ctx, Event{Name: EventActivationFailed, User: a.User, Reason: ReasonAttestation, Note: err.Error()})
			return Activation{}, fmt.Errorf("%w: %w", ErrDeviceIntegrity, err)
		}
	}
	all, err := s.records.Devices(ctx, a.User)
	if err != nil {
		return Activation{}, storeErr(err)
	}
	for _, d := range all {
		// The same install already holds this user (and is not the device
		// being replaced).
		if d.ID != a.Replacing && d.InstallID == e.Device.InstallID {
			s.event(ctx, EventActivationFailed, "", a.User, d.ID, ReasonAlreadyEnrolled)
			return Activation{}, ErrAlreadyEnrolled
		}
	}
	sealed, err := s.keys.Seal(kindDeviceRoot, a.User, e.Device.ID, e.Secret)
	if err != nil {
		return Activation{}, err
	}
	rec := DeviceRecord{ID: e.Device.ID, User: a.User, Name: e.Device.Name, Platform: e.Device.Platform,
		AccountName: e.Device.AccountName, Suite: e.Device.Suite.String(), InstallID: e.Device.InstallID,
		State: DevicePending, Secret: sealed, SessionID: a.SessionID, Replacing: a.Replacing,
		PushToken: req.Device.PushToken, CreatedAt: now}
	won, err := s.records.CompleteActivation(ctx, a.SessionID, req.Hash(), e.ServerConfirm, rec, s.cfg.MaxDevicesPerUser, now)
	switch {
	case errors.Is(err, ErrStoreConflict):
		return Activation{}, s.alreadyUsed(ctx, won, req)
	case errors.Is(err, ErrStoreLimit):
		return Activation{}, ErrTooManyDevices
	case errors.Is(err, ErrStoreNotFound):
		return Activation{}, errActivationExpired
	case err != nil:
		return Activation{}, storeErr(err)
	}
	s.event(ctx, EventActivationCompleted, "", a.User, rec.ID, "")
	if s.cfg.SkipPairing {
		if rec, err = s.records.ChangeDevice(ctx, a.User, rec.ID, DeviceChange{Activate: true, RemovedUntil: now.Add(s.cfg.RemovedTTL)}, now); err != nil {
			return Activation{}, storeErr(err)
		}
		s.forgetKeys(a.User)
		if err := s.raiseEpoch(ctx, a.User, now); err != nil {
			return Activation{}, storeErr(err)
		}
		s.event(ctx, EventActivationPaired, "", a.User, rec.ID, ReasonPairingSkipped)
	}
	return Activation{Device: deviceOf(rec), ServerConfirm: bytes.Clone(e.ServerConfirm)}, nil
}

// alreadyUsed answers a completion of an activation completed before.
func (s *Service) alreadyUsed(ctx context.Context, a ActivationRecord, req enroll.Request) error {
	if subtle.ConstantTimeCompare(a.RequestHash, req.Hash()) == 1 {
		d, err := s.device(ctx, a.User, a.DeviceID)
		if err != nil {
			return errActivationUsed
		}
		return &enroll.AlreadyUsedError{Device: enrollDevice(d), ServerConfirm: bytes.Clone(a.ServerConfirm)}
	}
	s.event(ctx, EventActivationRace, "", a.User, "", ReasonSecondCompletion)
	return errActivationUsed
}

func enrollDevice(d DeviceRecord) enroll.Device {
	return enroll.Device{ID: d.ID, User: d.User, AccountName: d.AccountName, Name: d.Name, Platform: d.Platform,
		InstallID: d.InstallID, SessionID: d.SessionID, CreatedAt: d.CreatedAt}
}

func reasonOf(err error) Reason {
	for _, r := range []struct {
		err    error
		reason Reason
	}{
		{enroll.ErrExpired, ReasonExpired}, {enroll.ErrBadConfirmation, ReasonBadConfirmation},
		{enroll.ErrOfferMismatch, ReasonOfferMismatch}, {enroll.ErrDeviceIntegrity, ReasonIntegrity},
		{enroll.ErrWrongSession, ReasonWrongSession}, {enroll.ErrInvalidRequest, ReasonInvalidRequest},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ReasonOther
}

// ConfirmActivation pairs the device a phone completed: the portal
// session that started the activation types the 6-digit code the phone
// shows, before the pairing deadline (Config.ActivationTTL after the
// completion). Each try is counted before it is checked, and at most 3
// codes are ever compared, whatever the concurrency: the third wrong one
// discards the device (the activation reads ActivationDiscarded) with an
// alert event, and is answered with an error that matches both
// ErrWrongPairingCode and ErrPairingDiscarded; any code typed after it
// gets ErrPairingDiscarded. A device that replaces another revokes it in
// the same step. An activation that ended otherwise answers as its state
// says: ErrExpired, ErrAlreadyUsed (paired), ErrUnknownSession
// (cancelled, or voided by a newer offer).
func (s *Service) ConfirmActivation(ctx context.Context, user, sessionID, pairingCode string) (_ Device, err error) {
	ctx, sp := s.trace(ctx, "ConfirmActivation", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return Device{}, err
	}
	a, err := s.activation(ctx, sessionID)
	if err != nil {
		return Device{}, err
	}
	if a.User != user {
		return Device{}, enroll.ErrUnknownSession
	}
	if err := pairingRefusal(a.State); err != nil {
		return Device{}, err
	}
	now := s.now()
	try, err := s.records.ChangeDevice(ctx, user, a.DeviceID, DeviceChange{PairingTry: maxPairingTries}, now)
	switch {
	case errors.Is(err, ErrStoreLimit):
		s.event(ctx, EventActivationDiscarded, "", user, a.DeviceID, ReasonPairingTries)
		return Device{}, errPairingDiscarded
	case errors.Is(err, ErrStoreNotFound):
		return Device{}, s.pairingOver(ctx, a.SessionID)
	case err != nil:
		return Device{}, storeErr(err)
	}
	d, err := s.device(ctx, user, a.DeviceID)
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return Device{}, s.pairingOver(ctx, a.SessionID)
	case err != nil:
		return Device{}, storeErr(err)
	}
	root, err := s.openRoot(d)
	if err != nil {
		return Device{}, fmt.Errorf("authn: device secret does not open: %w", err)
	}
	k := enroll.DeriveKeys(root, s.cfg.Suite)
	clear(root)
	want := k.PairingCode(d.ID)
	k.Zero()
	s.observe(ctx, EventPairingCheck, "", user, d.ID)
	if subtle.ConstantTimeCompare([]byte(want), []byte(pairingCode)) != 1 {
		s.event(ctx, EventPairingFailed, "", user, d.ID, ReasonWrongCode)
		if try.PairTries < maxPairingTries {
			return Device{}, ErrWrongPairingCode
		}
		// The last try: the device goes with it.
		_, err := s.records.ChangeDevice(ctx, user, d.ID, DeviceChange{Discard: true}, now)
		switch {
		case errors.Is(err, ErrStoreNotFound):
			// Paired by a right code, or ended, meanwhile.
			return Device{}, ErrWrongPairingCode
		case err != nil:
			return Device{}, storeErr(err)
		}
		s.event(ctx, EventActivationDiscarded, "", user, d.ID, ReasonPairingTries)
		return Device{}, errLastPairingCode
	}
	d, err = s.records.ChangeDevice(ctx, user, d.ID, DeviceChange{Activate: true, RemovedUntil: now.Add(s.cfg.RemovedTTL)}, now)
	switch {
	case errors.Is(err, ErrStoreNotFound):
		return Device{}, s.pairingOver(ctx, a.SessionID)
	case err != nil:
		return Device{}, storeErr(err)
	}
	s.forgetKeys(user) // a device activated, and the one it replaces (a migration) revoked
	// A replacement bumped the epoch: the hot store follows it.
	if err := s.raiseEpoch(ctx, user, now); err != nil {
		return Device{}, storeErr(err)
	}
	s.event(ctx, EventActivationPaired, "", user, d.ID, "")
	return deviceOf(d), nil
}

// ActivationStatus reports where an activation of user is, for the
// portal page that waits for the phone: its state (ActivationWaiting
// until a phone completes it, then ActivationCompleted until its pairing
// code is typed — ActivationActive — or ActivationExpired,
// ActivationCancelled, ActivationDiscarded), the pairing tries left and
// when it ends (see [ActivationProgress]). An activation of another user
// is ErrUnknownSession, as an unknown one is.
func (s *Service) ActivationStatus(ctx context.Context, user, sessionID string) (_ ActivationProgress, err error) {
	ctx, sp := s.trace(ctx, "ActivationStatus", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return ActivationProgress{}, err
	}
	a, err := s.activation(ctx, sessionID)
	if err != nil {
		return ActivationProgress{}, err
	}
	if a.User != user {
		return ActivationProgress{}, enroll.ErrUnknownSession
	}
	return s.progress(ctx, a)
}

// CancelActivation cancels a waiting or completed (unpaired) activation
// of user; a device it created is discarded.
func (s *Service) CancelActivation(ctx context.Context, user, sessionID string) (err error) {
	ctx, sp := s.trace(ctx, "CancelActivation", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	sid, err := enroll.ParseSessionID(sessionID)
	if err != nil {
		return err
	}
	if err := s.records.CancelActivation(ctx, user, sid, s.now()); err != nil {
		if errors.Is(err, ErrStoreNotFound) {
			return enroll.ErrUnknownSession
		}
		return storeErr(err)
	}
	s.event(ctx, EventActivationCancelled, "", user, "", "")
	return nil
}

// Devices returns the user's devices, pending ones included.
func (s *Service) Devices(ctx context.Context, user string) (_ []Device, err error) {
	ctx, sp := s.trace(ctx, "Devices", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return nil, err
	}
	all, err := s.records.Devices(ctx, user)
	if err != nil {
		return nil, storeErr(err)
	}
	out := make([]Device, 0, len(all))
	for _, d := range all {
		out = append(out, deviceOf(d))
	}
	return out, nil
}

// RenameDevice sets the name a device shows under.
func (s *Service) RenameDevice(ctx context.Context, user, deviceID, name string) (err error) {
	ctx, sp := s.trace(ctx, "RenameDevice", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	if len(name) > 128 {
		return fmt.Errorf("authn: %w: name longer than 128 bytes", ErrInvalidInput)
	}
	if _, err := s.records.ChangeDevice(ctx, user, deviceID, DeviceChange{Name: &name}, s.now()); err != nil {
		if errors.Is(err, ErrStoreNotFound) {
			return ErrNotFound
		}
		return storeErr(err)
	}
	s.devicesChangedQuietly(ctx, user, s.now()) // the name enters the challenge (Result.DeviceName)
	return nil
}

// RevokeDevice deletes a device, given a step-up proof of the user. The
// user's epoch moves in the same store step, so no challenge issued
// before — on any instance — can be answered by it.
func (s *Service) RevokeDevice(ctx context.Context, user, deviceID string, proof *Proof) (err error) {
	ctx, sp := s.trace(ctx, "RevokeDevice", "", user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	if err := s.checkProof(user, proof, s.now()); err != nil {
		s.event(ctx, EventRevokeRefused, "", user, deviceID, ReasonProof)
		return err
	}
	s.event(ctx, EventProofUsed, "", user, deviceID, ReasonRevokeDevice)
	now := s.now()
	if _, err := s.records.ChangeDevice(ctx, user, deviceID, DeviceChange{Revoke: true, RemovedUntil: now.Add(s.cfg.RemovedTTL)}, now); err != nil {
		if errors.Is(err, ErrStoreNotFound) {
			return ErrNotFound
		}
		return storeErr(err)
	}
	s.forgetKeys(user)
	// The records bumped the epoch with the revocation; the hot store
	// follows, so that challenges issued before read expired.
	if err := s.raiseEpoch(ctx, user, now); err != nil {
		return storeErr(err)
	}
	s.event(ctx, EventDeviceRevoked, "", user, deviceID, "")
	return nil
}
