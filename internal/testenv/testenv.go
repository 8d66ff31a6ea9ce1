// Package testenv finds the servers the store tests run against:
// scripts/test starts a PostgreSQL and a Redis on loopback and names them
// in KEYLINE_TEST_POSTGRES (a pgx DSN) and KEYLINE_TEST_REDIS (host:port).
// Without them a test fails when CI is set (CI must run it) and is
// skipped, with a message saying what to set, otherwise.
package testenv

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The environment variables scripts/test sets.
const (
	PostgresEnv = "KEYLINE_TEST_POSTGRES"
	RedisEnv    = "KEYLINE_TEST_REDIS"
)

func need(t testing.TB, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: the %s tests need a server in CI", env, what)
		}
		t.Skipf("%s is not set: skipping the %s tests (set it to run them; scripts/test does)", env, what)
	}
	return v
}

// PostgresDSN is the test server's DSN.
func PostgresDSN(t testing.TB) string { t.Helper(); return need(t, PostgresEnv, "PostgreSQL") }

// RedisAddr is the test server's host:port.
func RedisAddr(t testing.TB) string { t.Helper(); return need(t, RedisEnv, "Redis") }

// PostgresSchema returns a fresh schema name and drops that schema, with
// all it holds, when t ends (after the stores t opened have closed:
// cleanups run last in, first out).
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	name := "keyline_test_" + strings.ToLower(rand.Text()[:16])
	t.Cleanup(func() {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			t.Error(err)
			return
		}
		db := stdlib.OpenDB(*cfg)
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping the test schema %s: %v", name, err)
		}
	})
	return name
}
