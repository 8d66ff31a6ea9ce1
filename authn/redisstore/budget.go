package redisstore

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// BudgetLeft implements authn.HotStore: one HMGET of the two fields Spend
// writes (the window's end 'e' and the units used 'n', integers; see
// scripts/spend.lua), so both come from one state of the hash.
func (s *Store) BudgetLeft(ctx context.Context, key string, limit int, now time.Time) (int, time.Time, error) {
	v, err := s.rdb.HMGet(ctx, s.spendKey(key), "e", "n").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, time.Time{}, wrap("budget left", err)
	}
	ends, okE := field(v, 0)
	used, _ := field(v, 1)
	if !okE || micros(now) >= ends {
		return limit, time.Time{}, nil
	}
	return max(limit-int(used), 0), time.UnixMicro(ends).UTC(), nil
}

// field is the integer at v[i] of an HMGET reply, if the field is there
// and reads as one.
func field(v []any, i int) (int64, bool) {
	if i >= len(v) {
		return 0, false
	}
	str, ok := v[i].(string)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(str, 10, 64)
	return n, err == nil
}
