package authn_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type counter struct {
	mu     sync.Mutex
	events map[string]int
	all    []authn.Event // for checkDeclared
}

func (c *counter) Observe(_ context.Context, e authn.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.events == nil {
		c.events = map[string]int{}
	}
	c.events[string(e.Name)]++
	c.all = append(c.all, e)
}

func (c *counter) n(name string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.events[name] }

func newKeyring(t testing.TB) *authn.Keyring {
	k := make([]byte, 32)
	rand.Read(k)
	kr, err := authn.NewKeyring("k1", map[string][]byte{"k1": k})
	require.NoError(t, err)
	return kr
}

type env struct {
	svc   *authn.Service
	store *memstore.Store
	clock *clock
	obs   *counter
}

func newEnv(t testing.TB, mod ...func(*authn.Config)) *env {
	e := &env{store: memstore.New(), clock: &clock{t: time.Date(2026, 11, 27, 9, 0, 5, 0, time.UTC)}, obs: &counter{}}
	cfg := authn.Config{Hot: e.store, Records: e.store, Keys: newKeyring(t), Issuer: "Example Bank", Clock: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Observer: e.obs}
	for _, f := range mod {
		f(&cfg)
	}
	svc, err := authn.New(cfg)
	require.NoError(t, err)
	e.svc = svc
	t.Cleanup(func() { e.obs.checkDeclared(t) })
	return e
}

type phone struct {
	cred *enroll.Credential
	skew time.Duration
	c    *clock
}

func (p *phone) respond(t testing.TB, q string) string {
	r, err := p.cred.Respond(q, p.c.Now().Add(p.skew))
	require.NoError(t, err)
	return r
}

// device is the phone's device as the device API sees it: a request the
// phone signed at its own time, authenticated.
func (e *env) device(t testing.TB, p *phone) *authn.AuthenticatedDevice {
	t.Helper()
	r, mac := signed(t, p.cred, "POST", "/v1/push/answer", "", []byte("{}"), p.c.Now().Add(p.skew))
	d, err := e.svc.AuthenticateDevice(context.Background(), r, mac, authn.DeviceLimit{})
	require.NoError(t, err)
	return d
}

// enrollPhone runs a whole activation with pairing for user.
func (e *env) enrollPhone(t testing.TB, user string, proof *authn.Proof, opts ...authn.ActivationOption) (*phone, authn.Device) {
	ctx := context.Background()
	offer, err := e.svc.StartActivation(ctx, user, proof, opts...)
	require.NoError(t, err)
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: "install-" + rand.Text(), Name: "phone", Platform: "android", Integrity: enroll.Intact, PushToken: "token-" + rand.Text()}, e.clock.Now())
	require.NoError(t, err)
	act, err := e.svc.CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.Equal(t, authn.DevicePending, act.Device.State)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	st, err := e.svc.ActivationStatus(ctx, user, offer.SessionID)
	require.NoError(t, err)
	require.Equal(t, authn.ActivationCompleted, st.State)
	d, err := e.svc.ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, d.State)
	return &phone{cred: cred, c: e.clock}, d
}

func TestLoginFlow(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, dev := e.enrollPhone(t, "alice", nil)

	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, ch.Question, 6)
	e.clock.Advance(20 * time.Second)
	resp := p.respond(t, ch.Question)
	res, err := e.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	require.Equal(t, dev.ID, res.DeviceID)
	require.Equal(t, authn.MethodChallenge, res.Method)
	require.NotNil(t, res.Proof)
	require.Equal(t, 1, e.obs.n("check"))

	// The same response again: the challenge is consumed.
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	// Another user's challenge fails like a wrong code.
	chB, err := e.svc.BeginChallenge(ctx, "bob")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", chB.ID, p.respond(t, chB.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode)

	// A second device needs a proof now.
	_, err = e.svc.StartActivation(ctx, "alice", nil)
	require.ErrorIs(t, err, authn.ErrProofRequired)
	_, err = e.svc.StartActivation(ctx, "alice", res.Proof)
	require.NoError(t, err)
}

func TestLockout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	for i := range 5 {
		ch, err := e.svc.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
		require.ErrorIs(t, err, authn.ErrInvalidCode)
		if i == 4 {
			require.ErrorIs(t, err, authn.ErrLocked, "the fifth failure locks, and says so")
		} else {
			require.NotErrorIs(t, err, authn.ErrLocked)
		}
		e.clock.Advance(time.Second)
	}
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	var le *authn.LockedError
	require.ErrorAs(t, err, &le)
	require.ErrorIs(t, err, authn.ErrLocked)
	require.Greater(t, le.RetryAfter, 50*time.Second)
	checks := e.obs.n("check")

	// After the lock, the right response logs in and resets the failures.
	e.clock.Advance(time.Minute)
	ch, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	require.Equal(t, checks+1, e.obs.n("check"))
}

func TestMalformedCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "12ab")
	require.ErrorIs(t, err, authn.ErrMalformed)
	st, err := e.store.User(ctx, "alice", e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, st.Failures)
}

func TestResync(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, _ := e.enrollPhone(t, "alice", nil)
	p.skew = 3 * 30 * time.Second // the phone runs three steps fast

	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	var re *authn.ResyncError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, authn.ErrResyncNeeded)

	res, err := e.svc.FinishChallenge(ctx, "alice", re.Next.ID, p.respond(t, re.Next.Question))
	require.NoError(t, err)
	require.Equal(t, 3, res.Drift)

	// From now on the normal window follows the phone.
	e.clock.Advance(time.Minute)
	ch, err = e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
}

func TestUnknownUserGetsChallenge(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ch, err := e.svc.BeginChallenge(ctx, "nobody")
	require.NoError(t, err)
	require.Len(t, ch.Question, 6)
	for range 5 {
		_, err = e.svc.FinishChallenge(ctx, "nobody", ch.ID, "12345678")
		if errors.Is(err, authn.ErrTooManyAttempts) {
			ch, err = e.svc.BeginChallenge(ctx, "nobody")
			require.NoError(t, err)
			continue
		}
		require.ErrorIs(t, err, authn.ErrInvalidCode)
	}
	_, err = e.svc.FinishChallenge(ctx, "nobody", ch.ID, "12345678")
	require.ErrorIs(t, err, authn.ErrLocked, "phantom users lock like real ones")
}

func mustSuite(s string) challenge.Suite { return challenge.MustParseSuite(s) }
