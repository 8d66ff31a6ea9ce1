// Package authn is keyline's server: a [Service] that activates phones
// (with pairing), issues and checks challenges, locks out guessers,
// follows drifting clocks, refuses replays, sends push approvals with
// typed number matching, has transactions signed, serves authenticator
// apps (TOTP) and recovery codes, hands out step-up proofs, keeps every
// secret sealed, and logs what happens — over two stores that may be
// shared by many instances: a [HotStore] for the short-lived state of
// logins and a [RecordStore] for the durable records (one engine may be
// both, a [Store]).
//
// For most uses: build a Service with [New] from a [Config] holding the
// stores (package memstore, as Hot and as Records, for tests and one
// process), a [Keyring] and the Issuer. Enroll a phone with [Service.StartActivation] (show the
// offer's QR code), [Service.CompleteActivation] (the phone's request)
// and [Service.ConfirmActivation] (the pairing code the user types). At
// login, after the password: [Service.BeginChallenge], show the question,
// then [Service.FinishChallenge] with the phone's answer.
//
// Start [Service.Maintain] once per process, in a goroutine of its own,
// stopped by its context: go svc.Maintain(ctx, time.Minute). It sweeps
// expired challenges, pushes, marks and activations out of both stores,
// audits each sweep, and backs off while a store fails. Nothing else
// removes them: without it (or a job calling [Service.Sweep]) they are
// refused when read but pile up.
//
// # The Service's calls
//
// A call's verb says what kind of call it is, one verb per kind:
//
//   - Begin* and Finish* are a login ceremony around a take-once record
//     in the store, Begin issuing it and Finish consuming it:
//     [Service.BeginChallenge] / [Service.FinishChallenge],
//     [Service.BeginTransaction] / [Service.FinishTransaction],
//     [Service.BeginPush] and [Service.BeginTransactionPush] /
//     [Service.FinishPush], [Service.BeginQRLogin] /
//     [Service.FinishQRLogin]. Cancel* withdraws one: [Service.CancelPush],
//     [Service.CancelQRLogin].
//   - Start* and Confirm* are an enrollment ceremony that the portal
//     runs: Start makes the new factor and shows it, Confirm activates it
//     with a code the user reads off the new factor and types:
//     [Service.StartActivation] / [Service.ConfirmActivation],
//     [Service.StartTOTP] / [Service.ConfirmTOTP], and a phone's
//     replacement, [AuthenticatedDevice.StartMigration] /
//     [AuthenticatedDevice.ConfirmMigration]. Between Start and Confirm
//     of an activation, the phone's own step is [Service.CompleteActivation]
//     (package enroll's verb for it, [enroll.Pending.Complete]); a
//     waiting activation is withdrawn with [Service.CancelActivation].
//   - Verify* is a single check, done in one call: [Service.VerifyTOTP],
//     [Service.VerifyRecoveryCode].
//   - *Status reports where a ceremony is: [Service.ActivationStatus],
//     [Service.PushStatus] and [Service.QRLoginStatus] (which also wait,
//     for a login page's long poll), [AuthenticatedDevice.MigrationStatus]. Each reports one
//     enum, [ActivationState] or [PushState] (the values the store
//     keeps), an activation's with its pairing tries left and when it
//     ends ([ActivationProgress]).
//   - The rest manage a user's factors, with plain verbs: Devices,
//     RenameDevice, RevokeDevice, SetPush, ResumePush, ImportTOTP,
//     RemoveTOTP, NewRecoveryCodes, Factors, PushBudget.
//
// The Service has only the calls an integrator makes. The device API's
// calls hang off the device a request authenticated:
// [Service.AuthenticateDevice] returns an [AuthenticatedDevice], a
// capability that nothing else makes, which carries them (the phone's
// pending pushes, one push prompt, its answer, its push token, and its
// migration to a new phone), each acting for that device only; only the
// device API's open endpoints, [Service.Offer] and
// [Service.CompleteActivation], are on the Service. The help desk's
// actions, audited under the operator's name, are on the [Operator] that
// [Service.Operator] returns (Unlock, DeleteUser, Proof, LockState).
// [Service.RotateKeys] is maintenance, run by a job rather than a person,
// and stays on the Service. A Service prints as nothing but an address
// (its state is behind a pointer), so it needs no String method to keep
// its keyring out of a log.
//
// # Counting before checking
//
// At BeginChallenge the Service computes, for every active device of the
// user, the response it would give at every time step the challenge can
// be answered in (its lifetime, widened by the window around the device's
// drift), and stores keyed tags of them: HMAC-SHA256 under a keyring
// purpose key of the challenge ID and the response, with the device, the
// step and the drift: about 6 SHA-256 blocks per step and device, 7
// steps for the default 2-minute lifetime and ±1 window. FinishChallenge computes one tag of the response and makes one
// atomic call to the hot store, [HotStore.Attempt], that checks the lock, counts the
// attempt against the challenge and as a user failure, and only then
// compares the tag with the stored ones; a match consumes the challenge
// and resets the failures in the same step. A second call,
// [RecordStore.CommitStep], records the step and drift by compare-and-set;
// a store keeping both halves ([FinishStore]) makes the two calls one
// atomic step. So a login's finish costs at most two store round trips
// (one on such a store) and no secret is unsealed on its hot
// path, and under any concurrency no more responses are compared than
// the lock allows: MaxFailures before the lock engages, then one per lock
// period. (The alternative, reserve-then-commit, unseals keys on every
// attempt and needs the device records on the hot path; tags keep those
// in durable storage only.) A response that matches nowhere is looked for
// in the wide resync window, with the device keys: a slow path, taken
// only after the failure was counted, and at most once per user and time
// step on an instance (the first wrong answer of a step searches).
//
// BeginChallenge reads the user's epoch and active devices and stores the
// challenge. A Service remembers the devices it last read for each user
// (a bounded cache, never trusted): on a store that checks them in the
// step that stores the challenge ([IssueStore]), a BeginChallenge with no
// device changed since is one round trip, and one with a change two (the
// store answers with the devices as they stand). On split stores whose
// hot half mirrors the records' devices version ([MirroredIssuer], Redis
// beside an SQL store's [LoginRecords]), the hot store checks the
// remembered devices' version in the step that stores the challenge: one
// round trip to it and none to the records when nothing changed; after a
// change (made by any instance, which raises the mirror), a first
// BeginChallenge of the user by an instance, or once the mirror's life
// ran out, one read of the records and two scripts. Every store here, but
// Redis with SQL, makes a login one durable write to issue its challenge
// and one to finish it.
//
// # Errors
//
// (Push has its own errors — ErrPushUnavailable, ErrPushDenied,
// ErrPushPending, ErrWrongNumber — each meaning "fall back to
// challenge/response"; only ErrWrongNumber counted a failure.)
//
// Every error of FinishChallenge, what it means for the challenge and the
// user, and whether its text may be shown to the person logging in (a
// text safe to show has no package prefix and quotes nothing: no code, no
// ID, no reason from the store):
//
//	error                 challenge still live  counted as failure  safe to show
//	nil (success)         no (consumed)         no (resets)         -
//	ErrInvalidCode        yes, if attempts left yes                 yes: "invalid code"
//	ErrReplay             no (consumed)         yes                 no: show as ErrInvalidCode
//	ErrMalformed          yes, if attempts left yes                 yes: "malformed response: has 7 digits, want 8"
//	*LockedError          untouched             no (nothing checked) yes: "locked after too many failures; retry after 2m0s"
//	  (when this very failure locked the user, the *LockedError also
//	  matches it, ErrInvalidCode say, and it was counted)
//	ErrTooManyAttempts    no (void)             yes                 yes: "too many attempts for this challenge"
//	ErrExpired            no (void)             no                  yes: "challenge expired"
//	*ResyncError          yes; and Next issued  yes                 yes: "clock drift; answer the next challenge to resynchronise"
//	ErrStoreUnavailable   unknown               unknown             no: a generic failure
//
// ErrInvalidCode, ErrLocked and ErrExpired are package keyline's shared
// values: an expired challenge is the value an expired activation or push
// request also matches, wrapped with its own word ("challenge expired",
// "activation expired", "push request expired"; "push request already
// used" for a push request FinishPush took before). Any other error names
// its package ("authn: store unavailable: ...") and is for logs.
//
// ErrReplay wraps ErrInvalidCode, so errors.Is(err, ErrInvalidCode) holds:
// a caller must not tell the user that the code was right. Another user's
// challenge ID fails exactly like a wrong code.
//
// # Audit events
//
// Every decision is an [Event], logged to Config.Logger ("keyline:
// <name>" with its attributes; alerts at slog's warning level) and shown
// to Config.Observer for metrics. Its Name is one of the [EventName]
// constants (59, each documented with its method and reasons), its Method
// the factor concerned, its Reason one of the [Reason] constants: a fixed
// set, so a metric label made of them has a bounded number of values.
// Counts (the recovery codes left, the records a sweep removed), an
// operator's name and stated reason and a failed sweep's error are
// fields of their own, never part of the reason. The
// high-volume [EventCheck], one per response compared, goes to the
// Observer only, as does [EventPairingCheck], one per pairing code
// compared.
//
// For tracing, Config.Tracer is told of every call as it starts and
// ends, with the context the call then passes to its stores, notifier
// and observer ([Tracer]; package github.com/keyline/keyline/observe/tracing
// makes OpenTelemetry spans of them, and of the store calls).
//
// # Security considerations
//
// Guessing. An 8-digit response is guessed with probability at most
// 1.0245·10^-8 per time step tried (the bias of HOTP truncation, see
// package challenge). A guess is tried against 2·Window+1 steps of each
// active device: 3 steps at the default ±1. Failures are counted per
// lockout bucket (see Lockout below), before they are checked, in one
// atomic store step on every engine. In one bucket, with MaxFailures = 5,
// then one guess per lock period (1, 2, 4, ... minutes, at most
// LockoutMax = 1 hour), an attacker who never succeeds gets 33 guesses on
// the first day (5, then one after each lock of 1, 2, ... 32 minutes,
// then one an hour) and 24 a day after (TestGuessingBoundFigures measures
// both): with one device and the default window, a success probability
// of about 1.0·10^-6 on the first day and 7.4·10^-7 a day after (3 ·
// 1.0245·10^-8 per guess), times the number of devices. The level of the
// lock persists until a success from that bucket: waiting does not reset
// it. The bound for a user is this times the buckets an attacker can use:
// the shared one, plus one per known-client token the attacker holds (at
// most MaxKnownClients = 8; a token is only issued after a second-factor
// success).
//
// Lockout. Every client without a valid known-client token shares one
// bucket of failures, lock and level per user: what an attacker who only
// knows the user name reaches. A second-factor success (not a
// transaction) returns Result.KnownClient, a token the login service
// keeps in a cookie and presents with [KnownClient]: a MAC under the
// keyring's "known-client" purpose key over the user, a random client ID,
// the user's epoch and its expiry (KnownClientTTL, 30 days by default).
// Its client keeps a bucket of its own, and a success resets only the
// bucket it came from. An attacker typing wrong codes therefore locks the
// unknown clients, not the owner's known browser, which logs in as usual
// (a user who logs in only from new browsers is locked with the attacker,
// as before). A token that does not verify (altered, another user's,
// expired, or issued before the user's epoch was raised by a revocation)
// is audited (EventKnownClientRefused) and counts as no token; the
// answer never says which. Past MaxKnownClients live buckets (a bucket
// is dropped once unlocked with no failure for SlowHorizon), a known
// client without a bucket counts in the shared one. Operator.Unlock
// clears every bucket; Operator.LockState shows them.
//
// The trade-off: a known browser gains a lockout an attacker cannot
// aim at it. A stolen or replayed token is a bearer credential for its
// bucket, never a login (every factor is still needed): its thief gets
// that one bucket's budget on top of the shared one (24 guesses a day
// after the first, the bound above), and can lock that browser, until the
// token expires or the user's epoch is raised (revoking or replacing a
// device voids every token issued before). The cookie should be
// HttpOnly, Secure and SameSite=Lax, as the example portal sets it.
//
// Slow guessing. Each bucket also counts its failures over SlowHorizon
// (7 days by default), in a window that starts at the first failure after
// the previous one ended, and which a success does not clear. At
// SlowAlert failures (12) EventSlowGuessing is raised (a warning, reason
// slow_alert); from SlowLock (24) on every failure locks the bucket for
// LockoutMax (reason slow_lock at the crossing). An attacker who keeps
// under MaxFailures a day (4 failures a day, forever) is seen on the
// third day and locked on the sixth. The long horizon does not lower the
// bound above, which a greedy attacker already meets at one guess an
// hour; it makes a slow attacker visible, and locked, where before he was
// neither. An attacker who knows the thresholds can stay under them: at
// most SlowAlert−1 failures per window go unreported.
//
// Enumeration. Unknown users and users without an active device get
// challenges made with the same work, their answers are counted and lock
// like real ones, and their failures read the same. Every challenge and
// every wrong answer does the work of a fixed number of devices
// (min(MaxDevicesPerUser, DefaultMaxDevices)): a user's active devices,
// padded with phantom devices (the Service's sealed dummy key) that are
// searched alike and match nothing, so that neither a user's existence
// nor the number of devices shows in the time of a wrong answer. (The
// device keys are cached per user name, phantoms included, and the
// search of a wrong answer runs once per user and time step: both alike
// for every name, see phantom.go.)
//
// User IDs. Every entry point checks the user ID with one rule before any
// store sees it: 1 to 256 bytes of UTF-8 without a NUL, control or bidi
// character (package enroll's rule for the ID in an offer), refused
// otherwise with ErrInvalidInput naming the rule broken; nothing is
// stored and no event is raised for it, on every store.
//
// What the store sees. Sealed root secrets (AES-256-GCM under the
// Keyring, bound to kind, user and record ID), sealed pending activation
// keys (zeroed at completion), tags (keyed MACs; without the keyring a
// tag reveals nothing of the response), questions, device metadata, and
// counters. It never sees a key, a response or a pairing code in the
// clear. Whoever holds both the store and the keyring holds every device
// secret.
//
// Removed devices. A device revoked, or replaced by a migration, is kept
// by the record store with its sealed root secret for Config.RemovedTTL
// (30 days by default), for one purpose: [Service.DeviceStatus] tells
// the phone that still holds the root, and only it (its request must
// verify under the device's own api key, fresh and unreplayed), that the
// device was removed, so that the app deletes the account; to anyone
// else the call is the same 401 as for an unknown device, after the same
// work. The kept record answers nothing else: no challenge, push or
// other call. DeleteUser erases it with the user (erasure wins: that
// phone is then never told), and key rotation does not reseal it, so a
// removed device whose key was retired reads as unknown.
//
// Replay. Challenges are take-once in the store; a response for a time
// step before the device's last accepted one never passes; questions are
// not reissued to a user while an answer could still be accepted, and
// issuance is budgeted, so a captured response cannot be farmed.
//
// Enrollment. The first factor of a user is enrolled on trust: whoever
// holds the first factor then enrolls it. Once the user has any factor
// that logs them in — an active device, an active TOTP key or an unused
// recovery code ([Factors.HasFactor]) — every factor change needs a
// step-up [Proof] from a second-factor success of the same user within
// ProofTTL. A completed activation answers nothing until the portal
// session that started it types the pairing code the phone shows, so
// whoever only saw the QR code or session ID cannot enroll their phone:
// at most 3 codes are compared per activation (the third wrong one
// discards the device), it must be paired within ActivationTTL of its
// completion, and a newer offer voids it; a voided or lapsed
// activation's pending device is deleted, and pending devices never fill
// MaxDevicesPerUser, so offers snatched by someone who glimpsed the QR
// code cannot stop the user from activating a phone.
//
// Push. [Service.BeginPush] notifies the user's phones; the login page
// shows a 2-digit number that the user must type on the phone, so that an
// approval given without looking succeeds 1 time in 100, not 1 in 2 or 3
// as with picking among shown numbers. The prompt, MAC'd under the
// device's srv key, shows the context as the server saw it — the action,
// the client's IP address and its place, the browser — so that a user can
// notice a login that is not theirs. A wrong number ends the request and
// counts as a failure (in the shared bucket: the phone's answer carries
// no browser's token). A denial ends it and suspends push for the user
// (PushSuspend, an hour by default; ResumePush lifts it early, with a
// step-up proof), with an alert; it is not a lockout
// failure, so a victim who keeps saying no cannot lock themselves out —
// and a flood of prompts stops after the first no. At most 3 pushes in 15
// minutes, of which a request withdrawn (CancelPush), undelivered or
// expired unanswered gives its unit back, once; a client whose bucket is
// locked gets none, and FinishPush checks the lock too. PushBudget reads
// what is left, and when a spent budget frees up, without spending.
// Log in with a QR code. [Service.BeginQRLogin] makes a push request that
// notifies nobody, to be shown as a QR code: any active device of the
// user scans it, fetches and answers its prompt as a push's, and the
// number, single answer, denial, budget and lock rules are push's. Only
// the secret handle BeginQRLogin returns, kept in the browser's
// server-side session, polls and finishes it (the request ID the code
// shows is a hash of the handle, and the push calls refuse it): a code
// photographed or relayed finishes no other session's login. A code of
// an attacker's session shown to the victim is what the phone's context
// and the number guard against, as for push (PROTOCOL.md §8, "Log in
// with a QR code").
// Every failure of push falls back to challenge/response (see the
// example), which is always available: every refusal of BeginPush that
// another factor can stand in for matches ErrPushUnavailable.
// [PushContextFrom] builds the context from the login page's
// *http.Request: the client's address through the proxies you trust
// ([ClientIP]) and a few words on its browser and system
// ([BrowserSummary]), within the context's limits whatever the headers
// hold.
//
// Transactions. [Service.BeginTransaction] binds a challenge to a
// transaction's canonical bytes and a fresh server nonce: the phone shows
// the transaction and computes the question itself (a hash, under its own
// suite and its own transaction key), so a typed 6-digit question never
// approves a transaction, a login response never finishes a transaction
// challenge nor the reverse (the kind enters every tag), and the same
// details signed twice need two approvals. FinishTransaction returns the
// transaction that was signed: execute that, not a copy kept elsewhere.
//
// Phishing. A real-time phishing proxy that relays the question to the
// victim and the answer to the server defeats challenge/response, as it
// defeats every factor a person types; and with push, the proxy's own
// login triggers the prompt, and the number it relays is the real one —
// number matching proves the user looked at a login page, not which. The
// context shows the proxy's address and place, which is the user's only
// clue. A compromised first-factor session is as bad. WebAuthn is the
// answer for the highest-value actions.
package authn
