package authn

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// MultiNotifier is a Notifier that delivers the notifications of one push
// request to all its devices in one call (one batch to a push service,
// say), reporting per device. The Service prefers NotifyAll when the
// Notifier has it; otherwise it calls Notify for every device of the
// request at once, from as many goroutines. Either way the whole request
// waits at most one Config.NotifyTimeout, however many devices the user
// has. NotifyAll returns one error per delivery, in the
// order given (nil: delivered); a slice of another length counts every
// delivery as failed. It must return when ctx ends.
type MultiNotifier interface {
	Notifier
	NotifyAll(ctx context.Context, ds []Delivery) []error
}

// errNotifierBatch stands for the deliveries of a NotifyAll that returned
// a slice of the wrong length.
var errNotifierBatch = errors.New("authn: NotifyAll returned a report of another length than its deliveries")

// deliver hands ds to the Notifier under one timeout: to NotifyAll if it
// has it, otherwise to Notify for every delivery at once. It returns one
// error per delivery.
func (s *Service) deliver(ctx context.Context, ds []Delivery) []error {
	errs := make([]error, len(ds))
	if m, ok := s.cfg.Notifier.(MultiNotifier); ok {
		nctx, cancel := context.WithTimeout(ctx, s.cfg.NotifyTimeout)
		got := m.NotifyAll(nctx, ds)
		cancel()
		if len(got) != len(ds) {
			for i := range errs {
				errs[i] = errNotifierBatch
			}
			return errs
		}
		return got
	}
	// A plain Notifier: every device at once, under one deadline, so that
	// a slow push service holds up neither the others nor the request for
	// longer than NotifyTimeout.
	nctx, cancel := context.WithTimeout(ctx, s.cfg.NotifyTimeout)
	defer cancel()
	if len(ds) == 1 {
		errs[0] = s.cfg.Notifier.Notify(nctx, ds[0])
		return errs
	}
	var wg sync.WaitGroup
	for i := range ds {
		wg.Go(func() { errs[i] = s.cfg.Notifier.Notify(nctx, ds[i]) })
	}
	wg.Wait()
	return errs
}

// RemovePushToken removes a device's push token that its push service
// (APNs, FCM) reported as no longer valid — the app was uninstalled, the
// token is malformed or belongs to another app — so that no further push
// is sent to it; the device stays active and answers challenges, and the
// phone sets a new token when it has one (SetPushToken). token is the
// token that failed: a device that holds another one by now (the phone
// rotated it meanwhile, even while this call runs: the store compares
// and clears in one step) is left alone and removed is false. An unknown
// device is ErrNotFound. A removal is audited (EventPushTokenRemoved).
// Notifiers call it (package github.com/keyline/keyline/notify); it is
// not for the device API.
func (s *Service) RemovePushToken(ctx context.Context, user, deviceID, token string) (removed bool, err error) {
	ctx, sp := s.trace(ctx, "RemovePushToken", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return false, err
	}
	if token == "" {
		return false, fmt.Errorf("authn: %w: no push token to remove", ErrInvalidInput)
	}
	// One compare-and-set in the store: a token the phone sets
	// meanwhile is never overwritten.
	none := ""
	_, err = s.records.ChangeDevice(ctx, user, deviceID, DeviceChange{PushToken: &none, PushTokenWas: &token}, s.now())
	switch {
	case errors.Is(err, ErrStoreConflict):
		return false, nil
	case errors.Is(err, ErrStoreNotFound):
		return false, ErrNotFound
	case err != nil:
		return false, storeErr(err)
	}
	s.event(ctx, EventPushTokenRemoved, MethodPush, user, deviceID, ReasonTokenGone)
	return true, nil
}
