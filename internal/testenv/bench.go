package testenv

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/enroll"
)

// Login is what FinishBatches needs: a Service, a user with a phone, and
// the Service's fake clock.
type Login struct {
	Service *authn.Service
	User    string
	Phone   *enroll.Credential
	Now     func() time.Time
	Advance func(time.Duration)
}

// FinishBatches times b.N FinishChallenge calls with the right answer:
// batches of 20 challenges begun with the timer stopped (the clock moved
// 15 s before each batch, within the challenge budget), then answered. It
// reads each counter before and after every timed batch and returns the
// sum of its increases, and the duration of each call, sorted.
func FinishBatches(b *testing.B, l Login, counters ...func() int64) (increases []int64, durs []time.Duration) {
	ctx := context.Background()
	const batch = 20
	type pending struct{ id, resp string }
	todo := make([]pending, 0, batch)
	increases = make([]int64, len(counters))
	before := make([]int64, len(counters))
	durs = make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		l.Advance(15 * time.Second)
		todo = todo[:0]
		for range min(batch, b.N-i) {
			ch, err := l.Service.BeginChallenge(ctx, l.User)
			if err != nil {
				b.Fatal(err)
			}
			r, err := l.Phone.Respond(ch.Question, l.Now())
			if err != nil {
				b.Fatal(err)
			}
			todo = append(todo, pending{ch.ID, r})
		}
		for j, c := range counters {
			before[j] = c()
		}
		b.StartTimer()
		for _, t := range todo {
			start := time.Now()
			if _, err := l.Service.FinishChallenge(ctx, l.User, t.id, t.resp); err != nil {
				b.Fatal(err)
			}
			durs = append(durs, time.Since(start))
		}
		b.StopTimer()
		for j, c := range counters {
			increases[j] += c() - before[j]
		}
		b.StartTimer()
		i += len(todo)
	}
	b.StopTimer()
	slices.Sort(durs)
	return increases, durs
}

// ReportLatency reports the p50 and p99 of sorted durations.
func ReportLatency(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	b.ReportMetric(float64(durs[len(durs)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(durs[min(len(durs)-1, len(durs)*99/100)].Nanoseconds()), "p99-ns")
}
