package main

import (
	"net/http"

	"github.com/keyline/keyline/authn"
	keylinemetrics "github.com/keyline/keyline/observe/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the portal's Prometheus metrics: keyline's own, from the
// collector of package observe/metrics (fed by the Service's audit
// events and calls, so they count what the library decided rather than
// what the pages guessed; its package documentation lists them), and
// the portal's, about what only the portal sees (passwords, rate limits,
// CSRF, sessions, executed withdrawals), named portal_*.
type metrics struct {
	reg *prometheus.Registry

	transactions  *prometheus.CounterVec // by outcome (executed)
	passwords     *prometheus.CounterVec // by outcome
	rateLimited   *prometheus.CounterVec // by limiter
	csrfRefused   prometheus.Counter
	portalLogins  *prometheus.CounterVec // complete logins, by how
	sessionsGauge prometheus.GaugeFunc
}

func newMetrics(sessionCount func() int) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	f := registrar{m.reg}
	m.transactions = f.counterVec("portal_transactions_total", "Withdrawals the portal executed after their signature, by outcome (executed).", "outcome")
	m.passwords = f.counterVec("portal_password_checks_total", "Password checks, by outcome (ok, failed).", "outcome")
	m.rateLimited = f.counterVec("portal_rate_limited_total", "Requests refused by a per-IP rate limit, by limiter.", "limiter")
	m.csrfRefused = f.counter("portal_csrf_refused_total", "Form posts refused for a missing or wrong CSRF token.")
	m.portalLogins = f.counterVec("portal_logins_total", "Completed logins, by second factor: push, qr (a QR code the phone scanned), challenge, totp, recovery, or none (a user who has none yet).", "factor")
	m.sessionsGauge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "portal_sessions", Help: "Browser sessions in memory."},
		func() float64 { return float64(sessionCount()) })
	m.reg.MustRegister(m.sessionsGauge, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// install registers keyline's collector and has the Service's
// configuration feed it (its Observer and Tracer).
func (m *metrics) install(cfg *authn.Config) error {
	_, err := keylinemetrics.Install(cfg, m.reg)
	return err
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
