package authn

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sweep removes what has expired from both stores, once: challenges,
// recent questions, push requests, take-once marks and budgets from the
// hot store, finished and expired activations from the record store (one
// call when one engine is both). It returns how many records went, and
// an error wrapping [ErrStoreUnavailable] if a store failed (the other
// is still swept). [Service.Maintain] runs it on a timer; call Sweep
// yourself from a job scheduler instead if you prefer.
func (s *Service) Sweep(ctx context.Context) (_ int, err error) {
	ctx, sp := s.trace(ctx, "Sweep", "", "")
	defer sp.done(&err)
	now := s.now()
	n, err := s.records.Sweep(ctx, now)
	if s.oneStore {
		return n, storeErr(err)
	}
	m, herr := s.hot.Sweep(ctx, now)
	return n + m, storeErr(errors.Join(err, herr))
}

// Maintain runs the Service's maintenance until ctx ends, then returns
// ctx's error: a [Service.Sweep] at once and then every interval, each
// audited as [EventSwept] with the count of records removed. A sweep
// that fails is audited as [EventMaintenanceFailed] (at warning level,
// with the error in Event.Note) and retried sooner, after every/16, then
// after twice as long with each further failure, up to every: a short
// outage of the store is bridged quickly and a long one is not
// hammered. Run it once per process, in a goroutine of its own:
//
//	go svc.Maintain(ctx, time.Minute)
//
// Several processes on the same stores may each run it: sweeps are
// idempotent. Without it (or a job calling Sweep), expired records stay
// in the stores: they are refused when read, but they take space, and
// an engine without expiry of its own (SQL) keeps them for ever. An
// interval that is not positive gives an error wrapping
// [ErrInvalidInput] at once.
func (s *Service) Maintain(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("authn: %w: Maintain: interval %v is not positive", ErrInvalidInput, every)
	}
	minWait := max(every/16, time.Millisecond)
	wait := time.Duration(0)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		n, err := s.Sweep(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			s.emit(ctx, Event{Name: EventMaintenanceFailed, Note: err.Error()})
			if wait == 0 || wait >= every {
				wait = minWait
			} else {
				wait = min(2*wait, every)
			}
		default:
			s.emit(ctx, Event{Name: EventSwept, Count: n})
			wait = every
		}
		t.Reset(wait)
	}
}
