package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// pgMigrateKey is the advisory lock key that serialises keyline's
// migrations (and schema creation) on one PostgreSQL database.
const pgMigrateKey = 0x6b65796c696e65 // "keyline"

// WithSchema (PostgreSQL) keeps the tables in the named schema: every
// connection runs with search_path set to it (a runtime parameter of the
// connection, so it holds for every statement), and Open creates the
// schema if it is missing. Without it, the DSN's search_path (by
// default, public) is used as it is. For tests that isolate themselves,
// and for several stores in one database.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithMaxConns (PostgreSQL) sets the most connections the pool opens;
// calls beyond wait for one. Default 16.
func WithMaxConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithTracer (PostgreSQL) sets a pgx tracer on every connection: for
// tracing and metrics, and for the tests, which count round trips with it
// (a tracer that is also a pgx.PrepareTracer is told of the statements
// pgx prepares). SQLite ignores it.
func WithTracer(t pgx.QueryTracer) Option {
	return func(o *options) { o.tracer = t }
}

// OpenPostgres opens a PostgreSQL database through pgx (its database/sql
// driver) and brings its schema up to date. dsn is a pgx connection
// string: a URL (postgres://user@host:5432/db?sslmode=verify-full) or
// key=value pairs, including its environment defaults (PGHOST, ...).
//
// Statements and transactions run on one connection pool of at most
// WithMaxConns connections (default 16), kept open while idle;
// WithBusyTimeout and WithReadConns are for SQLite and ignored.
func OpenPostgres(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{maxConns: DefaultMaxConns}
	for _, f := range opts {
		f(&o)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: postgres DSN: %w", err)
	}
	if o.tracer != nil {
		cfg.Tracer = o.tracer
	}
	// READ COMMITTED for the statements run outside a transaction too
	// (Attempt's and CommitStep's functions, whatever the server's,
	// database's or role's default): under it each statement in the
	// functions sees the rows as they stand once the user's row is
	// locked. A startup parameter: no round trip.
	cfg.RuntimeParams["default_transaction_isolation"] = "read committed"
	if o.schema != "" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{d: postgresDialect, w: db, r: db, desc: "sqlstore.Store(postgres)"}
	if err := db.PingContext(ctx); err != nil {
		s.Close()
		return nil, s.fail("connect", err)
	}
	if o.schema != "" {
		if err := s.createSchema(ctx, o.schema); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// No statements are prepared through database/sql: pgx prepares
	// and caches each statement on each connection by itself.
	return s, nil
}

// createSchema creates the schema if it is missing, under the migration
// lock (two CREATE SCHEMA IF NOT EXISTS at once can fail on the catalog's
// unique index).
func (s *Store) createSchema(ctx context.Context, name string) error {
	return s.write(ctx, "create schema", func(c *conn) error {
		if _, err := c.exec(s.d.migrateLock); err != nil {
			return err
		}
		_, err := c.exec(`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{name}.Sanitize())
		return err
	})
}

// pgUniqueViolation is the SQLSTATE of unique_violation.
const pgUniqueViolation = "23505"

// postgresDialect is the PostgreSQL engine. Its statements are SQLite's
// but for the locks and byte order: a write transaction runs at READ
// COMMITTED and locks the user's row first (rowLocks; userLock creates
// and locks it in one statement), budgets lock their row the same way,
// Attempt and CommitStep are one call each of a function: authn_attempt
// as migration 0004 made it (it takes the lock lengths as a table) and
// authn_commit_step of 0002 (attemptFn, commitStepFn; CommitStep's reads
// the user's epoch FOR SHARE), CompleteActivation's
// update is conditional on the activation still waiting (Sweep does not
// lock the user), and DevicesPage compares and orders COLLATE "C". Text
// columns that are keys are COLLATE "C" in the schema too.
var postgresDialect = &dialect{
	name:        "postgres",
	migrations:  mustSub(postgresMigrations, "migrations/postgres"),
	migrateLock: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, pgMigrateKey),
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == pgUniqueViolation
	},
	rowLocks: true,
	// READ COMMITTED whatever the server's default: the row locks make
	// the steps of a user serial, and no step is retried on a
	// serialization failure.
	txOptions: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
	q:         postgresQueries(),
}

// postgresQueries are the portable statements with the dialect's own.
func postgresQueries() queries {
	q := portableQueries()
	// The user's row, created if missing and locked until the
	// transaction ends, as it stands once locked: one statement (an
	// INSERT ... ON CONFLICT DO UPDATE locks the row it finds, and
	// waits for a concurrent insert of it, where INSERT ... DO
	// NOTHING and SELECT ... FOR UPDATE would take two).
	q.userLock = `INSERT INTO authn_users AS u (user_id) VALUES ($1)
			ON CONFLICT (user_id) DO UPDATE SET failures = u.failures
			RETURNING failures, level, locked_until, last_failure, epoch, push_off, push_suspended`
	q.actComplete = `UPDATE authn_activations SET state = 'completed', pending = NULL, request_hash = $2,
				server_confirm = $3, device_id = $4
			WHERE session_id = $1 AND state = 'waiting'`
	// Byte order, whatever the database's collation (the columns are
	// COLLATE "C" too, so that the unique index serves the query).
	q.devPage = `SELECT ` + devCols + ` FROM authn_devices
			WHERE user_id COLLATE "C" > $1 OR (user_id = $1 AND id COLLATE "C" > $2)
			ORDER BY user_id COLLATE "C", id COLLATE "C" LIMIT $3`
	// The budget's row, created if missing (ends 0: a new window) and
	// locked until the transaction ends: Spends of one key serialise.
	q.budgetGet = `INSERT INTO authn_budgets AS b (budget_key, used, ends) VALUES ($1, 0, 0)
			ON CONFLICT (budget_key) DO UPDATE SET used = b.used RETURNING used, ends`
	// Functions of migrations 0004 and 0002: Attempt and CommitStep
	// in one statement each.
	q.attemptFn = `SELECT * FROM authn_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	q.commitStepFn = `SELECT authn_commit_step($1, $2, $3, $4, $5)`
	return q
}
