package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/notify"
)

// clock is a fake clock the tests advance.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// script is a Sender that answers from a function and records when (on
// the fake clock) each attempt was made.
type script struct {
	mu     sync.Mutex
	c      *clock
	at     []time.Time
	answer func(n int) error
}

func (s *script) Send(_ context.Context, m notify.Message) error {
	s.mu.Lock()
	s.at = append(s.at, s.c.Now())
	n := len(s.at)
	s.mu.Unlock()
	return s.answer(n)
}

func (s *script) attempts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.at...)
}

type removals struct {
	mu   sync.Mutex
	got  []string
	hold string // the token the device holds
}

func (r *removals) RemovePushToken(_ context.Context, user, device, token string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, user+"/"+device+"/"+token)
	return token == r.hold, nil
}

var start = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

func setup(t *testing.T, answer func(n int) error) (*notify.Notifier, *script, *clock, *[]notify.Report) {
	t.Helper()
	c := &clock{t: start}
	s := &script{c: c, answer: answer}
	var mu sync.Mutex
	reports := &[]notify.Report{}
	n, err := notify.New(notify.Config{Senders: map[string]notify.Sender{"ios": s}, Now: c.Now,
		Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Report: func(r notify.Report) { mu.Lock(); defer mu.Unlock(); *reports = append(*reports, r) }})
	if err != nil {
		t.Fatal(err)
	}
	return n, s, c, reports
}

func delivery() authn.Delivery {
	return authn.Delivery{User: "alice", Device: "dev-1", PushToken: "tok", Platform: "iOS", RequestID: "req-1",
		ExpiresAt: start.Add(2 * time.Minute), Prompt: []byte{1}}
}

var errBusy = &notify.RetryError{Err: errors.New("test: 503")}

// Retried while retrying is worth it, until it succeeds.
func TestRetriesUntilSent(t *testing.T) {
	n, s, _, reports := setup(t, func(i int) error {
		if i < 3 {
			return errBusy
		}
		return nil
	})
	if err := n.Notify(context.Background(), delivery()); err != nil {
		t.Fatal(err)
	}
	if got := len(s.attempts()); got != 3 {
		t.Fatalf("%d attempts, want 3", got)
	}
	if r := (*reports)[0]; r.Outcome != notify.Sent || r.Attempts != 3 || r.Device != "dev-1" || r.Err != nil {
		t.Fatalf("report %+v", r)
	}
}

// A final failure is not retried.
func TestFinalFailureNotRetried(t *testing.T) {
	final := errors.New("test: 400 BadTopic")
	n, s, _, reports := setup(t, func(int) error { return final })
	if err := n.Notify(context.Background(), delivery()); !errors.Is(err, final) {
		t.Fatalf("err %v", err)
	}
	if len(s.attempts()) != 1 || (*reports)[0].Outcome != notify.Failed {
		t.Fatalf("%d attempts, report %+v", len(s.attempts()), (*reports)[0])
	}
}

// A storm of retryable failures while the clock runs: no attempt is made
// at or after the request's expiry, and the delivery ends as expired.
func TestNoAttemptAfterExpiry(t *testing.T) {
	var c *clock
	n, s, c0, reports := setup(t, func(int) error {
		c.Advance(25 * time.Second)
		return errBusy
	})
	c = c0
	d := delivery()
	err := n.Notify(context.Background(), d)
	if !errors.Is(err, notify.ErrExpired) {
		t.Fatalf("err %v, want ErrExpired", err)
	}
	at := s.attempts()
	if len(at) < 2 {
		t.Fatalf("%d attempts: the storm was not retried", len(at))
	}
	for i, a := range at {
		if !a.Before(d.ExpiresAt) {
			t.Errorf("attempt %d at %v, at or after the expiry %v", i+1, a, d.ExpiresAt)
		}
	}
	if r := (*reports)[0]; r.Outcome != notify.Expired || r.Attempts != len(at) {
		t.Fatalf("report %+v", r)
	}

	// A delivery of a request expired already: no attempt at all.
	c.Advance(time.Hour)
	if err := n.Notify(context.Background(), d); !errors.Is(err, notify.ErrExpired) || len(s.attempts()) != len(at) {
		t.Fatalf("err %v, %d attempts", err, len(s.attempts()))
	}
}

// A Retry-After longer than the time left ends the delivery at once.
func TestRetryAfterBeyondTimeout(t *testing.T) {
	n, s, _, _ := setup(t, func(int) error {
		return &notify.RetryError{After: time.Hour, Err: errors.New("test: 429")}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Notify(ctx, delivery()); err == nil || errors.Is(err, notify.ErrExpired) {
		t.Fatalf("err %v", err)
	}
	if len(s.attempts()) != 1 {
		t.Fatalf("%d attempts, want 1", len(s.attempts()))
	}
}

// A gone token is removed through the attached remover (if the device
// still holds it), not retried; before Attach it is only reported.
func TestTokenGone(t *testing.T) {
	n, s, _, reports := setup(t, func(int) error { return fmt.Errorf("test: 410 Unregistered: %w", notify.ErrTokenGone) })
	d := delivery()
	if err := n.Notify(context.Background(), d); !errors.Is(err, notify.ErrTokenGone) {
		t.Fatalf("err %v", err)
	}
	if (*reports)[0].Outcome != notify.TokenGone {
		t.Fatalf("report %+v", (*reports)[0])
	}
	r := &removals{hold: "tok"}
	n.Attach(r)
	if err := n.Notify(context.Background(), d); !errors.Is(err, notify.ErrTokenGone) {
		t.Fatalf("err %v", err)
	}
	if len(s.attempts()) != 2 || len(r.got) != 1 || r.got[0] != "alice/dev-1/tok" || (*reports)[1].Outcome != notify.TokenRemoved {
		t.Fatalf("attempts %d, removals %v, report %+v", len(s.attempts()), r.got, (*reports)[1])
	}
	r.hold = "rotated"
	_ = n.Notify(context.Background(), d)
	if (*reports)[2].Outcome != notify.TokenGone {
		t.Fatalf("a token the device no longer holds: report %+v", (*reports)[2])
	}
}

// Retractions are not sent; a delivery without a token or without a
// sender for its platform fails without an attempt.
func TestSkippedAndRefused(t *testing.T) {
	n, s, _, reports := setup(t, func(int) error { return nil })
	ctx := context.Background()
	if err := n.Notify(ctx, authn.Delivery{User: "alice", Device: "dev-1", RequestID: "req-1", Retract: true}); err != nil {
		t.Fatal(err)
	}
	d := delivery()
	d.PushToken = ""
	if err := n.Notify(ctx, d); !errors.Is(err, notify.ErrNoToken) {
		t.Fatalf("err %v", err)
	}
	d = delivery()
	d.ExpiresAt = time.Time{}
	if err := n.Notify(ctx, d); !errors.Is(err, notify.ErrExpired) {
		t.Fatalf("a delivery without an expiry: err %v", err)
	}
	d = delivery()
	d.Platform = "symbian"
	if err := n.Notify(ctx, d); !errors.Is(err, notify.ErrNoSender) {
		t.Fatalf("err %v", err)
	}
	if len(s.attempts()) != 0 || (*reports)[0].Outcome != notify.Skipped || (*reports)[1].Outcome != notify.Failed ||
		(*reports)[2].Outcome != notify.Expired || (*reports)[3].Outcome != notify.Failed {
		t.Fatalf("attempts %d, reports %+v", len(s.attempts()), *reports)
	}
}

// NotifyAll sends to every device in parallel: each device's sender
// waits until the other has started, which a sequential loop would never
// see; errors come back per device, in order.
func TestNotifyAllParallel(t *testing.T) {
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	blocking := senderFunc(func(ctx context.Context, m notify.Message) error {
		started.Done()
		select {
		case <-both:
		case <-ctx.Done():
			return ctx.Err()
		}
		if m.Token == "bad" {
			return notify.ErrTokenGone
		}
		return nil
	})
	n, err := notify.New(notify.Config{Default: blocking, Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	a, b := delivery(), delivery()
	b.Device, b.PushToken, b.Platform = "dev-2", "bad", "android"
	errs := n.NotifyAll(context.Background(), []authn.Delivery{a, b})
	if len(errs) != 2 || errs[0] != nil || !errors.Is(errs[1], notify.ErrTokenGone) {
		t.Fatalf("errs %v", errs)
	}
}

type senderFunc func(ctx context.Context, m notify.Message) error

func (f senderFunc) Send(ctx context.Context, m notify.Message) error { return f(ctx, m) }

// Message's String and GoString hide the token.
func TestMessageHidesToken(t *testing.T) {
	m := notify.Message{Token: "secret-token", RequestID: "req-1", ExpiresAt: start}
	for _, s := range []string{m.String(), fmt.Sprintf("%v %+v %#v", m, m, m)} {
		if want := "req-1"; !contains(s, want) || contains(s, "secret-token") {
			t.Fatalf("%q", s)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestNewRefusesNoSender(t *testing.T) {
	if _, err := notify.New(notify.Config{}); err == nil {
		t.Fatal("a Notifier without senders")
	}
	if _, err := notify.New(notify.Config{Senders: map[string]notify.Sender{"ios": nil}}); err == nil {
		t.Fatal("a nil sender")
	}
}

func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-1", 0}, {"99999", time.Hour}, {"soon", 0},
		{start.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{start.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		if got := notify.RetryAfter(c.in, start); got != c.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}
