// Package authntest is a test kit for services that use keyline: an
// [authn.Service] on an in-memory store (or any pair of stores, see
// [WithStores]) with a fake clock and a fresh keyring, and simulated
// phones that enroll and answer challenges, so that a test of a login
// handler takes a few lines:
//
//	func TestLogin(t *testing.T) {
//		k := authntest.New(t)
//		phone := k.Enroll("alice")
//		ch, _ := k.Service.BeginChallenge(ctx, "alice") // or through the handler under test
//		res, err := k.Service.FinishChallenge(ctx, "alice", ch.ID, phone.Respond(ch.Question))
//		...
//	}
//
// Every helper fails the test (t.Fatalf) on an unexpected error, so call
// them from the test's goroutine, as with t.Fatalf itself. The kit is for
// tests only: its keyring lives in memory and is discarded with it.
package authntest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/internal/devicewire"
)

// Issuer is the service name a Kit's Service has, unless an option sets
// another.
const Issuer = "authntest"

// start is where a Kit's clock starts unless WithStart says; see Start.
var start = time.Date(2026, time.January, 15, 9, 0, 15, 0, time.UTC)

// Start returns the instant a Kit's clock starts at, unless [WithStart]
// sets another: 2026-01-15 09:00:15 UTC, 15 seconds into a 30-second time
// step (and 15 seconds into a minute), so that a test that moves the
// clock by less than 15 seconds either way stays in the step it began in
// and does not cross a step boundary by accident.
func Start() time.Time { return start }

// Clock is a fake clock for tests: it moves only when told. It is safe for
// concurrent use. The zero value reads the zero time; a Kit's clock starts
// at [Start], or where [WithStart] says.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time. Pass the method value (clock.Now) where a
// func() time.Time is wanted, as authn.Config.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (back, if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Option configures New.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	config   []func(*authn.Config)
	hot      authn.HotStore
	records  authn.RecordStore
	start    time.Time
	startSet bool
}

// WithStores runs the kit's Service on hot and records (authn.Config's
// Hot and Records; an engine that keeps both, such as an sqlstore, is
// passed as both) instead of a fresh memstore: to test a handler against
// the stores it runs on in production, or to look at records a memstore
// does not show. The kit does not close them; its caller does, after the
// test. They should hold nothing the test does not expect: the kit's
// keyring is new, so records sealed under another keyring cannot be
// opened, and a user who already has an active device there needs
// [Kit.EnrollWithProof]. If either is nil the kit keeps its default, a
// memstore as both.
func WithStores(hot authn.HotStore, records authn.RecordStore) Option {
	return func(o *options) { o.hot, o.records = hot, records }
}

// WithStart starts the kit's Clock at t instead of [Start]: to test a
// date (a certificate's validity, a month's end) or a particular offset
// into a time step. At an instant close to a step boundary, a test that
// moves the clock a few seconds crosses into the next step; [Start]
// avoids that.
func WithStart(t time.Time) Option {
	return func(o *options) { o.start, o.startSet = t, true }
}

// WithLogger sends the Service's audit log to l. Without it the log is
// discarded.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithConfig lets f adjust the Service's configuration (MaxFailures,
// SkipPairing, an Observer, ...) before New validates it. f sees the
// kit's Hot, Records, Keys, Issuer, Clock and Logger already set: leave
// the stores and Clock alone (use [WithStores] and [WithStart]), or
// Kit.Hot, Kit.Records and Kit.Clock no longer drive the Service. Several WithConfig options apply
// in order.
func WithConfig(f func(*authn.Config)) Option {
	return func(o *options) { o.config = append(o.config, f) }
}

// Kit is a Service on a pair of stores (a memstore as both unless
// [WithStores] gives others), driven by a fake clock; make one with
// [New]. Its fields may be used directly: the Service for the calls under
// test, the stores to look at what was stored, the Clock to move time. A Kit's methods are
// safe for concurrent use, but they fail the test from the goroutine that
// calls them.
type Kit struct {
	Service *authn.Service
	// Hot and Records are the Service's stores: a new memstore as both,
	// or the ones given with WithStores.
	Hot     authn.HotStore
	Records authn.RecordStore
	Clock   *Clock
	// Inbox receives every push delivery (it is the Service's
	// Notifier): what a test's phones would be sent. Phones of the kit
	// take theirs with Phone.ApprovePush and Phone.DenyPush.
	Inbox *authn.ChanNotifier

	t      testing.TB
	mu     sync.Mutex
	phones map[string][]*Phone // by user, in enrollment order
}

// New returns a kit: a Service with issuer [Issuer] on an empty memstore
// (see [WithStores]), a fresh random keyring, a Clock at [Start] (see
// [WithStart]), the audit log discarded (see [WithLogger]) and otherwise
// the default configuration (see [WithConfig]). It fails the test if the
// Service refuses the configuration.
func New(t testing.TB, opts ...Option) *Kit {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	master := make([]byte, authn.MasterKeySize)
	rand.Read(master)
	keys, err := authn.NewKeyring("authntest", map[string][]byte{"authntest": master})
	clear(master)
	if err != nil {
		t.Fatalf("authntest: keyring: %v", err)
	}
	var hot authn.HotStore
	var records authn.RecordStore
	if o.hot != nil && o.records != nil {
		hot, records = o.hot, o.records
	} else {
		m := memstore.New()
		hot, records = m, m
	}
	at := start
	if o.startSet {
		at = o.start
	}
	k := &Kit{Hot: hot, Records: records, Clock: NewClock(at), Inbox: authn.NewChanNotifier(256), t: t, phones: map[string][]*Phone{}}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := authn.Config{Hot: k.Hot, Records: k.Records, Keys: keys, Issuer: Issuer, Clock: k.Clock.Now, Logger: logger, Notifier: k.Inbox}
	for _, f := range o.config {
		f(&cfg)
	}
	if k.Service, err = authn.New(cfg); err != nil {
		t.Fatalf("authntest: %v", err)
	}
	return k
}

// Phone is a simulated phone holding one activated credential. Its clock
// is the kit's, plus a skew of its own ([Phone.SetSkew]).
type Phone struct {
	t     testing.TB
	clock *Clock
	user  string
	cred  *enroll.Credential
	kit   *Kit

	mu   sync.Mutex
	skew time.Duration
}

// Enroll activates a new phone for user, as a real one would: the Service
// starts an activation, the phone scans the offer, activates and checks
// the server's confirmation, and the portal pairs the device with the
// code the phone shows (unless Config.SkipPairing). The device is active
// when Enroll returns; it is named "phone N", N counting the user's
// phones in this kit from 1.
//
// A user who already has an active device needs a step-up proof to add
// another: Enroll gets one by logging in ([Kit.Login]) with the user's
// most recently enrolled phone of this kit that is still active, as the
// user would. That login is a real one: it issues and consumes a
// challenge, resets the user's failures and records the phone's time
// step. To control the proof, or for a user whose devices were not
// enrolled by this kit, use [Kit.EnrollWithProof].
//
// Enroll fails the test on any error.
func (k *Kit) Enroll(user string) *Phone {
	k.t.Helper()
	return k.EnrollWithProof(user, k.proof(user))
}

// EnrollWithProof is [Kit.Enroll] with the step-up proof given (nil for a
// user's first device): it fails the test if the Service refuses it.
func (k *Kit) EnrollWithProof(user string, proof *authn.Proof) *Phone {
	k.t.Helper()
	ctx := context.Background()
	k.mu.Lock()
	n := len(k.phones[user]) + 1
	k.mu.Unlock()
	offer, err := k.Service.StartActivation(ctx, user, proof)
	if err != nil {
		k.t.Fatalf("authntest: enrolling a phone for %q: StartActivation: %v", user, err)
	}
	scanned, err := enroll.ParseOffer(offer.URI())
	if err != nil {
		k.t.Fatalf("authntest: enrolling a phone for %q: ParseOffer: %v", user, err)
	}
	info := enroll.DeviceInfo{InstallID: "authntest-" + rand.Text(), Name: fmt.Sprintf("phone %d", n),
		Platform: "authntest", Integrity: enroll.Intact, PushToken: "authntest-push-" + rand.Text()}
	cred, req, err := enroll.Activate(scanned, info, k.Clock.Now())
	if err != nil {
		k.t.Fatalf("authntest: enrolling a phone for %q: Activate: %v", user, err)
	}
	act, err := k.Service.CompleteActivation(ctx, req)
	if err != nil {
		k.t.Fatalf("authntest: enrolling a phone for %q: CompleteActivation: %v", user, err)
	}
	if err := cred.CheckServerConfirm(act.ServerConfirm); err != nil {
		k.t.Fatalf("authntest: enrolling a phone for %q: CheckServerConfirm: %v", user, err)
	}
	if act.Device.State != authn.DeviceActive { // not SkipPairing: pair
		d, err := k.Service.ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
		if err != nil {
			k.t.Fatalf("authntest: enrolling a phone for %q: ConfirmActivation: %v", user, err)
		}
		if d.State != authn.DeviceActive {
			k.t.Fatalf("authntest: enrolling a phone for %q: device is %s after pairing", user, d.State)
		}
	}
	p := &Phone{t: k.t, clock: k.Clock, user: user, cred: cred, kit: k}
	k.mu.Lock()
	k.phones[user] = append(k.phones[user], p)
	k.mu.Unlock()
	return p
}

// proof returns nil for a user without an active device, and otherwise
// the proof of a login with the user's newest active phone of this kit.
func (k *Kit) proof(user string) *authn.Proof {
	k.t.Helper()
	devs, err := k.Service.Devices(context.Background(), user)
	if err != nil {
		k.t.Fatalf("authntest: enrolling a phone for %q: Devices: %v", user, err)
	}
	active := map[string]bool{}
	for _, d := range devs {
		if d.State == authn.DeviceActive {
			active[d.ID] = true
		}
	}
	if len(active) == 0 {
		return nil
	}
	k.mu.Lock()
	var phone *Phone
	for _, p := range k.phones[user] {
		if active[p.DeviceID()] {
			phone = p
		}
	}
	k.mu.Unlock()
	if phone == nil {
		k.t.Fatalf("authntest: %q has active devices, none enrolled by this kit: use EnrollWithProof", user)
	}
	return k.Login(user, phone).Proof
}

// Login logs user in with phone: BeginChallenge, the phone's response at
// its own time, FinishChallenge. It fails the test on any error, a
// *authn.ResyncError included (a phone skewed beyond the window); call
// the Service directly to see the errors.
func (k *Kit) Login(user string, phone *Phone) authn.Result {
	k.t.Helper()
	ctx := context.Background()
	ch, err := k.Service.BeginChallenge(ctx, user)
	if err != nil {
		k.t.Fatalf("authntest: login of %q: BeginChallenge: %v", user, err)
	}
	res, err := k.Service.FinishChallenge(ctx, user, ch.ID, phone.Respond(ch.Question))
	if err != nil {
		k.t.Fatalf("authntest: login of %q: FinishChallenge: %v", user, err)
	}
	return res
}

// Respond answers a challenge question as the phone would now: at the
// kit's clock plus the phone's skew. It fails the test if the credential
// refuses (a malformed question); to send a malformed response, send it.
func (p *Phone) Respond(question string) string {
	p.t.Helper()
	r, err := p.cred.Respond(question, p.Now())
	if err != nil {
		p.t.Fatalf("authntest: phone of %q: Respond: %v", p.user, err)
	}
	return r
}

// Now returns the phone's time: the kit's clock plus the skew.
func (p *Phone) Now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.clock.Now().Add(p.skew)
}

// SetSkew sets how far the phone's clock is ahead of the kit's (behind,
// if d is negative). With the default 30-second suite, a skew of one
// step is within the Service's default window; three steps fast or slow
// make FinishChallenge return a *authn.ResyncError.
func (p *Phone) SetSkew(d time.Duration) {
	p.mu.Lock()
	p.skew = d
	p.mu.Unlock()
}

// User returns the user the phone was enrolled for.
func (p *Phone) User() string { return p.user }

// DeviceID returns the server-assigned ID of the phone's device, as in
// authn.Result.DeviceID.
func (p *Phone) DeviceID() string { return p.cred.DeviceID() }

// Credential returns the phone's credential itself, for tests of the
// phone's side (a vault, say). Zeroing it breaks the phone.
func (p *Phone) Credential() *enroll.Credential { return p.cred }

// prompt takes from the kit's Inbox the newest prompt for this phone,
// dropping retractions and other phones' deliveries, and opens it as the
// phone would. It fails the test if there is none.
func (p *Phone) prompt() enroll.PushPrompt {
	p.t.Helper()
	var found []byte
	for {
		select {
		case d := <-p.kit.Inbox.C:
			if !d.Retract && d.Device == p.DeviceID() {
				found = d.Prompt
			}
			continue
		default:
		}
		break
	}
	if found == nil {
		p.t.Fatalf("authntest: no push prompt for %s's %s in the inbox", p.user, p.DeviceID())
	}
	pr, err := p.cred.OpenPrompt(found, p.Now())
	if err != nil {
		p.t.Fatalf("authntest: opening the push prompt: %v", err)
	}
	return pr
}

// ApprovePush takes this phone's newest push prompt from the kit's Inbox,
// approves it with the number the user types (the login page's, or a
// wrong one to test that path), and sends the answer to the Service as
// the device API would: through the device a signed request
// authenticated ([Phone.Authenticate]). It returns the prompt (what the
// phone showed) and the Service's answer to the approval (nil,
// ErrWrongNumber, ...).
func (p *Phone) ApprovePush(typedNumber string) (enroll.PushPrompt, error) {
	p.t.Helper()
	return p.answerPush(true, typedNumber)
}

// DenyPush takes this phone's newest push prompt from the kit's Inbox and
// denies it.
func (p *Phone) DenyPush() (enroll.PushPrompt, error) {
	p.t.Helper()
	return p.answerPush(false, "")
}

func (p *Phone) answerPush(approve bool, typed string) (enroll.PushPrompt, error) {
	p.t.Helper()
	pr := p.prompt()
	a, err := p.cred.AnswerPush(pr, approve, typed, p.Now())
	if err != nil {
		p.t.Fatalf("authntest: answering the push: %v", err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		p.t.Fatalf("authntest: answering the push: %v", err)
	}
	return pr, p.Authenticate("POST", devicewire.PathPushAnswer, body).AnswerPush(context.Background(), a)
}

// Authenticate signs a device API request as the phone would, at its own
// time (the kit's clock plus its skew), for method, path (as the device
// API routes it, "/v1/pushes" say) and body, and has the kit's Service
// authenticate it with the default budget: the
// [authn.AuthenticatedDevice] that the calls of the device API (pending
// pushes, answers, the push token, migration) hang off. It fails the
// test if the Service refuses.
func (p *Phone) Authenticate(method, path string, body []byte) *authn.AuthenticatedDevice {
	p.t.Helper()
	h, err := p.cred.SignAPIRequest(method, path, "", body, p.Now())
	if err != nil {
		p.t.Fatalf("authntest: phone of %q: SignAPIRequest: %v", p.user, err)
	}
	r, mac, err := enroll.ParseAPIAuthorization(h)
	if err != nil {
		p.t.Fatalf("authntest: phone of %q: ParseAPIAuthorization: %v", p.user, err)
	}
	r.Method, r.Path, r.BodyHash = method, path, sha256.Sum256(body)
	d, err := p.kit.Service.AuthenticateDevice(context.Background(), r, mac, authn.DeviceLimit{})
	if err != nil {
		p.t.Fatalf("authntest: phone of %q: AuthenticateDevice: %v", p.user, err)
	}
	return d
}
