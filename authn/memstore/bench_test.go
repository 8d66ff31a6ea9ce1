package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
)

// A phone's poll for its pending pushes reads its user's requests, not
// every user's: 10,000 other users with a pending request each.
func BenchmarkPendingPushesOthers(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := memstore.New()
	put := func(id, user string) {
		p := authn.PushRecord{ID: id, User: user, Number: "42", Nonce: make([]byte, 16), State: authn.PushPending,
			Devices: []string{"dev-" + user}, CreatedAt: now, ExpiresAt: now.Add(2 * time.Minute)}
		if err := s.PutPush(ctx, p, now); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10000 {
		put(fmt.Sprintf("push-%05d", i), fmt.Sprintf("other-%05d", i))
	}
	put("push-alice", "alice")
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.PendingPushes(ctx, "alice", "dev-alice", 0, now)
		if err != nil || len(got) != 1 {
			b.Fatalf("%d pending, %v", len(got), err)
		}
	}
}
