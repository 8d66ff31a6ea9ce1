package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/keyline/keyline/authn"
	"github.com/keyline/keyline/authn/sqlstore"
)

// openStore opens the store the flags name: PostgreSQL with -postgres
// (a store several portals share), else SQLite in the data directory. It
// returns the store, a name for the log (never the DSN, which may hold a
// password), and the function that closes it.
func openStore(ctx context.Context, cfg config) (authn.Store, string, func() error, error) {
	if cfg.Postgres != "" {
		s, err := sqlstore.OpenPostgres(ctx, cfg.Postgres)
		if err != nil {
			return nil, "", nil, fmt.Errorf("opening PostgreSQL: %w", err)
		}
		return s, "postgres", s.Close, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, "", nil, err
	}
	path := filepath.Join(cfg.DataDir, "keyline.db")
	s, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return nil, "", nil, fmt.Errorf("opening SQLite: %w", err)
	}
	return s, "sqlite:" + path, s.Close, nil
}
