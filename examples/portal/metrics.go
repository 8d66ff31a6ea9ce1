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
// label values; anything else is "other", so that no label takes
// unbounded values.
var knownReasons = map[string]bool{
	"mismatch": true, "malformed": true, "expired": true, "replay": true, "no_challenge": true,
	"attempts_exhausted": true, "device_gone": true, "removed": true, "wrong_number": true,
	"transaction_signature": true, "locked": true,
}

func reasonLabel(r string) string {
	if knownReasons[r] {
		return r
	}
	return "other"
}

// Observe counts one of keyline's audit events (authn.Observer).
func (m *metrics) Observe(_ context.Context, e authn.Event) {
	switch e.Name {
	case "check":
		m.checks.Inc()
	case "login_succeeded":
		switch e.Reason {
		case "push":
			m.logins.WithLabelValues("push").Inc()
		case "totp":
			m.logins.WithLabelValues("totp").Inc()
		default:
			m.logins.WithLabelValues("challenge").Inc()
		}
	case "recovery_code_used":
		m.logins.WithLabelValues("recovery").Inc()
	case "login_failed":
		m.failures.WithLabelValues("challenge", reasonLabel(e.Reason)).Inc()
	case "login_refused":
		m.failures.WithLabelValues("any", "locked").Inc()
	case "totp_failed":
		m.failures.WithLabelValues("totp", reasonLabel(e.Reason)).Inc()
	case "recovery_failed":
		m.failures.WithLabelValues("recovery", reasonLabel(e.Reason)).Inc()
	case "user_locked":
		m.locks.Inc()
	case "push_sent":
		m.pushes.WithLabelValues("sent").Inc()
	case "push_approved":
		m.pushes.WithLabelValues("approved").Inc()
	case "push_denied":
		m.pushes.WithLabelValues("denied").Inc()
	case "push_failed":
		m.pushes.WithLabelValues("failed").Inc()
		m.failures.WithLabelValues("push", reasonLabel(e.Reason)).Inc()
	case "push_cancelled":
		m.pushes.WithLabelValues("cancelled").Inc()
	case "push_undelivered":
		m.pushes.WithLabelValues("undelivered").Inc()
	case "push_answer_refused":
		m.pushes.WithLabelValues("refused").Inc()
	case "activation_started":
		m.activations.WithLabelValues("started").Inc()
	case "activation_completed":
		m.activations.WithLabelValues("completed").Inc()
	case "activation_paired":
		m.activations.WithLabelValues("paired").Inc()
	case "activation_failed":
		m.activations.WithLabelValues("failed").Inc()
	case "activation_discarded":
		m.activations.WithLabelValues("discarded").Inc()
	case "activation_cancelled":
		m.activations.WithLabelValues("cancelled").Inc()
	case "activation_refused":
		m.activations.WithLabelValues("refused").Inc()
	case "activation_race":
		m.activations.WithLabelValues("race").Inc()
	case "pairing_failed":
		m.activations.WithLabelValues("pairing_failed").Inc()
	case "transaction_started":
		m.transactions.WithLabelValues("started").Inc()
	case "transaction_signed":
		m.transactions.WithLabelValues("signed").Inc()
	}
}
