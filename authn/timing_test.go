package authn_test

import (
	"context"
	"errors"

	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
)

// Wrong answers of real and unknown users: the work they cost, measured
// three ways. TestWrongAnswerWork compares allocations (deterministic,
// a proxy for the work done: every device searched allocates its
// verifier and opens a sealed secret); TestWrongAnswerTiming samples wall
// time and logs percentiles (no assertion: the machine decides);
// BenchmarkWrongAnswer reports each case with -benchmem.

// timingEnv is a Service where wrong answers can be repeated without a
// lock: 20 failures lock, and an operator unlocks the user before every
// challenge (of 9 answers).
func timingEnv(t testing.TB) *env {
	return newEnv(t, func(c *authn.Config) {
		c.Logger = slog.New(slog.DiscardHandler)
		c.Observer = nil
		c.MaxFailures = 20
		c.MaxAttemptsPerChallenge = 10
		c.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
	})
}

// withDevices enrolls n phones for user (the second and later with the
// proof of a login with the first).
func (e *env) withDevices(t testing.TB, user string, n int) {
	first, _ := e.enrollPhone(t, user, nil)
	for range n - 1 {
		ctx := context.Background()
		ch, err := e.svc.BeginChallenge(ctx, user)
		require.NoError(t, err)
		res, err := e.svc.FinishChallenge(ctx, user, ch.ID, first.respond(t, ch.Question))
		require.NoError(t, err)
		e.enrollPhone(t, user, res.Proof)
	}
}

// wrongAnswerer sends well-formed wrong answers for one user, each
// compared (never refused by a lock or an exhausted challenge).
type wrongAnswerer struct {
	e      *env
	user   string
	ch     string
	left   int
	answer string
}

func (e *env) wrongAnswerer(user string) *wrongAnswerer {
	return &wrongAnswerer{e: e, user: user, answer: strings.Repeat("0", challenge.Default.ResponseLen())}
}

// ready makes sure the next answer has a live challenge with attempts
// left, and a user far from the lock: untimed work.
func (w *wrongAnswerer) ready(t testing.TB) {
	if w.left > 0 {
		return
	}
	ctx := context.Background()
	require.NoError(t, w.e.svc.Operator("timing").Unlock(ctx, w.user))
	w.e.clock.Advance(time.Second) // 60 challenges a minute at most: within the budget
	ch, err := w.e.svc.BeginChallenge(ctx, w.user)
	require.NoError(t, err)
	w.ch, w.left = ch.ID, 9
}

// once sends one wrong answer: the timed work.
func (w *wrongAnswerer) once(t testing.TB) {
	w.left--
	_, err := w.e.svc.FinishChallenge(context.Background(), w.user, w.ch, w.answer)
	if !errors.Is(err, authn.ErrInvalidCode) {
		t.Fatalf("wrong answer of %s: %v", w.user, err)
	}
}

// timingCases are the users compared: real users with 1 and 3 devices,
// and an unknown user.
var timingCases = []struct {
	name    string
	devices int
}{{"real-1-device", 1}, {"real-3-devices", 3}, {"unknown", 0}}

func timingUsers(t testing.TB) map[string]*wrongAnswerer {
	e := timingEnv(t)
	out := map[string]*wrongAnswerer{}
	for _, c := range timingCases {
		if c.devices > 0 {
			e.withDevices(t, c.name, c.devices)
		}
		out[c.name] = e.wrongAnswerer(c.name)
	}
	return out
}

// A wrong answer costs the same work for an unknown user as for a real
// one with up to DefaultMaxDevices devices, measured by allocations
// (deterministic). Before the phantoms an unknown user's wrong answer
// allocated 8 times, a one-device user's 35. Since the device keys are
// cached and verified without allocating (keycache.go, challenge's
// VerifyOnce), what a wrong answer allocates is the store's work, which
// the phantoms do not equalise (phantom.go): the reading of the user's
// devices, and a real user's challenge carries device names to clone.
// So two things are compared: a wrong answer that does not search
// (a later one in its time step, resyncbound.go), within 10 % or one
// allocation; and the search itself — the first wrong answer of a step
// less a later one, less the store's reading of the devices — exactly.
func TestWrongAnswerWork(t *testing.T) {
	if raceEnabled {
		// Under the race detector sync.Pool drops a quarter of what is
		// put back, so the pooled scratch space is allocated again.
		t.Skip("allocation counts are not meaningful under -race")
	}
	users := timingUsers(t)
	measure := func(w *wrongAnswerer, advance time.Duration, runs int) float64 {
		w.left = 0
		w.ready(t)
		w.left = 100 // AllocsPerRun's calls on one challenge: within its 10 attempts
		defer func() { w.left = 0 }()
		return testing.AllocsPerRun(runs, func() {
			w.e.clock.Advance(advance)
			w.once(t)
		})
	}
	later, search := map[string]float64{}, map[string]float64{}
	for _, c := range timingCases {
		w := users[c.name]
		later[c.name] = measure(w, 0, 5)
		first := measure(w, 30*time.Second, 2) // a new step before each: three answers, 90 s, within the TTL
		read := testing.AllocsPerRun(5, func() {
			if _, err := w.e.store.Devices(context.Background(), c.name); err != nil {
				t.Fatal(err)
			}
		})
		search[c.name] = first - later[c.name] - read
	}
	t.Logf("allocations per wrong answer without search: %v; of the search, less the store's: %v", later, search)
	base := timingCases[0].name
	for _, c := range timingCases[1:] {
		require.InDelta(t, later[base], later[c.name], max(1, 0.1*later[base]),
			"a wrong answer of %s allocates as much as one of %s", c.name, base)
		require.Equal(t, search[base], search[c.name],
			"the resync search for %s allocates as much as for %s", c.name, base)
	}
}

// TestWrongAnswerTiming samples the wall time of wrong answers of each
// case, interleaved so that the machine's load falls on all alike, and
// logs their percentiles. It asserts nothing about time.
func TestWrongAnswerTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("samples a few thousand wrong answers")
	}
	users := timingUsers(t)
	const n = 3000
	samples := map[string][]time.Duration{}
	for range n {
		for _, c := range timingCases {
			w := users[c.name]
			w.ready(t)
			start := time.Now()
			w.once(t)
			samples[c.name] = append(samples[c.name], time.Since(start))
		}
	}
	for _, c := range timingCases {
		s := samples[c.name]
		slices.Sort(s)
		pct := func(p int) time.Duration { return s[(len(s)-1)*p/100] }
		t.Logf("%-15s n=%d p10=%v p50=%v p90=%v p99=%v", c.name, len(s), pct(10), pct(50), pct(90), pct(99))
	}
}

func BenchmarkWrongAnswer(b *testing.B) {
	users := timingUsers(b)
	for _, c := range timingCases {
		b.Run(c.name, func(b *testing.B) {
			w := users[c.name]
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if w.left == 0 {
					b.StopTimer()
					w.ready(b)
					b.StartTimer()
				}
				w.once(b)
			}
		})
	}
}
