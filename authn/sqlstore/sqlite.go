package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// OpenSQLite opens the SQLite database file at path, creating it if it
// does not exist, and brings its schema up to date. path is a file path
// (not a DSN or URI; ":memory:" is a file of that name): the directory
// must be writable, since SQLite keeps path-wal and path-shm files beside
// the database in WAL mode.
//
// Every connection runs in WAL mode with synchronous=FULL (a committed
// step survives a crash or power loss), foreign keys on and a busy
// timeout (WithBusyTimeout). Writes go through one connection, in BEGIN
// IMMEDIATE transactions; reads use a small pool of their own
// (WithReadConns), which WAL lets run beside the writer.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlstore: empty SQLite path")
	}
	o := options{busyTimeout: DefaultBusyTimeout, readConns: DefaultReadConns}
	for _, f := range opts {
		f(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	// A file: URI, so that no character of the path is taken for a
	// parameter; SQLite decodes the escapes.
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	if !strings.HasPrefix(u.Path, "/") {
		u.Path = "/" + u.Path // a Windows drive letter
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(o.busyTimeout.Milliseconds(), 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	dsn := u.String() + "?" + q.Encode()

	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	// One writer connection: writers in this process queue in the pool
	// instead of spinning on SQLite's busy handler; the busy timeout is
	// for other processes.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	// The readers leave the journal mode alone: the writer set WAL, which
	// the file keeps.
	q.Del("_journal_mode")
	q.Set("_query_only", "1")
	r, err := sql.Open("sqlite", u.String()+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	r.SetConnMaxIdleTime(5 * time.Minute)

	s := &Store{d: sqliteDialect, w: w, r: r, desc: "sqlstore.Store(sqlite)"}
	if err := connectSQLite(ctx, w, o.busyTimeout); err != nil {
		s.Close()
		return nil, s.fail("connect", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// connectSQLite opens the writer's connection, which turns a new file to
// WAL. SQLite answers that switch with SQLITE_BUSY at once, without its
// busy handler, while another connection (another process opening the
// file at the same moment) holds a lock: it is retried, until the busy
// timeout.
func connectSQLite(ctx context.Context, w *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := w.PingContext(ctx)
		var e *sqlite.Error
		if err == nil || !errors.As(err, &e) || e.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(time.Duration(5+rand.IntN(20)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sqliteDialect is the SQLite engine: its migrations, its statements and
// the errors it reports. The statements use $N placeholders, which
// modernc.org/sqlite binds by position as PostgreSQL does.
var sqliteDialect = &dialect{
	name:       "sqlite",
	migrations: mustSub(sqliteMigrations, "migrations/sqlite"),
	// The IMMEDIATE transaction that applies migrations holds the
	// database's write lock: no other lock is needed.
	migrateLock: "",
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	q: sqliteQueries(),
}

const devCols = `id, user_id, name, platform, account_name, suite, install_id, state, secret, last_step, drift,
	pair_tries, session_id, replacing, push_token, created_at`

// pushCols reads a push with its user's current epoch.
const pushCols = `p.id, p.user_id, p.number, p.nonce, p.ctx_action, p.ctx_ip, p.ctx_place, p.ctx_browser, p.devices,
	p.state, p.answered, p.epoch, p.tx, p.challenge, p.created_at, p.expires_at,
	COALESCE((SELECT u.epoch FROM authn_users u WHERE u.user_id = p.user_id), 0)`

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// sqliteQueries are the portable statements with the dialect's own.
func sqliteQueries() queries {
	q := portableQueries()
	// SQLite: the IMMEDIATE transaction holds the write lock, so a
	// plain read is a locked read.
	q.userLock = `SELECT failures, level, locked_until, last_failure, epoch, push_off, push_suspended
			FROM authn_users WHERE user_id = $1`
	q.actComplete = `UPDATE authn_activations SET state = 'completed', pending = NULL, request_hash = $2,
				server_confirm = $3, device_id = $4
			WHERE session_id = $1`
	q.devPage = `SELECT ` + devCols + ` FROM authn_devices
			WHERE user_id > $1 OR (user_id = $1 AND id > $2) ORDER BY user_id, id LIMIT $3`
	// The compare-and-set of CommitStep in one statement: the device
	// active, the step not before its last, the epoch the user's.
	q.devCommitStep = `UPDATE authn_devices SET last_step = $4, drift = $5
			WHERE user_id = $1 AND id = $2 AND state = 'active' AND last_step <= $4
				AND COALESCE((SELECT epoch FROM authn_users WHERE user_id = $1), 0) = $3`
	q.devStepState = `SELECT state FROM authn_devices WHERE user_id = $1 AND id = $2`
	q.budgetGet = `SELECT used, ends FROM authn_budgets WHERE budget_key = $1`
	return q
}
