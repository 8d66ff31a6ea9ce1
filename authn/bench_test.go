package authn_test

import (
	"context"
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

// Throughput: 64 goroutines logging in 64 users on one store. Reports
// logins (begin + finish) per second.
func BenchmarkThroughput64(b *testing.B) {
	e := newEnv(b, func(c *authn.Config) {
		c.Logger = slog.New(slog.DiscardHandler)
		c.Observer = nil
		c.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
	})
	const n = 64
	phones := make([]*phone, n)
	users := make([]string, n)
	for i := range n {
		users[i] = "user-" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		phones[i], _ = e.enrollPhone(b, users[i], nil)
	}
	ctx := context.Background()
	var done atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := b.N/n + 1
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if i%90 == 89 {
					continue // stay inside the per-minute budget without moving the shared clock
				}
				ch, err := e.svc.BeginChallenge(ctx, users[g])
				if err != nil {
					continue
				}
				r, _ := phones[g].cred.Respond(ch.Question, e.clock.Now())
				if _, err := e.svc.FinishChallenge(ctx, users[g], ch.ID, r); err == nil {
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(done.Load())/time.Since(start).Seconds(), "logins/s")
}
