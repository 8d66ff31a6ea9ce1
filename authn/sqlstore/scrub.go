package sqlstore

import "context"

// scrubOps are the writes that drop a sealed pending key (completing,
// cancelling, voiding or expiring an activation) or a user's sealed
// secrets (DeleteUser): after each, the engine's Scrub, if any, clears
// the copies a journal still holds.
var scrubOps = map[string]bool{
	"PutActivation":      true, // voids the user's earlier waiting activations
	"CompleteActivation": true,
	"CancelActivation":   true,
	"Sweep":              true,
	"DeleteUser":         true,
}

// afterCommit runs the engine's Scrub after a committed write of
// scrubOps. A Scrub that fails (a reader held the journal for the whole
// busy timeout, a cancelled context) does not fail the write, which is
// committed: the store remembers it, and the next write of scrubOps, a
// Sweep at the latest, scrubs again.
func (s *Store) afterCommit(ctx context.Context, op string) {
	if s.scrubFn == nil || !scrubOps[op] {
		return
	}
	s.scrubMu.Lock()
	defer s.scrubMu.Unlock()
	s.scrubErr = s.scrubFn(ctx, s.w)
}

// ScrubErr returns the error of the engine's last Scrub (nil if it
// succeeded, or if the engine has none): a non-nil value means a
// dropped secret may still be in the database's journal until the next
// scrub succeeds.
func (s *Store) ScrubErr() error {
	s.scrubMu.Lock()
	defer s.scrubMu.Unlock()
	return s.scrubErr
}
