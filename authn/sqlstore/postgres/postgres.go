package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/keyline/keyline/authn/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations are the schema's NNNN_name.sql files.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		panic(err)
	}
	return sub
}

// DefaultMaxConns is WithMaxConns' default.
const DefaultMaxConns = 16

// Option configures Open.
type Option func(*options)

type options struct {
	schema   string          // the schema to keep the tables in ("": the DSN's search_path)
	maxConns int             // the pool's most connections
	tracer   pgx.QueryTracer // traces every connection's queries (tests: round trips)
}

// WithSchema keeps the tables in the named schema: every
// connection runs with search_path set to it (a runtime parameter of the
// connection, so it holds for every statement), and Open creates the
// schema if it is missing. Without it, the DSN's search_path (by
// default, public) is used as it is. For tests that isolate themselves,
// and for several stores in one database.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithMaxConns sets the most connections the pool opens;
// calls beyond wait for one. Default 16.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithTracer sets a pgx tracer on every connection: for
// tracing and metrics, and for the tests, which count round trips with it
// (a tracer that is also a pgx.PrepareTracer is told of the statements
// pgx prepares).
func WithTracer(t pgx.QueryTracer) Option {
	return func(o *options) { o.tracer = t }
}

// Open opens a PostgreSQL database through pgx (its database/sql
// driver) and brings its schema up to date. dsn is a pgx connection
// string: a URL (postgres://user@host:5432/db?sslmode=verify-full) or
// key=value pairs, including its environment defaults (PGHOST, ...).
//
// Statements and transactions run on one connection pool of at most
// WithMaxConns connections (default 16), kept open while idle.
func Open(ctx context.Context, dsn string, opts ...Option) (*sqlstore.Store, error) {
	o := options{maxConns: DefaultMaxConns}
	for _, f := range opts {
		f(&o)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore/postgres: DSN: %w", err)
	}
	if o.tracer != nil {
		cfg.Tracer = o.tracer
	}
	// READ COMMITTED for the statements run outside a transaction too
	// (Attempt's and CommitStep's functions, whatever the server's,
	// database's or role's default): under it each statement in the
	// functions sees the rows as they stand once the user's row is
	// locked (at REPEATABLE READ or SERIALIZABLE, concurrent Attempts of
	// one user would fail with serialization errors instead of waiting
	// for each other). A startup parameter: no round trip.
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if o.schema != "" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore (postgres): connect: %w", err)
	}
	// No statements are prepared through database/sql: pgx prepares
	// and caches each statement on each connection by itself (so the
	// first use of a statement on a connection costs one more round
	// trip, to prepare it; database/sql also pings a connection that sat
	// idle in the pool for over a second).
	return sqlstore.New(ctx, sqlstore.Engine{Dialect: sqlstore.PostgreSQL, Writer: db, Reader: db,
		Migrations: migrations(), IsUnique: isUnique, Schema: o.schema})
}

// pgUniqueViolation is the SQLSTATE of unique_violation.
const pgUniqueViolation = "23505"

// isUnique reports a unique violation, by its SQLSTATE.
func isUnique(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == pgUniqueViolation
}
