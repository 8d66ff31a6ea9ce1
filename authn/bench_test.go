package authn_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

func benchEnv(b *testing.B, h slog.Handler) (*env, *phone) {
	e := newEnv(b, func(c *authn.Config) {
		c.Logger = slog.New(h)
		c.Observer = nil
		c.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
	})
	p, _ := e.enrollPhone(b, "alice", nil)
	return e, p
}

// finishLoop measures FinishChallenge alone: challenges are begun and
// answered in batches of 20 (the most a user may have outstanding) with
// the timer stopped.
func finishLoop(b *testing.B, e *env, p *phone) {
	ctx := context.Background()
	const batch = 20
	type pending struct{ id, resp string }
	todo := make([]pending, 0, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		e.clock.Advance(15 * time.Second) // 5 batches a minute: inside the budget of 100
		todo = todo[:0]
		for range min(batch, b.N-i) {
			ch, err := e.svc.BeginChallenge(ctx, "alice")
			if err != nil {
				b.Fatal(err)
			}
			todo = append(todo, pending{ch.ID, p.respond(b, ch.Question)})
		}
		b.StartTimer()
		for _, t := range todo {
			if _, err := e.svc.FinishChallenge(ctx, "alice", t.id, t.resp); err != nil {
				b.Fatal(err)
			}
		}
		i += len(todo)
	}
}

func BenchmarkFinishChallenge(b *testing.B) {
	b.Run("discard", func(b *testing.B) {
		e, p := benchEnv(b, slog.DiscardHandler)
		finishLoop(b, e, p)
	})
	b.Run("json", func(b *testing.B) {
		e, p := benchEnv(b, slog.NewJSONHandler(io.Discard, nil))
		finishLoop(b, e, p)
	})
}

// The same verification done by challenge.Verifier alone, for the ratio.
func BenchmarkVerifyAlone(b *testing.B) {
	root := make(enroll.Secret, 32)
	k := enroll.DeriveKeys(root, challenge.Default)
	v, err := challenge.NewVerifier(challenge.Default, k.OCRA)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Unix(1795770005, 0)
	in := challenge.Input{Question: "123457", Time: at}
	resp, err := challenge.Default.Respond(k.OCRA, in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(in, resp, challenge.Window{Behind: 1, Ahead: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBeginChallenge(b *testing.B) {
	e, _ := benchEnv(b, slog.DiscardHandler)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%90 == 89 {
			e.clock.Advance(time.Minute)
		}
		i++
		if _, err := e.svc.BeginChallenge(ctx, "alice"); err != nil {
			b.Fatal(err)
		}
	}
}

// BeginChallenge while 10,000 other users each hold a live challenge:
// the store's work per issue must not grow with the others' (compare
// with BenchmarkBeginChallenge).
func BenchmarkBeginChallengeOthersLive(b *testing.B) {
	e, _ := benchEnv(b, slog.DiscardHandler)
	ctx := context.Background()
	for i := range 10000 {
		if _, err := e.svc.BeginChallenge(ctx, fmt.Sprintf("other-%05d", i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%90 == 89 {
			e.clock.Advance(time.Second) // the others' challenges stay live
		}
		// 64 users in turn, each within its per-minute budget.
		user := "alice"
		if n := i % 64; n > 0 {
			user = fmt.Sprintf("user-%02d", n)
		}
		i++
		if _, err := e.svc.BeginChallenge(ctx, user); err != nil {
			b.Fatal(err)
		}
	}
}

// Throughput: 64 goroutines logging in 64 users (begin + finish) on one
// store, in rounds that stay inside each user's per-minute budget, the
// clock moving a minute between rounds. Reports logins per second.
func BenchmarkThroughput64(b *testing.B) {
	e := newEnv(b, func(c *authn.Config) {
		c.Logger = slog.New(slog.DiscardHandler)
		c.Observer = nil
		c.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
	})
	const n, perRound = 64, 90
	phones := make([]*phone, n)
	users := make([]string, n)
	for i := range n {
		users[i] = fmt.Sprintf("user-%02d", i)
		phones[i], _ = e.enrollPhone(b, users[i], nil)
	}
	ctx := context.Background()
	var failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for left := b.N; left > 0; {
		round := min(left, n*perRound)
		var wg sync.WaitGroup
		for g := range n {
			share := round / n
			if g < round%n {
				share++
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range share {
					ch, err := e.svc.BeginChallenge(ctx, users[g])
					if err != nil {
						failed.Add(1)
						continue
					}
					r, _ := phones[g].cred.Respond(ch.Question, e.clock.Now())
					if _, err := e.svc.FinishChallenge(ctx, users[g], ch.ID, r); err != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		left -= round
		b.StopTimer()
		e.clock.Advance(time.Minute)
		b.StartTimer()
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d logins failed", f)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}
