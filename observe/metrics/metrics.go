// Package metrics is a Prometheus collector of keyline's audit events
// and call latencies: what the library decided (logins by factor and
// outcome, locks, pushes, activations, store failures) counted from its
// typed events ([authn.Event]), never from pages or strings. A service
// registers it in one line, before authn.New:
//
//	if _, err := metrics.Install(&cfg, prometheus.DefaultRegisterer); err != nil { ... }
//
// # Metrics
//
// Names follow Prometheus's conventions: the keyline_ prefix, _total for
// counters, base units (seconds) in the name of a histogram. Every label
// value comes from a fixed set (keyline's event names, methods and
// reasons, the Service's call names, the outcomes of package
// observe/outcome), so no label carries a user, a device or an address
// and each metric has a bounded number of series.
//
//   - keyline_logins_total{factor,outcome}: second-factor logins. factor
//     is challenge, totp, recovery or push; outcome is "success", or the
//     reason of the failure or refusal (mismatch, malformed, replay,
//     expired, no_challenge, attempts_exhausted, device_gone, removed,
//     locked, wrong_number, transaction_signature, user_denied).
//   - keyline_checks_total{factor}: responses and codes compared with
//     what the user's devices, key or codes could answer (the check
//     event): the guesses an attacker got.
//   - keyline_locks_total{factor}: users locked out by failures, by the
//     factor that failed.
//   - keyline_slow_guessing_total{reason}: lockout buckets that reached
//     the long-horizon alert (slow_alert) or lock (slow_lock) threshold.
//   - keyline_challenges_total{outcome}: challenges issued or refused
//     (the per-user budget).
//   - keyline_pushes_total{outcome}: push requests: sent, undelivered,
//     approved, denied, failed, cancelled, expired, answer_refused.
//   - keyline_activations_total{outcome}: phone activations: started,
//     refused, completed, failed, race, paired, pairing_failed, discarded,
//     cancelled.
//   - keyline_transactions_total{outcome}: transactions started and
//     signed.
//   - keyline_swept_records_total: expired records the maintenance
//     removed.
//   - keyline_events_total{event,factor,reason}: every audit event but
//     the check event (counted above), by its name, factor and reason
//     (empty when it has none): what the other counters leave out (device revocations and migrations, the device
//     API's refusals, operator actions, ...).
//   - keyline_store_errors_total{call}: calls that failed because a
//     store did (ErrStoreUnavailable), by call name; a failed sweep of
//     Service.Maintain counts under Sweep.
//   - keyline_call_duration_seconds{call,outcome}: a histogram of each
//     call's duration, by call name (authn.Call.Name) and outcome
//     (observe/outcome).
//
// # Security considerations
//
// The collector keeps counts only: no user, device, address, code or
// error text reaches a label. Its counts are the service's security
// picture (failures per factor, locks, slow guessing): expose /metrics
// to the monitoring system, not to the Internet.
package metrics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/observe/outcome"
)

// Collector counts keyline's audit events and times its calls: it is an
// authn.Observer (Config.Observer), an authn.Tracer (Config.Tracer) and a
// prometheus.Collector. [Install] sets it up; [New] makes one to wire by
// hand.
type Collector struct {
	logins       *prometheus.CounterVec
	checks       *prometheus.CounterVec
	locks        *prometheus.CounterVec
	slow         *prometheus.CounterVec
	challenges   *prometheus.CounterVec
	pushes       *prometheus.CounterVec
	activations  *prometheus.CounterVec
	transactions *prometheus.CounterVec
	swept        prometheus.Counter
	events       *prometheus.CounterVec
	storeErrors  *prometheus.CounterVec
	durations    *prometheus.HistogramVec

	all    []prometheus.Collector
	timers sync.Pool
}

var (
	_ authn.Observer       = (*Collector)(nil)
	_ authn.Tracer         = (*Collector)(nil)
	_ prometheus.Collector = (*Collector)(nil)
)

// DurationBuckets are the upper bounds, in seconds, of
// keyline_call_duration_seconds: from half a millisecond (a call on an
// in-process store) to 10 s (a push status poll that waited).
var DurationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// New makes a Collector, not yet registered.
func New() *Collector {
	c := &Collector{}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		c.all = append(c.all, v)
		return v
	}
	c.logins = counter("keyline_logins_total", "Second-factor logins, by factor and outcome (success, or the failure's reason).", "factor", "outcome")
	c.checks = counter("keyline_checks_total", "Responses and codes compared with what the user's factor could answer, by factor.", "factor")
	c.locks = counter("keyline_locks_total", "Users locked out by failures, by the factor that failed.", "factor")
	c.slow = counter("keyline_slow_guessing_total", "Lockout buckets that reached the long-horizon alert or lock threshold, by reason.", "reason")
	c.challenges = counter("keyline_challenges_total", "Challenges issued or refused, by outcome.", "outcome")
	c.pushes = counter("keyline_pushes_total", "Push requests, by outcome (sent, undelivered, approved, denied, failed, cancelled, expired, answer_refused).", "outcome")
	c.activations = counter("keyline_activations_total", "Phone activations, by outcome (started, refused, completed, failed, race, paired, pairing_failed, discarded, cancelled).", "outcome")
	c.transactions = counter("keyline_transactions_total", "Transactions, by outcome (started, signed).", "outcome")
	c.events = counter("keyline_events_total", "Every audit event, by name, factor and reason.", "event", "factor", "reason")
	c.storeErrors = counter("keyline_store_errors_total", "Calls that failed because a store did, by call.", "call")
	c.swept = prometheus.NewCounter(prometheus.CounterOpts{Name: "keyline_swept_records_total", Help: "Expired records removed by the maintenance."})
	c.durations = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "keyline_call_duration_seconds",
		Help: "Duration of keyline's calls, by call and outcome.", Buckets: DurationBuckets}, []string{"call", "outcome"})
	c.all = append(c.all, c.swept, c.durations)
	c.timers.New = func() any { return &timer{c: c} }
	return c
}

// Install makes a Collector, registers it on reg, and sets cfg up to
// feed it, before authn.New: cfg.Observer and cfg.Tracer become the
// Collector, or, where one is set already (tracing.Install's), both that
// one and the Collector, in that order. A registration error (a
// collector of the same names already on reg) is returned and cfg is
// left as it was.
func Install(cfg *authn.Config, reg prometheus.Registerer) (*Collector, error) {
	c := New()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	if cfg.Observer != nil {
		cfg.Observer = &observers{cfg.Observer, c}
	} else {
		cfg.Observer = c
	}
	if cfg.Tracer != nil {
		cfg.Tracer = &tracers{cfg.Tracer, c}
	} else {
		cfg.Tracer = c
	}
	return c, nil
}

// Describe sends the descriptions of the Collector's metrics
// (prometheus.Collector).
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.all {
		m.Describe(ch)
	}
}

// Collect sends the Collector's metrics (prometheus.Collector).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c.all {
		m.Collect(ch)
	}
}

// Observe counts one audit event (authn.Observer).
func (c *Collector) Observe(_ context.Context, e authn.Event) {
	factor := string(e.Method)
	if e.Name != authn.EventCheck { // one per login: keyline_checks_total
		c.events.WithLabelValues(string(e.Name), factor, string(e.Reason)).Inc()
	}
	switch e.Name {
	case authn.EventCheck:
		c.checks.WithLabelValues(factor).Inc()
	case authn.EventLoginSucceeded:
		c.logins.WithLabelValues(factor, "success").Inc()
	case authn.EventRecoveryCodeUsed:
		c.logins.WithLabelValues(string(authn.MethodRecovery), "success").Inc()
	case authn.EventLoginFailed:
		c.logins.WithLabelValues(string(authn.MethodChallenge), string(e.Reason)).Inc()
	case authn.EventLoginRefused:
		c.logins.WithLabelValues(factor, string(authn.ReasonLocked)).Inc()
	case authn.EventTOTPFailed:
		c.logins.WithLabelValues(string(authn.MethodTOTP), string(e.Reason)).Inc()
	case authn.EventRecoveryFailed:
		c.logins.WithLabelValues(string(authn.MethodRecovery), string(e.Reason)).Inc()
	case authn.EventPushFailed:
		c.logins.WithLabelValues(string(authn.MethodPush), string(e.Reason)).Inc()
		c.pushes.WithLabelValues("failed").Inc()
	case authn.EventPushDenied:
		c.logins.WithLabelValues(string(authn.MethodPush), string(authn.ReasonUserDenied)).Inc()
		c.pushes.WithLabelValues("denied").Inc()
	case authn.EventUserLocked:
		c.locks.WithLabelValues(factor).Inc()
	case authn.EventSlowGuessing:
		c.slow.WithLabelValues(string(e.Reason)).Inc()
	case authn.EventChallengeIssued:
		c.challenges.WithLabelValues("issued").Inc()
	case authn.EventChallengeRefused:
		c.challenges.WithLabelValues("refused").Inc()
	case authn.EventPushSent:
		c.pushes.WithLabelValues("sent").Inc()
	case authn.EventPushUndelivered:
		c.pushes.WithLabelValues("undelivered").Inc()
	case authn.EventPushApproved:
		c.pushes.WithLabelValues("approved").Inc()
	case authn.EventPushCancelled:
		c.pushes.WithLabelValues("cancelled").Inc()
	case authn.EventPushExpired:
		c.pushes.WithLabelValues("expired").Inc()
	case authn.EventPushAnswerRefused:
		c.pushes.WithLabelValues("answer_refused").Inc()
	case authn.EventActivationStarted:
		c.activations.WithLabelValues("started").Inc()
	case authn.EventActivationRefused:
		c.activations.WithLabelValues("refused").Inc()
	case authn.EventActivationCompleted:
		c.activations.WithLabelValues("completed").Inc()
	case authn.EventActivationFailed:
		c.activations.WithLabelValues("failed").Inc()
	case authn.EventActivationRace:
		c.activations.WithLabelValues("race").Inc()
	case authn.EventActivationPaired:
		c.activations.WithLabelValues("paired").Inc()
	case authn.EventPairingFailed:
		c.activations.WithLabelValues("pairing_failed").Inc()
	case authn.EventActivationDiscarded:
		c.activations.WithLabelValues("discarded").Inc()
	case authn.EventActivationCancelled:
		c.activations.WithLabelValues("cancelled").Inc()
	case authn.EventTransactionStarted:
		c.transactions.WithLabelValues("started").Inc()
	case authn.EventTransactionSigned:
		c.transactions.WithLabelValues("signed").Inc()
	case authn.EventSwept:
		c.swept.Add(float64(e.Count))
	}
}

// StartCall starts timing a call (authn.Tracer); the context is
// returned as it is.
func (c *Collector) StartCall(ctx context.Context, call authn.Call) (context.Context, authn.CallEnd) {
	t := c.timers.Get().(*timer)
	t.name, t.start = call.Name, time.Now()
	return ctx, t
}

// timer is a call being timed; timers are pooled, so that timing a call
// allocates nothing.
type timer struct {
	c     *Collector
	name  string
	start time.Time
}

// End records the call's duration and outcome, and a store failure.
func (t *timer) End(err error) {
	c, name, d := t.c, t.name, time.Since(t.start)
	t.name = ""
	c.timers.Put(t)
	c.durations.WithLabelValues(name, outcome.Of(err)).Observe(d.Seconds())
	if errors.Is(err, authn.ErrStoreUnavailable) {
		c.storeErrors.WithLabelValues(name).Inc()
	}
}

// observers shows each event to two Observers, in order (a pointer, so
// that a configuration holding one compares).
type observers [2]authn.Observer

func (o *observers) Observe(ctx context.Context, e authn.Event) {
	o[0].Observe(ctx, e)
	o[1].Observe(ctx, e)
}

// tracers tells two Tracers of each call: the first starts first and
// ends last, its context passed to the second.
type tracers [2]authn.Tracer

func (t *tracers) StartCall(ctx context.Context, c authn.Call) (context.Context, authn.CallEnd) {
	ctx, first := t[0].StartCall(ctx, c)
	ctx, second := t[1].StartCall(ctx, c)
	return ctx, ends{first, second}
}

type ends [2]authn.CallEnd

func (e ends) End(err error) {
	e[1].End(err)
	e[0].End(err)
}
