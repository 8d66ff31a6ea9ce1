package memstore

import (
	"context"
	"time"
)

// BudgetLeft implements authn.HotStore: the budget as Spend left it, read
// under the store's lock.
func (s *Store) BudgetLeft(_ context.Context, key string, limit int, now time.Time) (int, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.budgets[key]
	if !ok || !now.Before(b.ends) {
		return limit, time.Time{}, nil
	}
	return max(limit-b.used, 0), b.ends, nil
}
