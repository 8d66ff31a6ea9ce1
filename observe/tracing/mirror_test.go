package tracing_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/observe/tracing"
)

// mirrorOnly is a memstore seen as a hot store alone that mirrors the
// devices version (authn.MirroredIssuer), with no life limit: enough for
// the Service to take its one-round-trip BeginChallenge.
type mirrorOnly struct {
	authn.HotStore
	mu sync.Mutex
	v  map[string]uint64
}

func (m *mirrorOnly) IssueMirrored(ctx context.Context, c authn.ChallengeRecord, lim authn.ChallengeLimits, version uint64, fresh bool, now time.Time) (bool, error) {
	m.mu.Lock()
	cur, ok := m.v[c.User]
	switch {
	case fresh && ok && version < cur, !fresh && (!ok || cur != version):
		m.mu.Unlock()
		return true, nil
	case fresh:
		if m.v == nil {
			m.v = map[string]uint64{}
		}
		m.v[c.User] = version
	}
	m.mu.Unlock()
	return false, m.HotStore.PutChallenge(ctx, c, lim, now)
}

func (m *mirrorOnly) RaiseDevices(_ context.Context, user string, version uint64, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.v == nil {
		m.v = map[string]uint64{}
	}
	m.v[user] = max(m.v[user], version)
	return nil
}

// TestMirroredBeginOneRoundTrip: a traced Service on split stores whose
// hot half mirrors the devices version (authn.MirroredIssuer) beside
// records that read a user's devices in one step (authn.LoginRecords)
// keeps its one-round-trip BeginChallenge: the wrappers keep both
// interfaces.
func TestMirroredBeginOneRoundTrip(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	k := authntest.New(t, authntest.WithStores(&mirrorOnly{HotStore: memstore.New()}, memstore.New()),
		authntest.WithConfig(func(c *authn.Config) {
			if err := tracing.Install(c, tracing.Options{TracerProvider: tp}); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Hot.(authn.MirroredIssuer); !ok {
				t.Error("the wrapped hot store is no longer an authn.MirroredIssuer")
			}
			if _, ok := c.Records.(authn.LoginRecords); !ok {
				t.Error("the wrapped records are no longer an authn.LoginRecords")
			}
		}))
	phone := k.Enroll("alice")
	k.Login("alice", phone)
	k.Clock.Advance(30 * time.Second)
	rec.Reset()
	k.Login("alice", phone)
	begin := named(rec, "BeginChallenge")
	if len(begin) != 1 {
		t.Fatalf("%d BeginChallenge spans; want 1", len(begin))
	}
	var stores []string
	for _, c := range children(rec, begin[0]) {
		stores = append(stores, c.Name())
	}
	if n := attrs(begin[0])[tracing.AttrRoundTrips].AsInt64(); n != 1 || !reflect.DeepEqual(stores, []string{"HotStore.IssueMirrored"}) {
		t.Errorf("BeginChallenge: %d round trips, store spans %v; want 1, HotStore.IssueMirrored", n, stores)
	}
}
