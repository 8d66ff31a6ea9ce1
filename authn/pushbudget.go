package authn

import (
	"context"
	"time"
)

// The push budget: at most pushBudget requests per user per
// pushBudgetWindow, counted in the hot store (Spend) so that it holds
// across instances. A request that ends unanswered gives its unit back
// (Refund, marked with the request's ID, so once whoever notices first):
//
//   - withdrawn (CancelPush): when the withdrawal takes the request;
//   - undelivered (no device could be notified): in BeginPush, as are the
//     requests BeginPush could not finish making;
//   - expired unanswered: on every read that finds it so (PushStatus,
//     which a login page polls; an answer; FinishPush), the first read
//     refunding and the others finding the mark taken.
//
// A request is swept an hour after its expiry (Sweep), when the window
// that spent its unit (15 minutes, begun at or before the request) is
// long over, so a sweep never takes a refund away. An answered request
// (approved, denied, a wrong number) keeps its unit spent, and so does an
// expired one that nobody reads: its unit comes back with the window.
// A refund that fails to reach the store is lost: the user has one push
// fewer in that window, never one more.

// pushBudgetKey is the Spend key of user's push budget.
func pushBudgetKey(user string) string { return "push:" + user }

// unanswered reports whether a push request ended without an answer.
func unanswered(rec PushRecord) bool {
	switch rec.State {
	case PushCancelled, PushUndelivered:
		return true
	case PushExpired:
		return rec.Answered == ""
	}
	return false
}

// refundPush gives back the unit of the push budget rec spent, if it
// ended unanswered; see above. The read that refunds an expired request
// (the first, the refund's mark making it once) audits its expiry.
func (s *Service) refundPush(ctx context.Context, rec PushRecord, now time.Time) {
	if rec.ID == "" || rec.User == "" || !unanswered(rec) {
		return
	}
	if s.refundPushID(ctx, rec.User, rec.ID, rec.CreatedAt, now) && rec.State == PushExpired {
		s.event(ctx, EventPushExpired, MethodPush, rec.User, "", "")
	}
}

// refundPushID gives back the unit a push request of user made at
// spentAt spent, once per ID: it reports whether this call did.
func (s *Service) refundPushID(ctx context.Context, user, id string, spentAt, now time.Time) bool {
	done, err := s.hot.Refund(ctx, pushBudgetKey(user), id, pushBudgetWindow, spentAt, now)
	return done && err == nil
}
