package authn

import (
	"context"
	"time"
)

// PushBudgetState is what is left of a user's push budget (at most 3
// push requests per 15 minutes, shared by sign-ins, step-ups,
// transactions and QR logins), as [Service.PushBudget] reads it.
type PushBudgetState struct {
	// Left is how many more push requests (or QR logins) BeginPush
	// would make now, 0 to 3.
	Left int
	// FreesAt is when the running window ends and the whole budget comes
	// back: the window's first spend plus 15 minutes. Zero when no window
	// is running (Left is then the whole budget). When Left is 0, push
	// works again at FreesAt, and not before (a request that ends
	// unanswered may give its unit back sooner; see CancelPush).
	FreesAt time.Time
}

// PushBudget reads the user's push budget without spending from it, so
// that a page can say when push works again instead of offering it in
// vain. It says nothing of the other reasons BeginPush may refuse (a
// lock, push off or suspended, no device with push). A user with no
// push request in the window reads the whole budget.
func (s *Service) PushBudget(ctx context.Context, user string) (_ PushBudgetState, err error) {
	ctx, sp := s.trace(ctx, "PushBudget", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return PushBudgetState{}, err
	}
	left, ends, err := s.hot.BudgetLeft(ctx, pushBudgetKey(user), pushBudget, s.now())
	if err != nil {
		return PushBudgetState{}, storeErr(err)
	}
	return PushBudgetState{Left: left, FreesAt: ends}, nil
}
