package authn

import (
	"context"
	"time"
)

// ResumePush lifts a suspension of push that a denied request started
// (see BeginPush), before it ends by itself: for the user who denied a
// request by mistake, or who checked that it was theirs. It takes a
// step-up proof, as turning push off does: the suspension protects a
// user whose password someone else holds, so only the second factor may
// end it early. Push turned off (SetPush) stays off. Audited as a proof
// used and a push mode change (ReasonOn).
func (s *Service) ResumePush(ctx context.Context, user string, proof *Proof) (err error) {
	ctx, sp := s.trace(ctx, "ResumePush", MethodPush, user)
	defer sp.done(&err)
	if err := checkUser(user); err != nil {
		return err
	}
	now := s.now()
	if err := s.checkProof(user, proof, now); err != nil {
		return err
	}
	var lifted time.Time // the zero time lifts a suspension (UserChange.PushSuspended)
	if err := s.records.ChangeUser(ctx, user, UserChange{PushSuspended: &lifted}, now); err != nil {
		return storeErr(err)
	}
	s.event(ctx, EventProofUsed, "", user, "", ReasonOn)
	s.event(ctx, EventPushMode, MethodPush, user, "", ReasonOn)
	return nil
}
