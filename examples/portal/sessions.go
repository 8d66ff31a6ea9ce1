package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll/totpkey"
	"github.com/keyline/keyline/enroll/txn"
)

// Session lifetimes and limits.
const (
	anonIdle        = 15 * time.Minute // a session before the password
	sessionIdle     = 30 * time.Minute // a signed-in session without a request
	sessionAbsolute = 12 * time.Hour   // any session, from its creation
	maxSessions     = 100_000          // sessions in memory at most
)

// errTooManySessions reports a full session table.
var errTooManySessions = errors.New("portal: too many sessions")

// session is one browser's state, kept server-side; the browser holds
// only a random token in a cookie. Every challenge, push, activation and
// transaction ID lives here, never in a form: a request acts on the
// ceremony its own session started.
//
// A handler holds mu for the whole request, so the requests of one
// session run one at a time.
type session struct {
	mu   sync.Mutex
	key  [32]byte // SHA-256 of the cookie token: the map key
	dead bool     // destroyed or renewed away

	csrf    string
	created time.Time
	seen    time.Time

	user     *user        // set once the password was right
	pwGen    uint64       // the generation of the user's password it was (password.go)
	signedIn bool         // the login is complete
	method   authn.Method // the second factor of the login; "" for a user who had none
	proof    *authn.Proof // the latest step-up proof

	factor     *factorState     // a second-factor ceremony in progress (login or step-up)
	activation *activationState // a phone activation started from this session
	totp       *totpkey.Key     // a TOTP key being enrolled, until confirmed
	withdrawal *withdrawalState // a withdrawal waiting for its signature
	done       *withdrawal      // the withdrawal just executed, for its receipt
	recovery   []string         // recovery codes just made, shown until the user saved them

	notice     string    // shown once on the next page
	noticeWarn bool      // the notice is a warning or a failure (amber), not a success
	noticeLink *linkNote // a link after the notice, where it says what to do (deny.go)

	flash flash // what a form's answer leaves for the page it redirects to (flow.go)
}

// factorState is a second-factor ceremony: for the login, or a step-up
// before a factor change.
type factorState struct {
	stepUp bool
	next   string // where to go on success (a local path)
	method string // "push", "challenge", "totp", "recovery" or "qr"

	pushTried  bool
	pushID     string
	pushNumber string
	pushExpiry time.Time

	challengeID     string
	question        string
	challengeExpiry time.Time

	pending *pendingChange // the change a step-up was started for, made once it succeeds

	qr *qrLoginState // a QR login shown (qrlogin.go)

	leavePage string // the page token of the push or QR page shown last (leave.go)
}

// activationState is a phone activation started from this session.
type activationState struct {
	sessionID string
	expires   time.Time
	replacing string // the device it replaces, if any
	name      string // that device's name, for the page
}

// withdrawalState is a withdrawal waiting for the phone's signature.
type withdrawalState struct {
	tx         txn.Transaction
	typed      string // the amount as the user typed it, echoed beside the amount read
	push       bool
	pushID     string
	pushNumber string
	pushExpiry time.Time
	id         string // the transaction challenge (QR mode)
	nonce      []byte
	expires    time.Time
}

// sessions is the in-memory session table.
type sessions struct {
	mu     sync.Mutex
	m      map[[32]byte]*session
	clock  func() time.Time
	secure bool
	cookie string
	max    int // sessions at most
}

func newSessions(clock func() time.Time, secure bool) *sessions {
	name := "portal_session"
	if secure {
		// The __Host- prefix makes the browser refuse the cookie unless it
		// is Secure, host-only and for the path /.
		name = "__Host-portal_session"
	}
	return &sessions{m: map[[32]byte]*session{}, clock: clock, secure: secure, cookie: name, max: maxSessions}
}

func newToken() string { return rand.Text() + rand.Text() } // 2 × 128 bits, base32

func tokenKey(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// expired reports whether s has lived too long or sat idle too long.
func (s *session) expired(now time.Time) bool {
	idle := anonIdle
	if s.user != nil {
		idle = sessionIdle
	}
	return now.Sub(s.created) > sessionAbsolute || now.Sub(s.seen) > idle
}

// load returns the request's session, or nil. The session is returned
// locked: the caller must unlock it.
func (st *sessions) load(r *http.Request) *session {
	c, err := r.Cookie(st.cookie)
	if err != nil || len(c.Value) == 0 || len(c.Value) > 128 {
		return nil
	}
	key := tokenKey(c.Value)
	st.mu.Lock()
	s := st.m[key]
	st.mu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	now := st.clock()
	// Renewed or destroyed while this request waited for the lock: the
	// cookie's token no longer names it.
	if s.dead || s.key != key {
		s.mu.Unlock()
		return nil
	}
	if s.expired(now) {
		st.dropLocked(s)
		s.mu.Unlock()
		return nil
	}
	s.seen = now
	return s
}

// create starts a new, anonymous session, sets its cookie and returns it
// locked.
func (st *sessions) create(w http.ResponseWriter) (*session, error) {
	now := st.clock()
	token := newToken()
	s := &session{key: tokenKey(token), csrf: rand.Text(), created: now, seen: now}
	s.mu.Lock()
	st.mu.Lock()
	if len(st.m) >= st.max {
		st.sweepLocked(now)
	}
	if len(st.m) >= st.max {
		// Anyone can make anonymous sessions by loading the login page:
		// a flood of them evicts its own kind (whose owners at worst
		// reload a form), never a signed-in user.
		st.evictAnonLocked(max(1, st.max/10))
	}
	if len(st.m) >= st.max {
		st.mu.Unlock()
		s.mu.Unlock()
		return nil, errTooManySessions
	}
	st.m[s.key] = s
	st.mu.Unlock()
	st.setCookie(w, token)
	return s, nil
}

// renew gives s a new token (and CSRF token): at every privilege change,
// so that a token planted or seen before it is worth nothing after.
// s must be locked.
func (st *sessions) renew(w http.ResponseWriter, s *session) {
	token := newToken()
	st.mu.Lock()
	delete(st.m, s.key)
	s.key = tokenKey(token)
	st.m[s.key] = s
	st.mu.Unlock()
	s.csrf = rand.Text()
	st.setCookie(w, token)
}

// destroy ends s and clears its cookie. s must be locked.
func (st *sessions) destroy(w http.ResponseWriter, s *session) {
	st.dropLocked(s)
	http.SetCookie(w, &http.Cookie{Name: st.cookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteStrictMode})
}

// dropLocked removes s from the table and wipes what it holds. s must be
// locked.
func (st *sessions) dropLocked(s *session) {
	st.mu.Lock()
	if st.m[s.key] == s {
		delete(st.m, s.key)
	}
	st.mu.Unlock()
	s.wipe()
}

// wipe forgets what a session holds. s must be locked.
func (s *session) wipe() {
	s.dead = true
	if s.totp != nil {
		s.totp.Zero()
	}
	s.csrf, s.user, s.signedIn, s.method, s.proof = "", nil, false, "", nil
	s.factor, s.activation, s.totp, s.withdrawal, s.done, s.notice, s.noticeWarn, s.noticeLink = nil, nil, nil, nil, nil, "", false, nil
	s.flash, s.recovery = flash{}, nil
}

// setCookie sets the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), Secure under TLS, and
// without an expiry, so the browser forgets it when it closes; the
// server's own lifetimes are above.
func (st *sessions) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: st.cookie, Value: token, Path: "/",
		HttpOnly: true, Secure: st.secure, SameSite: http.SameSiteStrictMode})
}

// sweep removes expired sessions.
func (st *sessions) sweep() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sweepLocked(st.clock())
}

func (st *sessions) sweepLocked(now time.Time) {
	for k, s := range st.m {
		// TryLock: a session busy with a request is in use, not expired.
		if !s.mu.TryLock() {
			continue
		}
		if s.expired(now) {
			delete(st.m, k)
			s.wipe()
		}
		s.mu.Unlock()
	}
}

// evictAnonLocked removes up to n sessions that have no user.
func (st *sessions) evictAnonLocked(n int) {
	for k, s := range st.m {
		if n == 0 {
			return
		}
		if !s.mu.TryLock() {
			continue
		}
		if s.user == nil {
			delete(st.m, k)
			s.wipe()
			n--
		}
		s.mu.Unlock()
	}
}

// count returns how many sessions there are.
func (st *sessions) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}

// checkCSRF compares the form's token with the session's, in constant
// time.
func (s *session) checkCSRF(r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

// freshProof returns the session's step-up proof if it is still good for
// at least margin, else nil.
func (s *session) freshProof(now time.Time, ttl, margin time.Duration) *authn.Proof {
	if s.proof == nil || now.Sub(s.proof.At) > ttl-margin {
		return nil
	}
	return s.proof
}

// tell sets the notice the next page shows: something that went as the
// user asked (shown green).
func (s *session) tell(msg string) { s.notice, s.noticeWarn, s.noticeLink = msg, false, nil }

// warn sets the notice the next page shows: a failure, or something the
// user must act on (shown amber, never green).
func (s *session) warn(msg string) { s.notice, s.noticeWarn, s.noticeLink = msg, msg != "", nil }

// addWarning adds msg to the notice the next page shows, which becomes a
// warning.
func (s *session) addWarning(msg string) {
	if s.notice != "" {
		s.notice += " "
	}
	s.notice += msg
	s.noticeWarn = true
}

// popNotice returns the session's notice, whether it is a warning, and
// the link after it, and clears them.
func (s *session) popNotice() (string, bool, *linkNote) {
	n, w, l := s.notice, s.noticeWarn, s.noticeLink
	s.notice, s.noticeWarn, s.noticeLink = "", false, nil
	return n, w, l
}

// linkNote is a link shown after a notice.
type linkNote struct {
	Text string
	Href string // a local path
}
