package redisstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keyline/keyline/authn"
)

// DefaultPolicyCheck is how often, at most, a Store checks again that
// the server's maxmemory-policy is still noeviction (see WithPolicyCheck).
const DefaultPolicyCheck = time.Minute

// WithPolicyCheck sets how often the Store checks again, after Open, that
// the server still runs with maxmemory-policy noeviction (default
// DefaultPolicyCheck; a value that is not positive keeps the default).
// The check is one CONFIG GET per primary, made by the first call after
// the interval, in line: a server changed to an evicting policy is
// noticed within the interval, after which every call fails with an
// error wrapping ErrEvictionPolicy and authn.ErrStoreUnavailable, until a
// later check finds noeviction again. On a server that refuses CONFIG
// (where Open took AssumeNoEviction) the check learns nothing and the
// store goes on.
func WithPolicyCheck(every time.Duration) Option {
	return func(o *options) {
		if every > 0 {
			o.policyCheck = every
		}
	}
}

// guarded is the client a Store runs its commands on: every script and
// command a Store method starts with first consults the eviction-policy
// guard. Other methods pass through to the caller's client.
type guarded struct {
	redis.UniversalClient
	g *policyGuard
}

// policyGuard keeps the verdict of the last policy check and when the
// next one is due.
type policyGuard struct {
	raw   redis.UniversalClient
	every time.Duration

	mu      sync.Mutex
	next    time.Time // when the next check is due (wall clock: an operational check, not the Service's time)
	refusal error     // non-nil while the last check found an evicting policy
}

// check returns the current verdict, checking the server first if a
// check is due. One caller checks at a time; the others go on with the
// last verdict meanwhile. A check that cannot reach the server, or whose
// CONFIG GET is refused, keeps the last verdict: the calls themselves
// report an unreachable server.
func (g *policyGuard) check(ctx context.Context) error {
	g.mu.Lock()
	now := time.Now()
	if now.Before(g.next) {
		err := g.refusal
		g.mu.Unlock()
		return err
	}
	g.next = now.Add(g.every)
	g.mu.Unlock()

	var policyErr error
	err := forEachPrimary(ctx, g.raw, func(ctx context.Context, c *redis.Client) error {
		cfg, err := c.ConfigGet(ctx, "maxmemory-policy").Result()
		if err != nil {
			return err
		}
		if p := cfg["maxmemory-policy"]; p != "noeviction" {
			policyErr = fmt.Errorf("%w: %w: its maxmemory-policy changed to %q after Open; keyline refuses to go on, "+
				"because an evicted key silently resets failure counters and forgets replay marks (set it back to noeviction)",
				authn.ErrStoreUnavailable, ErrEvictionPolicy, p)
		}
		return nil
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		g.refusal = policyErr
	}
	return g.refusal
}

// EvalSha runs a script after the guard's check.
func (c guarded) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	if err := c.g.check(ctx); err != nil {
		return failedCmd(ctx, err)
	}
	return c.UniversalClient.EvalSha(ctx, sha1, keys, args...)
}

// Eval runs a script after the guard's check.
func (c guarded) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	if err := c.g.check(ctx); err != nil {
		return failedCmd(ctx, err)
	}
	return c.UniversalClient.Eval(ctx, script, keys, args...)
}

// EvalShaRO runs a read-only script after the guard's check.
func (c guarded) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *redis.Cmd {
	if err := c.g.check(ctx); err != nil {
		return failedCmd(ctx, err)
	}
	return c.UniversalClient.EvalShaRO(ctx, sha1, keys, args...)
}

// EvalRO runs a read-only script after the guard's check.
func (c guarded) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	if err := c.g.check(ctx); err != nil {
		return failedCmd(ctx, err)
	}
	return c.UniversalClient.EvalRO(ctx, script, keys, args...)
}

// HMGet reads after the guard's check.
func (c guarded) HMGet(ctx context.Context, key string, fields ...string) *redis.SliceCmd {
	if err := c.g.check(ctx); err != nil {
		cmd := redis.NewSliceCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	return c.UniversalClient.HMGet(ctx, key, fields...)
}

// Get reads after the guard's check.
func (c guarded) Get(ctx context.Context, key string) *redis.StringCmd {
	if err := c.g.check(ctx); err != nil {
		cmd := redis.NewStringCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	return c.UniversalClient.Get(ctx, key)
}

// SetNX writes after the guard's check.
func (c guarded) SetNX(ctx context.Context, key string, value any, expiration time.Duration) *redis.BoolCmd {
	if err := c.g.check(ctx); err != nil {
		cmd := redis.NewBoolCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	return c.UniversalClient.SetNX(ctx, key, value, expiration)
}

func failedCmd(ctx context.Context, err error) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

// HGetAll reads after the guard's check (Lockout's buckets).
func (c guarded) HGetAll(ctx context.Context, key string) *redis.MapStringStringCmd {
	if err := c.g.check(ctx); err != nil {
		cmd := redis.NewMapStringStringCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	return c.UniversalClient.HGetAll(ctx, key)
}

// Del writes after the guard's check (ClearLockout).
func (c guarded) Del(ctx context.Context, keys ...string) *redis.IntCmd {
	if err := c.g.check(ctx); err != nil {
		cmd := redis.NewIntCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	return c.UniversalClient.Del(ctx, keys...)
}
