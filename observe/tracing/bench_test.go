package tracing_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/observe/tracing"
)

// BenchmarkFinishChallenge measures FinishChallenge on a memstore (the
// fastest store, so the tracing's share is the largest) without a
// Tracer, and with tracing.Install on the global TracerProvider with no
// SDK installed: the OpenTelemetry API's no-op spans. Compare the two
// in one run:
//
//	go test -run '^$' -bench FinishChallenge -benchmem -count 6 ./tracing/ > bench.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /tracing bench.txt
func BenchmarkFinishChallenge(b *testing.B) {
	if !tracing.NoSDK() {
		b.Skip("an SDK is installed globally (run the benchmarks alone: -run '^$')")
	}
	for _, c := range []struct {
		name    string
		install bool
	}{{"none", false}, {"otel-api-no-sdk", true}} {
		b.Run("tracing="+c.name, func(b *testing.B) {
			k := authntest.New(b, authntest.WithConfig(func(cfg *authn.Config) {
				cfg.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
				if c.install {
					if err := tracing.Install(cfg, tracing.Options{}); err != nil {
						b.Fatal(err)
					}
				}
			}))
			finishLoop(b, k, k.Enroll("alice"))
		})
	}
}

// finishLoop measures FinishChallenge alone: challenges are begun and
// answered in batches of 20 (the most a user may have outstanding) with
// the timer stopped.
func finishLoop(b *testing.B, k *authntest.Kit, p *authntest.Phone) {
	ctx := context.Background()
	const batch = 20
	type pending struct{ id, resp string }
	todo := make([]pending, 0, batch)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		k.Clock.Advance(15 * time.Second) // 5 batches a minute: inside the budget of 100
		todo = todo[:0]
		for range min(batch, b.N-i) {
			ch, err := k.Service.BeginChallenge(ctx, "alice")
			if err != nil {
				b.Fatal(err)
			}
			todo = append(todo, pending{ch.ID, p.Respond(ch.Question)})
		}
		b.StartTimer()
		for _, t := range todo {
			if _, err := k.Service.FinishChallenge(ctx, "alice", t.id, t.resp); err != nil {
				b.Fatal(err)
			}
		}
		i += len(todo)
	}
}

// BenchmarkFinishChallengeInterleaved is BenchmarkFinishChallenge with
// the two Services' calls alternating, each timed alone, so that what
// else runs on the machine weighs on both alike: it reports the median
// time of each one's calls (a median, because a call the scheduler
// preempts takes milliseconds) and the traced one's cost relative to
// the other, in percent ("overhead-%").
func BenchmarkFinishChallengeInterleaved(b *testing.B) {
	if !tracing.NoSDK() {
		b.Skip("an SDK is installed globally (run the benchmarks alone: -run '^$')")
	}
	mk := func(install bool) (*authntest.Kit, *authntest.Phone) {
		k := authntest.New(b, authntest.WithConfig(func(cfg *authn.Config) {
			cfg.ChallengeBudget = authn.Budget{Outstanding: 20, PerMinute: 100}
			if install {
				if err := tracing.Install(cfg, tracing.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		}))
		return k, k.Enroll("alice")
	}
	plainKit, plainPhone := mk(false)
	otelKit, otelPhone := mk(true)
	ctx := context.Background()
	const batch = 20
	type pending struct{ id, resp string }
	begin := func(k *authntest.Kit, p *authntest.Phone, n int) []pending {
		k.Clock.Advance(15 * time.Second)
		var todo []pending
		for range n {
			ch, err := k.Service.BeginChallenge(ctx, "alice")
			if err != nil {
				b.Fatal(err)
			}
			todo = append(todo, pending{ch.ID, p.Respond(ch.Question)})
		}
		return todo
	}
	plain, traced := make([]time.Duration, 0, b.N), make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; {
		n := min(batch, b.N-i)
		a, c := begin(plainKit, plainPhone, n), begin(otelKit, otelPhone, n)
		for j := range n {
			t0 := time.Now()
			if _, err := plainKit.Service.FinishChallenge(ctx, "alice", a[j].id, a[j].resp); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if _, err := otelKit.Service.FinishChallenge(ctx, "alice", c[j].id, c[j].resp); err != nil {
				b.Fatal(err)
			}
			plain = append(plain, t1.Sub(t0))
			traced = append(traced, time.Since(t1))
		}
		i += n
	}
	p, t := median(plain), median(traced)
	b.ReportMetric(float64(p), "none-ns/call")
	b.ReportMetric(float64(t), "otel-ns/call")
	b.ReportMetric(100*(float64(t)-float64(p))/float64(p), "overhead-%")
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
