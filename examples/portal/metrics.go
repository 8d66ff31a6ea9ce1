package main

import (
	"context"
	"net/http"

	"github.com/keyline/keyline/authn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the portal's Prometheus metrics. Most are counted from
// keyline's audit events, through authn.Config.Observer, so they count
// what the library decided rather than what the pages guessed.
type metrics struct {
	reg *prometheus.Registry

	logins        *prometheus.CounterVec // by method
	failures      *prometheus.CounterVec // by factor and reason
	locks         prometheus.Counter
	checks        prometheus.Counter
	pushes        *prometheus.CounterVec // by outcome
	activations   *prometheus.CounterVec // by outcome
	transactions  *prometheus.CounterVec // by outcome
	passwords     *prometheus.CounterVec // by outcome
	rateLimited   *prometheus.CounterVec // by limiter
	csrfRefused   prometheus.Counter
	portalLogins  *prometheus.CounterVec // complete logins, by how
	sessionsGauge prometheus.GaugeFunc
}

func newMetrics(sessionCount func() int) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := registrar{m.reg}
	m.logins = f.counterVec("keyline_logins_total", "Second-factor successes, by method (challenge, push, totp, recovery).", "method")
	m.failures = f.counterVec("keyline_login_failures_total", "Second-factor failures, by factor and keyline's reason.", "factor", "reason")
	m.locks = f.counter("keyline_user_locks_total", "Users locked out after too many failures.")
	m.checks = f.counter("keyline_checks_total", "Responses compared with what a user's devices could answer (keyline's 'check' event).")
	m.pushes = f.counterVec("keyline_pushes_total", "Push requests, by outcome (sent, approved, denied, failed, cancelled, undelivered, refused).", "outcome")
	m.activations = f.counterVec("keyline_activations_total", "Phone activations, by outcome (started, completed, paired, failed, discarded, cancelled, pairing_failed, refused, race).", "outcome")
	m.transactions = f.counterVec("keyline_transactions_total", "Signed transactions, by outcome (started, signed, executed).", "outcome")
	m.passwords = f.counterVec("portal_password_checks_total", "Password checks, by outcome (ok, failed).", "outcome")
	m.rateLimited = f.counterVec("portal_rate_limited_total", "Requests refused by a per-IP rate limit, by limiter.", "limiter")
	m.csrfRefused = f.counter("portal_csrf_refused_total", "Form posts refused for a missing or wrong CSRF token.")
	m.portalLogins = f.counterVec("portal_logins_total", "Completed logins, by second factor ('none' for a user who has none yet).", "factor")
	m.sessionsGauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portal_sessions", Help: "Browser sessions in memory."},
		func() float64 { return float64(sessionCount()) })
	m.reg.MustRegister(m.sessionsGauge, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registrar registers what it makes on one registry.
type registrar struct{ prometheus.Registerer }

func (f registrar) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.MustRegister(c)
	return c
}

func (f registrar) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.MustRegister(c)
	return c
}

// handler serves the metrics in Prometheus's text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// knownReasons are the failure reasons keyline's events carry that become
// label values; any other reason of keyline's fixed set is "other", so
// that the label keeps the values the dashboards know.
var knownReasons = map[authn.Reason]bool{
	authn.ReasonMismatch: true, authn.ReasonMalformed: true, authn.ReasonExpired: true, authn.ReasonReplay: true,
	authn.ReasonNoChallenge: true, authn.ReasonAttemptsExhausted: true, authn.ReasonDeviceGone: true,
	authn.ReasonRemoved: true, authn.ReasonWrongNumber: true, authn.ReasonTransactionSignature: true,
	authn.ReasonLocked: true,
}

func reasonLabel(r authn.Reason) string {
	if knownReasons[r] {
		return string(r)
	}
	return "other"
}

// Observe counts one of keyline's audit events (authn.Observer).
func (m *metrics) Observe(_ context.Context, e authn.Event) {
	switch e.Name {
	case authn.EventCheck:
		m.checks.Inc()
	case authn.EventLoginSucceeded:
		switch e.Method {
		case authn.MethodPush:
			m.logins.WithLabelValues("push").Inc()
		case authn.MethodTOTP:
			m.logins.WithLabelValues("totp").Inc()
		default:
			m.logins.WithLabelValues("challenge").Inc()
		}
	case authn.EventRecoveryCodeUsed:
		m.logins.WithLabelValues("recovery").Inc()
	case authn.EventLoginFailed:
		m.failures.WithLabelValues("challenge", reasonLabel(e.Reason)).Inc()
	case authn.EventLoginRefused:
		m.failures.WithLabelValues("any", "locked").Inc()
	case authn.EventTOTPFailed:
		m.failures.WithLabelValues("totp", reasonLabel(e.Reason)).Inc()
	case authn.EventRecoveryFailed:
		m.failures.WithLabelValues("recovery", reasonLabel(e.Reason)).Inc()
	case authn.EventUserLocked:
		m.locks.Inc()
	case authn.EventPushSent:
		m.pushes.WithLabelValues("sent").Inc()
	case authn.EventPushApproved:
		m.pushes.WithLabelValues("approved").Inc()
	case authn.EventPushDenied:
		m.pushes.WithLabelValues("denied").Inc()
	case authn.EventPushFailed:
		m.pushes.WithLabelValues("failed").Inc()
		m.failures.WithLabelValues("push", reasonLabel(e.Reason)).Inc()
	case authn.EventPushCancelled:
		m.pushes.WithLabelValues("cancelled").Inc()
	case authn.EventPushUndelivered:
		m.pushes.WithLabelValues("undelivered").Inc()
	case authn.EventPushAnswerRefused:
		m.pushes.WithLabelValues("refused").Inc()
	case authn.EventActivationStarted:
		m.activations.WithLabelValues("started").Inc()
	case authn.EventActivationCompleted:
		m.activations.WithLabelValues("completed").Inc()
	case authn.EventActivationPaired:
		m.activations.WithLabelValues("paired").Inc()
	case authn.EventActivationFailed:
		m.activations.WithLabelValues("failed").Inc()
	case authn.EventActivationDiscarded:
		m.activations.WithLabelValues("discarded").Inc()
	case authn.EventActivationCancelled:
		m.activations.WithLabelValues("cancelled").Inc()
	case authn.EventActivationRefused:
		m.activations.WithLabelValues("refused").Inc()
	case authn.EventActivationRace:
		m.activations.WithLabelValues("race").Inc()
	case authn.EventPairingFailed:
		m.activations.WithLabelValues("pairing_failed").Inc()
	case authn.EventTransactionStarted:
		m.transactions.WithLabelValues("started").Inc()
	case authn.EventTransactionSigned:
		m.transactions.WithLabelValues("signed").Inc()
	}
}
