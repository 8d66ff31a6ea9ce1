package authn_test

import (
	"testing"
	"time"
)

// BenchmarkWrongAnswerSearched is BenchmarkWrongAnswer with every answer
// the first of its time step (the clock moves a step before each), so
// that every one runs the resync search over the timing budget of
// devices (resyncbound.go); a challenge takes three answers, within its
// TTL. Before the bound every wrong answer cost this.
func BenchmarkWrongAnswerSearched(b *testing.B) {
	users := timingUsers(b)
	for _, c := range timingCases {
		b.Run(c.name, func(b *testing.B) {
			w := users[c.name]
			w.left = 0
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if w.left <= 6 {
					b.StopTimer()
					w.left = 0
					w.ready(b)
					b.StartTimer()
				}
				w.e.clock.Advance(30 * time.Second)
				w.once(b)
			}
		})
	}
}
