package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------
// Through the Service: two instances on one store.

// fakeClock is the Services' clock; tests move it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// spy counts the audit events by name.
type spy struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *spy) Observe(_ context.Context, e authn.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[string(e.Name)]++
}

// total is how many events were seen.
func (s *spy) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.n {
		n += v
	}
	return n
}

func (s *spy) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[name]
}

// cluster is two Services on one store, keyring, clock and observer.
type cluster struct {
	svc   [2]*authn.Service
	store authn.Store
	clock *fakeClock
	obs   *spy
	cfg   authn.Config
}

func newCluster(t *testing.T, store authn.Store, mod func(*authn.Config)) *cluster {
	t.Helper()
	return newClusterOn(t, [2]authn.Store{store, store}, mod)
}

// newClusterOn is two Services, the first on stores[0] and the second on
// stores[1]: two handles on one store's data.
func newClusterOn(t *testing.T, stores [2]authn.Store, mod func(*authn.Config)) *cluster {
	t.Helper()
	store := stores[0]
	key := make([]byte, authn.MasterKeySize)
	rand.Read(key)
	keys, err := authn.NewKeyring("k1", map[string][]byte{"k1": key})
	require.NoError(t, err)
	c := &cluster{store: store, clock: &fakeClock{t: t0.Add(5 * time.Second)}, obs: &spy{}}
	hot, records := halves(store)
	c.cfg = authn.Config{Hot: hot, Records: records, Keys: keys, Issuer: "Example Bank", Clock: c.clock.Now,
		Logger: slog.New(slog.DiscardHandler), Observer: c.obs}
	if mod != nil {
		mod(&c.cfg)
	}
	for i := range c.svc {
		cfg := c.cfg
		cfg.Hot, cfg.Records = halves(stores[i])
		c.svc[i], err = authn.New(cfg)
		require.NoError(t, err)
	}
	return c
}

// halves is what a Service is configured with for a store of the
// suite's: a pair's own halves (so that the Service's own steps across
// them are what is tested), or any other store as both.
func halves(s authn.Store) (authn.HotStore, authn.RecordStore) {
	if p, ok := s.(pair); ok {
		return p.HotStore, p.RecordStore
	}
	return s, s
}

// requireStopped checks what a storm of wrong answers from both
// Services left: only refusals, at most MaxFailures answers compared
// (compared: what the check count measures) and reported as wrong, the
// rest refused by the lock, and the user locked.
func (c *cluster) requireStopped(t *testing.T, user string, errs []error, checks int, compared string) {
	t.Helper()
	const maxFailures = authn.DefaultMaxFailures
	var ty tally
	for _, err := range errs {
		ty.add(err)
	}
	require.Empty(t, ty.other, "only ErrInvalidCode or ErrLocked")
	require.Zero(t, ty.ok)
	require.LessOrEqual(t, c.obs.count("check")-checks, maxFailures, compared)
	require.LessOrEqual(t, ty.invalid, maxFailures, "failures reported as such")
	require.Equal(t, len(errs)-ty.invalid, ty.locked)

	u, err := c.store.User(t.Context(), user, c.clock.Now())
	require.NoError(t, err)
	require.True(t, u.LockedUntil.After(c.clock.Now()), "the user ends locked")
}

// phone is a simulated phone with an activated credential.
type phone struct {
	cred  *enroll.Credential
	clock *fakeClock
}

func (p *phone) respond(t *testing.T, question string) string {
	t.Helper()
	r, err := p.cred.Respond(question, p.clock.Now())
	require.NoError(t, err)
	return r
}

// enroll activates and pairs a phone for user: started on one instance,
// completed and paired on the other.
func (c *cluster) enroll(t *testing.T, user string, proof *authn.Proof) (*phone, authn.Device) {
	t.Helper()
	return c.enrollPhone(t, user, proof, "")
}

// enrollPhone is enroll for a phone with the OS push token pushToken
// ("": no push).
func (c *cluster) enrollPhone(t *testing.T, user string, proof *authn.Proof, pushToken string) (*phone, authn.Device) {
	t.Helper()
	ctx := t.Context()
	offer, err := c.svc[0].StartActivation(ctx, user, proof)
	require.NoError(t, err)
	o, err := enroll.ParseOffer(offer.URI())
	require.NoError(t, err)
	cred, req, err := enroll.Activate(o, enroll.DeviceInfo{InstallID: "install-" + rand.Text(), Name: "phone", Platform: "android", Integrity: enroll.Intact,
		PushToken: pushToken}, c.clock.Now())
	require.NoError(t, err)
	act, err := c.svc[1].CompleteActivation(ctx, req)
	require.NoError(t, err)
	require.NoError(t, cred.CheckServerConfirm(act.ServerConfirm))
	d, err := c.svc[0].ConfirmActivation(ctx, user, offer.SessionID, cred.PairingCode())
	require.NoError(t, err)
	require.Equal(t, authn.DeviceActive, d.State)
	return &phone{cred: cred, clock: c.clock}, d
}

// login begins a challenge on one instance and answers it on the other.
func (c *cluster) login(t *testing.T, user string, p *phone) authn.Result {
	t.Helper()
	ch, err := c.svc[0].BeginChallenge(t.Context(), user)
	require.NoError(t, err)
	res, err := c.svc[1].FinishChallenge(t.Context(), user, ch.ID, p.respond(t, ch.Question))
	require.NoError(t, err)
	return res
}

// wrongResponse is a well-formed response the phone would not give to
// any of the questions near now (the resync window included), so that it
// is a plain mismatch.
func wrongResponse(t *testing.T, p *phone, questions ...string) string {
	t.Helper()
	right := map[string]bool{}
	for _, q := range questions {
		for i := -12; i <= 12; i++ {
			r, err := p.cred.Respond(q, p.clock.Now().Add(time.Duration(i)*30*time.Second))
			require.NoError(t, err)
			right[r] = true
		}
	}
	for n := 0; ; n++ {
		w := fmt.Sprintf("%08d", n)
		if !right[w] {
			return w
		}
	}
}

// tally counts results by kind.
type tally struct {
	ok, invalid, locked int
	other               []error
}

func (ty *tally) add(err error) {
	switch {
	case err == nil:
		ty.ok++
	case errors.Is(err, authn.ErrLocked):
		ty.locked++
	case errors.Is(err, authn.ErrInvalidCode):
		ty.invalid++
	default:
		ty.other = append(ty.other, err)
	}
}

// concurrently runs f(i) for i in [0, n) on n goroutines released at once,
// and returns their errors.
func concurrently(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// countingStore counts PutChallenge conflicts, and runs a hook after
// Attempt and Devices (for interleaving a revocation).
type countingStore struct {
	authn.Store
	mu           sync.Mutex
	conflicts    int
	afterAttempt func()
	afterDevices func()
}

func (s *countingStore) PutChallenge(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	err := s.Store.PutChallenge(ctx, c, lim, now)
	if errors.Is(err, authn.ErrStoreConflict) {
		s.mu.Lock()
		s.conflicts++
		s.mu.Unlock()
	}
	return err
}

func (s *countingStore) Attempt(ctx context.Context, user string, answer *authn.ChallengeAnswer, policy authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	r, err := s.Store.Attempt(ctx, user, answer, policy, now)
	if answer == nil {
		return r, err // a factor's count, not a challenge's answer
	}
	if f := s.takeHook(&s.afterAttempt); f != nil {
		f()
	}
	return r, err
}

func (s *countingStore) Devices(ctx context.Context, user string) ([]authn.DeviceRecord, error) {
	ds, err := s.Store.Devices(ctx, user)
	if f := s.takeHook(&s.afterDevices); f != nil {
		f()
	}
	return ds, err
}

func (s *countingStore) takeHook(h *func()) func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := *h
	*h = nil
	return f
}

func (s *countingStore) setHook(h *func(), f func()) {
	s.mu.Lock()
	*h = f
	s.mu.Unlock()
}

// testSharedService is what two Services must show when they share one
// store's data: through one store value, or (RunShared) through two, each
// with its own connections. mk makes the two Services.
func testSharedService(t *testing.T, mk func(t *testing.T, mod func(*authn.Config)) *cluster) {
	t.Run("AnsweredOnce", func(t *testing.T) {
		c := mk(t, nil)
		p, dev := c.enroll(t, "alice", nil)
		ch, err := c.svc[0].BeginChallenge(t.Context(), "alice")
		require.NoError(t, err)
		c.clock.Advance(10 * time.Second)
		resp := p.respond(t, ch.Question)
		checks := c.obs.count("check")

		const n = 200
		var results [n]authn.Result
		errs := concurrently(n, func(i int) error {
			var err error
			results[i], err = c.svc[i%2].FinishChallenge(context.Background(), "alice", ch.ID, resp)
			return err
		})
		var ty tally
		for i, err := range errs {
			ty.add(err)
			if err == nil {
				require.Equal(t, dev.ID, results[i].DeviceID)
				require.Equal(t, dev.Name, results[i].DeviceName)
				require.NotNil(t, results[i].Proof)
			}
		}
		require.Empty(t, ty.other, "only ErrInvalidCode or ErrLocked besides the success")
		require.Equal(t, 1, ty.ok, "successes of %d concurrent answers to one challenge (invalid %d, locked %d)", n, ty.invalid, ty.locked)
		require.Equal(t, n-1, ty.invalid+ty.locked)
		require.Equal(t, checks+1, c.obs.count("check"), "one response compared")
		require.Equal(t, 1, c.obs.count("login_succeeded"))
	})

	t.Run("NoGuessPastTheLock", func(t *testing.T) {
		c := mk(t, func(cfg *authn.Config) {
			cfg.MaxAttemptsPerChallenge = 10
			cfg.ChallengeBudget = authn.Budget{Outstanding: 5, PerMinute: 20}
		})
		p, _ := c.enroll(t, "alice", nil)
		// Five live challenges (the budget's outstanding maximum).
		var ids, questions []string
		for i := range 5 {
			ch, err := c.svc[i%2].BeginChallenge(t.Context(), "alice")
			require.NoError(t, err)
			ids = append(ids, ch.ID)
			questions = append(questions, ch.Question)
		}
		wrong := wrongResponse(t, p, questions...)
		checks := c.obs.count("check")

		const n = 500
		errs := concurrently(n, func(i int) error {
			_, err := c.svc[i%2].FinishChallenge(context.Background(), "alice", ids[i%len(ids)], wrong)
			return err
		})
		c.requireStopped(t, "alice", errs, checks, "responses compared (the store must refuse before comparing once locked)")
		ch, err := c.svc[1].BeginChallenge(t.Context(), "alice")
		require.NoError(t, err)
		_, err = c.svc[0].FinishChallenge(t.Context(), "alice", ch.ID, p.respond(t, ch.Question))
		var le *authn.LockedError
		require.ErrorAs(t, err, &le, "the right response while locked")
		require.Positive(t, le.RetryAfter)
	})

	t.Run("ActivationCompletedOnce", func(t *testing.T) {
		c := mk(t, nil)
		offer, err := c.svc[0].StartActivation(t.Context(), "dave", nil)
		require.NoError(t, err)
		o, err := enroll.ParseOffer(offer.URI())
		require.NoError(t, err)
		const n = 8
		creds := make([]*enroll.Credential, n)
		reqs := make([]enroll.Request, n)
		for i := range n {
			creds[i], reqs[i], err = enroll.Activate(o, enroll.DeviceInfo{InstallID: fmt.Sprintf("install-%d", i), Name: "phone", Platform: "ios", Integrity: enroll.Intact}, c.clock.Now())
			require.NoError(t, err)
		}
		acts := make([]authn.Activation, n)
		errs := concurrently(n, func(i int) error {
			var err error
			acts[i], err = c.svc[i%2].CompleteActivation(context.Background(), reqs[i])
			return err
		})
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two phones won: %d and %d", winner, i)
				winner = i
				continue
			}
			require.ErrorIs(t, err, authn.ErrAlreadyUsed, "phone %d", i)
			var aue *enroll.AlreadyUsedError
			require.False(t, errors.As(err, &aue), "phone %d lost with another request but got the winner's confirmation", i)
		}
		require.NotEqual(t, -1, winner, "no phone won")
		won := acts[winner]
		require.NoError(t, creds[winner].CheckServerConfirm(won.ServerConfirm))

		// The winner's reply was lost; it retries byte for byte, on either
		// instance.
		for _, svc := range c.svc {
			_, err = svc.CompleteActivation(t.Context(), reqs[winner])
			var aue *enroll.AlreadyUsedError
			require.ErrorAs(t, err, &aue, "a retry of the winning request")
			require.ErrorIs(t, err, authn.ErrAlreadyUsed)
			require.Equal(t, won.ServerConfirm, aue.ServerConfirm)
			require.Equal(t, won.Device.ID, aue.Device.ID)
		}
		devs, err := c.svc[1].Devices(t.Context(), "dave")
		require.NoError(t, err)
		require.Len(t, devs, 1)
		require.Equal(t, won.Device.ID, devs[0].ID)
		require.Equal(t, authn.DevicePending, devs[0].State)

		_, err = c.svc[1].ConfirmActivation(t.Context(), "dave", offer.SessionID, creds[winner].PairingCode())
		require.NoError(t, err)
	})

}

func testService(t *testing.T, newStore func(t *testing.T) authn.Store) {
	testSharedService(t, func(t *testing.T, mod func(*authn.Config)) *cluster { return newCluster(t, newStore(t), mod) })

	t.Run("QuestionHorizon", func(t *testing.T) {
		// Four-digit questions (9,375 of them) so that draws collide and
		// the store's refusal is exercised.
		suite := challenge.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN04-T30S")
		cs := &countingStore{Store: newStore(t)}
		c := newCluster(t, cs, func(cfg *authn.Config) {
			cfg.Suite = suite
			cfg.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
		})
		// The Service's horizon: the TTL and the window either side.
		horizon := authn.DefaultChallengeTTL + time.Duration(2*(authn.DefaultWindow+1))*suite.TimeStep()
		last := map[string]time.Time{}
		const n = 600
		for i := range n {
			now := c.clock.Now()
			ch, err := c.svc[i%2].BeginChallenge(t.Context(), "alice")
			require.NoError(t, err, "challenge %d", i)
			if prev, ok := last[ch.Question]; ok {
				require.GreaterOrEqual(t, now.Sub(prev), horizon, "question %s reissued after %v", ch.Question, now.Sub(prev))
			}
			last[ch.Question] = now
			c.clock.Advance(time.Second)
		}
		cs.mu.Lock()
		conflicts := cs.conflicts
		cs.mu.Unlock()
		require.Positive(t, conflicts, "no draw collided: the horizon was not exercised")
		t.Logf("%d challenges, %d questions drawn again", n, conflicts)
	})

	t.Run("RevocationVoidsChallenges", func(t *testing.T) {
		c := newCluster(t, newStore(t), nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "erin", nil)
		proof := c.login(t, "erin", pa).Proof
		pb, devB := c.enroll(t, "erin", proof)
		c.clock.Advance(30 * time.Second)

		ch1, err := c.svc[0].BeginChallenge(ctx, "erin")
		require.NoError(t, err)
		ch2, err := c.svc[1].BeginChallenge(ctx, "erin")
		require.NoError(t, err)
		c.clock.Advance(5 * time.Second)
		require.NoError(t, c.svc[1].RevokeDevice(ctx, "erin", devA.ID, proof))
		before, err := c.store.User(ctx, "erin", c.clock.Now())
		require.NoError(t, err)

		_, err = c.svc[0].FinishChallenge(ctx, "erin", ch1.ID, pa.respond(t, ch1.Question))
		require.ErrorIs(t, err, authn.ErrExpired, "the revoked device answers a challenge issued before the revocation")
		_, err = c.svc[0].FinishChallenge(ctx, "erin", ch2.ID, pb.respond(t, ch2.Question))
		require.ErrorIs(t, err, authn.ErrExpired, "the revocation voids every earlier challenge, even for the device that stays")
		after, err := c.store.User(ctx, "erin", c.clock.Now())
		require.NoError(t, err)
		require.Equal(t, before.Failures, after.Failures, "voided challenges are not counted")

		// New challenges: the revoked device is not asked, the other is.
		ch, err := c.svc[1].BeginChallenge(ctx, "erin")
		require.NoError(t, err)
		_, err = c.svc[0].FinishChallenge(ctx, "erin", ch.ID, pa.respond(t, ch.Question))
		require.ErrorIs(t, err, authn.ErrInvalidCode, "the revoked device after the revocation")
		res := c.login(t, "erin", pb)
		require.Equal(t, devB.ID, res.DeviceID)
	})

	t.Run("RevocationDuringFinish", func(t *testing.T) {
		// The revocation lands between the matching Attempt and
		// CommitStep: the match must not log in.
		cs := &countingStore{Store: newStore(t)}
		c := newCluster(t, cs, nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "frank", nil)
		proof := c.login(t, "frank", pa).Proof
		c.clock.Advance(30 * time.Second)
		ch, err := c.svc[0].BeginChallenge(ctx, "frank")
		require.NoError(t, err)
		var revokeErr error
		cs.setHook(&cs.afterAttempt, func() { revokeErr = c.svc[1].RevokeDevice(ctx, "frank", devA.ID, proof) })
		_, err = c.svc[0].FinishChallenge(ctx, "frank", ch.ID, pa.respond(t, ch.Question))
		require.NoError(t, revokeErr)
		require.ErrorIs(t, err, authn.ErrInvalidCode, "a match whose device was revoked before it committed")
	})

	t.Run("RevocationDuringBegin", func(t *testing.T) {
		// The revocation lands after BeginChallenge read the user's epoch
		// and devices: the challenge must not be answerable by the revoked
		// device.
		cs := &countingStore{Store: newStore(t)}
		c := newCluster(t, cs, nil)
		ctx := t.Context()
		pa, devA := c.enroll(t, "gina", nil)
		proof := c.login(t, "gina", pa).Proof
		pb, _ := c.enroll(t, "gina", proof)
		c.clock.Advance(30 * time.Second)
		var revokeErr error
		cs.setHook(&cs.afterDevices, func() { revokeErr = c.svc[1].RevokeDevice(ctx, "gina", devA.ID, proof) })
		ch, err := c.svc[0].BeginChallenge(ctx, "gina")
		require.NoError(t, revokeErr)
		// The store refuses the challenge (its epoch is stale); the store
		// has not failed, so this must not read as ErrStoreUnavailable.
		require.NotErrorIs(t, err, authn.ErrStoreUnavailable, "BeginChallenge racing a revocation")
		if err != nil {
			ch, err = c.svc[0].BeginChallenge(ctx, "gina")
			require.NoError(t, err, "BeginChallenge after the revocation")
		}
		_, err = c.svc[1].FinishChallenge(ctx, "gina", ch.ID, pa.respond(t, ch.Question))
		require.Error(t, err, "the revoked device answers a challenge begun during its revocation")
		require.NotErrorIs(t, err, authn.ErrStoreUnavailable)
		res := c.login(t, "gina", pb)
		require.NotEqual(t, devA.ID, res.DeviceID)
	})

	t.Run("SweepBetweenInstances", func(t *testing.T) {
		// Sweeping (as a janitor of one instance would) does not disturb
		// a login in flight on the other.
		c := newCluster(t, newStore(t), nil)
		p, _ := c.enroll(t, "hana", nil)
		ch, err := c.svc[0].BeginChallenge(t.Context(), "hana")
		require.NoError(t, err)
		c.clock.Advance(time.Minute)
		_, err = c.store.Sweep(t.Context(), c.clock.Now())
		require.NoError(t, err)
		_, err = c.svc[1].FinishChallenge(t.Context(), "hana", ch.ID, p.respond(t, ch.Question))
		require.NoError(t, err)
	})
}
