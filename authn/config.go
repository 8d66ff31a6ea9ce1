package authn

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// Config configures a Service. It is validated once, by New; a field out
// of range is an error naming it. The zero value of every optional field
// is the safe default: lockout, replay protection and pairing are never
// off by omission.
type Config struct {
	// Hot keeps the short-lived state of logins: challenges, attempts and
	// locks, push requests, take-once marks and budgets. Required.
	Hot HotStore
	// Records keeps the durable records: activations, devices, TOTP keys,
	// recovery codes, epochs and push settings. Required. An engine that
	// keeps both (memstore, sqlstore) is passed as Hot and as Records;
	// New refuses it as Hot beside another Records. A hot-only engine
	// (redisstore) is paired with any RecordStore.
	Records RecordStore
	// Keys seal secrets at rest and key the MACs. Required.
	Keys *Keyring
	// Issuer is the service's name, as phones show it. Required.
	Issuer string

	// Suite is the OCRA suite of new devices: time-based, without a
	// counter, at least 6 digits. Default challenge.Default.
	Suite challenge.Suite
	// Window is how many time steps either side of a device's expected
	// step a response may be: the zero value means 1, at most 2.
	Window int
	// ResyncWindow is how far (in steps) a drifted phone is still found
	// and offered resynchronisation: default 10, at most 10. It also
	// bounds the drift stored for a device, whatever path moves it: a
	// phone is accepted at most ResyncWindow + Window steps off.
	ResyncWindow int
	// DisableResync turns resynchronisation off.
	DisableResync bool

	// ChallengeTTL is how long a challenge can be answered: default 2 min.
	ChallengeTTL time.Duration
	// ActivationTTL is how long an offer is valid, and how long a
	// completed activation then waits to be paired: default 10 min.
	ActivationTTL time.Duration

	// MaxFailures is how many consecutive failures lock a user: default 5.
	MaxFailures int
	// LockoutBase is the first lock's length, doubled at each further
	// lock up to LockoutMax: defaults 1 min and 1 h.
	LockoutBase, LockoutMax time.Duration
	// KnownClientTTL is how long a known-client token (Result.KnownClient)
	// is valid: default 30 days, at most 400 (what browsers keep a
	// cookie).
	KnownClientTTL time.Duration
	// SlowHorizon, SlowAlert and SlowLock watch slow guessing: the
	// failures of each lockout bucket are also counted over SlowHorizon
	// (default 7 days, 1 to 90 days); at SlowAlert of them (default 12)
	// EventSlowGuessing is raised, and at SlowLock (default 24, at least
	// SlowAlert) every further failure locks the bucket for LockoutMax.
	SlowHorizon         time.Duration
	SlowAlert, SlowLock int
	// MaxAttemptsPerChallenge: default 3.
	MaxAttemptsPerChallenge int
	// MaxDevicesPerUser is how many active devices a user may have:
	// default 5. Pending devices do not count (a user has one at most:
	// each offer voids the unpaired ones before it).
	MaxDevicesPerUser int
	// ChallengeBudget limits issuance per user: default 3 outstanding
	// (the oldest is voided beyond) and 10 per minute.
	ChallengeBudget Budget
	// ProofTTL is how long a step-up proof is accepted: default 5 min.
	ProofTTL time.Duration
	// RemovedTTL is how long a removed device (revoked, or replaced by a
	// migration) is kept, sealed secret included, so that the phone
	// still holding it learns it was removed ([Service.DeviceStatus]):
	// default 30 days (DefaultRemovedTTL), at most 366 days. After it,
	// that phone's calls are refused as an unknown device's.
	RemovedTTL time.Duration

	// SkipPairing makes a completed activation active at once, without
	// the pairing code. Off by default; turning it on lets whoever sees a
	// QR code or session ID enroll their own phone.
	SkipPairing bool
	// VerifyDevice, when set, checks a phone's attestation at
	// activation; an error refuses the device (ErrDeviceIntegrity).
	// challenge is the activation's attestation challenge, recomputed
	// from the offer and dev.InstallID (PROTOCOL.md, "Attestation
	// binding"): the attestation must carry it. The error's text is the
	// audit event's Note (EventActivationFailed, ReasonAttestation), so
	// it must hold no secret; the phone sees only ErrDeviceIntegrity.
	// Package github.com/keyline/keyline/attest verifies App Attest and
	// Android Key Attestation (its Policy.VerifyDevice is such a hook).
	// Without a hook no attestation is checked (the transcript still
	// binds the one the phone sent).
	VerifyDevice func(ctx context.Context, user string, dev enroll.DeviceInfo, challenge []byte) error

	// Notifier delivers push notifications; without one, push is
	// unavailable (BeginPush returns ErrPushUnavailable).
	Notifier Notifier
	// PushTTL is how long a push request can be answered: default 2 min.
	PushTTL time.Duration
	// PushSuspend is how long push stays suspended for a user who denied
	// a request: default 1 h.
	PushSuspend time.Duration
	// NotifyTimeout bounds the delivery of a request to all its devices
	// (the Notify calls, made at once, or the one NotifyAll call of a
	// MultiNotifier): default 5 s.
	NotifyTimeout time.Duration
	// PushPoll is how often PushStatus, while it waits, reads the store: default 250 ms.
	PushPoll time.Duration

	// Allow is the network allowlist of logins and device API requests:
	// see [AddressPolicy]. The zero value allows every address.
	Allow AddressPolicy

	// Clock is the time source: default time.Now.
	Clock func() time.Time
	// Logger receives the audit events: default slog.Default().
	Logger *slog.Logger
	// Observer, when set, sees every audit event, for metrics.
	Observer Observer
	// Tracer, when set, is told of every call of the Service, its
	// Operators and AuthenticatedDevices, for tracing: see [Tracer].
	Tracer Tracer
}

// Budget limits challenge issuance for one user.
type Budget struct {
	Outstanding int // live challenges at most (the oldest is voided beyond)
	PerMinute   int // challenges per minute at most
}

// Defaults and limits.
const (
	DefaultWindow            = 1
	MaxWindowConfig          = 2
	DefaultResyncWindow      = 10
	DefaultChallengeTTL      = 2 * time.Minute
	DefaultMaxFailures       = 5
	DefaultLockoutBase       = time.Minute
	DefaultLockoutMax        = time.Hour
	DefaultMaxAttempts       = 3
	DefaultMaxDevices        = 5
	DefaultProofTTL          = 5 * time.Minute
	DefaultRemovedTTL        = 30 * 24 * time.Hour
	maxPairingTries          = 3
	failureWindow            = 24 * time.Hour
	defaultBudgetOutstanding = 3
	defaultBudgetPerMinute   = 10
)

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

// resolve validates c and fills in the defaults.
func (c Config) resolve() (Config, error) {
	if c.Hot == nil {
		return c, invalid("Hot", "required (the hot-state store)")
	}
	if c.Records == nil {
		return c, invalid("Records", "required (the durable-records store)")
	}
	// An engine that keeps both halves (memstore, sqlstore) checks the
	// epochs of its challenges and pushes against its own records, and
	// its RaiseEpoch does nothing: paired with another RecordStore, it
	// would check them against records that never change. It is one
	// value, passed as both.
	if _, both := c.Hot.(RecordStore); both && !sameValue(c.Hot, c.Records) {
		return c, invalid("Hot", "keeps records of its own (it is a RecordStore too); pass the same value as Records")
	}
	if c.Keys == nil {
		return c, invalid("Keys", "required")
	}
	if c.Issuer == "" {
		return c, invalid("Issuer", "required")
	}
	if c.Suite.IsZero() {
		c.Suite = challenge.Default
	}
	if !c.Suite.TakesTime() || c.Suite.TakesCounter() || c.Suite.Digits() < 6 || c.Suite.TakesPIN() || c.Suite.SessionLength() > 0 {
		return c, invalid("Suite", "%s: want a time-based suite without C, P or S, with at least 6 digits", c.Suite)
	}
	switch {
	case c.Window == 0:
		c.Window = DefaultWindow
	case c.Window < 0 || c.Window > MaxWindowConfig:
		return c, invalid("Window", "%d out of range 1..%d", c.Window, MaxWindowConfig)
	}
	switch {
	case c.ResyncWindow == 0:
		c.ResyncWindow = DefaultResyncWindow
	case c.ResyncWindow < c.Window || c.ResyncWindow > DefaultResyncWindow:
		return c, invalid("ResyncWindow", "%d out of range %d..%d", c.ResyncWindow, c.Window, DefaultResyncWindow)
	}
	durations := []struct {
		name     string
		v        *time.Duration
		def, max time.Duration
	}{
		{"ChallengeTTL", &c.ChallengeTTL, DefaultChallengeTTL, 10 * time.Minute},
		{"ActivationTTL", &c.ActivationTTL, enroll.DefaultActivationTTL, 24 * time.Hour},
		{"LockoutBase", &c.LockoutBase, DefaultLockoutBase, 24 * time.Hour},
		{"LockoutMax", &c.LockoutMax, DefaultLockoutMax, 30 * 24 * time.Hour},
		{"ProofTTL", &c.ProofTTL, DefaultProofTTL, time.Hour},
		{"RemovedTTL", &c.RemovedTTL, DefaultRemovedTTL, 366 * 24 * time.Hour},
		{"PushTTL", &c.PushTTL, enroll.DefaultPushTTL, 10 * time.Minute},
		{"PushSuspend", &c.PushSuspend, time.Hour, 7 * 24 * time.Hour},
		{"NotifyTimeout", &c.NotifyTimeout, 5 * time.Second, time.Minute},
		{"KnownClientTTL", &c.KnownClientTTL, DefaultKnownClientTTL, 400 * 24 * time.Hour},
		{"SlowHorizon", &c.SlowHorizon, DefaultSlowHorizon, 90 * 24 * time.Hour},
	}
	for _, d := range durations {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < time.Second || *d.v > d.max:
			return c, invalid(d.name, "%v out of range 1s..%v", *d.v, d.max)
		}
	}
	switch {
	case c.PushPoll == 0:
		c.PushPoll = 250 * time.Millisecond
	case c.PushPoll < time.Millisecond || c.PushPoll > 10*time.Second:
		return c, invalid("PushPoll", "%v out of range 1ms..10s", c.PushPoll)
	}
	if c.LockoutMax < c.LockoutBase {
		return c, invalid("LockoutMax", "%v is less than LockoutBase %v", c.LockoutMax, c.LockoutBase)
	}
	ints := []struct {
		name     string
		v        *int
		def, max int
	}{
		{"MaxFailures", &c.MaxFailures, DefaultMaxFailures, 20},
		{"MaxAttemptsPerChallenge", &c.MaxAttemptsPerChallenge, DefaultMaxAttempts, 10},
		{"MaxDevicesPerUser", &c.MaxDevicesPerUser, DefaultMaxDevices, 100},
		{"ChallengeBudget.Outstanding", &c.ChallengeBudget.Outstanding, defaultBudgetOutstanding, 20},
		{"ChallengeBudget.PerMinute", &c.ChallengeBudget.PerMinute, defaultBudgetPerMinute, 100},
		{"SlowAlert", &c.SlowAlert, DefaultSlowAlert, 1000},
		{"SlowLock", &c.SlowLock, DefaultSlowLock, 1000},
	}
	for _, f := range ints {
		switch {
		case *f.v == 0:
			*f.v = f.def
		case *f.v < 1 || *f.v > f.max:
			return c, invalid(f.name, "%d out of range 1..%d", *f.v, f.max)
		}
	}
	if c.SlowHorizon < failureWindow {
		return c, invalid("SlowHorizon", "%v is less than the failure window %v", c.SlowHorizon, failureWindow)
	}
	if c.SlowLock < c.SlowAlert {
		return c, invalid("SlowLock", "%d is less than SlowAlert %d", c.SlowLock, c.SlowAlert)
	}
	var err error
	if c.Allow, err = c.Allow.resolve(); err != nil {
		return c, err
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
