package authn

import (
	"context"
	"time"
)

// FinishStore is a [Store] (both halves in one engine) that makes the
// finish of a login one atomic step: the counted attempt of an answer
// and, on a match, the commit of the matched device's step. A login then
// costs one durable write to issue its challenge and one to finish it,
// instead of two to finish (Attempt, then CommitStep). The Service uses
// it when Hot and Records are one value that implements it; otherwise it
// calls Attempt and then CommitStep, which keeps every guarantee at the
// price of a second write.
//
// Why tags make this possible: BeginChallenge stores, with the
// challenge, a keyed MAC of every response each device could give while
// it is live (see [Tag]). Deciding a right answer is then a comparison
// of MACs that the store makes itself, with no secret unsealed, so the
// store can count, compare, consume and commit in one step. Only a wrong
// answer reads the records again (the Service's search for a drifted
// phone), and that is a read, not a write.
type FinishStore interface {
	Store

	// AttemptCommit is Attempt with an answer and, when it matches
	// (AttemptMatch), CommitStep of the matched tag's device with the
	// challenge's epoch, the tag's step and the drift [CommitDrift]
	// gives — all in one atomic step, with Attempt's outcomes and
	// counting exactly as Attempt alone would make them (the attempt is
	// counted before it is compared; a match consumes the challenge and
	// resets the bucket). The commit's own outcome is in the result's
	// Commit: nil when the step was recorded, ErrStoreConflict or
	// ErrStoreNotFound as CommitStep reports them (the match stands; the
	// caller decides what the refusal costs the user). The error return
	// is for system failures only, and then nothing was done.
	AttemptCommit(ctx context.Context, user, client string, answer ChallengeAnswer, maxDrift int, policy LockPolicy, now time.Time) (AttemptResult, error)
}

// CommitDrift is the drift a finish records for a matched tag: the
// tag's step minus the server's step, bounded to ±maxDrift. The Service
// computes the same for its Result; a store that commits inside its own
// step (FinishStore) uses this, or does the same arithmetic in the
// database.
func CommitDrift(t Tag, serverStep uint64, maxDrift int) int {
	return min(max(int(int64(t.Step)-int64(serverStep)), -maxDrift), maxDrift)
}
