package authn_test

import (
	"fmt"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn"
)

// lockWant is the lock length LockPolicy.Fail must choose, computed
// exactly with math/big: min(Base·2^Level, Max) for a positive Base and a
// level of 0 or more, and Max otherwise (a Base of 0 or less, a negative
// level).
func lockWant(base, limit time.Duration, level int) time.Duration {
	if base <= 0 || level < 0 {
		return limit
	}
	if level > 128 {
		// Base·2^Level >= 2^129: more than any int64, so more than Max.
		return limit
	}
	exact := new(big.Int).Lsh(big.NewInt(int64(base)), uint(level))
	if exact.Cmp(big.NewInt(int64(limit))) < 0 {
		return time.Duration(exact.Int64())
	}
	return limit
}

// failAt runs one locking failure at the given level under a policy with
// that Base and Max, checks what Fail does besides the lock's length, and
// returns the length.
func failAt(t *testing.T, base, limit time.Duration, level int) time.Duration {
	t.Helper()
	p := authn.LockPolicy{MaxFailures: 1, Base: base, Max: limit, Window: time.Hour, MaxAttempts: 3}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	u := authn.UserState{Level: level}
	d := p.Fail(&u, now)
	require.Equal(t, lookup(p.Lengths(), level), d, "Fail locks for the table's length at the level")
	if level < math.MaxInt {
		require.Equal(t, level+1, u.Level, "the level rises")
	}
	require.Equal(t, 1, u.Failures)
	require.True(t, now.Add(d).Equal(u.LockedUntil), "LockedUntil is now + %v", d)
	return d
}

// lookup is what an engine holding the table does with it: the entry of
// the level, or the last entry past the end (or for a negative level).
func lookup(table []time.Duration, level int) time.Duration {
	if level >= 0 && level < len(table) {
		return table[level]
	}
	return table[len(table)-1]
}

// The table ends at its first Max, has at most 64 entries, and rises.
func TestLockPolicyLengths(t *testing.T) {
	p := authn.LockPolicy{MaxFailures: 5, Base: time.Minute, Max: time.Hour}
	require.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour}, p.Lengths())
	for _, p := range []authn.LockPolicy{
		{Base: 1, Max: math.MaxInt64}, {Base: 0, Max: time.Hour}, {Base: time.Hour, Max: time.Hour},
		{Base: 1<<33 + 1, Max: time.Hour}, {Base: math.MaxInt64, Max: math.MaxInt64},
	} {
		table := p.Lengths()
		require.NotEmpty(t, table)
		require.LessOrEqual(t, len(table), 64)
		require.Equal(t, p.Max, table[len(table)-1])
		for i := 1; i < len(table); i++ {
			require.Less(t, table[i-1], table[i], "policy %v", p)
		}
	}
	require.Len(t, authn.LockPolicy{Base: 1, Max: math.MaxInt64}.Lengths(), 64)
}

func TestLockPolicyFailNoOverflow(t *testing.T) {
	// Cases worked out by hand, beside the reference: each names the
	// wrong answer an int64 shift would give.
	hand := []struct {
		base, limit time.Duration
		level       int
		want        time.Duration
	}{
		// (2^33+1)<<31 = 2^64 + 2^31 wraps to 2^31 ns (about 2 s).
		{1<<33 + 1, time.Hour, 31, time.Hour},
		// (2^33+1)<<30 = 2^63 + 2^30 wraps to a negative value.
		{1<<33 + 1, time.Hour, 30, time.Hour},
		// 2^33+1 at level 8 is about 37 min: under Max, kept.
		{1<<33 + 1, time.Hour, 8, (1<<33 + 1) << 8},
		// 1<<62 fits; 1<<63 wraps to MinInt64; 1<<64 is 0 in Go.
		{1, math.MaxInt64, 62, 1 << 62},
		{1, math.MaxInt64, 63, math.MaxInt64},
		{1, math.MaxInt64, 64, math.MaxInt64},
		// 5<<60 fits; 5<<61 = 2^63 + 2^61 wraps to 2^61 (positive,
		// under Max); 3<<61 fits, 3<<62 wraps to a negative value.
		{5, math.MaxInt64, 60, 5 << 60},
		{5, math.MaxInt64, 61, math.MaxInt64},
		{3, math.MaxInt64, 61, 3 << 61},
		{3, math.MaxInt64, 62, math.MaxInt64},
		// Levels at and past 32, where Base·2^Level is still small.
		{1, time.Hour, 32, 1 << 32},
		{1, time.Hour, 41, 1 << 41},
		{1, time.Hour, 42, time.Hour}, // 2^42 ns > 1 h
		{time.Minute, time.Hour, 5, 32 * time.Minute},
		{time.Minute, time.Hour, 6, time.Hour},
		{time.Hour, time.Hour, 0, time.Hour},
		{math.MaxInt64, math.MaxInt64, 0, math.MaxInt64},
		{math.MaxInt64, math.MaxInt64, 1, math.MaxInt64},
		// No positive Base, a negative level: Max.
		{0, time.Hour, 3, time.Hour},
		{-1, time.Hour, 3, time.Hour},
		{math.MinInt64, time.Hour, 0, time.Hour},
		{time.Minute, time.Hour, -1, time.Hour},
		{time.Minute, time.Hour, math.MinInt, time.Hour},
		{time.Minute, time.Hour, math.MaxInt, time.Hour},
	}
	for _, c := range hand {
		t.Run(fmt.Sprintf("base=%d,max=%d,level=%d", c.base, c.limit, c.level), func(t *testing.T) {
			require.Equal(t, c.want, lockWant(c.base, c.limit, c.level), "the reference")
			require.Equal(t, c.want, failAt(t, c.base, c.limit, c.level))
		})
	}

	// Every level 0..70 (and a few far beyond) against the reference,
	// for Bases whose shifts wrap at various levels.
	bases := []time.Duration{1, 3, time.Nanosecond * 1000003, time.Second, time.Minute, 1<<33 + 1, 1<<40 + 1,
		1<<62 + 1, math.MaxInt64 / 3, math.MaxInt64}
	limits := []time.Duration{time.Millisecond, time.Hour, 24 * time.Hour, 1 << 62, math.MaxInt64 - 1, math.MaxInt64}
	levels := []int{100, 1000, 1 << 40, math.MaxInt - 1}
	for l := range 71 {
		levels = append(levels, l)
	}
	for _, base := range bases {
		for _, limit := range limits {
			for _, level := range levels {
				want := lockWant(base, limit, level)
				got := failAt(t, base, limit, level)
				require.Equal(t, want, got, "Base %d, Max %d, level %d", base, limit, level)
				require.Greater(t, got, time.Duration(0))
				require.LessOrEqual(t, got, limit)
			}
		}
	}
}

// FuzzLockPolicyFail checks the lock length against the math/big
// reference for any Base, Max and level: for Base, Max > 0 it is in
// (0, Max] and exactly min(Base·2^Level, Max).
func FuzzLockPolicyFail(f *testing.F) {
	f.Add(int64(1<<33+1), int64(time.Hour), 31)
	f.Add(int64(1), int64(math.MaxInt64), 63)
	f.Add(int64(time.Minute), int64(time.Hour), 3)
	f.Fuzz(func(t *testing.T, base, limit int64, level int) {
		d := failAt(t, time.Duration(base), time.Duration(limit), level)
		if base > 0 && limit > 0 {
			require.Greater(t, d, time.Duration(0))
			require.LessOrEqual(t, d, time.Duration(limit))
			if level >= 0 {
				exact := new(big.Int).Lsh(big.NewInt(base), uint(min(level, 128)))
				want := big.NewInt(limit)
				if exact.Cmp(want) < 0 {
					want = exact
				}
				require.Equal(t, want.Int64(), int64(d), "min(Base·2^Level, Max)")
			}
		}
		require.Equal(t, lockWant(time.Duration(base), time.Duration(limit), level), d)
	})
}
