package sqlite

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

// Defaults of the options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReadConns   = 4
	DefaultGroupCommit = 64
)

// Option configures Open.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	readConns   int
	groupCommit int
	syncNormal  bool
}

// WithGroupCommit sets how many write steps at most share one
// transaction (and its fsync) when they queue up while another commits.
// Default 64; 1 gives every write step a transaction of its own. Each
// caller is answered once the transaction holding its step has
// committed, so a step is as durable as without it; a step that fails is
// rolled back to its own savepoint, leaving the others of its
// transaction as they were.
func WithGroupCommit(steps int) Option {
	return func(o *options) {
		if steps > 0 {
			o.groupCommit = steps
		}
	}
}

// WithSynchronousNormal runs the database with synchronous=NORMAL
// instead of FULL: a commit no longer waits for the WAL to reach the
// disk (it is synced at checkpoints). A process that crashes or is
// killed loses nothing committed; an operating-system crash or a power
// loss can undo the last commits before the most recent checkpoint
// (the database stays consistent). For keyline that means: a login
// accepted just before the loss can be accepted once more with the same
// response while its step is still in the window (the device's last
// step rolls back), failures counted just before it are forgotten (a
// guesser gets those tries back), consumed challenges and recovery
// codes come back, and recent devices, activations and revocations can
// be undone — a revoked device may answer again. Use it only where
// that is acceptable (a disposable or battery-backed host).
func WithSynchronousNormal() Option {
	return func(o *options) { o.syncNormal = true }
}

// WithBusyTimeout sets how long a statement waits for a database locked
// by another process (or connection) before it fails. Default 5 s.
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.busyTimeout = d
		}
	}
}

// WithReadConns sets the most connections the read pool opens.
// Default 4.
func WithReadConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readConns = n
		}
	}
}

// Open opens the SQLite database file at path, creating it if it
// does not exist, and brings its schema up to date. path is a file path
// (not a DSN or URI; ":memory:" is a file of that name): the directory
// must be writable, since SQLite keeps path-wal and path-shm files beside
// the database in WAL mode.
//
// Every connection runs in WAL mode with synchronous=FULL (a committed
// step survives a crash or power loss; WithSynchronousNormal trades
// that away), foreign keys on and a busy timeout (WithBusyTimeout).
// Writes go through one connection, in BEGIN IMMEDIATE transactions;
// write steps that queue up while one commits share the next
// transaction and its fsync (group commit, WithGroupCommit); reads use
// a small pool of their own (WithReadConns), which WAL lets run beside
// the writer.
//
// No sealed pending key is left in the files once an activation is
// completed, cancelled or expired: the writer runs with secure_delete on
// (deleted content is overwritten with zeros) and, after each such write
// and after DeleteUser, checkpoints the WAL and truncates it (see
// sqlstore.Store.ScrubErr for a checkpoint that readers held up).
func Open(ctx context.Context, path string, opts ...Option) (*sqlstore.Store, error) {
	if path == "" {
		return nil, errors.New("sqlstore/sqlite: empty path")
	}
	o := options{busyTimeout: DefaultBusyTimeout, readConns: DefaultReadConns, groupCommit: DefaultGroupCommit}
	for _, f := range opts {
		f(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore/sqlite: %w", err)
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
	if o.syncNormal {
		q.Set("_synchronous", "NORMAL") // see WithSynchronousNormal: what a power loss undoes
	}
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	// secure_delete overwrites deleted content with zeros, in the page
	// and on the free list, so that a sealed pending key dropped by a
	// completion is not left in a page's free space; scrub clears the
	// WAL's copy.
	q.Add("_pragma", "secure_delete(1)")
	dsn := u.String() + "?" + q.Encode()

	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore/sqlite: open %s: %w", path, err)
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
		return nil, fmt.Errorf("sqlstore/sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.readConns)
	r.SetMaxIdleConns(o.readConns)
	r.SetConnMaxIdleTime(5 * time.Minute)

	if err := connect(ctx, w, o.busyTimeout); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("sqlstore (sqlite): connect: %w", err)
	}
	return sqlstore.New(ctx, sqlstore.Engine{Dialect: sqlstore.SQLite, Writer: w, Reader: r,
		Migrations: migrations(), IsUnique: isUnique, Scrub: scrub, GroupCommit: o.groupCommit})
}

// scrub checkpoints the WAL into the database file and truncates it to
// zero bytes, after a write that dropped a sealed pending key or a
// user's secrets: until then the WAL holds the frames that wrote them.
// It waits for readers through the busy handler (the busy timeout); if a
// reader still holds an old snapshot, the checkpoint stays partial and
// scrub reports it, and the store scrubs again after its next such write.
func scrub(ctx context.Context, w *sql.DB) error {
	var busy, logFrames, done int
	if err := w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("sqlstore/sqlite: checkpoint: %w", err)
	}
	if busy != 0 {
		return errors.New("sqlstore/sqlite: checkpoint: readers kept the WAL; it is not truncated yet")
	}
	return nil
}

// connect opens the writer's connection, which turns a new file to
// WAL. SQLite answers that switch with SQLITE_BUSY at once, without its
// busy handler, while another connection (another process opening the
// file at the same moment) holds a lock: it is retried, until the busy
// timeout.
func connect(ctx context.Context, w *sql.DB, timeout time.Duration) error {
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

// isUnique reports SQLite's unique and primary-key violations.
func isUnique(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
