package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/deviceapi"
	"github.com/keyline/keyline/notify"
)

// config is what the flags set, plus what a test or an embedder may
// inject instead.
type config struct {
	Addr           string
	DataDir        string
	Postgres       string
	Redis          string
	KeysFile       string
	KeysEnv        string // an environment variable holding the keys, instead of KeysFile
	InsecureDemo   bool
	UsersFile      string
	DemoUsers      bool
	Issuer         string
	TLSCert        string
	TLSKey         string
	TrustedProxies []netip.Prefix
	Allow          []netip.Prefix // -allow: the networks logins may come from (authn.Config.Allow); none: any
	HashPassword   bool
	SecureCookies  bool // Secure cookies and HSTS: set when serving TLS
	// ChallengesPerMinute is the per-user challenge budget
	// (authn.Config.ChallengeBudget.PerMinute); 0 is the Service's
	// default.
	ChallengesPerMinute int
	// Push is how pushes reach phones: APNs, FCM (push.go); none: phones
	// poll.
	Push pushConfig
	// OTLPEndpoint, when set, is the OTLP/HTTP collector the traces of
	// keyline's calls go to (-otlp-endpoint).
	OTLPEndpoint string

	// Not flags.
	RedisPrefix string                  // the Redis key prefix with -redis (default "keyline")
	Logger      *slog.Logger            // the audit log; default: JSON on stderr
	Stderr      io.Writer               // where loud warnings go; default os.Stderr
	Store       authn.Store             // used instead of openStore (the caller closes it)
	Clock       func() time.Time        // default time.Now
	Notifier    authn.Notifier          // default pollNotifier
	Argon       argonParams             // for the demo users; default defaultArgon
	LoginRate   rate                    // default defaultLoginRate
	FactorRate  rate                    // default defaultFactorRate
	Tune        func(cfg *authn.Config) // adjusts the Service's configuration last
}

// The flag -challenges-per-minute: its default is the Service's, and the
// Service refuses more than 100 (authn.Config.ChallengeBudget).
const (
	defaultChallengesPerMinute = 10
	maxChallengesPerMinute     = 100
)

// pollNotifier is the portal's authn.Notifier: it wakes nobody. A push
// request waits in the store, and the phone fetches it through the
// device API (authn.AuthenticatedDevice.PendingPushes). A service with an app in the
// stores sends an empty APNs or FCM notification here, to wake the phone.
type pollNotifier struct{}

func (pollNotifier) Notify(context.Context, authn.Delivery) error { return nil }

// portal is the login service: an authn.Service, the users, the browser
// sessions, and the pages, on one http.ServeMux.
type portal struct {
	cfg         config
	log         *slog.Logger
	clock       func() time.Time
	svc         *authn.Service
	hot         authn.HotStore
	records     authn.RecordStore
	storeName   string
	closeStore  func() error
	proofTTL    time.Duration
	maxFailures int // failures that lock (authn.Config.MaxFailures)

	// stopTracing flushes and stops the trace export; nil without
	// -otlp-endpoint.
	stopTracing func(context.Context) error

	users   map[string]*user
	dummy   phc           // hashed for unknown users, so they cost what real ones do
	hashSem chan struct{} // bounds concurrent Argon2id hashes (each takes 64 MiB)

	passwordsMu sync.Mutex // orders password changes and the passwords file (password.go)

	sessions    *sessions
	loginLimit  *limiter
	factorLimit *limiter
	metrics     *metrics
	pages       *template.Template
	ledger      *ledger
	usage       *usage // when each factor was last used (lastused.go)

	// mux routes every page and the device API (authn/deviceapi, at
	// /device/). handler is mux behind the security
	// headers.
	mux     *http.ServeMux
	handler http.Handler
	changes map[string]sessionHandler // the POST routes under /security, by path: made after a step-up (flow.go)

	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// newPortal builds the portal from cfg: keys, store, users, Service,
// routes. Close releases what it opened.
func newPortal(cfg config) (_ *portal, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	var pushes *notify.Notifier
	if cfg.Notifier == nil {
		n, err := cfg.Push.notifier(cfg.Clock, cfg.Logger)
		if err != nil {
			return nil, err
		}
		if n != nil {
			cfg.Notifier, pushes = n, n
		} else {
			cfg.Notifier = pollNotifier{}
		}
	}
	if cfg.Argon == (argonParams{}) {
		cfg.Argon = defaultArgon
	}
	if cfg.LoginRate == (rate{}) {
		cfg.LoginRate = defaultLoginRate
	}
	if cfg.FactorRate == (rate{}) {
		cfg.FactorRate = defaultFactorRate
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "Keyline Portal"
	}
	p := &portal{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, stop: make(chan struct{}), ledger: newLedger(), usage: newUsage(),
		hashSem: make(chan struct{}, max(1, runtime.NumCPU()))}

	keys, err := loadKeyring(cfg, p.log)
	if err != nil {
		return nil, err
	}
	p.users, err = loadUsers(cfg, cfg.Argon)
	if err != nil {
		return nil, err
	}
	if err := loadPasswords(cfg.DataDir, p.users); err != nil {
		return nil, err
	}
	if p.dummy, err = parsePHC(hashPassword("no user has this password", cfg.Argon)); err != nil {
		return nil, err
	}
	if cfg.Store != nil {
		p.hot, p.records, p.storeName, p.closeStore = cfg.Store, cfg.Store, "injected", func() error { return nil }
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		p.hot, p.records, p.storeName, p.closeStore, err = openStore(ctx, cfg)
		cancel()
		if err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			_ = p.closeStore()
		}
	}()

	p.sessions = newSessions(p.clock, cfg.SecureCookies)
	p.metrics = newMetrics(p.sessions.count)
	p.loginLimit = newLimiter("login", cfg.LoginRate, p.clock)
	p.factorLimit = newLimiter("second_factor", cfg.FactorRate, p.clock)

	acfg := authn.Config{Hot: p.hot, Records: p.records, Keys: keys, Issuer: cfg.Issuer, Clock: p.clock, Logger: p.log,
		Notifier:        cfg.Notifier,
		ChallengeBudget: authn.Budget{PerMinute: cfg.ChallengesPerMinute}, Allow: authn.AddressPolicy{Networks: cfg.Allow}}
	if cfg.OTLPEndpoint != "" {
		if p.stopTracing, err = startTracing(&acfg, cfg.OTLPEndpoint, keys); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = p.stopTracing(context.Background())
			}
		}()
	}
	if err := p.metrics.install(&acfg); err != nil {
		return nil, err
	}
	if cfg.Tune != nil {
		cfg.Tune(&acfg)
	}
	p.proofTTL = acfg.ProofTTL
	if p.proofTTL == 0 {
		p.proofTTL = authn.DefaultProofTTL
	}
	p.maxFailures = acfg.MaxFailures
	if p.maxFailures == 0 {
		p.maxFailures = authn.DefaultMaxFailures
	}
	if p.svc, err = authn.New(acfg); err != nil {
		return nil, err
	}
	if pushes != nil {
		pushes.Attach(p.svc) // a token APNs or FCM calls gone is removed
	}
	if p.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	p.mux = http.NewServeMux()
	p.changes = map[string]sessionHandler{}
	if err := p.routes(); err != nil {
		return nil, err
	}
	p.handler = p.secureHeaders(p.mux)

	p.wg.Add(2)
	go p.maintain()
	go p.maintainStores()
	return p, nil
}

// ServeHTTP serves every request through the security headers.
func (p *portal) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.handler.ServeHTTP(w, r) }

// Close stops the background work and closes the store the portal opened.
func (p *portal) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.stop)
		p.wg.Wait()
		err = p.closeStore()
		if p.stopTracing != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = errors.Join(err, p.stopTracing(ctx))
			cancel()
		}
	})
	return err
}

// maintainStores runs the Service's own maintenance until Close: a
// sweep of the stores every minute, audited (swept, maintenance_failed),
// sooner again after a failure.
func (p *portal) maintainStores() {
	defer p.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = p.svc.Maintain(ctx, time.Minute) // returns when Close cancels ctx
}

// maintain sweeps expired sessions and rate-limit buckets from memory,
// once a minute.
func (p *portal) maintain() {
	defer p.wg.Done()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		p.sessions.sweep()
		p.loginLimit.sweep()
		p.factorLimit.sweep()
	}
}

// The Content-Security-Policy: scripts, styles and images from this
// origin only, no inline script or style, no framing, forms posting only
// here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secureHeaders sets the headers every response carries.
func (p *portal) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if p.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			// Pages show codes, QR codes and account data: no cache keeps them.
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// access is what a route needs of the session.
type access int

const (
	anyone   access = iota // a session is made for a GET that has none
	inFactor               // the password passed and a second-factor ceremony is on (login or step-up)
	signedIn               // the login is complete
)

type sessionHandler func(w http.ResponseWriter, r *http.Request, s *session)

// maxForm bounds a form post's body.
const maxForm = 64 << 10

// route registers a page. Every POST must come from this origin, with
// the session's CSRF token; the handler runs with the session locked.
// Routes mounted on the mux directly (the device API) have none of this.
func (p *portal) route(pattern string, need access, h sessionHandler) {
	post := strings.HasPrefix(pattern, "POST ")
	jsonAPI := strings.HasSuffix(pattern, "/status")
	// A page a signed-out user asks for (a link followed, a bookmark) is
	// where they go once signed in; not an image, a file or a status.
	resumable := need == signedIn && !post && !jsonAPI && !strings.Contains(pattern, ".")
	if path, ok := strings.CutPrefix(pattern, "POST "); ok && strings.HasPrefix(path, "/security/") {
		p.changes[path] = h
	}
	p.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if post {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !sameOrigin(r) {
				p.csrfRefused(w, r, nil, "origin")
				return
			}
		}
		s := p.sessions.load(r)
		if s != nil && s.user != nil && s.pwGen != s.user.passwordGen() {
			// The user's password changed in another session: this one
			// ends (password.go).
			p.sessions.dropLocked(s)
			s.mu.Unlock()
			s = nil
		}
		if s == nil && (need == anyone || resumable) && !post {
			var err error
			if s, err = p.sessions.create(w); err != nil {
				p.fail(w, nil, http.StatusServiceUnavailable, "The service is busy; try again in a moment.")
				return
			}
		}
		if s == nil {
			switch {
			case post:
				// Without a session there is no token the form could
				// match: it expired (flow.go).
				_ = r.ParseForm()
				p.formExpired(w, r, nil, "no_session")
			case jsonAPI:
				writeJSON(w, http.StatusUnauthorized, statusReply{State: "signed_out", Action: "reload"})
			default:
				http.Redirect(w, r, "/login", http.StatusSeeOther)
			}
			return
		}
		defer s.mu.Unlock()
		if post && !s.checkCSRF(r) {
			p.formExpired(w, r, s, "token")
			return
		}
		switch need {
		case inFactor:
			if s.user == nil || s.factor == nil {
				p.notThere(w, r, s, jsonAPI)
				return
			}
		case signedIn:
			if !s.signedIn {
				if resumable && s.factor == nil {
					s.flash.resume = r.URL.Path
				}
				p.notThere(w, r, s, jsonAPI)
				return
			}
		}
		h(w, r, s)
	})
}

// notThere answers a request for a page the session is not at.
func (p *portal) notThere(w http.ResponseWriter, r *http.Request, s *session, jsonAPI bool) {
	if jsonAPI {
		writeJSON(w, http.StatusUnauthorized, statusReply{State: "signed_out", Action: "reload"})
		return
	}
	switch {
	case s.signedIn:
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	case s.user != nil && s.factor != nil:
		http.Redirect(w, r, "/2fa", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
}

// sameOrigin refuses a post whose Origin header names another origin (a
// check beside the token: browsers send Origin on every POST). Under this
// portal's Referrer-Policy (no-referrer) a browser sends "Origin: null"
// even for its own forms, as it does from an opaque origin (a sandboxed
// frame): there Fetch Metadata tells them apart where the browser sends
// it, and the token decides where it does not.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	if o == "null" {
		site := r.Header.Get("Sec-Fetch-Site")
		return site == "" || site == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (p *portal) csrfRefused(w http.ResponseWriter, r *http.Request, s *session, why string) {
	p.metrics.csrfRefused.Inc()
	p.log.Warn("portal: form refused", "event", "portal_csrf_refused", "reason", why, "path", r.URL.Path, "ip", p.clientIP(r).String())
	p.fail(w, s, http.StatusForbidden, "This form did not come from this site, so nothing was done.")
}

// routes registers every page.
func (p *portal) routes() error {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return err
	}
	p.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	p.mux.Handle("GET /metrics", p.metrics.handler())
	// The phones' API (authn/deviceapi), mounted as any service would:
	// the same Service, the client address as the pages see it (so that
	// -trusted-proxy applies), refusals in the audit log. Its requests
	// carry no cookie and need no CSRF token: each is signed by the
	// device, or (offer, activation) carries a secret session ID.
	p.mux.Handle("/device/", http.StripPrefix("/device", deviceapi.NewHandler(p.svc, deviceapi.Options{
		ClientAddr: p.clientIP, // for -allow
		ClientIP: func(r *http.Request) string {
			a := p.clientIP(r)
			if a.Is6() && !a.Is4In6() {
				return netip.PrefixFrom(a, 64).Masked().String() // one host holds a /64
			}
			return a.String()
		},
		Logger: p.log,
	})))
	p.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})

	p.route("GET /{$}", anyone, p.home)
	p.route("GET /login", anyone, p.loginPage)
	p.route("POST /login", anyone, p.loginPost)
	p.route("POST /logout", anyone, p.logout)

	p.route("GET /2fa", inFactor, p.factorPage)
	p.route("POST /2fa/method", inFactor, p.factorMethod)
	p.route("POST /2fa/challenge", inFactor, p.factorChallenge)
	p.route("POST /2fa/totp", inFactor, p.factorTOTP)
	p.route("POST /2fa/recovery", inFactor, p.factorRecovery)
	p.route("GET /2fa/push/status", inFactor, p.factorPushStatus)
	p.route("GET /2fa/lock/status", inFactor, p.factorLockStatus)
	p.route("POST /2fa/push/finish", inFactor, p.factorPushFinish)
	p.route("GET /2fa/qr.png", inFactor, p.qrImage)
	p.route("GET /2fa/qr/status", inFactor, p.qrStatus)
	p.route("POST /2fa/qr/finish", inFactor, p.qrFinish)
	p.mux.HandleFunc("POST /2fa/leave", p.leaveBeacon) // not a page route: see leave.go

	p.route("GET /account", signedIn, p.account)

	p.route("GET /security", signedIn, p.security)
	p.route("POST /security/stepup", signedIn, p.stepUp)
	p.route("POST /security/activate", signedIn, p.activateStart)
	p.route("GET /security/activate", signedIn, p.activatePage)
	p.route("GET /security/activate/qr.png", signedIn, p.activateQR)
	p.route("GET /security/activate/status", signedIn, p.activateStatus)
	p.route("POST /security/activate/confirm", signedIn, p.activateConfirm)
	p.route("POST /security/activate/cancel", signedIn, p.activateCancel)
	p.route("POST /security/devices/rename", signedIn, p.deviceRename)
	p.route("POST /security/devices/revoke", signedIn, p.deviceRevoke)
	p.route("GET /security/devices/revoke", signedIn, p.revokeConfirm)
	p.route("GET /security/totp/remove", signedIn, p.totpRemoveConfirm)
	p.route("POST /security/devices/replace", signedIn, p.deviceReplace)
	p.route("POST /security/push", signedIn, p.pushMode)
	p.route("POST /security/push/resume", signedIn, p.pushResume)
	p.route("POST /security/totp/start", signedIn, p.totpStart)
	p.route("GET /security/totp", signedIn, p.totpPage)
	p.route("GET /security/totp/qr.png", signedIn, p.totpQR)
	p.route("POST /security/totp/complete", signedIn, p.totpComplete)
	p.route("POST /security/totp/remove", signedIn, p.totpRemove)
	p.route("POST /security/recovery", signedIn, p.recoveryCodes)
	p.route("GET /security/recovery", signedIn, p.recoveryPage)
	p.route("GET /security/recovery/codes.txt", signedIn, p.recoveryFile)
	p.route("POST /security/recovery/saved", signedIn, p.recoverySaved)
	p.route("GET /security/password", signedIn, p.passwordPage)
	p.route("POST /security/password", signedIn, p.passwordChange)

	p.route("GET /withdraw", signedIn, p.withdrawPage)
	p.route("POST /withdraw", signedIn, p.withdrawStart)
	p.route("GET /withdraw/confirm", signedIn, p.withdrawConfirmPage)
	p.route("GET /withdraw/qr.png", signedIn, p.withdrawQR)
	p.route("POST /withdraw/confirm", signedIn, p.withdrawConfirm)
	p.route("POST /withdraw/qr", signedIn, p.withdrawUseQR)
	p.route("GET /withdraw/push/status", signedIn, p.withdrawPushStatus)
	p.route("POST /withdraw/push/finish", signedIn, p.withdrawPushFinish)
	p.route("POST /withdraw/cancel", signedIn, p.withdrawCancel)
	p.route("GET /withdraw/done", signedIn, p.withdrawDone)

	p.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.fail(w, nil, http.StatusNotFound, "There is no such page.")
	})
	return nil
}

// clientIP is the request's client address (see clientIP).
func (p *portal) clientIP(r *http.Request) netip.Addr { return clientIP(r, p.cfg.TrustedProxies) }

// allow takes a token from l for the client's address; when none is
// left it answers 429 and returns false.
func (p *portal) allow(w http.ResponseWriter, r *http.Request, s *session, l *limiter) bool {
	ip := p.clientIP(r)
	ok, wait := l.allow(ipKey(ip))
	if ok {
		return true
	}
	p.metrics.rateLimited.WithLabelValues(l.name).Inc()
	p.log.Warn("portal: rate limited", "event", "portal_rate_limited", "limiter", l.name, "ip", ip.String())
	w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())))
	p.fail(w, s, http.StatusTooManyRequests,
		fmt.Sprintf("Too many attempts from your network. Wait %s and try again.", humanDuration(wait)))
	return false
}

// view is what every page template gets.
type view struct {
	Title    string
	Issuer   string
	CSRF     string
	User     *user
	SignedIn bool
	Notice   string
	Warn     bool // Notice is a warning or a failure (amber), not a success (green)
	Error    string
	D        any // the page's own data

	NoticeLink *linkNote // a link after Notice (deny.go)
}

// render executes the page template name with v, filling in what comes
// from the session.
func (p *portal) render(w http.ResponseWriter, s *session, status int, name string, v view) {
	v.Issuer = p.cfg.Issuer
	if s != nil && !s.dead {
		v.CSRF, v.User, v.SignedIn = s.csrf, s.user, s.signedIn
		if n, warn, link := s.popNotice(); n != "" && v.Notice == "" {
			v.Notice, v.Warn, v.NoticeLink = n, warn, link
		}
		if e := s.popError(); e != "" && v.Error == "" {
			v.Error = e
		}
	}
	var b bytes.Buffer
	if err := p.pages.ExecuteTemplate(&b, name, v); err != nil {
		p.log.Error("portal: template failed", "event", "portal_template_failed", "template", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fail shows an error page.
func (p *portal) fail(w http.ResponseWriter, s *session, status int, msg string) {
	p.render(w, s, status, "error", view{Title: http.StatusText(status), Error: msg})
}

// internal reports an unexpected error: a store that is down reads as
// 503, anything else as 500; the details go to the log only.
func (p *portal) internal(w http.ResponseWriter, s *session, what string, err error) {
	if errors.Is(err, authn.ErrAddressNotAllowed) {
		p.fail(w, s, http.StatusForbidden, addressNotAllowed) // the Service audited it
		return
	}
	if errors.Is(err, authn.ErrStoreUnavailable) {
		p.log.Error("portal: store unavailable", "event", "portal_store_unavailable", "during", what, "error", err.Error())
		p.fail(w, s, http.StatusServiceUnavailable, "The service is unavailable right now; try again in a moment.")
		return
	}
	p.log.Error("portal: unexpected error", "event", "portal_error", "during", what, "error", err.Error())
	p.fail(w, s, http.StatusInternalServerError, "Something went wrong on our side; try again.")
}

// statusReply is what the status endpoints answer, for portal.js:
// Action says what the page does next ("wait", "finish", "fallback" or
// "reload"), Message what it shows meanwhile.
type statusReply struct {
	State   string `json:"state"`
	Action  string `json:"action"`
	Message string `json:"message,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func redirect(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// humanDuration writes d for people: "45 seconds", "2 min 05 s",
// "1 h 00 min", rounded up to the second.
func humanDuration(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	switch {
	case secs < 60:
		if secs == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", secs)
	case secs < 3600:
		return fmt.Sprintf("%d min %02d s", secs/60, secs%60)
	}
	return fmt.Sprintf("%d h %02d min", secs/3600, secs%3600/60)
}

// remaining is the number of whole seconds from now until t, at least 0.
func remaining(now, t time.Time) int {
	if !t.After(now) {
		return 0
	}
	return int(t.Sub(now) / time.Second)
}

// stripSpaces removes every space from what a person typed: "1234 5678"
// is "12345678".
func stripSpaces(s string) string {
	return strings.Join(strings.Fields(s), "")
}
