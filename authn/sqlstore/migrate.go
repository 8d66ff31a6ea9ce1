package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Store) migrate(ctx context.Context) error {
	type migration struct {
		version int64
		name    string
	}
	entries, err := fs.ReadDir(s.d.migrations, ".")
	if err != nil {
		return s.fail("migrate", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v <= 0 {
			return s.fail("migrate", fmt.Errorf("migration %q: no version number", e.Name()))
		}
		ms = append(ms, migration{v, e.Name()})
	}
	slices.SortFunc(ms, func(a, b migration) int { return int(a.version - b.version) })
	for i := range ms {
		if ms[i].version != int64(i+1) {
			return s.fail("migrate", fmt.Errorf("migration %q: versions must run 1, 2, 3 and on", ms[i].name))
		}
	}
	return s.write(ctx, "migrate", func(c *conn) error {
		if s.d.migrateLock != "" {
			if _, err := c.exec(s.d.migrateLock); err != nil {
				return err
			}
		}
		if _, err := c.exec(s.d.q.versionTable); err != nil {
			return err
		}
		var cur int64
		if err := c.row(s.d.q.versionGet).Scan(&cur); err != nil {
			return err
		}
		if cur > int64(len(ms)) {
			return fmt.Errorf("the database's schema version %d is newer than this package's %d", cur, len(ms))
		}
		for _, m := range ms[cur:] {
			body, err := fs.ReadFile(s.d.migrations, m.name)
			if err != nil {
				return err
			}
			if _, err := c.exec(string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := c.exec(s.d.q.versionPut, m.version, time.Now().UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
}

// SchemaVersion returns the schema version of the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int64
	err := s.read(ctx, "schema version", func(c *conn) error { return c.row(s.d.q.versionGet).Scan(&v) })
	return int(v), err
}

// createSchema creates the schema if it is missing, under the migration
// lock (two CREATE SCHEMA IF NOT EXISTS at once can fail on the catalog's
// unique index).
func (s *Store) createSchema(ctx context.Context, name string) error {
	if s.d.migrateLock == "" {
		return s.fail("create schema", errors.New("the dialect has no schemas"))
	}
	return s.write(ctx, "create schema", func(c *conn) error {
		if _, err := c.exec(s.d.migrateLock); err != nil {
			return err
		}
		_, err := c.exec(`CREATE SCHEMA IF NOT EXISTS ` + quoteIdent(name))
		return err
	})
}

// quoteIdent quotes an SQL identifier: in double quotes, each double
// quote doubled, NUL bytes (which no identifier may hold) dropped.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(name, "\x00", ""), `"`, `""`) + `"`
}
