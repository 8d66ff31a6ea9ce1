package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/enroll/deviceclient"
)

// load is a run: the virtual users and the HTTP transport they share.
type load struct {
	o     options
	tr    *http.Transport
	users []*vuser

	// addrs hands out the timed phase's X-Forwarded-For addresses.
	addrs atomic.Uint32
}

func newLoad(o options) *load {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 2*o.concurrency + 4, // the workers' connections stay open between requests
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &load{o: o, tr: tr}
}

func (l *load) close() { l.tr.CloseIdleConnections() }

// setupAddr is virtual user i's address during the setup: 10.0.0.0/16.
func setupAddr(i int) string {
	a := i + 1
	return netip.AddrFrom4([4]byte{10, 0, byte(a >> 8), byte(a)}).String()
}

// iterationAddrs is how many addresses the timed phase takes in turn,
// from 10.1.0.0/17. The portal allows 20 second-factor posts a minute
// per address: an address comes round again only after 32,768
// iterations, which at 10,000 iterations a second is 3.3 s, one refill
// of its bucket. The portal keeps a bucket per address for a minute, so
// a bounded set also bounds what the load makes it keep.
const iterationAddrs = 1 << 15

// nextAddr is the next address for an iteration.
func (l *load) nextAddr() string {
	v := l.addrs.Add(1) % iterationAddrs
	return netip.AddrFrom4([4]byte{10, 1, byte(v >> 8), byte(v)}).String()
}

// vuser is a virtual user: a browser (a cookie jar, the last CSRF token)
// on one portal, and the phone activated for it.
type vuser struct {
	l        *load
	index    int
	name     string
	password string
	portal   int    // index into l.o.portals
	base     string // the portal's base URL
	c        *http.Client
	csrf     string
	cred     *enroll.Credential
	// lost is set when a request failed in transit: whether the portal
	// served it (and renewed the session) is unknown, so the next
	// iteration first looks where the session stands.
	lost bool
}

func (l *load) newUser(i int, name, secret string) *vuser {
	jar, _ := cookiejar.New(nil) // never fails without options
	p := i % len(l.o.portals)
	return &vuser{l: l, index: i, name: name, password: password(secret, name), portal: p, base: l.o.portals[p],
		c: &http.Client{Jar: jar, Transport: l.tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // redirects are followed (and timed) by hand
		}}}
}

// answer is a response, read.
type answer struct {
	status   int
	location string // the path a redirect goes to
	body     string
}

func (a answer) redirectsTo(path string) bool {
	return a.status >= 300 && a.status < 400 && a.location == path
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// send makes one request, with the session's CSRF token in a form, and
// keeps the CSRF token of the page it gets.
func (u *vuser) send(ctx context.Context, method, path string, form url.Values, addr string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, u.l.o.timeout)
	defer cancel()
	var body io.Reader
	if method == http.MethodPost {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", u.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.base+path, body)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", addr)
	req.Header.Set("User-Agent", "keyline-loadtest")
	resp, err := u.c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if lu, err := url.Parse(loc); err == nil {
			a.location = lu.Path
		}
	}
	if m := csrfRE.FindStringSubmatch(a.body); m != nil {
		u.csrf = html.UnescapeString(m[1])
	}
	return a, nil
}

// visit is send, then the redirects followed with GETs, as a browser
// does; it returns the last answer and its path.
func (u *vuser) visit(ctx context.Context, method, path string, form url.Values, addr string) (answer, string, error) {
	a, err := u.send(ctx, method, path, form, addr)
	for hops := 0; err == nil && a.status >= 300 && a.status < 400 && a.location != ""; hops++ {
		if hops == 10 {
			return a, path, errors.New("too many redirects")
		}
		path = a.location
		a, err = u.send(ctx, http.MethodGet, path, nil, addr)
	}
	return a, path, err
}

var (
	tagRE    = regexp.MustCompile(`<[^>]*>`)
	digitsRE = regexp.MustCompile(`[0-9]+`)
)

// elementText returns the text of the element with the id: its tags
// stripped, entities decoded, spaces collapsed. The elements read here
// (p, code, span) hold no element of their own name.
func elementText(body, id string) (string, bool) {
	open := regexp.MustCompile(`<([a-z0-9]+)[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	loc := open.FindStringSubmatchIndex(body)
	if loc == nil {
		return "", false
	}
	rest := body[loc[1]:]
	end := strings.Index(rest, "</"+body[loc[2]:loc[3]]+">")
	if end < 0 {
		return "", true
	}
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(rest[:end], " "))), " "), true
}

func hasElement(body, id string) bool {
	_, ok := elementText(body, id)
	return ok
}

// pageKind names what a page that was not the expected one says: its
// #error (digits as N: times and counts vary), else its status and where
// it redirects.
func pageKind(a answer) string {
	if msg, ok := elementText(a.body, "error"); ok && msg != "" {
		return fmt.Sprintf("%d %s", a.status, digitsRE.ReplaceAllString(msg, "N"))
	}
	if a.location != "" {
		return fmt.Sprintf("%d redirect to %s", a.status, a.location)
	}
	return fmt.Sprintf("status %d", a.status)
}

// transportKind names a request that got no answer.
func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "no answer: cancelled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer: timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "no answer: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "no answer: connection reset or closed"
	}
	return "no answer: " + digitsRE.ReplaceAllString(err.Error(), "N")
}

// errHasFactor: a user with a phone already; the program kept no phone.
var errHasFactor = errors.New("already has a second factor (a phone from an earlier run?): " +
	"this program keeps no phone between runs, so run it against a fresh store, or with new users")

// setup signs the user in with the password and activates a phone for
// it, through the pages and the device API, from the user's own address.
// It ends on /security, signed in, without a fresh proof.
func (u *vuser) setup(ctx context.Context) error {
	addr := setupAddr(u.index)
	unexpected := func(step, path string, a answer) error {
		return fmt.Errorf("%s: %s ended on %s: %s", u.name, step, path, pageKind(a))
	}
	a, path, err := u.visit(ctx, http.MethodGet, "/login", nil, addr)
	if err != nil {
		return fmt.Errorf("%s: the login page: %w", u.name, err)
	}
	if path != "/login" || a.status != http.StatusOK || u.csrf == "" {
		return unexpected("the login page", path, a)
	}
	a, path, err = u.visit(ctx, http.MethodPost, "/login", url.Values{"username": {u.name}, "password": {u.password}}, addr)
	switch {
	case err != nil:
		return fmt.Errorf("%s: signing in: %w", u.name, err)
	case a.status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: signing in was rate limited (%s): start the portal with -trusted-proxy 127.0.0.1/32, "+
			"so that it counts each virtual user's X-Forwarded-For address", u.name, pageKind(a))
	case path == "/2fa":
		return fmt.Errorf("%s: %w", u.name, errHasFactor)
	case path != "/security" || a.status != http.StatusOK:
		return unexpected("signing in", path, a)
	}
	a, path, err = u.visit(ctx, http.MethodPost, "/security/activate", nil, addr)
	if err != nil {
		return fmt.Errorf("%s: starting the activation: %w", u.name, err)
	}
	sid, ok := elementText(a.body, "session-id")
	if path != "/security/activate" || !ok || sid == "" {
		return unexpected("starting the activation", path, a)
	}

	// The phone: the session ID typed into the app, which fetches the
	// offer, checks it against the ID, and activates.
	api := deviceclient.New(u.base+"/device", &http.Client{Timeout: u.l.o.timeout, Transport: forwarded{addr, u.l.tr}})
	offer, err := api.FetchOffer(ctx, sid)
	if err != nil {
		return fmt.Errorf("%s: the phone fetching the offer: %w", u.name, err)
	}
	act, err := api.Activate(ctx, offer, enroll.DeviceInfo{InstallID: "loadtest-" + rand.Text(), Name: "Load phone",
		Platform: "loadtest", Integrity: enroll.Intact}) // no push token: no pushes, straight to the challenge
	if err != nil {
		return fmt.Errorf("%s: the phone activating: %w", u.name, err)
	}
	u.cred = act.Credential
	if act.Paired {
		a, path, err = u.visit(ctx, http.MethodGet, "/security", nil, addr)
	} else {
		a, path, err = u.visit(ctx, http.MethodPost, "/security/activate/confirm", url.Values{"code": {u.cred.PairingCode()}}, addr)
	}
	if err == nil && path == "/security/recovery" {
		// The first factor: the portal offers recovery codes; the user
		// goes on to the security page, as with "Later".
		a, path, err = u.visit(ctx, http.MethodGet, "/security", nil, addr)
	}
	if err != nil {
		return fmt.Errorf("%s: pairing: %w", u.name, err)
	}
	// The step-up form is there only for a user with a factor and no
	// fresh proof: the phone is active.
	if path != "/security" || a.status != http.StatusOK || !hasElement(a.body, "stepup-form") {
		return unexpected("pairing", path, a)
	}
	return nil
}

// forwarded sets X-Forwarded-For on the phone's requests too.
type forwarded struct {
	addr string
	next http.RoundTripper
}

func (f forwarded) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.next.RoundTrip(r)
}

// The requests of an iteration, in order.
const (
	stepStepUp   = iota // POST /security/stepup
	stepPage            // GET /2fa: the challenge is issued
	stepFinish          // POST /2fa/challenge: the finish
	stepSecurity        // GET /security
	numSteps
)

// stepNames name the steps in the report.
var stepNames = [numSteps]string{"step-up POST", "challenge page", "finish POST", "security page"}

// outcome is one iteration's.
type outcome struct {
	ok    bool
	kind  string                  // the failure's kind
	steps [numSteps]time.Duration // each request, sent to answer read
	total time.Duration           // the whole iteration
}

// iterate is one step-up by challenge/response (see the package
// documentation), from addr.
func (u *vuser) iterate(ctx context.Context, addr string) outcome {
	var out outcome
	fail := func(step string, a answer, err error) outcome {
		if err != nil {
			u.lost = true
			out.kind = step + ": " + transportKind(err)
		} else {
			out.kind = step + ": " + pageKind(a)
		}
		return out
	}
	timed := func(step int, method, path string, form url.Values) (answer, error) {
		t0 := time.Now()
		a, err := u.send(ctx, method, path, form, addr)
		out.steps[step] = time.Since(t0)
		return a, err
	}
	start := time.Now()
	a, err := timed(stepStepUp, http.MethodPost, "/security/stepup", nil)
	if err != nil || !a.redirectsTo("/2fa") {
		return fail("step-up", a, err)
	}
	a, err = timed(stepPage, http.MethodGet, "/2fa", nil)
	if err != nil {
		return fail("challenge page", a, err)
	}
	q, ok := elementText(a.body, "challenge")
	if a.status != http.StatusOK || !ok || q == "" {
		return fail("challenge page", a, nil)
	}
	resp, err := u.cred.Respond(q, time.Now())
	if err != nil {
		out.kind = "phone: " + err.Error()
		return out
	}
	a, err = timed(stepFinish, http.MethodPost, "/2fa/challenge", url.Values{"response": {resp}})
	if err != nil || !a.redirectsTo("/security") {
		return fail("finish", a, err)
	}
	a, err = timed(stepSecurity, http.MethodGet, "/security", nil)
	if err != nil {
		return fail("security page after the finish", a, err)
	}
	if a.status != http.StatusOK || !hasElement(a.body, "unlocked") {
		out.kind = "security page after the finish: not unlocked: " + pageKind(a)
		return out
	}
	out.ok, out.total = true, time.Since(start)
	return out
}

// recover finds where a lost session stands; a session the portal no
// longer knows signs in again, with the password and the phone. It
// reports whether it signed in.
func (u *vuser) recover(ctx context.Context, addr string) (bool, error) {
	a, path, err := u.visit(ctx, http.MethodGet, "/security", nil, addr)
	if err != nil {
		return false, err
	}
	if path == "/security" && a.status == http.StatusOK {
		u.lost = false
		return false, nil
	}
	if path != "/login" {
		return false, fmt.Errorf("the session is on %s: %s", path, pageKind(a))
	}
	a, path, err = u.visit(ctx, http.MethodPost, "/login", url.Values{"username": {u.name}, "password": {u.password}}, addr)
	if err != nil {
		return false, err
	}
	q, ok := elementText(a.body, "challenge")
	if path != "/2fa" || !ok || q == "" {
		return false, fmt.Errorf("signing in again ended on %s: %s", path, pageKind(a))
	}
	resp, err := u.cred.Respond(q, time.Now())
	if err != nil {
		return false, err
	}
	if _, _, err := u.visit(ctx, http.MethodPost, "/2fa/challenge", url.Values{"response": {resp}}, addr); err != nil {
		return false, err
	}
	a, path, err = u.visit(ctx, http.MethodGet, "/security", nil, addr)
	if err != nil {
		return false, err
	}
	if path != "/security" || a.status != http.StatusOK {
		return false, fmt.Errorf("signing in again ended on %s: %s", path, pageKind(a))
	}
	u.lost = false
	return true, nil
}

// setup makes the virtual users and sets each up, -concurrency at a time.
// The first error stops it.
func (l *load) setup(ctx context.Context, names []string, secret string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	l.users = make([]*vuser, len(names))
	for i, n := range names {
		l.users[i] = l.newUser(i, n, secret)
	}
	sem := make(chan struct{}, l.o.concurrency)
	var wg sync.WaitGroup
	for _, u := range l.users {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := u.setup(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// results is what the timed phase measured.
type results struct {
	steps      [numSteps][]time.Duration // of the successful iterations
	iterations []time.Duration           // of the successful iterations
	failures   map[string]int            // by kind
	perPortal  []portalCount
	begun      int // iterations started and measured
	resignins  int
	elapsed    time.Duration
	stoppedBy  string // "requests", "duration" or "interrupt"
}

// portalCount is one portal's share.
type portalCount struct {
	URL      string `json:"url"`
	Users    int    `json:"users"`
	Finishes int    `json:"finishes"`
	Failures int    `json:"failures"`
}

// timed is the timed phase: -concurrency workers, each taking an idle
// user and running one iteration, until -requests iterations have begun
// or -duration has passed (or ctx ends); iterations under way finish.
func (l *load) timed(ctx context.Context) results {
	idle := make(chan *vuser, len(l.users))
	for _, u := range l.users {
		idle <- u
	}
	type share struct {
		steps            [numSteps][]time.Duration
		iterations       []time.Duration
		failures         map[string]int
		perPortal        []portalCount
		begun, resignins int
	}
	shares := make([]*share, l.o.concurrency)
	var started atomic.Int64
	begin := time.Now()
	deadline := begin.Add(l.o.duration)
	var wg sync.WaitGroup
	for w := range shares {
		sh := &share{failures: map[string]int{}, perPortal: make([]portalCount, len(l.o.portals))}
		shares[w] = sh
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) && started.Add(1) <= int64(l.o.requests) {
				var u *vuser
				select {
				case u = <-idle:
				case <-ctx.Done():
					return
				}
				addr := l.nextAddr()
				var out outcome
				if u.lost {
					signedIn, err := u.recover(ctx, addr)
					if signedIn {
						sh.resignins++
					}
					if err != nil {
						out.kind = "recovering a lost session: " + err.Error()
					}
				}
				if out.kind == "" {
					out = u.iterate(ctx, addr)
				}
				idle <- u
				if !out.ok && ctx.Err() != nil {
					return // interrupted: not measured
				}
				sh.begun++
				if out.ok {
					for i, d := range out.steps {
						sh.steps[i] = append(sh.steps[i], d)
					}
					sh.iterations = append(sh.iterations, out.total)
					sh.perPortal[u.portal].Finishes++
				} else {
					sh.failures[out.kind]++
					sh.perPortal[u.portal].Failures++
				}
			}
		})
	}
	wg.Wait()
	r := results{failures: map[string]int{}, elapsed: time.Since(begin), perPortal: make([]portalCount, len(l.o.portals))}
	for i, p := range l.o.portals {
		r.perPortal[i].URL = p
	}
	for _, u := range l.users {
		r.perPortal[u.portal].Users++
	}
	for _, sh := range shares {
		for i := range r.steps {
			r.steps[i] = append(r.steps[i], sh.steps[i]...)
		}
		r.iterations = append(r.iterations, sh.iterations...)
		for k, n := range sh.failures {
			r.failures[k] += n
		}
		for i, pc := range sh.perPortal {
			r.perPortal[i].Finishes += pc.Finishes
			r.perPortal[i].Failures += pc.Failures
		}
		r.begun += sh.begun
		r.resignins += sh.resignins
	}
	switch {
	case r.begun >= l.o.requests:
		r.stoppedBy = "requests"
	case ctx.Err() != nil:
		r.stoppedBy = "interrupt"
	default:
		r.stoppedBy = "duration"
	}
	return r
}
