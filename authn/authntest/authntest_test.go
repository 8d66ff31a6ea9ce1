package authntest_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/authntest"
	"github.com/keyline/keyline/challenge"
	"github.com/keyline/keyline/enroll"
)

// fatalT records the kit's failures instead of failing the test: Fatalf
// records the message and ends the goroutine, as testing.T's does.
type fatalT struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalT) Helper() {}

func (f *fatalT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

// fatal runs fn with a fatalT in a goroutine of its own and returns the
// message it failed with ("" if it did not).
func fatal(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	ft := &fatalT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ft)
	}()
	<-done
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.msg
}

func TestClock(t *testing.T) {
	k := authntest.New(t)
	require.Equal(t, authntest.Start(), k.Clock.Now())
	step := int64(challenge.Default.TimeStep() / time.Second)
	require.Equal(t, step/2, authntest.Start().Unix()%step, "the start is mid-step")

	k.Clock.Advance(90 * time.Second)
	require.Equal(t, authntest.Start().Add(90*time.Second), k.Clock.Now())
	k.Clock.Advance(-time.Second)
	require.Equal(t, authntest.Start().Add(89*time.Second), k.Clock.Now())
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	k.Clock.Set(at)
	require.Equal(t, at, k.Clock.Now())

	var zero authntest.Clock
	require.True(t, zero.Now().IsZero())

	c := authntest.NewClock(at)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	require.Equal(t, at.Add(800*time.Second), c.Now())
}

func TestLogin(t *testing.T) {
	k := authntest.New(t)
	p := k.Enroll("alice")
	require.Equal(t, "alice", p.User())
	require.Len(t, p.DeviceID(), 32)
	require.Equal(t, p.DeviceID(), p.Credential().DeviceID())
	require.Equal(t, authntest.Issuer, p.Credential().Issuer())

	devs, err := k.Service.Devices(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, authn.DeviceActive, devs[0].State)
	require.Equal(t, "phone 1", devs[0].Name)

	res := k.Login("alice", p)
	require.Equal(t, "alice", res.User)
	require.Equal(t, p.DeviceID(), res.DeviceID)
	require.Equal(t, "phone 1", res.DeviceName)
	require.Equal(t, 0, res.Drift)
	require.Equal(t, k.Clock.Now(), res.At)
	require.NotNil(t, res.Proof)

	// The kit's clock drives the Service: a new step later, the phone
	// still answers.
	k.Clock.Advance(10 * time.Minute)
	res = k.Login("alice", p)
	require.Equal(t, k.Clock.Now(), res.At)
}

func TestRespondIsTheServiceAnswer(t *testing.T) {
	ctx := context.Background()
	k := authntest.New(t)
	p := k.Enroll("alice")
	ch, err := k.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	resp := p.Respond(ch.Question)
	require.Len(t, resp, challenge.Default.ResponseLen())
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.NoError(t, err)
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, resp)
	require.ErrorIs(t, err, authn.ErrInvalidCode, "replayed")
}

func TestSecondPhone(t *testing.T) {
	k := authntest.New(t)
	p1 := k.Enroll("alice")
	p2 := k.Enroll("alice") // logs in with p1 for the proof
	require.NotEqual(t, p1.DeviceID(), p2.DeviceID())
	require.Equal(t, "phone 2", k.Login("alice", p2).DeviceName)
	require.Equal(t, p1.DeviceID(), k.Login("alice", p1).DeviceID)

	// Another user is independent.
	b := k.Enroll("bob")
	require.Equal(t, "phone 1", k.Login("bob", b).DeviceName)

	// With p2 revoked, the proof comes from p1 again... and with p1
	// revoked too, from p3.
	ctx := context.Background()
	require.NoError(t, k.Service.RevokeDevice(ctx, "alice", p2.DeviceID(), k.Login("alice", p1).Proof))
	p3 := k.Enroll("alice")
	require.NoError(t, k.Service.RevokeDevice(ctx, "alice", p1.DeviceID(), k.Login("alice", p3).Proof))
	p4 := k.Enroll("alice")
	devs, err := k.Service.Devices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, devs, 2)
	require.ElementsMatch(t, []string{p3.DeviceID(), p4.DeviceID()}, []string{devs[0].ID, devs[1].ID})
}

func TestEnrollWithProof(t *testing.T) {
	k := authntest.New(t)
	p1 := k.EnrollWithProof("alice", nil)
	proof := k.Login("alice", p1).Proof
	p2 := k.EnrollWithProof("alice", proof)
	require.Equal(t, p2.DeviceID(), k.Login("alice", p2).DeviceID)

	msg := fatal(t, func(tb testing.TB) { authntest.New(tb).EnrollWithProof("alice", proof) })
	require.Contains(t, msg, "proof", "a proof given is checked, even for a first device")

	msg = fatal(t, func(tb testing.TB) {
		k := authntest.New(tb)
		k.EnrollWithProof("alice", nil)
		k.EnrollWithProof("alice", nil)
	})
	require.Contains(t, msg, `enrolling a phone for "alice": StartActivation`)
	require.Contains(t, msg, authn.ErrProofRequired.Error())

	msg = fatal(t, func(tb testing.TB) {
		k := authntest.New(tb)
		p := k.EnrollWithProof("alice", nil)
		proof := k.Login("alice", p).Proof
		k.Clock.Advance(authn.DefaultProofTTL + time.Second)
		k.EnrollWithProof("alice", proof)
	})
	require.Contains(t, msg, authn.ErrProofRequired.Error(), "a stale proof is refused")
}

func TestEnrollNeedsAKitPhone(t *testing.T) {
	a := authntest.New(t)
	a.Enroll("alice")
	msg := fatal(t, func(tb testing.TB) {
		// A kit on a's store: alice has an active device, not of this kit.
		b := authntest.New(tb, authntest.WithConfig(func(c *authn.Config) { c.Hot, c.Records = a.Hot, a.Records }))
		b.Enroll("alice")
	})
	require.Contains(t, msg, "use EnrollWithProof")
}

func TestSkew(t *testing.T) {
	ctx := context.Background()
	k := authntest.New(t)
	p := k.Enroll("alice")
	step := challenge.Default.TimeStep()

	p.SetSkew(step) // one step fast: within the window
	require.Equal(t, k.Clock.Now().Add(step), p.Now())
	require.Equal(t, 1, k.Login("alice", p).Drift)

	p.SetSkew(3 * step) // three steps fast: resynchronisation
	ch, err := k.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, p.Respond(ch.Question))
	var re *authn.ResyncError
	require.ErrorAs(t, err, &re)
	res, err := k.Service.FinishChallenge(ctx, "alice", re.Next.ID, p.Respond(re.Next.Question))
	require.NoError(t, err)
	require.Equal(t, 3, res.Drift)

}

func TestLoginFailsTheTest(t *testing.T) {
	msg := fatal(t, func(tb testing.TB) {
		k := authntest.New(tb)
		p := k.Enroll("alice")
		p.SetSkew(5 * challenge.Default.TimeStep())
		k.Login("alice", p)
	})
	require.Contains(t, msg, `login of "alice": FinishChallenge`)
	require.Contains(t, msg, authn.ErrResyncNeeded.Error())

	msg = fatal(t, func(tb testing.TB) {
		k := authntest.New(tb)
		p := k.Enroll("alice")
		other := k.Enroll("bob")
		k.Login("alice", other) // bob's phone cannot answer alice's challenge
		_ = p
	})
	require.Contains(t, msg, authn.ErrInvalidCode.Error())

	msg = fatal(t, func(tb testing.TB) {
		k := authntest.New(tb, authntest.WithConfig(func(c *authn.Config) { c.MaxFailures = 1 }))
		p := k.Enroll("alice")
		ch, err := k.Service.BeginChallenge(context.Background(), "alice")
		if err != nil {
			tb.Fatalf("%v", err)
		}
		_, _ = k.Service.FinishChallenge(context.Background(), "alice", ch.ID, "00000000")
		k.Enroll("alice") // the proof's login meets the lock
		_ = p
	})
	require.Contains(t, msg, authn.ErrLocked.Error())
}

func TestRespondFailsTheTest(t *testing.T) {
	msg := fatal(t, func(tb testing.TB) {
		k := authntest.New(tb)
		k.Enroll("alice").Respond("not a question")
	})
	require.Contains(t, msg, `phone of "alice": Respond`)
}

func TestWithConfig(t *testing.T) {
	ctx := context.Background()
	var events []string
	var mu sync.Mutex
	k := authntest.New(t,
		authntest.WithConfig(func(c *authn.Config) { c.MaxFailures = 2 }),
		authntest.WithConfig(func(c *authn.Config) {
			require.NotNil(t, c.Hot)
			require.NotNil(t, c.Records)
			require.NotNil(t, c.Keys)
			require.NotNil(t, c.Clock)
			require.Equal(t, authntest.Issuer, c.Issuer)
			c.Issuer = "Example Bank"
			c.Observer = authn.ObserverFunc(func(_ context.Context, e authn.Event) {
				mu.Lock()
				events = append(events, string(e.Name))
				mu.Unlock()
			})
		}))
	p := k.Enroll("alice")
	require.Equal(t, "Example Bank", p.Credential().Issuer())
	for range 2 {
		ch, err := k.Service.BeginChallenge(ctx, "alice")
		require.NoError(t, err)
		_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, "00000000")
		require.ErrorIs(t, err, authn.ErrInvalidCode)
	}
	ch, err := k.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = k.Service.FinishChallenge(ctx, "alice", ch.ID, p.Respond(ch.Question))
	var le *authn.LockedError
	require.ErrorAs(t, err, &le, "locked after MaxFailures = 2")
	require.Equal(t, authn.DefaultLockoutBase, le.RetryAfter)

	k.Clock.Advance(le.RetryAfter)
	k.Login("alice", p)
	mu.Lock()
	defer mu.Unlock()
	require.Contains(t, events, "activation_paired")
	require.Contains(t, events, "user_locked")
	require.Contains(t, events, "login_succeeded")

	msg := fatal(t, func(tb testing.TB) {
		authntest.New(tb, authntest.WithConfig(func(c *authn.Config) { c.Window = 7 }))
	})
	require.Contains(t, msg, authn.ErrInvalidConfig.Error())
	require.Contains(t, msg, "Window")
}

func TestSkipPairing(t *testing.T) {
	k := authntest.New(t, authntest.WithConfig(func(c *authn.Config) { c.SkipPairing = true }))
	p := k.Enroll("alice")
	require.Equal(t, p.DeviceID(), k.Login("alice", p).DeviceID)
	p2 := k.Enroll("alice")
	require.Equal(t, p2.DeviceID(), k.Login("alice", p2).DeviceID)
}

func TestLogger(t *testing.T) {
	// Without WithLogger nothing reaches slog.Default.
	var def bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	k := authntest.New(t)
	k.Login("alice", k.Enroll("alice"))
	require.Empty(t, def.String())

	var buf bytes.Buffer
	k = authntest.New(t, authntest.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	k.Login("alice", k.Enroll("alice"))
	require.Contains(t, buf.String(), "event=activation_started")
	require.Contains(t, buf.String(), "event=login_succeeded")
	require.Empty(t, def.String())
}

func TestKitsAreIndependent(t *testing.T) {
	ctx := context.Background()
	a, b := authntest.New(t), authntest.New(t)
	pa := a.Enroll("alice")
	b.Enroll("alice")
	// alice's phone of kit a cannot log in at kit b: another keyring,
	// another store, another device.
	ch, err := b.Service.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	_, err = b.Service.FinishChallenge(ctx, "alice", ch.ID, pa.Respond(ch.Question))
	require.ErrorIs(t, err, authn.ErrInvalidCode)
}

func TestConcurrentUse(t *testing.T) {
	k := authntest.New(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			user := fmt.Sprintf("user-%d", i)
			p := k.Enroll(user)
			k.Login(user, p)
			k.Enroll(user)
			k.Clock.Now()
		})
	}
	wg.Wait()
	for i := range 8 {
		devs, err := k.Service.Devices(context.Background(), fmt.Sprintf("user-%d", i))
		require.NoError(t, err)
		require.Len(t, devs, 2)
		require.True(t, strings.HasPrefix(devs[0].Name, "phone "))
	}
}

func TestPushThroughTheInbox(t *testing.T) {
	ctx := context.Background()
	k := authntest.New(t)
	phone := k.Enroll("alice")
	req, err := k.Service.BeginPush(ctx, "alice", enroll.PushContext{Action: "Login", IP: "203.0.113.7"})
	require.NoError(t, err)
	shown, err := phone.ApprovePush(req.Number)
	require.NoError(t, err)
	require.Equal(t, "Login", shown.Context.Action)
	res, err := k.Service.FinishPush(ctx, "alice", req.ID)
	require.NoError(t, err)
	require.Equal(t, phone.DeviceID(), res.DeviceID)

	req, err = k.Service.BeginPush(ctx, "alice", enroll.PushContext{Action: "Login"})
	require.NoError(t, err)
	_, err = phone.DenyPush()
	require.NoError(t, err)
	_, err = k.Service.FinishPush(ctx, "alice", req.ID)
	require.ErrorIs(t, err, authn.ErrPushDenied)
}
