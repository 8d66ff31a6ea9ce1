package apns_test

import (
	"context"
	"testing"
)

// BenchmarkSend: one alert push over a warm HTTP/2 connection to the
// local APNs, the provider token cached.
func BenchmarkSend(b *testing.B) {
	cl, srv, _ := setup(b)
	m := message(deviceToken())
	ctx := context.Background()
	if err := cl.Send(ctx, m); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := cl.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(srv.Delivered()); n < b.N {
		b.Fatalf("%d delivered of %d", n, b.N)
	}
}
