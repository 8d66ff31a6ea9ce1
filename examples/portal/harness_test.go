package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
)

// testArgon makes the demo users' password hashes cheap for tests. The
// default parameters are checked by TestHashPasswordCommand.
var testArgon = argonParams{Time: 1, MemoryKiB: 64, Threads: 1}

// syncBuffer is a bytes.Buffer safe for the log handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a portal served by httptest, on a memstore (unless an
// option clears cfg.Store), driven by a fake clock.
type harness struct {
	t      *testing.T
	p      *portal
	url    string       // the portal's base URL
	client *http.Client // a client that trusts its certificate
	clock  *authntest.Clock
	logs   *syncBuffer
}

func newHarness(t *testing.T, opts ...func(*config)) *harness {
	t.Helper()
	clock := authntest.NewClock(authntest.Start())
	logs := &syncBuffer{}
	cfg := config{
		DataDir:      t.TempDir(),
		InsecureDemo: true,
		DemoUsers:    true,
		Issuer:       "Portal Test",
		Store:        memstore.New(),
		Clock:        clock.Now,
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stderr:       io.Discard,
		Argon:        testArgon,
	}
	tls := false
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.SecureCookies {
		tls = true
	}
	p, err := newPortal(cfg)
	if err != nil {
		t.Fatalf("newPortal: %v", err)
	}
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(p)
	} else {
		srv = httptest.NewServer(p)
	}
	t.Cleanup(func() {
		srv.Close()
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, p: p, url: srv.URL, client: srv.Client(), clock: clock, logs: logs}
}

// page is one response, its body read.
type page struct {
	t      *testing.T
	status int
	url    string
	header http.Header
	body   string
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// byID returns the text of the element with the id (its tags stripped,
// entities decoded, spaces collapsed), and whether there is one.
func (pg *page) byID(id string) (string, bool) {
	open := regexp.MustCompile(`<([a-z0-9]+)[^>]*\sid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	loc := open.FindStringSubmatchIndex(pg.body)
	if loc == nil {
		return "", false
	}
	name := pg.body[loc[2]:loc[3]]
	switch name {
	case "img", "input", "br", "hr", "meta", "link":
		return "", true // no content
	}
	// Find the matching end tag, counting nested elements of the name.
	tags := regexp.MustCompile(`<(/?)` + name + `[\s>]`)
	rest := pg.body[loc[1]:]
	depth := 1
	for _, m := range tags.FindAllStringSubmatchIndex(rest, -1) {
		if m[3] > m[2] { // an end tag
			depth--
		} else {
			depth++
		}
		if depth == 0 {
			inner := rest[:m[0]]
			return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(inner, " "))), " "), true
		}
	}
	return "", false
}

// text is byID, failing the test if there is no such element.
func (pg *page) text(id string) string {
	pg.t.Helper()
	s, ok := pg.byID(id)
	if !ok {
		pg.t.Fatalf("no #%s on %s (status %d):\n%s", id, pg.url, pg.status, pg.body)
	}
	return s
}

// has reports whether the page has an element with the id.
func (pg *page) has(id string) bool {
	_, ok := pg.byID(id)
	return ok
}

// mustContain fails the test unless #id's text contains want.
func (pg *page) mustContain(id, want string) {
	pg.t.Helper()
	if got := pg.text(id); !strings.Contains(got, want) {
		pg.t.Fatalf("#%s on %s is %q; want it to contain %q", id, pg.url, got, want)
	}
}

// path is the page's URL path.
func (pg *page) path() string {
	u, err := url.Parse(pg.url)
	if err != nil {
		return pg.url
	}
	return u.Path
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// browser is a cookie-keeping HTTP client that follows redirects, as a
// browser does, and posts forms with the CSRF token of the last page.
type browser struct {
	t       *testing.T
	h       *harness
	c       *http.Client
	last    *page
	cookies []string // every Set-Cookie header seen, in order
	ua      string
	xff     string
}

func (h *harness) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	b := &browser{t: h.t, h: h}
	next := h.client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	b.c = &http.Client{Jar: jar, Transport: recorder{b, next}, Timeout: 30 * time.Second}
	return b
}

// recorder keeps the Set-Cookie headers of every response, redirects
// included.
type recorder struct {
	b    *browser
	next http.RoundTripper
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.b.ua != "" {
		req.Header.Set("User-Agent", r.b.ua)
	}
	if r.b.xff != "" {
		req.Header.Set("X-Forwarded-For", r.b.xff)
	}
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.b.cookies = append(r.b.cookies, resp.Header.Values("Set-Cookie")...)
	}
	return resp, err
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	pg := &page{t: b.t, status: resp.StatusCode, url: resp.Request.URL.String(), header: resp.Header, body: string(body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		b.last = pg
	}
	return pg
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.h.url+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// csrf is the token of the last page.
func (b *browser) csrf() string {
	b.t.Helper()
	if b.last == nil {
		b.t.Fatal("no page yet to take a CSRF token from")
	}
	m := csrfRE.FindStringSubmatch(b.last.body)
	if m == nil {
		b.t.Fatalf("no CSRF token on %s:\n%s", b.last.url, b.last.body)
	}
	return m[1]
}

// post posts a form with the last page's CSRF token.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf())
	}
	return b.postRaw(path, form)
}

// postRaw posts a form as given, without adding a token.
func (b *browser) postRaw(path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.h.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// status gets a JSON status endpoint.
func (b *browser) status(path string) statusReply {
	b.t.Helper()
	pg := b.get(path)
	var r statusReply
	if err := json.Unmarshal([]byte(pg.body), &r); err != nil {
		b.t.Fatalf("%s: %v: %s", path, err, pg.body)
	}
	return r
}

// sessionCookie is the current value of the session cookie in the jar.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(b.h.url)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == b.h.p.sessions.cookie {
			return c.Value
		}
	}
	return ""
}

// login signs in with the password and returns the page after it.
func (b *browser) login(username, password string) *page {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"username": {username}, "password": {password}})
}

// phone is a simulated keyline phone: the enroll functions a real app
// runs, talking to the Service directly where the app would go through
// the device API.
type phone struct {
	t     *testing.T
	h     *harness
	user  *user
	cred  *enroll.Credential
	token string
	skew  time.Duration
}

func (ph *phone) now() time.Time { return ph.h.clock.Now().Add(ph.skew) }

// activate is the phone's side of an activation whose session ID it was
// given (as typed from the page, or as read from the QR code), up to
// the pairing code it shows.
func (h *harness) activate(u *user, sessionID, name string) *phone {
	h.t.Helper()
	ctx := context.Background()
	sid, err := enroll.ParseSessionID(sessionID)
	if err != nil {
		h.t.Fatalf("phone: the session ID %q: %v", sessionID, err)
	}
	offer, err := h.p.svc.Offer(ctx, sid) // the app fetches the offer for the typed ID
	if err != nil {
		h.t.Fatalf("phone: fetching the offer: %v", err)
	}
	if err := offer.Check(sessionID); err != nil {
		h.t.Fatalf("phone: checking the offer: %v", err)
	}
	scanned, err := enroll.ParseOffer(offer.URI()) // what the QR code carries
	if err != nil {
		h.t.Fatalf("phone: ParseOffer: %v", err)
	}
	ph := &phone{t: h.t, h: h, user: u, token: "push-" + rand.Text()}
	info := enroll.DeviceInfo{InstallID: "test-" + rand.Text(), Name: name, Platform: "test", Integrity: enroll.Intact, PushToken: ph.token}
	cred, req, err := enroll.Activate(scanned, info, ph.now())
	if err != nil {
		h.t.Fatalf("phone: Activate: %v", err)
	}
	act, err := h.p.svc.CompleteActivation(ctx, req)
	if err != nil {
		h.t.Fatalf("phone: CompleteActivation: %v", err)
	}
	if err := cred.CheckServerConfirm(act.ServerConfirm); err != nil {
		h.t.Fatalf("phone: CheckServerConfirm: %v", err)
	}
	ph.cred = cred
	return ph
}

func (ph *phone) respond(question string) string {
	ph.t.Helper()
	r, err := ph.cred.Respond(question, ph.now())
	if err != nil {
		ph.t.Fatalf("phone: Respond: %v", err)
	}
	return r
}

// device is the phone's device as the device API sees it: a request the
// phone signed now, for method and path, authenticated by the Service.
func (ph *phone) device(method, path string, body []byte) *authn.AuthenticatedDevice {
	ph.t.Helper()
	hdr, err := ph.cred.SignAPIRequest(method, path, "", body, ph.now())
	if err != nil {
		ph.t.Fatalf("phone: SignAPIRequest: %v", err)
	}
	r, mac, err := enroll.ParseAPIAuthorization(hdr)
	if err != nil {
		ph.t.Fatalf("phone: ParseAPIAuthorization: %v", err)
	}
	r.Method, r.Path, r.BodyHash = method, path, sha256.Sum256(body)
	d, err := ph.h.p.svc.AuthenticateDevice(context.Background(), r, mac, authn.DeviceLimit{})
	if err != nil {
		ph.t.Fatalf("phone: AuthenticateDevice: %v", err)
	}
	return d
}

// prompt fetches the newest pending push prompt, as the app does through
// the device API, and opens it.
func (ph *phone) prompt() enroll.PushPrompt {
	ph.t.Helper()
	wires, err := ph.device(http.MethodGet, "/v1/pushes", nil).PendingPushes(context.Background())
	if err != nil {
		ph.t.Fatalf("phone: PendingPushes: %v", err)
	}
	if len(wires) == 0 {
		ph.t.Fatal("phone: no pending push")
	}
	pr, err := ph.cred.OpenPrompt(wires[len(wires)-1], ph.now())
	if err != nil {
		ph.t.Fatalf("phone: OpenPrompt: %v", err)
	}
	return pr
}

// promptByID fetches the prompt of one request, named by its ID (as a
// notification or a login QR code names it), over the device API, and
// opens it.
func (ph *phone) promptByID(id string) enroll.PushPrompt {
	ph.t.Helper()
	sealed, err := ph.device(http.MethodGet, "/v1/push", nil).PushPrompt(context.Background(), id)
	if err != nil {
		ph.t.Fatalf("phone: PushPrompt: %v", err)
	}
	pr, err := ph.cred.OpenPrompt(sealed, ph.now())
	if err != nil {
		ph.t.Fatalf("phone: OpenPrompt: %v", err)
	}
	return pr
}

// answer answers the newest prompt and returns the Service's verdict.
func (ph *phone) answer(approve bool, typed string) (enroll.PushPrompt, error) {
	ph.t.Helper()
	return ph.answerPrompt(ph.prompt(), approve, typed)
}

// answerPrompt answers an opened prompt over the device API and returns
// the Service's verdict.
func (ph *phone) answerPrompt(pr enroll.PushPrompt, approve bool, typed string) (enroll.PushPrompt, error) {
	ph.t.Helper()
	a, err := ph.cred.AnswerPush(pr, approve, typed, ph.now())
	if err != nil {
		ph.t.Fatalf("phone: AnswerPush: %v", err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		ph.t.Fatalf("phone: %v", err)
	}
	return pr, ph.device(http.MethodPost, "/v1/push/answer", body).AnswerPush(context.Background(), a)
}

// pushState is the Service's view of a push request.
func (h *harness) pushState(u *user, id string) authn.PushState {
	h.t.Helper()
	st, err := h.p.svc.PushStatus(context.Background(), u.ID, id, 0)
	if err != nil {
		h.t.Fatalf("PushStatus: %v", err)
	}
	return st
}

// sessionOf returns the server-side session of a browser, locked; the
// caller unlocks it. For what a test cannot see on the page (the push ID,
// a transaction's nonce, which the QR code carries).
func (h *harness) sessionOf(b *browser) *session {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: h.p.sessions.cookie, Value: b.sessionCookie()})
	s := h.p.sessions.load(req)
	if s == nil {
		h.t.Fatal("the browser has no session")
	}
	return s
}

// enrollFirstPhone signs a user without a factor in (trust on first
// use), activates a phone from the security page and pairs it with the
// code the phone shows. The browser is left signed in, on /security.
func (h *harness) enrollFirstPhone(b *browser, username, password, name string) *phone {
	h.t.Helper()
	pg := b.login(username, password)
	if pg.path() != "/security" {
		h.t.Fatalf("a user without a factor landed on %s; want /security", pg.path())
	}
	pg.mustContain("notice", "no second factor")
	pg = b.post("/security/activate", nil)
	return h.pairFromPage(b, pg, h.p.users[username], name)
}

// pairFromPage is the rest of an activation, from its page: the phone
// types the session ID, completes the activation, and the code it shows
// is typed into the page.
func (h *harness) pairFromPage(b *browser, pg *page, u *user, name string) *phone {
	h.t.Helper()
	if pg.path() != "/security/activate" {
		h.t.Fatalf("on %s; want the activation page:\n%s", pg.path(), pg.body)
	}
	if got := pg.text("activation-state"); !strings.Contains(got, "Waiting for your phone") {
		h.t.Fatalf("activation state %q; want waiting", got)
	}
	sid := pg.text("session-id")
	// The QR code the page shows is the offer of this very activation.
	offer, err := h.p.svc.Offer(context.Background(), sid)
	if err != nil {
		h.t.Fatalf("Offer(%s): %v", sid, err)
	}
	want, err := offer.QR(qrSize)
	if err != nil {
		h.t.Fatal(err)
	}
	if img := b.get("/security/activate/qr.png"); img.status != http.StatusOK ||
		img.header.Get("Content-Type") != "image/png" || img.body != string(want) {
		h.t.Fatalf("the QR image: status %d, type %q, %d bytes; want the offer's %d-byte PNG",
			img.status, img.header.Get("Content-Type"), len(img.body), len(want))
	}
	ph := h.activate(u, sid, name)
	if st := b.status("/security/activate/status"); st.State != "completed" || st.Action != "reload" {
		h.t.Fatalf("activation status after the phone: %+v; want completed, reload", st)
	}
	pg = b.get("/security/activate")
	if got := pg.text("activation-state"); !strings.Contains(got, "Your phone is ready") {
		h.t.Fatalf("activation state %q after the phone; want completed", got)
	}
	pg = b.post("/security/activate/confirm", url.Values{"code": {ph.cred.PairingCode()}})
	if pg.path() == "/security/recovery" {
		// A first factor: recovery codes are offered (the user goes on
		// to the security page, as with "Later").
		pg.mustContain("notice", "is active")
		if !pg.has("recovery-offer") {
			h.t.Fatalf("no offer of recovery codes after the first factor:\n%s", pg.body)
		}
		pg = b.get("/security")
	} else {
		pg.mustContain("notice", "is active")
	}
	if pg.path() != "/security" {
		h.t.Fatalf("after pairing on %s; want /security:\n%s", pg.path(), pg.body)
	}
	pg.mustContain("devices", name)
	return ph
}

// challengeLogin signs in with the password and answers the challenge
// with the phone.
func (h *harness) challengeLogin(b *browser, username, password string, ph *phone) *page {
	h.t.Helper()
	pg := b.login(username, password)
	if pg.has("push-number") {
		pg = b.post("/2fa/method", url.Values{"method": {"challenge"}})
	}
	q := pg.text("challenge")
	pg = b.post("/2fa/challenge", url.Values{"response": {ph.respond(q)}})
	if pg.path() != "/account" {
		h.t.Fatalf("after the right response on %s; want /account:\n%s", pg.path(), pg.body)
	}
	return pg
}
