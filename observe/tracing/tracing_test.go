package tracing_test

import (
	"context"
	"crypto/rand"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/observe/tracing"
)

var userKey = []byte("0123456789abcdef0123456789abcdef")

// kit is an authntest kit whose Service is traced into a span recorder.
func kit(t *testing.T, opts tracing.Options, sampler sdktrace.Sampler, mod ...func(*authn.Config)) (*authntest.Kit, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sampler))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	opts.TracerProvider = tp
	k := authntest.New(t, authntest.WithConfig(func(c *authn.Config) {
		for _, f := range mod {
			f(c)
		}
		if err := tracing.Install(c, opts); err != nil {
			t.Fatal(err)
		}
	}))
	return k, rec
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, a := range s.Attributes() {
		m[a.Key] = a.Value
	}
	return m
}

// named returns the ended spans of that name.
func named(rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// children returns the ended spans whose parent is s.
func children(rec *tracetest.SpanRecorder, s sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, c := range rec.Ended() {
		if c.Parent().SpanID() == s.SpanContext().SpanID() {
			out = append(out, c)
		}
	}
	return out
}

// TestLoginSpans: a login's calls are spans with their factor, outcome,
// the user's keyed hash and the store calls as children, counted; no
// attribute carries the user ID.
func TestLoginSpans(t *testing.T) {
	k, rec := kit(t, tracing.Options{UserKey: userKey}, sdktrace.AlwaysSample())
	phone := k.Enroll("alice@example.com")
	k.Login("alice@example.com", phone)

	tr, err := tracing.New(tracing.Options{UserKey: userKey})
	if err != nil {
		t.Fatal(err)
	}
	hash := tr.UserHash("alice@example.com")
	if len(hash) != 32 || strings.Contains(hash, "alice") {
		t.Fatalf("user hash %q", hash)
	}

	fin := named(rec, "FinishChallenge")
	if len(fin) != 1 {
		t.Fatalf("%d FinishChallenge spans; want 1", len(fin))
	}
	a := attrs(fin[0])
	for key, want := range map[attribute.Key]string{
		tracing.AttrCall: "FinishChallenge", tracing.AttrFactor: "challenge", tracing.AttrOutcome: "ok",
		tracing.AttrUserHash: hash,
	} {
		if got := a[key].AsString(); got != want {
			t.Errorf("%s = %q; want %q", key, got, want)
		}
	}
	if fin[0].Status().Code != codes.Unset {
		t.Errorf("status %v", fin[0].Status())
	}
	kids := children(rec, fin[0])
	var stores []string
	for _, c := range kids {
		if strings.Contains(c.Name(), "Store.") {
			stores = append(stores, c.Name())
			if got := attrs(c)[tracing.AttrStoreOut].AsString(); got != "ok" {
				t.Errorf("%s: store outcome %q", c.Name(), got)
			}
		}
	}
	// The engine's one-step finish (authn.FinishStore), which the
	// wrapper keeps: one round trip, as untraced.
	if a[tracing.AttrRoundTrips].AsInt64() != 1 || len(stores) != 1 || stores[0] != "Store.AttemptCommit" {
		t.Errorf("round trips %d; store spans %v; want one, Store.AttemptCommit", a[tracing.AttrRoundTrips].AsInt64(), stores)
	}

	// Every span of the enrolment and the login: the user ID nowhere.
	for _, s := range rec.Ended() {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.String(), "alice") {
				t.Errorf("%s: %s = %q carries the user ID", s.Name(), kv.Key, kv.Value.String())
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestFailedLoginSpan: a wrong response is an outcome, not an error of
// the service; the audit event says why, as a span event.
func TestFailedLoginSpan(t *testing.T) {
	k, rec := kit(t, tracing.Options{}, sdktrace.AlwaysSample())
	k.Enroll("alice")
	ctx := context.Background()
	ch, err := k.Service.BeginChallenge(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Service.FinishChallenge(ctx, "alice", ch.ID, "00000000"); !errors.Is(err, authn.ErrInvalidCode) {
		t.Fatalf("err %v", err)
	}
	fin := named(rec, "FinishChallenge")
	if len(fin) != 1 {
		t.Fatalf("%d spans", len(fin))
	}
	a := attrs(fin[0])
	if got := a[tracing.AttrOutcome].AsString(); got != "invalid_code" {
		t.Errorf("outcome %q", got)
	}
	if _, ok := a[tracing.AttrUserHash]; ok {
		t.Error("a user hash without a UserKey")
	}
	if fin[0].Status().Code != codes.Unset {
		t.Errorf("status %v for a wrong code", fin[0].Status())
	}
	var reasons []string
	for _, e := range fin[0].Events() {
		if e.Name != "keyline.event" {
			continue
		}
		m := map[attribute.Key]string{}
		for _, kv := range e.Attributes {
			m[kv.Key] = kv.Value.AsString()
		}
		reasons = append(reasons, m[tracing.AttrEvent]+"/"+m[tracing.AttrReason])
	}
	if !contains(reasons, "login_failed/mismatch") {
		t.Errorf("span events %v; want login_failed/mismatch", reasons)
	}
}

// failingStore fails every Attempt and AttemptCommit (the finish step of
// one engine) as a system failure would.
type failingStore struct{ *memstore.Store }

func (failingStore) Attempt(context.Context, string, string, *authn.ChallengeAnswer, authn.LockPolicy, time.Time) (authn.AttemptResult, error) {
	return authn.AttemptResult{}, errors.New("connection reset")
}

func (failingStore) AttemptCommit(context.Context, string, string, authn.ChallengeAnswer, int, authn.LockPolicy, time.Time) (authn.AttemptResult, error) {
	return authn.AttemptResult{}, errors.New("connection reset")
}

// TestStoreFailureSpans: a store's system failure is an Error status on
// its span and on the call's, whose text (the store's message) is in
// neither.
func TestStoreFailureSpans(t *testing.T) {
	st := failingStore{memstore.New()}
	k, rec := kit(t, tracing.Options{}, sdktrace.AlwaysSample(), func(c *authn.Config) { c.Hot, c.Records = st, st })
	k.Enroll("alice")
	ch, err := k.Service.BeginChallenge(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	_, err = k.Service.FinishChallenge(context.Background(), "alice", ch.ID, "12345678")
	if !errors.Is(err, authn.ErrStoreUnavailable) {
		t.Fatalf("err %v", err)
	}
	fin := named(rec, "FinishChallenge")[0]
	if fin.Status().Code != codes.Error || fin.Status().Description != "store_unavailable" {
		t.Errorf("call status %v", fin.Status())
	}
	att := named(rec, "Store.AttemptCommit")
	if len(att) != 1 || att[0].Status().Code != codes.Error || attrs(att[0])[tracing.AttrStoreOut].AsString() != "error" {
		t.Fatalf("Attempt spans %v", att)
	}
	for _, s := range rec.Ended() {
		if strings.Contains(s.Status().Description, "reset") {
			t.Errorf("%s: status carries the error's text", s.Name())
		}
	}
}

// TestDroppedCallsCostNoStoreSpans: when the sampler drops a call, its
// store calls make no span, and the Service works as before.
func TestDroppedCallsCostNoStoreSpans(t *testing.T) {
	k, rec := kit(t, tracing.Options{}, sdktrace.NeverSample())
	k.Login("alice", k.Enroll("alice"))
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans recorded", n)
	}
}

// TestInstallKeepsTheStoresShape: one engine stays one value (authn.New
// accepts it, the Service reads no epoch of its own), and an engine
// keeping both halves beside another RecordStore is still refused.
func TestInstallKeepsTheStoresShape(t *testing.T) {
	m := memstore.New()
	cfg := authn.Config{Hot: m, Records: m}
	if err := tracing.Install(&cfg, tracing.Options{}); err != nil {
		t.Fatal(err)
	}
	if any(cfg.Hot) != any(cfg.Records) {
		t.Fatal("one engine wrapped as two values")
	}
	if _, ok := cfg.Hot.(authn.Store); !ok {
		t.Fatal("one engine is no longer an authn.Store")
	}
	// The optional interfaces the Service looks for: kept where the
	// engine has them, and not made up where it has not.
	if _, ok := cfg.Hot.(authn.FinishStore); !ok {
		t.Error("a memstore wrapped is no longer an authn.FinishStore")
	}
	if _, ok := cfg.Hot.(authn.IssueStore); !ok {
		t.Error("a memstore wrapped is no longer an authn.IssueStore")
	}
	if _, ok := cfg.Records.(authn.LoginRecords); !ok {
		t.Error("a memstore wrapped is no longer an authn.LoginRecords")
	}
	plain := plainStore{memstore.New()}
	cfg = authn.Config{Hot: plain, Records: plain}
	if err := tracing.Install(&cfg, tracing.Options{}); err != nil {
		t.Fatal(err)
	}
	_, finish := cfg.Hot.(authn.FinishStore)
	_, issue := cfg.Hot.(authn.IssueStore)
	if _, ok := cfg.Hot.(authn.Store); !ok || finish || issue {
		t.Errorf("a plain Store wrapped: Store, FinishStore, IssueStore = %v, %v, %v; want true, false, false", ok, finish, issue)
	}

	master := make([]byte, authn.MasterKeySize)
	rand.Read(master)
	keys, err := authn.NewKeyring("k", map[string][]byte{"k": master})
	if err != nil {
		t.Fatal(err)
	}
	other := memstore.New()
	cfg = authn.Config{Hot: m, Records: other, Keys: keys, Issuer: "x"}
	if err := tracing.Install(&cfg, tracing.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := authn.New(cfg); !errors.Is(err, authn.ErrInvalidConfig) {
		t.Fatalf("a two-halves engine beside other records: %v; want ErrInvalidConfig", err)
	}
	cfg = authn.Config{}
	if err := tracing.Install(&cfg, tracing.Options{}); err != nil || cfg.Hot != nil || cfg.Records != nil {
		t.Fatalf("nil stores: %v %v %v", err, cfg.Hot, cfg.Records)
	}
}

func TestShortUserKey(t *testing.T) {
	if _, err := tracing.New(tracing.Options{UserKey: make([]byte, 15)}); !errors.Is(err, tracing.ErrShortUserKey) {
		t.Fatalf("err %v", err)
	}
	var cfg authn.Config
	if err := tracing.Install(&cfg, tracing.Options{UserKey: []byte("short")}); !errors.Is(err, tracing.ErrShortUserKey) || cfg.Tracer != nil {
		t.Fatalf("Install: %v, Tracer %v", err, cfg.Tracer)
	}
	tr, err := tracing.New(tracing.Options{})
	if err != nil || tr.UserHash("alice") != "" {
		t.Fatalf("no key: %v %q", err, tr.UserHash("alice"))
	}
}

// TestEveryStoreCallTraced: every method of the store interfaces is a
// span, named after it, through the wrappers WrapStores makes (of two
// engines, and of one engine as both). A method added to an interface
// without its wrapper method here fails.
func TestEveryStoreCallTraced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tr, err := tracing.New(tracing.Options{TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	one := memstore.New()
	bothHot, bothRec := tr.WrapStores(one, one)
	hot, records := tr.WrapStores(hotOnly{memstore.New()}, memstore.New())
	mirrorHot, _ := tr.WrapStores(&mirrorOnly{HotStore: memstore.New()}, memstore.New())
	for _, c := range []struct {
		v      any
		iface  reflect.Type
		prefix string
	}{
		{hot, reflect.TypeFor[authn.HotStore](), "HotStore."},
		{records, reflect.TypeFor[authn.RecordStore](), "RecordStore."},
		{bothHot, reflect.TypeFor[authn.HotStore](), "HotStore."},
		{bothRec, reflect.TypeFor[authn.RecordStore](), "RecordStore."},
		{bothHot, reflect.TypeFor[authn.IssueStore](), "Store."},
		{bothHot, reflect.TypeFor[authn.FinishStore](), "Store."},
		{records, reflect.TypeFor[authn.LoginRecords](), "RecordStore."},
		{bothRec, reflect.TypeFor[authn.LoginRecords](), "RecordStore."},
		{mirrorHot, reflect.TypeFor[authn.MirroredIssuer](), "HotStore."},
	} {
		v := reflect.ValueOf(c.v)
		for i := range c.iface.NumMethod() {
			m := c.iface.Method(i)
			if _, inStore := reflect.TypeFor[authn.Store]().MethodByName(m.Name); inStore && c.prefix == "Store." {
				continue // an optional interface's rows check its own calls
			}
			want := c.prefix + m.Name
			if c.v == bothHot && (m.Name == "DeleteUser" || m.Name == "Sweep") {
				want = "Store." + m.Name
			}
			rec.Reset()
			ctx, end := tr.StartCall(context.Background(), authn.Call{Name: "Test"})
			args := []reflect.Value{reflect.ValueOf(ctx)}
			for j := 1; j < m.Type.NumIn(); j++ {
				in := m.Type.In(j)
				if in.Kind() == reflect.Pointer {
					args = append(args, reflect.New(in.Elem()))
				} else {
					args = append(args, reflect.Zero(in))
				}
			}
			v.MethodByName(m.Name).Call(args)
			end.End(nil)
			if got := named(rec, want); len(got) != 1 {
				t.Errorf("%T.%s: %d spans named %s", c.v, m.Name, len(got), want)
			} else if got := attrs(named(rec, "Test")[0])[tracing.AttrRoundTrips].AsInt64(); got != 1 {
				t.Errorf("%T.%s: %d round trips; want 1", c.v, m.Name, got)
			}
		}
	}
}

// hotOnly is a memstore seen as a HotStore only.
type hotOnly struct{ authn.HotStore }

// plainStore is a memstore seen as an authn.Store only, without its
// optional interfaces.
type plainStore struct{ authn.Store }
