package authn

// EventName names an audit event. The names are stable: services alert
// and count on them (see [Observer]). Each constant's comment says what
// happened, the [Method] the event carries ("" when no factor is
// concerned), the [Reason]s it may carry, and whether it is logged at
// slog's warning level (the events worth an alert) or at info.
type EventName string

// Login with a challenge/response, a TOTP code, a recovery code or a push
// approval.
const (
	// EventChallengeIssued: BeginChallenge or BeginTransaction issued a
	// challenge. Method challenge.
	EventChallengeIssued EventName = "challenge_issued"
	// EventChallengeRefused: a challenge was not issued; reason
	// [ReasonBudget]. Method challenge.
	EventChallengeRefused EventName = "challenge_refused"
	// EventCheck: one response compared with what the user's devices (or
	// TOTP key, or recovery codes) could answer. Shown to the Observer
	// only, never logged: it is the event of every login.
	EventCheck EventName = "check"
	// EventLoginSucceeded: the second factor succeeded; Method says
	// which.
	EventLoginSucceeded EventName = "login_succeeded"
	// EventLoginFailed (warning): a challenge response failed; reason
	// [ReasonExpired], [ReasonNoChallenge], [ReasonAttemptsExhausted],
	// [ReasonMalformed], [ReasonMismatch], [ReasonDeviceGone] or
	// [ReasonReplay]. Method challenge.
	EventLoginFailed EventName = "login_failed"
	// EventLoginRefused: a locked user's answer was refused unchecked;
	// reason [ReasonLocked]. Method challenge, totp or recovery.
	EventLoginRefused EventName = "login_refused"
	// EventUserLocked (warning): a failure locked the user; reason
	// [ReasonFailures]. Method: the factor that failed.
	EventUserLocked EventName = "user_locked"
	// EventResyncOffered: a response matched only far from the expected
	// time step; the next challenge resynchronises; reason [ReasonDrift].
	// Method challenge.
	EventResyncOffered EventName = "resync_offered"
	// EventDeviceResynced: the resynchronising challenge was answered and
	// the device's drift stored. Method challenge.
	EventDeviceResynced EventName = "device_resynced"
	// EventTransactionStarted: BeginTransaction bound a challenge to a
	// transaction. Method challenge.
	EventTransactionStarted EventName = "transaction_started"
	// EventTransactionSigned: FinishTransaction accepted the signature
	// (method challenge), or FinishPush finished a transaction push the
	// phone approved and signed (method push; such a push raises no
	// EventLoginSucceeded).
	EventTransactionSigned EventName = "transaction_signed"
)

// Lockout buckets and the long horizon (see the package documentation,
// "Lockout").
const (
	// EventKnownClientRefused: a login call presented a known-client
	// token that does not verify for the user; the call went on as an
	// unknown client's. Reason [ReasonInvalid] (altered, another user's
	// or key's, not well formed), [ReasonExpired] or [ReasonRevoked] (an
	// older epoch). No method.
	EventKnownClientRefused EventName = "known_client_refused"
	// EventSlowGuessing (warning): the failures of one of the user's
	// lockout buckets over the long horizon (LockPolicy.Horizon) reached
	// the alert threshold; reason [ReasonSlowAlert], or [ReasonSlowLock]
	// when they reached the lock threshold and locked the bucket.
	// Method: the factor that failed.
	EventSlowGuessing EventName = "slow_guessing"
)

// Authenticator apps (TOTP).
const (
	// EventTOTPStarted: StartTOTP made a key to confirm. Method totp.
	EventTOTPStarted EventName = "totp_started"
	// EventTOTPImported: ImportTOTP stored a key. Method totp.
	EventTOTPImported EventName = "totp_imported"
	// EventTOTPActivated: the first code of a started key confirmed it.
	// Method totp.
	EventTOTPActivated EventName = "totp_activated"
	// EventTOTPFailed: a TOTP code failed; reason [ReasonMalformed],
	// [ReasonMismatch], [ReasonReplay] or [ReasonRemoved]. Method totp.
	EventTOTPFailed EventName = "totp_failed"
	// EventTOTPRemoved: the user's TOTP key was removed. Method totp.
	EventTOTPRemoved EventName = "totp_removed"
)

// Recovery codes.
const (
	// EventRecoveryCodesIssued: a new set of recovery codes replaced the
	// old one. Method recovery.
	EventRecoveryCodesIssued EventName = "recovery_codes_issued"
	// EventRecoveryCodeUsed (warning): a recovery code logged the user
	// in; Event.Count is the number of codes left. Method recovery.
	EventRecoveryCodeUsed EventName = "recovery_code_used"
	// EventRecoveryFailed: a recovery code failed; reason
	// [ReasonMismatch]. Method recovery.
	EventRecoveryFailed EventName = "recovery_failed"
)

// Push approvals.
const (
	// EventPushMode: push was turned on or off for the user; reason
	// [ReasonOn] or [ReasonOff]. Method push.
	EventPushMode EventName = "push_mode"
	// EventPushSent: a push request notified at least one device.
	// Method push.
	EventPushSent EventName = "push_sent"
	// EventPushUndelivered: the notifier failed for a device; reason
	// [ReasonNotifyFailed]. Method push.
	EventPushUndelivered EventName = "push_undelivered"
	// EventPushAnswerRefused: an answer was refused; reason
	// [ReasonInvalid] (no notified device made it) or
	// [ReasonNotNotified] (the answering device was not notified).
	// Method push.
	EventPushAnswerRefused EventName = "push_answer_refused"
	// EventPushApproved: the user approved with the right number. Method
	// push.
	EventPushApproved EventName = "push_approved"
	// EventPushDenied (warning): the user denied the request; push is
	// suspended; reason [ReasonUserDenied]. Method push.
	EventPushDenied EventName = "push_denied"
	// EventPushFailed: the request failed and is over; reason
	// [ReasonWrongNumber] or [ReasonTransactionSignature]. Method push.
	EventPushFailed EventName = "push_failed"
	// EventPushCancelled: the login page cancelled the request. Method
	// push.
	EventPushCancelled EventName = "push_cancelled"
	// EventPushExpired: a request ended unanswered at its expiry (or at
	// a revocation); raised once, by the first read that finds it so
	// (PushStatus, FinishPush, the phone's list or answer): one that
	// nobody reads again is not. Method push.
	EventPushExpired EventName = "push_expired"
	// EventQRLoginShown: BeginQRLogin made a login request to be shown
	// as a QR code (its answer is a push answer: the push events follow).
	// Method push.
	EventQRLoginShown EventName = "qr_login_shown"
	// EventQRLoginRefused: QRLoginStatus, FinishQRLogin or CancelQRLogin
	// was handed a handle that is none BeginQRLogin gave the user: reason
	// [ReasonInvalid]. Method push.
	EventQRLoginRefused EventName = "qr_login_refused"
)

// Activation, pairing and the life of devices. No method.
const (
	// EventActivationStarted: StartActivation made an offer.
	EventActivationStarted EventName = "activation_started"
	// EventActivationRefused: StartActivation refused; reason
	// [ReasonProof].
	EventActivationRefused EventName = "activation_refused"
	// EventActivationCompleted: a phone completed the activation.
	EventActivationCompleted EventName = "activation_completed"
	// EventActivationFailed: a phone's completion was refused; reason
	// [ReasonExpired], [ReasonBadConfirmation], [ReasonOfferMismatch],
	// [ReasonIntegrity], [ReasonWrongSession], [ReasonInvalidRequest],
	// [ReasonAttestation], [ReasonAlreadyEnrolled] or [ReasonOther].
	// With ReasonAttestation, Event.Note is Config.VerifyDevice's error.
	EventActivationFailed EventName = "activation_failed"
	// EventActivationRace (warning): a second, different completion of a
	// completed activation; reason [ReasonSecondCompletion].
	EventActivationRace EventName = "activation_race"
	// EventActivationPaired: the pairing code was typed and the device is
	// active; reason [ReasonPairingSkipped] when Config.SkipPairing
	// activated it without a code.
	EventActivationPaired EventName = "activation_paired"
	// EventPairingFailed: a wrong pairing code; reason [ReasonWrongCode].
	EventPairingFailed EventName = "pairing_failed"
	// EventPairingCheck: one pairing code compared with the new
	// device's (at most 3 per activation). Shown to the Observer only,
	// never logged, like EventCheck.
	EventPairingCheck EventName = "pairing_check"
	// EventActivationDiscarded (warning): too many wrong pairing codes
	// discarded the new device; reason [ReasonPairingTries].
	EventActivationDiscarded EventName = "activation_discarded"
	// EventActivationCancelled: the portal cancelled the activation.
	EventActivationCancelled EventName = "activation_cancelled"
	// EventRevokeRefused: RevokeDevice refused; reason [ReasonProof].
	EventRevokeRefused EventName = "revoke_refused"
	// EventDeviceRevoked: a device was revoked.
	EventDeviceRevoked EventName = "device_revoked"
	// EventProofUsed: a step-up proof was spent; the reason says on
	// what: [ReasonStartActivation], [ReasonRevokeDevice],
	// [ReasonStartTOTP], [ReasonImportTOTP], [ReasonNewRecoveryCodes] or
	// [ReasonPushOff].
	EventProofUsed EventName = "proof_used"
)

// The device API.
const (
	// EventDeviceAuthFailed (warning): a device API request did not
	// authenticate; reason [ReasonTime], [ReasonUnknownDevice],
	// [ReasonBadMAC], [ReasonNotActive] or [ReasonReplay].
	EventDeviceAuthFailed EventName = "device_auth_failed"
	// EventDeviceRateLimited (warning): a device went over its request
	// budget.
	EventDeviceRateLimited EventName = "device_rate_limited"
	// EventPushTokenUpdated: a device set its push token.
	EventPushTokenUpdated EventName = "push_token_updated"
	// EventPushTokenRemoved: the push service reported a device's
	// token as no longer valid and it was removed
	// ([Service.RemovePushToken]); reason [ReasonTokenGone]. Method push.
	EventPushTokenRemoved EventName = "push_token_removed"
	// EventMigrationStarted: a device started moving to a new phone.
	EventMigrationStarted EventName = "migration_started"
	// EventDeviceMigrated (warning): a new phone took a device's place.
	EventDeviceMigrated EventName = "device_migrated"
)

// The network allowlist (Config.Allow).
const (
	// EventAddressRefused (warning): a login call or device API request
	// came from an address the allowlist does not admit for the user
	// (reason [ReasonAddressNotAllowed], Event.Addr the address), or gave
	// none (reason [ReasonNoAddress]). Method: the factor of the login
	// call; "" for the device API.
	EventAddressRefused EventName = "address_refused"
)

// Operators and maintenance. Operator events carry Event.Operator, and
// operator_proof Event.Note. Method operator.
const (
	// EventOperatorUnlock (warning): an operator lifted a user's lock.
	EventOperatorUnlock EventName = "operator_unlock"
	// EventUserDeleted (warning): an operator deleted a user's factors.
	EventUserDeleted EventName = "user_deleted"
	// EventOperatorProof (warning): an operator issued a step-up proof;
	// Event.Note is the operator's stated reason.
	EventOperatorProof EventName = "operator_proof"
	// EventKeysRotated: RotateKeys resealed the stored secrets under the
	// keyring's current key. No user, no method.
	EventKeysRotated EventName = "keys_rotated"
	// EventSwept: a sweep of Maintain removed Event.Count expired
	// records. No user, no method.
	EventSwept EventName = "swept"
	// EventMaintenanceFailed (warning): a sweep of Maintain failed;
	// Event.Note is the store's error. No user, no method.
	EventMaintenanceFailed EventName = "maintenance_failed"
	// EventRemovedDeviceTold: a removed (revoked or replaced) device
	// made an authentic status call and was told it was removed
	// ([Service.DeviceStatus]).
	EventRemovedDeviceTold EventName = "removed_device_told"
)

// warning reports whether the event is logged at slog.LevelWarn.
func (n EventName) warning() bool {
	switch n {
	case EventUserLocked, EventActivationRace, EventActivationDiscarded, EventLoginFailed, EventPushDenied,
		EventRecoveryCodeUsed, EventOperatorProof, EventOperatorUnlock, EventUserDeleted,
		EventDeviceAuthFailed, EventDeviceRateLimited, EventDeviceMigrated, EventAddressRefused,
		EventMaintenanceFailed, EventSlowGuessing:
		return true
	}
	return false
}

// Reason says why an event happened, from a fixed set: a label with few
// values, safe to count on. Counts and free text never go into a reason
// (see Event.Count, Event.Operator, Event.Note).
type Reason string

// Why a response, code or answer failed.
const (
	ReasonMismatch          Reason = "mismatch"           // matched nothing
	ReasonMalformed         Reason = "malformed"          // not well formed; counted like a mismatch
	ReasonReplay            Reason = "replay"             // for a time step or nonce taken before
	ReasonExpired           Reason = "expired"            // the challenge or activation expired
	ReasonNoChallenge       Reason = "no_challenge"       // no such challenge for the user (or used up)
	ReasonAttemptsExhausted Reason = "attempts_exhausted" // the challenge had no attempt left
	ReasonDeviceGone        Reason = "device_gone"        // the device was revoked between match and commit
	ReasonRemoved           Reason = "removed"            // the TOTP key was removed
	ReasonLocked            Reason = "locked"             // the user is locked; nothing was checked
	ReasonFailures          Reason = "failures"           // too many failures locked the user
	ReasonBudget            Reason = "budget"             // the user's challenge budget is spent
	ReasonDrift             Reason = "drift"              // the phone's clock drifted
)

// Known clients and the long horizon.
const (
	ReasonRevoked   Reason = "revoked"    // a known-client token of an older epoch (a revocation since)
	ReasonSlowAlert Reason = "slow_alert" // the long-horizon failures reached the alert threshold
	ReasonSlowLock  Reason = "slow_lock"  // the long-horizon failures reached the lock threshold
)

// Push.
const (
	ReasonOn                   Reason = "on"                    // push turned on
	ReasonOff                  Reason = "off"                   // push turned off
	ReasonNotifyFailed         Reason = "notify_failed"         // the notifier failed for the device
	ReasonInvalid              Reason = "invalid"               // the answer was made by no notified device
	ReasonNotNotified          Reason = "not_notified"          // the answering device was not notified
	ReasonUserDenied           Reason = "user_denied"           // the user said no
	ReasonWrongNumber          Reason = "wrong_number"          // approved with the wrong number
	ReasonTransactionSignature Reason = "transaction_signature" // the transaction's signature was refused
	ReasonTokenGone            Reason = "token_gone"            // the push service no longer knows the token
)

// Activation and pairing.
const (
	ReasonProof            Reason = "proof"             // no valid step-up proof
	ReasonBadConfirmation  Reason = "bad_confirmation"  // the phone's confirmation does not verify
	ReasonOfferMismatch    Reason = "offer_mismatch"    // the phone saw another offer
	ReasonIntegrity        Reason = "integrity"         // refused by the integrity policy
	ReasonWrongSession     Reason = "wrong_session"     // the request is for another session
	ReasonInvalidRequest   Reason = "invalid_request"   // the request is not well formed
	ReasonAttestation      Reason = "attestation"       // Config.VerifyDevice refused the device
	ReasonAlreadyEnrolled  Reason = "already_enrolled"  // the phone already holds a device of the user
	ReasonOther            Reason = "other"             // any other refusal
	ReasonSecondCompletion Reason = "second_completion" // a different completion after the first
	ReasonPairingSkipped   Reason = "pairing_skipped"   // Config.SkipPairing activated the device
	ReasonWrongCode        Reason = "wrong_code"        // a wrong pairing code
	ReasonPairingTries     Reason = "pairing_tries"     // too many wrong pairing codes
)

// What a step-up proof was spent on.
const (
	ReasonStartActivation  Reason = "start_activation"   // StartActivation of another device
	ReasonRevokeDevice     Reason = "revoke_device"      // RevokeDevice
	ReasonStartTOTP        Reason = "start_totp"         // StartTOTP
	ReasonImportTOTP       Reason = "import_totp"        // ImportTOTP
	ReasonNewRecoveryCodes Reason = "new_recovery_codes" // NewRecoveryCodes
	ReasonPushOff          Reason = "push_off"           // SetPush off
)

// Why a device API request did not authenticate.
const (
	ReasonTime          Reason = "time"           // its time is out of the window
	ReasonUnknownDevice Reason = "unknown_device" // no such device
	ReasonBadMAC        Reason = "bad_mac"        // its MAC does not verify
	ReasonNotActive     Reason = "not_active"     // the device is not active (not paired yet)
)

// Why the allowlist refused a call.
const (
	ReasonAddressNotAllowed Reason = "address_not_allowed" // the address is in none of the user's allowed networks
	ReasonNoAddress         Reason = "no_address"          // the call gave no client address (FromAddr)
)
