package metrics_test

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/authn/memstore"
	"github.com/keyline/keyline/enroll"
	"github.com/keyline/keyline/observe/metrics"
)

// kit is an authntest kit whose Service feeds a Collector installed on
// a registry of its own.
func kit(t *testing.T, mod ...func(*authn.Config)) (*authntest.Kit, *prometheus.Registry, *metrics.Collector) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	var c *metrics.Collector
	k := authntest.New(t, authntest.WithConfig(func(cfg *authn.Config) {
		for _, f := range mod {
			f(cfg)
		}
		var err error
		if c, err = metrics.Install(cfg, reg); err != nil {
			t.Fatal(err)
		}
	}))
	return k, reg, c
}

// value is the value of the counter name with exactly these labels, or
// the sample count of the histogram; 0 when no such series exists.
func value(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
					continue series
				}
			}
			return metricValue(m)
		}
	}
	return 0
}

func metricValue(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return float64(m.GetHistogram().GetSampleCount())
}

type want struct {
	name   string
	labels map[string]string
	v      float64
}

func check(t *testing.T, reg prometheus.Gatherer, wants ...want) {
	t.Helper()
	for _, w := range wants {
		if got := value(t, reg, w.name, w.labels); got != w.v {
			t.Errorf("%s%v = %v; want %v", w.name, w.labels, got, w.v)
		}
	}
}

// TestLoginsAndLocks: logins by factor and outcome, the checks, a lock,
// the activations and challenges, and the calls' durations.
func TestLoginsAndLocks(t *testing.T) {
	ctx := context.Background()
	k, reg, _ := kit(t, func(c *authn.Config) { c.MaxFailures = 2 })
	alice := k.Enroll("alice")
	k.Login("alice", alice)

	k.Enroll("bob")
	for range 2 {
		ch, err := k.Service.BeginChallenge(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		_, err = k.Service.FinishChallenge(ctx, "bob", ch.ID, "00000000")
		if !errors.Is(err, authn.ErrInvalidCode) {
			t.Fatalf("err %v", err)
		}
	}
	_, err := k.Service.VerifyTOTP(ctx, "bob", "123456")
	if !errors.Is(err, authn.ErrLocked) {
		t.Fatalf("a locked user's code: %v", err)
	}

	check(t, reg,
		want{"keyline_logins_total", map[string]string{"factor": "challenge", "outcome": "success"}, 1},
		want{"keyline_logins_total", map[string]string{"factor": "challenge", "outcome": "mismatch"}, 2},
		want{"keyline_logins_total", map[string]string{"factor": "totp", "outcome": "locked"}, 1},
		want{"keyline_checks_total", map[string]string{"factor": "challenge"}, 3},
		want{"keyline_locks_total", map[string]string{"factor": "challenge"}, 1},
		want{"keyline_challenges_total", map[string]string{"outcome": "issued"}, 3},
		want{"keyline_activations_total", map[string]string{"outcome": "started"}, 2},
		want{"keyline_activations_total", map[string]string{"outcome": "completed"}, 2},
		want{"keyline_activations_total", map[string]string{"outcome": "paired"}, 2},
		want{"keyline_events_total", map[string]string{"event": "user_locked", "factor": "challenge", "reason": "failures"}, 1},
		want{"keyline_call_duration_seconds", map[string]string{"call": "FinishChallenge", "outcome": "ok"}, 1},
		want{"keyline_call_duration_seconds", map[string]string{"call": "FinishChallenge", "outcome": "invalid_code"}, 1},
		want{"keyline_call_duration_seconds", map[string]string{"call": "FinishChallenge", "outcome": "locked"}, 1},
		want{"keyline_call_duration_seconds", map[string]string{"call": "VerifyTOTP", "outcome": "locked"}, 1},
	)
}

// TestPushes: sent, approved, denied and expired requests.
func TestPushes(t *testing.T) {
	ctx := context.Background()
	k, reg, _ := kit(t)
	seen := enroll.PushContext{Action: "Login", IP: "203.0.113.7"}

	alice := k.Enroll("alice")
	req, err := k.Service.BeginPush(ctx, "alice", seen)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.ApprovePush(req.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Service.FinishPush(ctx, "alice", req.ID); err != nil {
		t.Fatal(err)
	}

	req, err = k.Service.BeginPush(ctx, "alice", seen)
	if err != nil {
		t.Fatal(err)
	}
	k.Clock.Advance(enroll.DefaultPushTTL)
	if st, err := k.Service.PushStatus(ctx, "alice", req.ID, 0); err != nil || st != authn.PushExpired {
		t.Fatalf("status %v, %v", st, err)
	}

	bob := k.Enroll("bob")
	if _, err = k.Service.BeginPush(ctx, "bob", seen); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.DenyPush(); err != nil {
		t.Fatal(err)
	}

	check(t, reg,
		want{"keyline_pushes_total", map[string]string{"outcome": "sent"}, 3},
		want{"keyline_pushes_total", map[string]string{"outcome": "approved"}, 1},
		want{"keyline_pushes_total", map[string]string{"outcome": "expired"}, 1},
		want{"keyline_pushes_total", map[string]string{"outcome": "denied"}, 1},
		want{"keyline_logins_total", map[string]string{"factor": "push", "outcome": "success"}, 1},
		want{"keyline_logins_total", map[string]string{"factor": "push", "outcome": "user_denied"}, 1},
	)
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

// TestStoreErrors: a call that fails because its store did is counted by
// its name, and timed with the outcome store_unavailable.
func TestStoreErrors(t *testing.T) {
	st := failingStore{memstore.New()}
	k, reg, _ := kit(t, func(c *authn.Config) { c.Hot, c.Records = st, st })
	k.Enroll("alice")
	ch, err := k.Service.BeginChallenge(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Service.FinishChallenge(context.Background(), "alice", ch.ID, "12345678"); !errors.Is(err, authn.ErrStoreUnavailable) {
		t.Fatalf("err %v", err)
	}
	check(t, reg,
		want{"keyline_store_errors_total", map[string]string{"call": "FinishChallenge"}, 1},
		want{"keyline_call_duration_seconds", map[string]string{"call": "FinishChallenge", "outcome": "store_unavailable"}, 1},
	)
}

// TestSwept: the records a sweep removed are added up.
func TestSwept(t *testing.T) {
	c := metrics.New()
	c.Observe(context.Background(), authn.Event{Name: authn.EventSwept, Count: 7})
	c.Observe(context.Background(), authn.Event{Name: authn.EventSwept, Count: 3})
	if got := testutil.ToFloat64(prometheus.CollectorFunc(func(ch chan<- prometheus.Metric) {
		// keyline_swept_records_total alone
		all := make(chan prometheus.Metric, 64)
		c.Collect(all)
		close(all)
		for m := range all {
			if strings.Contains(m.Desc().String(), `"keyline_swept_records_total"`) {
				ch <- m
			}
		}
	})); got != 10 {
		t.Fatalf("swept %v; want 10", got)
	}
}

// TestNamesFollowConventions: Prometheus's linter finds nothing in the
// collector's metrics (with a series of each, so that all are seen).
func TestNamesFollowConventions(t *testing.T) {
	ctx := context.Background()
	k, _, c := kit(t)
	k.Login("alice", k.Enroll("alice"))
	c.Observe(ctx, authn.Event{Name: authn.EventSwept, Count: 1})
	c.Observe(ctx, authn.Event{Name: authn.EventSlowGuessing, Method: authn.MethodTOTP, Reason: authn.ReasonSlowAlert})
	c.Observe(ctx, authn.Event{Name: authn.EventUserLocked, Method: authn.MethodTOTP, Reason: authn.ReasonFailures})
	c.Observe(ctx, authn.Event{Name: authn.EventPushSent, Method: authn.MethodPush})
	c.Observe(ctx, authn.Event{Name: authn.EventTransactionSigned, Method: authn.MethodChallenge})
	_, end := c.StartCall(ctx, authn.Call{Name: "Sweep"})
	end.End(authn.ErrStoreUnavailable)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(c); n < 12 {
		t.Errorf("%d series; want one of each metric at least", n)
	}
}

var docName = regexp.MustCompile(`(?m)^//   - (keyline_[a-z_]+)`)
var descName = regexp.MustCompile(`fqName: "([a-z_]+)"`)

// TestDocListsEveryMetric: the package documentation lists exactly the
// metrics the Collector describes.
func TestDocListsEveryMetric(t *testing.T) {
	src, err := os.ReadFile("metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range docName.FindAllStringSubmatch(string(src), -1) {
		documented[m[1]] = true
	}
	ch := make(chan *prometheus.Desc, 64)
	metrics.New().Describe(ch)
	close(ch)
	described := map[string]bool{}
	for d := range ch {
		m := descName.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		described[m[1]] = true
		if !documented[m[1]] {
			t.Errorf("%s is not in the package documentation", m[1])
		}
	}
	for name := range documented {
		if !described[name] {
			t.Errorf("%s is documented but not collected", name)
		}
	}
}

// TestInstall: the one line keeps an Observer and a Tracer already set
// (they still see every event and call, first), and a second Collector
// on the same registry is refused, leaving the configuration as it was.
func TestInstall(t *testing.T) {
	var seen []authn.EventName
	var calls []string
	before := authn.ObserverFunc(func(_ context.Context, e authn.Event) { seen = append(seen, e.Name) })
	reg := prometheus.NewRegistry()
	k := authntest.New(t, authntest.WithConfig(func(cfg *authn.Config) {
		cfg.Observer = before
		cfg.Tracer = tracerFunc(func(c authn.Call) { calls = append(calls, c.Name) })
		if _, err := metrics.Install(cfg, reg); err != nil {
			t.Fatal(err)
		}
		kept := *cfg
		if _, err := metrics.Install(cfg, reg); err == nil {
			t.Fatal("a second Collector on one registry")
		}
		if cfg.Observer != kept.Observer || cfg.Tracer != kept.Tracer {
			t.Fatal("a refused Install changed the configuration")
		}
	}))
	k.Login("alice", k.Enroll("alice"))
	if len(seen) == 0 || len(calls) == 0 {
		t.Fatalf("the Observer saw %d events, the Tracer %d calls", len(seen), len(calls))
	}
	check(t, reg, want{"keyline_logins_total", map[string]string{"factor": "challenge", "outcome": "success"}, 1})
}

type tracerFunc func(authn.Call)

func (f tracerFunc) StartCall(ctx context.Context, c authn.Call) (context.Context, authn.CallEnd) {
	f(c)
	return ctx, noEnd{}
}

type noEnd struct{}

func (noEnd) End(error) {}
