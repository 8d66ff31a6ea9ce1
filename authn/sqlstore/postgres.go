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

// withTracer (PostgreSQL) sets a pgx tracer on every connection: the
// tests count round trips with it (a pgx.PrepareTracer too is told of
// the statements pgx prepares).
func withTracer(t pgx.QueryTracer) Option {
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
// Attempt and CommitStep are one call each of a function of migration
// 0002 (attemptFn, commitStepFn; CommitStep's reads the user's epoch FOR
// SHARE), CompleteActivation's
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
	q: queries{
		versionTable: `CREATE TABLE IF NOT EXISTS authn_schema_version (
			version    BIGINT NOT NULL PRIMARY KEY,
			applied_at BIGINT NOT NULL)`,
		versionGet: `SELECT COALESCE(MAX(version), 0) FROM authn_schema_version`,
		versionPut: `INSERT INTO authn_schema_version (version, applied_at) VALUES ($1, $2)`,

		userGet: `SELECT failures, level, locked_until, last_failure, epoch, push_off, push_suspended
			FROM authn_users WHERE user_id = $1`,
		// The user's row, created if missing and locked until the
		// transaction ends, as it stands once locked: one statement (an
		// INSERT ... ON CONFLICT DO UPDATE locks the row it finds, and
		// waits for a concurrent insert of it, where INSERT ... DO
		// NOTHING and SELECT ... FOR UPDATE would take two).
		userLock: `INSERT INTO authn_users AS u (user_id) VALUES ($1)
			ON CONFLICT (user_id) DO UPDATE SET failures = u.failures
			RETURNING failures, level, locked_until, last_failure, epoch, push_off, push_suspended`,
		userSave: `INSERT INTO authn_users (user_id, failures, level, locked_until, last_failure, epoch, push_off, push_suspended)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures, level = excluded.level,
				locked_until = excluded.locked_until, last_failure = excluded.last_failure, epoch = excluded.epoch,
				push_off = excluded.push_off, push_suspended = excluded.push_suspended`,
		userEpoch:     `SELECT epoch FROM authn_users WHERE user_id = $1`,
		userBumpEpoch: `INSERT INTO authn_users (user_id, epoch) VALUES ($1, 1) ON CONFLICT (user_id) DO UPDATE SET epoch = authn_users.epoch + 1`,
		userReset:     `UPDATE authn_users SET failures = 0, level = 0, locked_until = 0, last_failure = 0 WHERE user_id = $1`,
		userPushOff:   `INSERT INTO authn_users (user_id, push_off) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET push_off = excluded.push_off`,
		userSuspend:   `INSERT INTO authn_users (user_id, push_suspended) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET push_suspended = excluded.push_suspended`,
		userDelete:    `DELETE FROM authn_users WHERE user_id = $1`,

		actInsert: `INSERT INTO authn_activations (session_id, user_id, state, pending, expires_at, replacing,
				request_hash, device_id, server_confirm, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING`,
		actVoidWaiting: `UPDATE authn_activations SET state = 'cancelled', pending = NULL
			WHERE user_id = $1 AND state = 'waiting' AND session_id <> $2`,
		actGet: `SELECT session_id, user_id, state, pending, expires_at, replacing, request_hash, device_id,
				server_confirm, created_at
			FROM authn_activations WHERE session_id = $1`,
		actComplete: `UPDATE authn_activations SET state = 'completed', pending = NULL, request_hash = $2,
				server_confirm = $3, device_id = $4
			WHERE session_id = $1 AND state = 'waiting'`,
		actCancel:          `UPDATE authn_activations SET state = 'cancelled', pending = NULL WHERE session_id = $1`,
		actMoveIfCompleted: `UPDATE authn_activations SET state = $2 WHERE session_id = $1 AND state = 'completed'`,
		actDeleteUser:      `DELETE FROM authn_activations WHERE user_id = $1`,
		actSweepExpire: `UPDATE authn_activations SET state = 'expired', pending = NULL
			WHERE state = 'waiting' AND expires_at <= $1`,
		actSweep: `DELETE FROM authn_activations
			WHERE state NOT IN ('waiting', 'completed') AND expires_at < $1`,

		devInsert: `INSERT INTO authn_devices (id, user_id, name, platform, account_name, suite, install_id, state,
				secret, last_step, drift, pair_tries, session_id, replacing, push_token, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		devGet:  `SELECT ` + devCols + ` FROM authn_devices WHERE user_id = $1 AND id = $2`,
		devList: `SELECT ` + devCols + ` FROM authn_devices WHERE user_id = $1 ORDER BY seq`,
		// Byte order, whatever the database's collation (the columns are
		// COLLATE "C" too, so that the unique index serves the query).
		devPage: `SELECT ` + devCols + ` FROM authn_devices
			WHERE user_id COLLATE "C" > $1 OR (user_id = $1 AND id COLLATE "C" > $2)
			ORDER BY user_id COLLATE "C", id COLLATE "C" LIMIT $3`,
		devCount:         `SELECT COUNT(*) FROM authn_devices WHERE user_id = $1`,
		devDelete:        `DELETE FROM authn_devices WHERE user_id = $1 AND id = $2`,
		devDeletePending: `DELETE FROM authn_devices WHERE user_id = $1 AND id = $2 AND state = 'pending'`,
		devActivate:      `UPDATE authn_devices SET state = 'active', replacing = '' WHERE user_id = $1 AND id = $2`,
		devPairTries:     `UPDATE authn_devices SET pair_tries = $3 WHERE user_id = $1 AND id = $2`,
		devRename:        `UPDATE authn_devices SET name = $3 WHERE user_id = $1 AND id = $2`,
		devPushToken:     `UPDATE authn_devices SET push_token = $3 WHERE user_id = $1 AND id = $2`,
		devSecret:        `UPDATE authn_devices SET secret = $3 WHERE user_id = $1 AND id = $2`,
		devDeleteUser:    `DELETE FROM authn_devices WHERE user_id = $1`,

		chExists: `SELECT COUNT(*) FROM authn_challenges WHERE id = $1`,
		chInsert: `INSERT INTO authn_challenges (id, user_id, question, epoch, tags, win, attempts, issued_at,
				expires_at, payload, names, resync, resync_drift)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		chGet: `SELECT id, user_id, question, epoch, tags, win, attempts, issued_at, expires_at, payload, names,
				resync, resync_drift
			FROM authn_challenges WHERE id = $1`,
		chLive:       `SELECT id FROM authn_challenges WHERE user_id = $1 AND expires_at > $2 ORDER BY issued_at, seq`,
		chDelete:     `DELETE FROM authn_challenges WHERE id = $1`,
		chAttempts:   `UPDATE authn_challenges SET attempts = $2 WHERE id = $1`,
		chDeleteUser: `DELETE FROM authn_challenges WHERE user_id = $1`,
		chSweep:      `DELETE FROM authn_challenges WHERE expires_at <= $1`,
		qGet:         `SELECT until_at FROM authn_questions WHERE user_id = $1 AND question = $2`,
		qPut:         `INSERT INTO authn_questions (user_id, question, until_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, question) DO UPDATE SET until_at = excluded.until_at`,
		qDeleteUser:  `DELETE FROM authn_questions WHERE user_id = $1`,
		qSweep:       `DELETE FROM authn_questions WHERE until_at <= $1`,
		isPrune:      `DELETE FROM authn_issued WHERE user_id = $1 AND issued_at <= $2`,
		isCount:      `SELECT COUNT(*) FROM authn_issued WHERE user_id = $1`,
		isInsert:     `INSERT INTO authn_issued (user_id, issued_at) VALUES ($1, $2)`,
		isDeleteUser: `DELETE FROM authn_issued WHERE user_id = $1`,
		isSweep:      `DELETE FROM authn_issued WHERE issued_at <= $1`,
		takeOnce:     `INSERT INTO authn_taken (take_key, expires_at) VALUES ($1, $2) ON CONFLICT (take_key) DO UPDATE SET expires_at = excluded.expires_at WHERE authn_taken.expires_at <= $3`,
		takeSweep:    `DELETE FROM authn_taken WHERE expires_at <= $1`,
		// The budget's row, created if missing (ends 0: a new window) and
		// locked until the transaction ends: Spends of one key serialise.
		budgetGet: `INSERT INTO authn_budgets AS b (budget_key, used, ends) VALUES ($1, 0, 0)
			ON CONFLICT (budget_key) DO UPDATE SET used = b.used RETURNING used, ends`,
		budgetPut:     `INSERT INTO authn_budgets (budget_key, used, ends) VALUES ($1, $2, $3) ON CONFLICT (budget_key) DO UPDATE SET used = excluded.used, ends = excluded.ends`,
		budgetSweep:   `DELETE FROM authn_budgets WHERE ends <= $1`,
		totpGet:       `SELECT id, user_id, secret, hash_alg, digits, period_ns, short_key, active, last_step, created_at FROM authn_totp WHERE user_id = $1`,
		totpActive:    `SELECT active FROM authn_totp WHERE user_id = $1`,
		totpPut:       `INSERT INTO authn_totp (user_id, id, secret, hash_alg, digits, period_ns, short_key, active, last_step, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, secret = excluded.secret, hash_alg = excluded.hash_alg, digits = excluded.digits, period_ns = excluded.period_ns, short_key = excluded.short_key, active = 0, last_step = excluded.last_step, created_at = excluded.created_at`,
		totpStep:      `SELECT id, active, last_step FROM authn_totp WHERE user_id = $1`,
		totpCommit:    `UPDATE authn_totp SET active = 1, last_step = $2 WHERE user_id = $1`,
		totpDelete:    `DELETE FROM authn_totp WHERE user_id = $1`,
		rcList:        `SELECT seq, mac FROM authn_recovery_codes WHERE user_id = $1 ORDER BY seq`,
		rcInsert:      `INSERT INTO authn_recovery_codes (user_id, mac) VALUES ($1, $2)`,
		rcDeleteOne:   `DELETE FROM authn_recovery_codes WHERE seq = $1`,
		rcDeleteUser:  `DELETE FROM authn_recovery_codes WHERE user_id = $1`,
		rcCount:       `SELECT COUNT(*) FROM authn_recovery_codes WHERE user_id = $1`,
		pushInsert:    `INSERT INTO authn_pushes (id, user_id, number, nonce, ctx_action, ctx_ip, ctx_place, ctx_browser, devices, state, answered, epoch, tx, challenge, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING`,
		pushGet:       `SELECT ` + pushCols + ` FROM authn_pushes p WHERE p.id = $1`,
		pushPending:   `SELECT ` + pushCols + ` FROM authn_pushes p WHERE p.user_id = $1 AND p.state = 'pending' AND p.expires_at > $2 ORDER BY p.created_at, p.seq`,
		pushSetState:  `UPDATE authn_pushes SET state = $2, answered = $3 WHERE id = $1`,
		pushDeleteUsr: `DELETE FROM authn_pushes WHERE user_id = $1`,
		pushSweep:     `DELETE FROM authn_pushes WHERE expires_at < $1`,
		// Functions of migration 0002_attempt.sql: Attempt and CommitStep
		// in one statement each.
		attemptFn:    `SELECT * FROM authn_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		commitStepFn: `SELECT authn_commit_step($1, $2, $3, $4, $5)`,
	}}
