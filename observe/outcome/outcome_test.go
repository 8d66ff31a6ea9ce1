package outcome_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/observe/outcome"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, outcome.OK},
		{authn.ErrInvalidCode, outcome.InvalidCode},
		{fmt.Errorf("authn: challenge: %w", authn.ErrInvalidCode), outcome.InvalidCode},
		{authn.ErrReplay, outcome.Replay}, // wraps ErrInvalidCode: the more specific first
		{&authn.LockedError{}, outcome.Locked},
		{errors.Join(authn.ErrLocked, authn.ErrInvalidCode), outcome.Locked},
		{&authn.ResyncError{}, outcome.Resync},
		{authn.ErrMalformed, outcome.Malformed},
		{authn.ErrTooManyChallenges, outcome.TooManyAttempts},
		{authn.ErrExpired, outcome.Expired},
		{authn.ErrNotFound, outcome.NotFound},
		{authn.ErrAlreadyUsed, outcome.AlreadyUsed},
		{authn.ErrProofRequired, outcome.ProofRequired},
		{authn.ErrPushUnavailable, outcome.PushUnavailable},
		{authn.ErrPushDenied, outcome.PushDenied},
		{authn.ErrPushPending, outcome.PushPending},
		{authn.ErrWrongNumber, outcome.WrongNumber},
		{authn.ErrAPIReplay, outcome.DeviceAuth},
		{authn.ErrDeviceAuth, outcome.DeviceAuth},
		{authn.ErrWrongPairingCode, outcome.Pairing},
		{authn.ErrTooManyDevices, outcome.Refused},
		{authn.ErrAddressNotAllowed, outcome.Refused},
		{authn.ErrInvalidInput, outcome.InvalidInput},
		{context.Canceled, outcome.Cancelled},
		{fmt.Errorf("%w: dial tcp: refused", authn.ErrStoreUnavailable), outcome.StoreUnavailable},
		{errors.New("something else"), outcome.Error},
	} {
		if got := outcome.Of(c.err); got != c.want {
			t.Errorf("Of(%v) = %q; want %q", c.err, got, c.want)
		}
	}
}
