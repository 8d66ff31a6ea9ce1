package authn_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/memstore"
)

// callLog is a Tracer that records the calls it is told of, and marks
// the context it returns so that the tests see where it goes.
type callLog struct {
	mu    sync.Mutex
	calls []tracedCall
}

type tracedCall struct {
	authn.Call
	ends int
	err  error
}

type callKey struct{}

func (l *callLog) StartCall(ctx context.Context, c authn.Call) (context.Context, authn.CallEnd) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, tracedCall{Call: c})
	return context.WithValue(ctx, callKey{}, c.Name), &callEnd{l, len(l.calls) - 1}
}

type callEnd struct {
	l *callLog
	i int
}

func (e *callEnd) End(err error) {
	e.l.mu.Lock()
	defer e.l.mu.Unlock()
	e.l.calls[e.i].ends++
	e.l.calls[e.i].err = err
}

func (l *callLog) reset() []tracedCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

// TestTracerSeesEveryCall: every exported method taking a context, of the
// Service, an Operator and an AuthenticatedDevice, tells the Tracer of
// its call by its name, once, and ends it with the error it returns. A
// method added without its two lines of tracing fails here. Maintain is
// the exception: its sweeps are Sweep calls.
func TestTracerSeesEveryCall(t *testing.T) {
	tr := &callLog{}
	e := newEnv(t, func(c *authn.Config) { c.Tracer = tr })
	p, _ := e.enrollPhone(t, "alice", nil)
	dev := e.device(t, p)
	tr.reset()

	ctxType := reflect.TypeFor[context.Context]()
	for _, target := range []struct {
		prefix string
		v      reflect.Value
	}{
		{"", reflect.ValueOf(e.svc)},
		{"Operator.", reflect.ValueOf(e.svc.Operator("op"))},
		{"AuthenticatedDevice.", reflect.ValueOf(dev)},
	} {
		typ := target.v.Type()
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if m.Type.NumIn() < 2 || m.Type.In(1) != ctxType || m.Name == "Maintain" {
				continue
			}
			name := target.prefix + m.Name
			t.Run(name, func(t *testing.T) {
				args := []reflect.Value{reflect.ValueOf(context.Background())}
				n := m.Type.NumIn() - 1 // without the receiver
				if m.Type.IsVariadic() {
					n--
				}
				for j := 2; j <= n; j++ {
					args = append(args, reflect.Zero(m.Type.In(j)))
				}
				out := target.v.Method(i).Call(args)
				err, _ := out[len(out)-1].Interface().(error)
				calls := tr.reset()
				var mine []tracedCall
				for _, c := range calls {
					if c.Name == name {
						mine = append(mine, c)
					}
				}
				require.Len(t, mine, 1, "calls seen: %v", calls)
				require.Equal(t, 1, mine[0].ends)
				require.Equal(t, err, mine[0].err)
			})
		}
	}
}

// ctxStore is a memstore whose Attempt and AttemptCommit (the finish step
// of a store keeping both halves) note the call name the Tracer put in their
// context.
type ctxStore struct {
	*memstore.Store
	mu   sync.Mutex
	seen []any
}

func (s *ctxStore) note(ctx context.Context) {
	s.mu.Lock()
	s.seen = append(s.seen, ctx.Value(callKey{}))
	s.mu.Unlock()
}

func (s *ctxStore) Attempt(ctx context.Context, user, client string, a *authn.ChallengeAnswer, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	s.note(ctx)
	return s.Store.Attempt(ctx, user, client, a, p, now)
}

func (s *ctxStore) AttemptCommit(ctx context.Context, user, client string, a authn.ChallengeAnswer, maxDrift int, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	s.note(ctx)
	return s.Store.AttemptCommit(ctx, user, client, a, maxDrift, p, now)
}

// TestTracerCallDescribed: a call names its factor and its user, ends
// with its error, and runs its store calls and audit events with the
// context the Tracer returned.
func TestTracerCallDescribed(t *testing.T) {
	ctx := context.Background()
	tr := &callLog{}
	st := &ctxStore{Store: memstore.New()}
	var observed []any
	var mu sync.Mutex
	e := newEnv(t, func(c *authn.Config) {
		c.Tracer, c.Hot, c.Records = tr, st, st
		c.Observer = authn.ObserverFunc(func(ctx context.Context, ev authn.Event) {
			mu.Lock()
			observed = append(observed, ctx.Value(callKey{}))
			mu.Unlock()
		})
	})
	e.enrollPhone(t, "alice", nil)
	ch, err := e.svc.BeginChallenge(ctx, "alice")
	require.NoError(t, err)
	tr.reset()
	mu.Lock()
	observed = nil
	mu.Unlock()

	_, err = e.svc.FinishChallenge(ctx, "alice", ch.ID, "00000000")
	require.ErrorIs(t, err, authn.ErrInvalidCode)
	calls := tr.reset()
	require.Len(t, calls, 1)
	require.Equal(t, authn.Call{Name: "FinishChallenge", Method: authn.MethodChallenge, User: "alice"}, calls[0].Call)
	require.Equal(t, 1, calls[0].ends)
	require.True(t, errors.Is(calls[0].err, authn.ErrInvalidCode))
	require.Equal(t, []any{"FinishChallenge"}, st.seen)
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, observed)
	for _, o := range observed {
		require.Equal(t, "FinishChallenge", o)
	}
}

// TestZeroOperatorTracesNothing: the zero Operator refuses its calls as
// before, untraced (it has no Service, so no Tracer).
func TestZeroOperatorTracesNothing(t *testing.T) {
	_, err := authn.Operator{}.LockState(context.Background(), "alice")
	require.ErrorIs(t, err, authn.ErrInvalidInput)
	var d *authn.AuthenticatedDevice
	_, err = d.PendingPushes(context.Background())
	require.Error(t, err)
}
