package sqlstore

import (
	"context"
	"time"
)

// budgetPeek reads a budget's row without creating or locking it (the
// dialects' budgetGet does both on PostgreSQL, for Spend). The same text
// runs on both engines.
const budgetPeek = `SELECT used, ends FROM authn_budgets WHERE budget_key = $1`

// BudgetLeft implements authn.HotStore: one read of the budget's row, on the
// reader (a single statement sees one snapshot of it).
func (s *Store) BudgetLeft(ctx context.Context, key string, limit int, now time.Time) (int, time.Time, error) {
	var used, ends int64
	var ok bool
	err := s.read(ctx, "BudgetLeft", func(c *conn) error {
		var err error
		ok, err = found(c.row(budgetPeek, key).Scan(&used, &ends))
		return err
	})
	if err != nil {
		return 0, time.Time{}, err
	}
	end := at(ends)
	if !ok || !now.Before(end) {
		return limit, time.Time{}, nil
	}
	return max(limit-int(used), 0), end, nil
}
