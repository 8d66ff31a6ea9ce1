package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/redis/go-redis/v9"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/redisstore"
	"github.com/keyline/keyline/authn/sqlstore/postgres"
	"github.com/keyline/keyline/authn/sqlstore/sqlite"
)

// openStore opens the store the flags name: PostgreSQL with -postgres
// (a store several portals share), with Redis for the hot state when
// -redis is given too, else SQLite in the data directory. It returns the
// hot store and the record store (one engine as both, unless Redis keeps
// the hot state), a name for the log (never the DSN, which may hold a
// password), and the function that closes them.
func openStore(ctx context.Context, cfg config) (authn.HotStore, authn.RecordStore, string, func() error, error) {
	if cfg.Postgres != "" {
		s, err := postgres.Open(ctx, cfg.Postgres)
		if err != nil {
			return nil, nil, "", nil, fmt.Errorf("opening PostgreSQL: %w", err)
		}
		if cfg.Redis == "" {
			return s, s, "postgres", s.Close, nil
		}
		rc := redis.NewClient(&redis.Options{Addr: cfg.Redis})
		var opts []redisstore.Option
		if cfg.RedisPrefix != "" {
			opts = append(opts, redisstore.WithPrefix(cfg.RedisPrefix))
		}
		rs, err := redisstore.Open(ctx, rc, opts...)
		if err != nil {
			_ = rc.Close()
			_ = s.Close()
			return nil, nil, "", nil, fmt.Errorf("opening Redis: %w", err)
		}
		return rs, s, "redis+postgres", func() error { return errors.Join(rc.Close(), s.Close()) }, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, "", nil, err
	}
	path := filepath.Join(cfg.DataDir, "keyline.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("opening SQLite: %w", err)
	}
	return s, s, "sqlite:" + path, s.Close, nil
}
