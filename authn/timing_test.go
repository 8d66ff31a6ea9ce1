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
// one with up to DefaultMaxDevices devices: the same allocations, within
// 10 % (each device searched, real or phantom, allocates the same; the
// rest is the store's). Before the phantoms an unknown user's wrong
// answer allocated 8 times, a one-device user's 35.
func TestWrongAnswerWork(t *testing.T) {
	users := timingUsers(t)
	allocs := map[string]float64{}
	for _, c := range timingCases {
		w := users[c.name]
		w.ready(t)
		w.left = 100 // AllocsPerRun's 6 calls on one challenge: within its 10 attempts
		allocs[c.name] = testing.AllocsPerRun(5, func() { w.once(t) })
		w.left = 0
	}
	t.Logf("allocations per wrong answer: %v", allocs)
	for _, c := range timingCases[1:] {
		require.InEpsilon(t, allocs[timingCases[0].name], allocs[c.name], 0.1,
			"a wrong answer of %s allocates as much as one of %s", c.name, timingCases[0].name)
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
