package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/keyline/keyline/authn"
)

// Dialect names the SQL an engine speaks: which of the package's
// statements a Store runs, and how it serialises a step.
type Dialect int

// Dialects.
const (
	// SQLite: a write step is a BEGIN IMMEDIATE transaction, which holds
	// the database's write lock; statements are prepared once, at New.
	SQLite Dialect = iota + 1
	// PostgreSQL: a write step is a READ COMMITTED transaction that first
	// locks its user's row; Attempt, CommitStep and AttemptCommit (both
	// in one) are one call each of a function the engine's migrations
	// define.
	PostgreSQL
)

// String returns the dialect's name: "sqlite", "postgresql", or
// "Dialect(n)" for a value that is neither.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "postgresql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// Engine is an open database as an engine package hands it to New: the
// packages sqlstore/sqlite and sqlstore/postgres make one, each with its
// driver. Most programs call sqlite.Open or postgres.Open and never
// build one.
type Engine struct {
	Dialect Dialect // SQLite or PostgreSQL
	// Writer runs every write and read-modify-write step; Reader the
	// plain reads (it may be Writer). The Store owns both: Close closes
	// them.
	Writer, Reader *sql.DB
	// Migrations are the engine's NNNN_name.sql files, applied in order
	// by New.
	Migrations fs.FS
	// IsUnique reports whether err is the driver's unique violation.
	IsUnique func(err error) bool
	// Schema (PostgreSQL), if set, is created if missing, under the lock
	// that serialises migrations, before they are applied; the pools'
	// connections must already have it as their search_path.
	Schema string
	// GroupCommit (SQLite), if more than 1, turns group commit on: write
	// steps that queue up while a transaction commits run as one
	// transaction of at most GroupCommit steps, each in a savepoint of
	// its own (see group.go), so that concurrent logins share an fsync.
	// Writer must have one connection. 0 or 1: every write step is a
	// transaction of its own.
	GroupCommit int
	// Scrub (SQLite), if set, runs on Writer after every committed write
	// that drops a sealed pending key or a user's secrets, to clear the
	// copies the engine's journal still holds (a WAL checkpoint); see
	// Store.ScrubErr.
	Scrub func(ctx context.Context, w *sql.DB) error
}

// New makes a Store on an engine's database: it applies the engine's
// migrations that the database has not seen (refusing a schema newer
// than them) and prepares the statements where the dialect wants it. On
// an error it closes the engine's pools.
func New(ctx context.Context, e Engine) (*Store, error) {
	d, ok := dialects[e.Dialect]
	if !ok || e.Writer == nil || e.Reader == nil || e.Migrations == nil || e.IsUnique == nil {
		if e.Writer != nil {
			e.Writer.Close()
		}
		if e.Reader != nil && e.Reader != e.Writer {
			e.Reader.Close()
		}
		return nil, errors.New("sqlstore: New: incomplete Engine")
	}
	d.migrations, d.isUnique = e.Migrations, e.IsUnique
	s := &Store{d: &d, w: e.Writer, r: e.Reader, desc: "sqlstore.Store(" + d.name + ")", scrubFn: e.Scrub}
	if e.Schema != "" {
		if err := s.createSchema(ctx, e.Schema); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if d.prepare {
		if err := s.prepare(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if e.GroupCommit > 1 && e.Dialect == SQLite {
		s.startGroup(e.GroupCommit)
	}
	return s, nil
}

// Store is an authn.Store on database/sql. Open one with sqlite.Open or
// postgres.Open; it is safe for concurrent use.
type Store struct {
	d    *dialect
	w    *sql.DB // every write and read-modify-write step
	r    *sql.DB // plain reads
	desc string

	wStmts map[string]*sql.Stmt // prepared on w (read-only after Open)
	rStmts map[string]*sql.Stmt // prepared on r

	tables sync.Map // authn.LockPolicy -> string: its lock lengths as an array literal (one entry per policy a Service uses)

	stmts   atomic.Int64 // SQL statements run
	trips   atomic.Int64 // statements, BEGINs and COMMITs/ROLLBACKs
	writes  atomic.Int64 // write steps committed, explicit transactions or of one statement
	commits atomic.Int64 // the engine's transactions that committed them (fewer with group commit)

	group *grouper // SQLite's group commit, when on (Engine.GroupCommit)

	closeOnce sync.Once
	closeErr  error

	scrubFn  func(ctx context.Context, w *sql.DB) error // Engine.Scrub
	scrubMu  sync.Mutex
	scrubErr error // of the last scrub
}

var (
	_ authn.HotStore    = (*Store)(nil)
	_ authn.RecordStore = (*Store)(nil)
	_ authn.Store       = (*Store)(nil)
)

// Stats counts what a Store has sent its database since it was made.
type Stats struct {
	Statements int64 // SQL statements run
	RoundTrips int64 // statements, BEGINs, COMMITs and ROLLBACKs
	// Writes counts the write steps committed on the writer: each write
	// step in a transaction, and each write step of one statement in
	// autocommit.
	Writes int64
	// Commits counts the engine's transactions that committed them: as
	// many as Writes, or fewer with group commit (Engine.GroupCommit),
	// where write steps that queue up share a transaction and its fsync.
	Commits int64
}

// Stats returns the Store's counts so far, for metrics and benchmarks.
func (s *Store) Stats() Stats {
	return Stats{Statements: s.stmts.Load(), RoundTrips: s.trips.Load(), Writes: s.writes.Load(), Commits: s.commits.Load()}
}

// String describes the store without its records.
func (s *Store) String() string { return s.desc }

// Format prints String for every verb.
func (s *Store) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// Close closes the database. Calls after the first return its result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.group != nil {
			s.group.close() // what is queued commits first
		}
		var errs []error
		for _, m := range []map[string]*sql.Stmt{s.wStmts, s.rStmts} {
			for _, st := range m {
				errs = append(errs, st.Close())
			}
		}
		if s.r != nil && s.r != s.w {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// dialect is what differs between engines: the statements, the
// migrations and how to recognise errors. The Go logic of every step is
// shared.
type dialect struct {
	name        string
	migrations  fs.FS  // NNNN_name.sql files, applied in order (the Engine's)
	migrateLock string // run first in the migration transaction ("" : none)
	isUnique    func(error) bool
	// rowLocks: a write transaction does not lock the database by
	// itself (PostgreSQL at READ COMMITTED), so every read-modify-write
	// step first locks the row of the user it concerns with userLock
	// (which must then create a missing row and lock it): such steps of
	// one user run one after the other. SQLite's BEGIN IMMEDIATE already
	// serialises every write.
	rowLocks  bool
	txOptions *sql.TxOptions // of write transactions (nil: the driver's default)
	prepare   bool           // prepare every statement on both pools at New
	q         queries
}

// dialects are the Dialects' statements and habits; New completes a copy
// with the Engine's migrations and error test.
var dialects = map[Dialect]dialect{
	SQLite:     sqliteDialect(),
	PostgreSQL: postgresDialect(),
}

// queries are the statements of a dialect, with $N placeholders.
type queries struct {
	versionTable, versionGet, versionPut string

	userGet, userLock, userSave, userEpoch, userBumpEpoch, userReset string
	userPushOff, userSuspend, userDelete                             string

	actInsert, actVoidUnpaired, actGet, actComplete, actMoveIfCompleted string
	actDeleteUser, actSweepExpire, actSweep                             string
	actEnd, actLapsed, devDeletePendingOf                               string

	devInsert, devGet, devList, devPage, devCount, devDelete, devDeletePending string
	devActivate, devPairTries, devRename, devPushToken, devSecret              string
	devPushTokenIf                                                             string
	devCommitStep, devStepState, devDeleteUser                                 string

	chExists, chInsert, chGet, chLive, chDelete, chAttempts, chDeleteUser, chSweep string
	qGet, qPut, qDeleteUser, qSweep                                                string
	isPrune, isCount, isInsert, isDeleteUser, isSweep                              string
	takeOnce, takeSweep, budgetGet, budgetPut, budgetSweep                         string

	totpGet, totpActive, totpPut, totpStep, totpCommit, totpDelete string
	rcList, rcInsert, rcDeleteOne, rcDeleteUser, rcCount           string

	pushInsert, pushGet, pushPending, pushSetState, pushDeleteUsr, pushSweep string

	// attemptFn and commitStepFn, where set (PostgreSQL), make Attempt
	// and CommitStep one statement each: see attemptOne and commitOne.
	attemptFn, commitStepFn string
	// finishFn, where set (PostgreSQL), makes AttemptCommit one
	// statement: see finishOne.
	finishFn string
	// issueFn, where set (PostgreSQL), makes IssueChallenge one
	// statement: see issueOne.
	issueFn string
	// userDevices reads a user's devices version, epoch and active
	// devices in one statement (UserDevices): a row per device, or one
	// with no device.
	userDevices string
	// devVersionDeleteUser deletes the user's devices version
	// (DeleteUser): the counter it was drawn from goes on.
	devVersionDeleteUser string
}
