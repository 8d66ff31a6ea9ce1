package sqlstore

import (
	"bytes"
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyline/keyline/authn"
)

// Defaults of the options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultReadConns   = 4
	DefaultMaxConns    = 16
)

// Option configures OpenSQLite or OpenPostgres.
type Option func(*options)

type options struct {
	busyTimeout time.Duration
	readConns   int
	schema      string          // PostgreSQL: the schema to keep the tables in ("": the DSN's search_path)
	maxConns    int             // PostgreSQL: the pool's most connections
	tracer      pgx.QueryTracer // PostgreSQL: traces every connection's queries (tests: round trips)
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

// Store is an authn.Store on database/sql. Open one with OpenSQLite or
// OpenPostgres; it is safe for concurrent use.
type Store struct {
	d    *dialect
	w    *sql.DB // every write and read-modify-write step
	r    *sql.DB // plain reads
	desc string

	wStmts map[string]*sql.Stmt // prepared on w (read-only after Open)
	rStmts map[string]*sql.Stmt // prepared on r

	stmts atomic.Int64 // SQL statements run
	trips atomic.Int64 // statements, BEGINs and COMMITs/ROLLBACKs

	closeOnce sync.Once
	closeErr  error
}

var _ authn.Store = (*Store)(nil)

// String describes the store without its records.
func (s *Store) String() string { return s.desc }

// Format prints String for every verb.
func (s *Store) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// Close closes the database. Calls after the first return its result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
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
	migrations  fs.FS  // NNNN_name.sql files, applied in order
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
	q         queries
}

// queries are the statements of a dialect, with $N placeholders.
type queries struct {
	versionTable, versionGet, versionPut string

	userGet, userLock, userSave, userEpoch, userBumpEpoch, userReset string
	userPushOff, userSuspend, userDelete                             string

	actInsert, actVoidWaiting, actGet, actComplete, actCancel, actMoveIfCompleted string
	actDeleteUser, actSweepExpire, actSweep                                       string

	devInsert, devGet, devList, devPage, devCount, devDelete, devDeletePending string
	devActivate, devPairTries, devRename, devPushToken, devSecret              string
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
}

// ---------------------------------------------------------------------
// Running statements.

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs statements on a transaction or a pool, counting them. The
// dialect's statements are prepared once, at Open, on each pool (pool
// holds them); a transaction uses them on its connection.
type conn struct {
	s    *Store
	ctx  context.Context
	db   querier
	tx   *sql.Tx
	pool map[string]*sql.Stmt
}

func (c *conn) count() {
	c.s.stmts.Add(1)
	c.s.trips.Add(1)
}

// prepared returns the prepared form of q, or nil.
func (c *conn) prepared(q string) *sql.Stmt {
	st := c.pool[q]
	if st != nil && c.tx != nil {
		st = c.tx.StmtContext(c.ctx, st)
	}
	return st
}

// exec runs a statement and returns the rows it affected.
func (c *conn) exec(q string, args ...any) (int64, error) {
	c.count()
	var r sql.Result
	var err error
	if st := c.prepared(q); st != nil {
		r, err = st.ExecContext(c.ctx, args...)
	} else {
		r, err = c.db.ExecContext(c.ctx, q, args...)
	}
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func (c *conn) query(q string, args ...any) (*sql.Rows, error) {
	c.count()
	if st := c.prepared(q); st != nil {
		return st.QueryContext(c.ctx, args...)
	}
	return c.db.QueryContext(c.ctx, q, args...)
}

func (c *conn) row(q string, args ...any) *sql.Row {
	c.count()
	if st := c.prepared(q); st != nil {
		return st.QueryRowContext(c.ctx, args...)
	}
	return c.db.QueryRowContext(c.ctx, q, args...)
}

// prepare prepares every statement of the dialect on both pools. It runs
// once the schema is there (a statement naming a missing table does not
// prepare).
func (s *Store) prepare(ctx context.Context) error {
	v := reflect.ValueOf(s.d.q)
	s.wStmts, s.rStmts = map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	for i := range v.NumField() {
		q := v.Field(i).String()
		if q == "" || q == s.d.q.versionTable {
			continue
		}
		for _, p := range []struct {
			db *sql.DB
			m  map[string]*sql.Stmt
		}{{s.w, s.wStmts}, {s.r, s.rStmts}} {
			if p.m[q] != nil {
				continue
			}
			st, err := p.db.PrepareContext(ctx, q)
			if err != nil {
				return s.fail("prepare", fmt.Errorf("%s: %w", v.Type().Field(i).Name, err))
			}
			p.m[q] = st
		}
	}
	return nil
}

// found scans a row, reporting false for no row.
func found(err error) (bool, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// outcome reports whether err is a documented Store outcome rather than
// a failure.
func outcome(err error) bool {
	return errors.Is(err, authn.ErrStoreNotFound) || errors.Is(err, authn.ErrStoreConflict) || errors.Is(err, authn.ErrStoreLimit)
}

// refusal is a Store outcome that rolls back what the step did (a
// write transaction commits other outcomes).
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// write runs f in one write transaction (BEGIN IMMEDIATE in SQLite; READ
// COMMITTED in PostgreSQL, where f locks the user's row first: see
// lockRow). A nil error or a Store outcome commits what f did; a refusal
// rolls it back and returns its outcome; any other error rolls it back
// and is returned wrapped.
func (s *Store) write(ctx context.Context, op string, f func(c *conn) error) error {
	s.trips.Add(1)
	tx, err := s.w.BeginTx(ctx, s.d.txOptions)
	if err != nil {
		return s.fail(op, err)
	}
	err = f(&conn{s: s, ctx: ctx, db: tx, tx: tx, pool: s.wStmts})
	s.trips.Add(1)
	var r *refusal
	if errors.As(err, &r) {
		tx.Rollback()
		return r.err
	}
	if err != nil && !outcome(err) {
		tx.Rollback()
		return s.fail(op, err)
	}
	if cerr := tx.Commit(); cerr != nil {
		return s.fail(op, cerr)
	}
	return err
}

// read runs f on the read pool, outside a transaction: f reads with one
// statement where it needs a consistent view.
func (s *Store) read(ctx context.Context, op string, f func(c *conn) error) error {
	err := f(&conn{s: s, ctx: ctx, db: s.r, pool: s.rStmts})
	if err != nil && !outcome(err) {
		return s.fail(op, err)
	}
	return err
}

// single runs one statement on the writer, outside an explicit
// transaction (a statement is atomic by itself).
func (s *Store) single(ctx context.Context, op string, f func(c *conn) error) error {
	err := f(&conn{s: s, ctx: ctx, db: s.w, pool: s.wStmts})
	if err != nil && !outcome(err) {
		return s.fail(op, err)
	}
	return err
}

func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("sqlstore (%s): %s: %w", s.d.name, op, err)
}

// ---------------------------------------------------------------------
// Migrations.

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

// ---------------------------------------------------------------------
// Encoding.

// nanos is t as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// at is the time of Unix nanoseconds n, in UTC; 0 is the zero time.
func at(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// blob is b as a parameter: NULL for nil, so that nil reads back as nil.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonText is v as JSON text, or NULL for a nil map or slice.
func jsonText(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil, err
	}
	return string(b), nil
}

func fromJSON(s sql.NullString, v any) error {
	if !s.Valid {
		return nil
	}
	return json.Unmarshal([]byte(s.String), v)
}

// Tags are encoded as a version byte, then per tag: the MAC (16 bytes),
// the step (8), the drift (8, two's complement), the device's length (2)
// and the device.
const tagsVersion = 1

func encodeTags(tags []authn.Tag) ([]byte, error) {
	b := make([]byte, 1, 1+len(tags)*40)
	b[0] = tagsVersion
	for _, t := range tags {
		if len(t.Device) > 0xffff {
			return nil, errors.New("a tag's device ID is too long")
		}
		b = append(b, t.MAC[:]...)
		b = binary.BigEndian.AppendUint64(b, t.Step)
		b = binary.BigEndian.AppendUint64(b, uint64(int64(t.Drift)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.Device)))
		b = append(b, t.Device...)
	}
	return b, nil
}

var errTags = errors.New("malformed tags")

func decodeTags(b []byte) ([]authn.Tag, error) {
	if len(b) < 1 || b[0] != tagsVersion {
		return nil, errTags
	}
	b = b[1:]
	var tags []authn.Tag
	for len(b) > 0 {
		if len(b) < 34 {
			return nil, errTags
		}
		var t authn.Tag
		copy(t.MAC[:], b)
		t.Step = binary.BigEndian.Uint64(b[16:])
		t.Drift = int(int64(binary.BigEndian.Uint64(b[24:])))
		n := int(binary.BigEndian.Uint16(b[32:]))
		b = b[34:]
		if len(b) < n {
			return nil, errTags
		}
		t.Device = string(b[:n])
		b = b[n:]
		tags = append(tags, t)
	}
	return tags, nil
}

type scanner interface{ Scan(dest ...any) error }

// ---------------------------------------------------------------------
// Users and the lockout.

func scanUser(sc scanner) (authn.UserState, error) {
	var u authn.UserState
	var locked, last, epoch, off, susp int64
	err := sc.Scan(&u.Failures, &u.Level, &locked, &last, &epoch, &off, &susp)
	u.LockedUntil, u.LastFailure, u.Epoch = at(locked), at(last), uint64(epoch)
	u.PushOff, u.PushSuspended = off != 0, at(susp)
	return u, err
}

// lockUser reads the user's state for a read-modify-write step (a user
// never seen reads as the zero state).
func (s *Store) lockUser(c *conn, user string) (authn.UserState, error) {
	u, err := scanUser(c.row(s.d.q.userLock, user))
	if errors.Is(err, sql.ErrNoRows) {
		return authn.UserState{}, nil
	}
	return u, err
}

// lockRow serialises a read-modify-write step with the others of the
// user, where the dialect needs it (rowLocks): it locks the user's row,
// creating it if missing, until the transaction ends. Every step locks
// at most one user's row, and first, so that steps cannot deadlock.
func (s *Store) lockRow(c *conn, user string) error {
	if !s.d.rowLocks {
		return nil
	}
	_, err := s.lockUser(c, user)
	return err
}

func (s *Store) saveUser(c *conn, user string, u authn.UserState) error {
	_, err := c.exec(s.d.q.userSave, user, int64(u.Failures), int64(u.Level), nanos(u.LockedUntil), nanos(u.LastFailure),
		int64(u.Epoch), flag(u.PushOff), nanos(u.PushSuspended))
	return err
}

func (s *Store) epoch(c *conn, user string) (uint64, error) {
	var e int64
	ok, err := found(c.row(s.d.q.userEpoch, user).Scan(&e))
	if !ok {
		return 0, err
	}
	return uint64(e), nil
}

func locked(u authn.UserState, now time.Time) (authn.AttemptResult, bool) {
	if now.Before(u.LockedUntil) {
		return authn.AttemptResult{Outcome: authn.AttemptLocked, RetryAfter: u.LockedUntil.Sub(now), Failures: u.Failures}, true
	}
	return authn.AttemptResult{}, false
}

// User implements authn.Store.
func (s *Store) User(ctx context.Context, user string, now time.Time) (authn.UserState, error) {
	var u authn.UserState
	err := s.read(ctx, "User", func(c *conn) error {
		var err error
		u, err = scanUser(c.row(s.d.q.userGet, user))
		if errors.Is(err, sql.ErrNoRows) {
			u, err = authn.UserState{}, nil
		}
		return err
	})
	return u, err
}

// RecordFailure implements authn.Store.
func (s *Store) RecordFailure(ctx context.Context, user string, p authn.LockPolicy, now time.Time) (authn.UserState, error) {
	var u authn.UserState
	err := s.write(ctx, "RecordFailure", func(c *conn) error {
		var err error
		if u, err = s.lockUser(c, user); err != nil {
			return err
		}
		p.Fail(&u, now)
		return s.saveUser(c, user, u)
	})
	if err != nil {
		return authn.UserState{}, err
	}
	return u, nil
}

// ResetUser implements authn.Store.
func (s *Store) ResetUser(ctx context.Context, user string, now time.Time) error {
	return s.single(ctx, "ResetUser", func(c *conn) error {
		_, err := c.exec(s.d.q.userReset, user)
		return err
	})
}

// SetPushOff implements authn.Store.
func (s *Store) SetPushOff(ctx context.Context, user string, off bool, now time.Time) error {
	return s.single(ctx, "SetPushOff", func(c *conn) error {
		_, err := c.exec(s.d.q.userPushOff, user, flag(off))
		return err
	})
}

// SuspendPush implements authn.Store.
func (s *Store) SuspendPush(ctx context.Context, user string, until, now time.Time) error {
	return s.single(ctx, "SuspendPush", func(c *conn) error {
		_, err := c.exec(s.d.q.userSuspend, user, nanos(until))
		return err
	})
}

// DeleteUser implements authn.Store.
func (s *Store) DeleteUser(ctx context.Context, user string, now time.Time) error {
	q := &s.d.q
	return s.write(ctx, "DeleteUser", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		for _, st := range []string{q.actDeleteUser, q.devDeleteUser, q.chDeleteUser, q.qDeleteUser, q.isDeleteUser,
			q.totpDelete, q.rcDeleteUser, q.pushDeleteUsr, q.userDelete} {
			if _, err := c.exec(st, user); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---------------------------------------------------------------------
// Activations.

func scanActivation(sc scanner) (authn.ActivationRecord, error) {
	var a authn.ActivationRecord
	var state string
	var exp, created int64
	err := sc.Scan(&a.SessionID, &a.User, &state, &a.Pending, &exp, &a.Replacing, &a.RequestHash, &a.DeviceID,
		&a.ServerConfirm, &created)
	a.State, a.ExpiresAt, a.CreatedAt = authn.ActivationState(state), at(exp), at(created)
	return a, err
}

// expireActivation marks a waiting activation past its expiry as expired
// (as read; Sweep writes it).
func expireActivation(a *authn.ActivationRecord, now time.Time) {
	if a.State == authn.ActivationWaiting && !now.Before(a.ExpiresAt) {
		a.State = authn.ActivationExpired
		a.Pending = nil
	}
}

func (s *Store) getActivation(c *conn, sessionID string, now time.Time) (authn.ActivationRecord, bool, error) {
	a, err := scanActivation(c.row(s.d.q.actGet, sessionID))
	if ok, err := found(err); !ok {
		return authn.ActivationRecord{}, false, err
	}
	expireActivation(&a, now)
	return a, true, nil
}

// PutActivation implements authn.Store.
func (s *Store) PutActivation(ctx context.Context, a authn.ActivationRecord, now time.Time) error {
	return s.write(ctx, "PutActivation", func(c *conn) error {
		if err := s.lockRow(c, a.User); err != nil {
			return err
		}
		n, err := c.exec(s.d.q.actInsert, a.SessionID, a.User, string(a.State), blob(a.Pending), nanos(a.ExpiresAt),
			a.Replacing, blob(a.RequestHash), a.DeviceID, blob(a.ServerConfirm), nanos(a.CreatedAt))
		if err != nil {
			return err
		}
		if n == 0 {
			return authn.ErrStoreConflict
		}
		_, err = c.exec(s.d.q.actVoidWaiting, a.User, a.SessionID)
		return err
	})
}

// GetActivation implements authn.Store.
func (s *Store) GetActivation(ctx context.Context, sessionID string, now time.Time) (authn.ActivationRecord, error) {
	var a authn.ActivationRecord
	err := s.read(ctx, "GetActivation", func(c *conn) error {
		var ok bool
		var err error
		if a, ok, err = s.getActivation(c, sessionID, now); err == nil && !ok {
			err = authn.ErrStoreNotFound
		}
		return err
	})
	if err != nil {
		return authn.ActivationRecord{}, err
	}
	return a, nil
}

// CompleteActivation implements authn.Store.
func (s *Store) CompleteActivation(ctx context.Context, sessionID string, requestHash, serverConfirm []byte, dev authn.DeviceRecord, maxDevices int, now time.Time) (authn.ActivationRecord, error) {
	var out authn.ActivationRecord
	err := s.write(ctx, "CompleteActivation", func(c *conn) error {
		a, ok, err := s.getActivation(c, sessionID, now)
		if err != nil {
			return err
		}
		if !ok {
			return authn.ErrStoreNotFound
		}
		if s.d.rowLocks {
			// The activation names the user: lock that user's row, then
			// read the activation again, as it stands under the lock.
			if err := s.lockRow(c, a.User); err != nil {
				return err
			}
			if a, ok, err = s.getActivation(c, sessionID, now); err != nil {
				return err
			}
			if !ok {
				return authn.ErrStoreNotFound
			}
		}
		switch a.State {
		case authn.ActivationWaiting:
		case authn.ActivationCompleted, authn.ActivationActive:
			out = a
			return authn.ErrStoreConflict
		default:
			return authn.ErrStoreNotFound
		}
		var n int
		if err := c.row(s.d.q.devCount, a.User).Scan(&n); err != nil {
			return err
		}
		if n >= maxDevices {
			return authn.ErrStoreLimit
		}
		done, err := c.exec(s.d.q.actComplete, sessionID, blob(requestHash), blob(serverConfirm), dev.ID)
		if err != nil {
			return err
		}
		if done == 0 {
			// Moved meanwhile by a step that does not lock the user
			// (Sweep expiring it): not waiting any more.
			return &refusal{authn.ErrStoreNotFound}
		}
		if _, err := c.exec(s.d.q.devInsert, dev.ID, a.User, dev.Name, dev.Platform, dev.AccountName, dev.Suite,
			dev.InstallID, string(authn.DevicePending), blob(dev.Secret), int64(dev.LastStep), int64(dev.Drift),
			int64(dev.PairTries), dev.SessionID, dev.Replacing, dev.PushToken, nanos(dev.CreatedAt)); err != nil {
			if s.d.isUnique(err) {
				// A device of that ID exists already: undo the completion.
				return fmt.Errorf("device %q exists already: %w", dev.ID, err)
			}
			return err
		}
		a.State = authn.ActivationCompleted
		a.Pending = nil
		a.RequestHash = bytes.Clone(requestHash)
		a.ServerConfirm = bytes.Clone(serverConfirm)
		a.DeviceID = dev.ID
		out = a
		return nil
	})
	if err != nil && !errors.Is(err, authn.ErrStoreConflict) {
		return authn.ActivationRecord{}, err
	}
	return out, err
}

// CancelActivation implements authn.Store.
func (s *Store) CancelActivation(ctx context.Context, user, sessionID string, now time.Time) error {
	return s.write(ctx, "CancelActivation", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		a, ok, err := s.getActivation(c, sessionID, now)
		if err != nil {
			return err
		}
		if !ok || a.User != user || (a.State != authn.ActivationWaiting && a.State != authn.ActivationCompleted) {
			return authn.ErrStoreNotFound
		}
		return s.cancel(c, a)
	})
}

// cancel cancels an activation and drops the pending device it made.
func (s *Store) cancel(c *conn, a authn.ActivationRecord) error {
	if _, err := c.exec(s.d.q.actCancel, a.SessionID); err != nil {
		return err
	}
	if a.DeviceID != "" {
		if _, err := c.exec(s.d.q.devDeletePending, a.User, a.DeviceID); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------
// Devices.

func scanDevice(sc scanner) (authn.DeviceRecord, error) {
	var d authn.DeviceRecord
	var state string
	var last, drift, tries, created int64
	err := sc.Scan(&d.ID, &d.User, &d.Name, &d.Platform, &d.AccountName, &d.Suite, &d.InstallID, &state, &d.Secret,
		&last, &drift, &tries, &d.SessionID, &d.Replacing, &d.PushToken, &created)
	d.State, d.LastStep, d.Drift, d.PairTries, d.CreatedAt = authn.DeviceState(state), uint64(last), int(drift), int(tries), at(created)
	return d, err
}

func (s *Store) device(c *conn, user, id string) (authn.DeviceRecord, bool, error) {
	d, err := scanDevice(c.row(s.d.q.devGet, user, id))
	ok, err := found(err)
	return d, ok, err
}

func (s *Store) devices(c *conn, q string, args ...any) ([]authn.DeviceRecord, error) {
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []authn.DeviceRecord{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CountPairingTry implements authn.Store.
func (s *Store) CountPairingTry(ctx context.Context, user, deviceID string, max int, now time.Time) (int, error) {
	var tries int
	err := s.write(ctx, "CountPairingTry", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		d, ok, err := s.device(c, user, deviceID)
		if err != nil {
			return err
		}
		if !ok || d.State != authn.DevicePending {
			return authn.ErrStoreNotFound
		}
		tries = d.PairTries + 1
		if tries > max {
			a, ok, err := s.getActivation(c, d.SessionID, now)
			if err != nil {
				return err
			}
			if ok {
				if err := s.cancel(c, a); err != nil {
					return err
				}
			}
			if _, err := c.exec(s.d.q.devDelete, user, deviceID); err != nil {
				return err
			}
			return authn.ErrStoreLimit
		}
		_, err = c.exec(s.d.q.devPairTries, user, deviceID, int64(tries))
		return err
	})
	if err != nil && !errors.Is(err, authn.ErrStoreLimit) {
		return 0, err
	}
	return tries, err
}

// ActivateDevice implements authn.Store.
func (s *Store) ActivateDevice(ctx context.Context, user, deviceID string, now time.Time) (authn.DeviceRecord, error) {
	var out authn.DeviceRecord
	err := s.write(ctx, "ActivateDevice", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		d, ok, err := s.device(c, user, deviceID)
		if err != nil {
			return err
		}
		if !ok || d.State != authn.DevicePending {
			return authn.ErrStoreNotFound
		}
		if _, err := c.exec(s.d.q.devActivate, user, deviceID); err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.actMoveIfCompleted, d.SessionID, string(authn.ActivationActive)); err != nil {
			return err
		}
		if d.Replacing != "" && d.Replacing != deviceID {
			n, err := c.exec(s.d.q.devDelete, user, d.Replacing)
			if err != nil {
				return err
			}
			if n > 0 {
				if _, err := c.exec(s.d.q.userBumpEpoch, user); err != nil {
					return err
				}
			}
		}
		d.State, d.Replacing = authn.DeviceActive, ""
		out = d
		return nil
	})
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	return out, nil
}

// Devices implements authn.Store.
func (s *Store) Devices(ctx context.Context, user string) ([]authn.DeviceRecord, error) {
	var out []authn.DeviceRecord
	err := s.read(ctx, "Devices", func(c *conn) error {
		var err error
		out, err = s.devices(c, s.d.q.devList, user)
		return err
	})
	return out, err
}

// Device implements authn.Store.
func (s *Store) Device(ctx context.Context, user, deviceID string) (authn.DeviceRecord, error) {
	var d authn.DeviceRecord
	err := s.read(ctx, "Device", func(c *conn) error {
		var ok bool
		var err error
		if d, ok, err = s.device(c, user, deviceID); err == nil && !ok {
			err = authn.ErrStoreNotFound
		}
		return err
	})
	if err != nil {
		return authn.DeviceRecord{}, err
	}
	return d, nil
}

// updateDevice runs a one-statement update of a device.
func (s *Store) updateDevice(ctx context.Context, op, q, user, deviceID string, v any) error {
	return s.single(ctx, op, func(c *conn) error {
		n, err := c.exec(q, user, deviceID, v)
		if err == nil && n == 0 {
			err = authn.ErrStoreNotFound
		}
		return err
	})
}

// RenameDevice implements authn.Store.
func (s *Store) RenameDevice(ctx context.Context, user, deviceID, name string) error {
	return s.updateDevice(ctx, "RenameDevice", s.d.q.devRename, user, deviceID, name)
}

// SetPushToken implements authn.Store.
func (s *Store) SetPushToken(ctx context.Context, user, deviceID, token string) error {
	return s.updateDevice(ctx, "SetPushToken", s.d.q.devPushToken, user, deviceID, token)
}

// RevokeDevice implements authn.Store.
func (s *Store) RevokeDevice(ctx context.Context, user, deviceID string, now time.Time) error {
	return s.write(ctx, "RevokeDevice", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		d, ok, err := s.device(c, user, deviceID)
		if err != nil {
			return err
		}
		if !ok {
			return authn.ErrStoreNotFound
		}
		if _, err := c.exec(s.d.q.actMoveIfCompleted, d.SessionID, string(authn.ActivationCancelled)); err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.devDelete, user, deviceID); err != nil {
			return err
		}
		_, err = c.exec(s.d.q.userBumpEpoch, user)
		return err
	})
}

// DevicesPage implements authn.Store.
func (s *Store) DevicesPage(ctx context.Context, afterUser, afterID string, limit int) ([]authn.DeviceRecord, error) {
	if limit <= 0 {
		return []authn.DeviceRecord{}, nil
	}
	var out []authn.DeviceRecord
	err := s.read(ctx, "DevicesPage", func(c *conn) error {
		var err error
		out, err = s.devices(c, s.d.q.devPage, afterUser, afterID, int64(limit))
		return err
	})
	return out, err
}

// UpdateSecret implements authn.Store.
func (s *Store) UpdateSecret(ctx context.Context, user, deviceID string, old, sealed []byte) error {
	return s.write(ctx, "UpdateSecret", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		d, ok, err := s.device(c, user, deviceID)
		if err != nil {
			return err
		}
		if !ok {
			return authn.ErrStoreNotFound
		}
		if !bytes.Equal(d.Secret, old) {
			return authn.ErrStoreConflict
		}
		_, err = c.exec(s.d.q.devSecret, user, deviceID, blob(sealed))
		return err
	})
}

// CommitStep implements authn.Store.
func (s *Store) CommitStep(ctx context.Context, user, deviceID string, epoch, step uint64, drift int, now time.Time) error {
	if s.d.q.commitStepFn != "" {
		return s.commitOne(ctx, user, deviceID, epoch, step, drift)
	}
	// One statement is the compare-and-set; a refusal reads why after it
	// (the reason as it stands then: both are refusals).
	return s.single(ctx, "CommitStep", func(c *conn) error {
		n, err := c.exec(s.d.q.devCommitStep, user, deviceID, int64(epoch), int64(step), int64(drift))
		if err != nil || n > 0 {
			return err
		}
		var state string
		ok, err := found(c.row(s.d.q.devStepState, user, deviceID).Scan(&state))
		if err != nil {
			return err
		}
		if !ok || authn.DeviceState(state) != authn.DeviceActive {
			return authn.ErrStoreNotFound
		}
		return authn.ErrStoreConflict
	})
}

// ---------------------------------------------------------------------
// Challenges.

// PutChallenge implements authn.Store.
func (s *Store) PutChallenge(ctx context.Context, ch authn.ChallengeRecord, lim authn.ChallengeLimits, now time.Time) error {
	q := &s.d.q
	tags, err := encodeTags(ch.Tags)
	if err != nil {
		return s.fail("PutChallenge", err)
	}
	names, err := jsonText(ch.Names)
	if err != nil {
		return s.fail("PutChallenge", err)
	}
	return s.write(ctx, "PutChallenge", func(c *conn) error {
		if err := s.lockRow(c, ch.User); err != nil {
			return err
		}
		var n int
		if err := c.row(q.chExists, ch.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return authn.ErrStoreConflict
		}
		e, err := s.epoch(c, ch.User)
		if err != nil {
			return err
		}
		if e != ch.Epoch {
			return authn.ErrStoreConflict
		}
		var until int64
		ok, err := found(c.row(q.qGet, ch.User, ch.Question).Scan(&until))
		if err != nil {
			return err
		}
		if ok && now.Before(at(until)) {
			return authn.ErrStoreConflict
		}
		// The per-minute budget: issue times within the last minute.
		if _, err := c.exec(q.isPrune, ch.User, nanos(now.Add(-time.Minute))); err != nil {
			return err
		}
		if err := c.row(q.isCount, ch.User).Scan(&n); err != nil {
			return err
		}
		if n >= lim.PerMinute {
			return authn.ErrStoreLimit
		}
		// Void the oldest live challenges beyond the outstanding budget.
		live, err := s.strings(c, q.chLive, ch.User, nanos(now))
		if err != nil {
			return err
		}
		for len(live) > 0 && len(live) >= lim.Outstanding {
			if _, err := c.exec(q.chDelete, live[0]); err != nil {
				return err
			}
			live = live[1:]
		}
		if _, err := c.exec(q.qPut, ch.User, ch.Question, nanos(now.Add(lim.Horizon))); err != nil {
			return err
		}
		if _, err := c.exec(q.isInsert, ch.User, nanos(now)); err != nil {
			return err
		}
		_, err = c.exec(q.chInsert, ch.ID, ch.User, ch.Question, int64(ch.Epoch), tags, int64(ch.Window),
			int64(ch.Attempts), nanos(ch.IssuedAt), nanos(ch.ExpiresAt), blob(ch.Payload), names, ch.Resync,
			int64(ch.ResyncDrift))
		if err != nil && s.d.isUnique(err) {
			// Another user's challenge of that ID, stored meanwhile
			// (chExists saw none): refused, and nothing recorded.
			return &refusal{authn.ErrStoreConflict}
		}
		return err
	})
}

func (s *Store) strings(c *conn, q string, args ...any) ([]string, error) {
	rows, err := c.query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanChallenge(sc scanner) (authn.ChallengeRecord, []byte, error) {
	var ch authn.ChallengeRecord
	var tags []byte
	var names sql.NullString
	var epoch, win, attempts, issued, exp, rdrift int64
	err := sc.Scan(&ch.ID, &ch.User, &ch.Question, &epoch, &tags, &win, &attempts, &issued, &exp, &ch.Payload,
		&names, &ch.Resync, &rdrift)
	if err != nil {
		return ch, nil, err
	}
	ch.Epoch, ch.Window, ch.Attempts, ch.ResyncDrift = uint64(epoch), int(win), int(attempts), int(rdrift)
	ch.IssuedAt, ch.ExpiresAt = at(issued), at(exp)
	if err := fromJSON(names, &ch.Names); err != nil {
		return ch, nil, fmt.Errorf("challenge %q: names: %w", ch.ID, err)
	}
	return ch, tags, nil
}

// Attempt implements authn.Store.
func (s *Store) Attempt(ctx context.Context, user, challengeID string, mac [16]byte, serverStep uint64, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	if s.d.q.attemptFn != "" {
		return s.attemptOne(ctx, user, challengeID, mac, serverStep, p, now)
	}
	q := &s.d.q
	var res authn.AttemptResult
	err := s.write(ctx, "Attempt", func(c *conn) error {
		u, err := s.lockUser(c, user)
		if err != nil {
			return err
		}
		var ok bool
		if res, ok = locked(u, now); ok {
			return nil
		}
		ch, rawTags, err := scanChallenge(c.row(q.chGet, challengeID))
		ok, err = found(err)
		if err != nil {
			return err
		}
		if ok && ch.User != user {
			ok = false
		}
		if ok && (!now.Before(ch.ExpiresAt) || ch.Epoch != u.Epoch) {
			res = authn.AttemptResult{Outcome: authn.AttemptExpired, Failures: u.Failures}
			_, err := c.exec(q.chDelete, challengeID)
			return err
		}
		// Counted before checked.
		lock := p.Fail(&u, now)
		res = authn.AttemptResult{RetryAfter: lock, Failures: u.Failures}
		switch {
		case !ok:
			res.Outcome = authn.AttemptNoChallenge
		case ch.Attempts+1 > p.MaxAttempts:
			res.Outcome = authn.AttemptExhausted
			if _, err := c.exec(q.chDelete, challengeID); err != nil {
				return err
			}
		default:
			ch.Attempts++
			tags, err := decodeTags(rawTags)
			if err != nil {
				return fmt.Errorf("challenge %q: %w", challengeID, err)
			}
			res.Challenge = ch
			match := -1
			for i, t := range tags {
				eq := subtle.ConstantTimeCompare(mac[:], t.MAC[:])
				if eq == 1 && match < 0 && t.Admissible(serverStep, ch.Window) {
					match = i
				}
			}
			if match < 0 {
				res.Outcome = authn.AttemptMismatch
				if _, err := c.exec(q.chAttempts, challengeID, int64(ch.Attempts)); err != nil {
					return err
				}
				break
			}
			if _, err := c.exec(q.chDelete, challengeID); err != nil {
				return err
			}
			u.Reset()
			res.Outcome = authn.AttemptMatch
			res.Match = tags[match]
			res.RetryAfter, res.Failures = 0, 0
		}
		return s.saveUser(c, user, u)
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}

// attemptOne is Attempt in one statement, a call of a function that
// does in the database what Attempt's transaction does (PostgreSQL
// migration 0004 defines it), run in autocommit: one round trip. The
// lockout rule goes to it as data, the lock lengths by level.
func (s *Store) attemptOne(ctx context.Context, user, challengeID string, mac [16]byte, serverStep uint64, p authn.LockPolicy, now time.Time) (authn.AttemptResult, error) {
	var res authn.AttemptResult
	err := s.single(ctx, "Attempt", func(c *conn) error {
		var outcome int64
		var retry, failures int64
		var dev []byte
		var step, drift, epoch, win, attempts, issued, exp, rdrift sql.NullInt64
		var id, chUser, question, resync, names sql.NullString
		var payload []byte
		lengths := p.Lengths()
		locks := make([]int64, len(lengths))
		for i, d := range lengths {
			locks[i] = int64(d)
		}
		err := c.row(s.d.q.attemptFn, user, challengeID, mac[:], int64(serverStep), int64(p.MaxFailures),
			int64(p.Window), int64(p.MaxAttempts), locks, nanos(now)).Scan(
			&outcome, &retry, &failures, &dev, &step, &drift, &id, &chUser, &question, &epoch, &win, &attempts,
			&issued, &exp, &payload, &names, &resync, &rdrift)
		if err != nil {
			return err
		}
		res = authn.AttemptResult{RetryAfter: time.Duration(retry), Failures: int(failures)}
		switch outcome {
		case 0:
			res.Outcome = authn.AttemptMismatch
		case 1:
			res.Outcome = authn.AttemptMatch
			res.Match = authn.Tag{MAC: mac, Device: string(dev), Step: uint64(step.Int64), Drift: int(drift.Int64)}
		case 2:
			res.Outcome = authn.AttemptLocked
			return nil
		case 3:
			res.Outcome = authn.AttemptNoChallenge
			return nil
		case 4:
			res.Outcome = authn.AttemptExpired
			return nil
		case 5:
			res.Outcome = authn.AttemptExhausted
			return nil
		default:
			return fmt.Errorf("unknown attempt outcome %d", outcome)
		}
		ch := authn.ChallengeRecord{ID: id.String, User: chUser.String, Question: question.String,
			Epoch: uint64(epoch.Int64), Window: int(win.Int64), Attempts: int(attempts.Int64),
			IssuedAt: at(issued.Int64), ExpiresAt: at(exp.Int64), Payload: payload, Resync: resync.String,
			ResyncDrift: int(rdrift.Int64)}
		if err := fromJSON(names, &ch.Names); err != nil {
			return fmt.Errorf("challenge %q: names: %w", ch.ID, err)
		}
		res.Challenge = ch
		return nil
	})
	if err != nil {
		return authn.AttemptResult{}, err
	}
	return res, nil
}

// commitOne is CommitStep in one statement (a function call that tells
// a refusal's reason too): one round trip.
func (s *Store) commitOne(ctx context.Context, user, deviceID string, epoch, step uint64, drift int) error {
	return s.single(ctx, "CommitStep", func(c *conn) error {
		var r int64
		if err := c.row(s.d.q.commitStepFn, user, deviceID, int64(epoch), int64(step), int64(drift)).Scan(&r); err != nil {
			return err
		}
		switch r {
		case 0:
			return nil
		case 1:
			return authn.ErrStoreNotFound
		case 2:
			return authn.ErrStoreConflict
		}
		return fmt.Errorf("unknown commit result %d", r)
	})
}

// ---------------------------------------------------------------------
// TOTP and recovery codes.

func scanTOTP(sc scanner) (authn.TOTPRecord, error) {
	var t authn.TOTPRecord
	var digits, period, short, active, last, created int64
	err := sc.Scan(&t.ID, &t.User, &t.Secret, &t.Hash, &digits, &period, &short, &active, &last, &created)
	t.Digits, t.Period, t.ShortKey, t.Active = int(digits), time.Duration(period), short != 0, active != 0
	t.LastStep, t.CreatedAt = uint64(last), at(created)
	return t, err
}

// PutTOTP implements authn.Store.
func (s *Store) PutTOTP(ctx context.Context, t authn.TOTPRecord, now time.Time) error {
	return s.write(ctx, "PutTOTP", func(c *conn) error {
		if err := s.lockRow(c, t.User); err != nil {
			return err
		}
		var active int64
		ok, err := found(c.row(s.d.q.totpActive, t.User).Scan(&active))
		if err != nil {
			return err
		}
		if ok && active != 0 {
			return authn.ErrStoreConflict
		}
		_, err = c.exec(s.d.q.totpPut, t.User, t.ID, blob(t.Secret), t.Hash, int64(t.Digits), int64(t.Period),
			flag(t.ShortKey), int64(t.LastStep), nanos(t.CreatedAt))
		return err
	})
}

// AttemptTOTP implements authn.Store.
func (s *Store) AttemptTOTP(ctx context.Context, user string, wantInactive bool, p authn.LockPolicy, now time.Time) (authn.TOTPRecord, authn.AttemptResult, error) {
	var rec authn.TOTPRecord
	var res authn.AttemptResult
	err := s.write(ctx, "AttemptTOTP", func(c *conn) error {
		u, err := s.lockUser(c, user)
		if err != nil {
			return err
		}
		var ok bool
		if res, ok = locked(u, now); ok {
			return nil
		}
		lock := p.Fail(&u, now)
		res = authn.AttemptResult{Outcome: authn.AttemptMismatch, RetryAfter: lock, Failures: u.Failures}
		if err := s.saveUser(c, user, u); err != nil {
			return err
		}
		rec, err = scanTOTP(c.row(s.d.q.totpGet, user))
		ok, err = found(err)
		if err != nil {
			return err
		}
		if !ok || rec.Active == wantInactive {
			rec = authn.TOTPRecord{}
			return authn.ErrStoreNotFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, authn.ErrStoreNotFound) {
		return authn.TOTPRecord{}, authn.AttemptResult{}, err
	}
	return rec, res, err
}

// CommitTOTP implements authn.Store.
func (s *Store) CommitTOTP(ctx context.Context, user, id string, step uint64, now time.Time) error {
	return s.write(ctx, "CommitTOTP", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		var gotID string
		var active, last int64
		ok, err := found(c.row(s.d.q.totpStep, user).Scan(&gotID, &active, &last))
		if err != nil {
			return err
		}
		if !ok || gotID != id {
			return authn.ErrStoreNotFound
		}
		if active != 0 && step <= uint64(last) {
			return authn.ErrStoreConflict
		}
		if _, err := c.exec(s.d.q.totpCommit, user, int64(step)); err != nil {
			return err
		}
		_, err = c.exec(s.d.q.userReset, user)
		return err
	})
}

// DeleteTOTP implements authn.Store.
func (s *Store) DeleteTOTP(ctx context.Context, user string) error {
	return s.single(ctx, "DeleteTOTP", func(c *conn) error {
		n, err := c.exec(s.d.q.totpDelete, user)
		if err == nil && n == 0 {
			err = authn.ErrStoreNotFound
		}
		return err
	})
}

// TOTP implements authn.Store.
func (s *Store) TOTP(ctx context.Context, user string) (authn.TOTPRecord, error) {
	var t authn.TOTPRecord
	err := s.read(ctx, "TOTP", func(c *conn) error {
		var err error
		t, err = scanTOTP(c.row(s.d.q.totpGet, user))
		if ok, err := found(err); !ok {
			if err == nil {
				err = authn.ErrStoreNotFound
			}
			return err
		}
		return nil
	})
	if err != nil {
		return authn.TOTPRecord{}, err
	}
	return t, nil
}

// PutRecoveryCodes implements authn.Store.
func (s *Store) PutRecoveryCodes(ctx context.Context, user string, macs [][32]byte, now time.Time) error {
	return s.write(ctx, "PutRecoveryCodes", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		if _, err := c.exec(s.d.q.rcDeleteUser, user); err != nil {
			return err
		}
		for _, m := range macs {
			if _, err := c.exec(s.d.q.rcInsert, user, m[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// UseRecoveryCode implements authn.Store.
func (s *Store) UseRecoveryCode(ctx context.Context, user string, candidates [][32]byte, p authn.LockPolicy, now time.Time) (authn.AttemptResult, int, error) {
	var res authn.AttemptResult
	var left int
	err := s.write(ctx, "UseRecoveryCode", func(c *conn) error {
		u, err := s.lockUser(c, user)
		if err != nil {
			return err
		}
		type code struct {
			seq int64
			mac []byte
		}
		rows, err := c.query(s.d.q.rcList, user)
		if err != nil {
			return err
		}
		var codes []code
		for rows.Next() {
			var cd code
			if err := rows.Scan(&cd.seq, &cd.mac); err != nil {
				rows.Close()
				return err
			}
			codes = append(codes, cd)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		left = len(codes)
		var ok bool
		if res, ok = locked(u, now); ok {
			return nil
		}
		lock := p.Fail(&u, now)
		match := -1
		for i := range codes {
			for _, cand := range candidates {
				if subtle.ConstantTimeCompare(codes[i].mac, cand[:]) == 1 && match < 0 {
					match = i
				}
			}
		}
		if match < 0 {
			res = authn.AttemptResult{Outcome: authn.AttemptMismatch, RetryAfter: lock, Failures: u.Failures}
		} else {
			if _, err := c.exec(s.d.q.rcDeleteOne, codes[match].seq); err != nil {
				return err
			}
			left--
			u.Reset()
			res = authn.AttemptResult{Outcome: authn.AttemptMatch}
		}
		return s.saveUser(c, user, u)
	})
	if err != nil {
		return authn.AttemptResult{}, 0, err
	}
	return res, left, nil
}

// RecoveryCodesLeft implements authn.Store.
func (s *Store) RecoveryCodesLeft(ctx context.Context, user string) (int, error) {
	var n int
	err := s.read(ctx, "RecoveryCodesLeft", func(c *conn) error { return c.row(s.d.q.rcCount, user).Scan(&n) })
	return n, err
}

// ---------------------------------------------------------------------
// Push requests.

// scanPush reads a push request and its user's current epoch, and marks
// it expired (as read) if it is.
func scanPush(sc scanner, now time.Time) (authn.PushRecord, error) {
	var p authn.PushRecord
	var devices sql.NullString
	var state string
	var epoch, created, exp, userEpoch int64
	err := sc.Scan(&p.ID, &p.User, &p.Number, &p.Nonce, &p.Context[0], &p.Context[1], &p.Context[2], &p.Context[3],
		&devices, &state, &p.Answered, &epoch, &p.Transaction, &p.Challenge, &created, &exp, &userEpoch)
	if err != nil {
		return p, err
	}
	p.State, p.Epoch, p.CreatedAt, p.ExpiresAt = authn.PushState(state), uint64(epoch), at(created), at(exp)
	if err := fromJSON(devices, &p.Devices); err != nil {
		return p, fmt.Errorf("push %q: devices: %w", p.ID, err)
	}
	live := p.State == authn.PushPending || p.State == authn.PushApproved
	if live && (!now.Before(p.ExpiresAt) || uint64(userEpoch) != p.Epoch) {
		p.State = authn.PushExpired
	}
	return p, nil
}

// PutPush implements authn.Store.
func (s *Store) PutPush(ctx context.Context, p authn.PushRecord, now time.Time) error {
	devices, err := jsonText(p.Devices)
	if err != nil {
		return s.fail("PutPush", err)
	}
	return s.single(ctx, "PutPush", func(c *conn) error {
		n, err := c.exec(s.d.q.pushInsert, p.ID, p.User, p.Number, blob(p.Nonce), p.Context[0], p.Context[1],
			p.Context[2], p.Context[3], devices, string(p.State), p.Answered, int64(p.Epoch), blob(p.Transaction),
			p.Challenge, nanos(p.CreatedAt), nanos(p.ExpiresAt))
		if err == nil && n == 0 {
			err = authn.ErrStoreConflict
		}
		return err
	})
}

// Push implements authn.Store.
func (s *Store) Push(ctx context.Context, id string, now time.Time) (authn.PushRecord, error) {
	var p authn.PushRecord
	err := s.read(ctx, "Push", func(c *conn) error {
		var err error
		p, err = scanPush(c.row(s.d.q.pushGet, id), now)
		if ok, err := found(err); !ok {
			if err == nil {
				err = authn.ErrStoreNotFound
			}
			return err
		}
		return nil
	})
	if err != nil {
		return authn.PushRecord{}, err
	}
	return p, nil
}

// PendingPushes implements authn.Store.
func (s *Store) PendingPushes(ctx context.Context, user, deviceID string, now time.Time) ([]authn.PushRecord, error) {
	var out []authn.PushRecord
	err := s.read(ctx, "PendingPushes", func(c *conn) error {
		rows, err := c.query(s.d.q.pushPending, user, nanos(now))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPush(rows, now)
			if err != nil {
				return err
			}
			if p.State == authn.PushPending && slices.Contains(p.Devices, deviceID) {
				out = append(out, p)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetPushState implements authn.Store.
func (s *Store) SetPushState(ctx context.Context, user, id string, from, to authn.PushState, device string, now time.Time) (authn.PushRecord, error) {
	var out authn.PushRecord
	err := s.write(ctx, "SetPushState", func(c *conn) error {
		if err := s.lockRow(c, user); err != nil {
			return err
		}
		p, err := scanPush(c.row(s.d.q.pushGet, id), now)
		ok, err := found(err)
		if err != nil {
			return err
		}
		if !ok || p.User != user {
			return authn.ErrStoreNotFound
		}
		if p.State != from {
			out = p
			if p.State == authn.PushExpired {
				// Record the expiry, as a read of it would have.
				if _, err := c.exec(s.d.q.pushSetState, id, string(p.State), p.Answered); err != nil {
					return err
				}
			}
			return authn.ErrStoreConflict
		}
		p.State = to
		if device != "" {
			p.Answered = device
		}
		if _, err := c.exec(s.d.q.pushSetState, id, string(p.State), p.Answered); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil && !errors.Is(err, authn.ErrStoreConflict) {
		return authn.PushRecord{}, err
	}
	return out, err
}

// ---------------------------------------------------------------------
// Generic single-use keys and budgets.

// TakeOnce implements authn.Store.
func (s *Store) TakeOnce(ctx context.Context, key string, expiresAt, now time.Time) error {
	return s.single(ctx, "TakeOnce", func(c *conn) error {
		n, err := c.exec(s.d.q.takeOnce, key, nanos(expiresAt), nanos(now))
		if err == nil && n == 0 {
			err = authn.ErrStoreConflict
		}
		return err
	})
}

// Spend implements authn.Store.
func (s *Store) Spend(ctx context.Context, key string, limit int, window time.Duration, now time.Time) (int, error) {
	var left int
	err := s.write(ctx, "Spend", func(c *conn) error {
		var used, ends int64
		ok, err := found(c.row(s.d.q.budgetGet, key).Scan(&used, &ends))
		if err != nil {
			return err
		}
		if !ok || !now.Before(at(ends)) {
			used, ends = 0, nanos(now.Add(window))
		}
		if used >= int64(limit) {
			_, err := c.exec(s.d.q.budgetPut, key, used, ends)
			if err != nil {
				return err
			}
			return authn.ErrStoreLimit
		}
		used++
		left = limit - int(used)
		_, err = c.exec(s.d.q.budgetPut, key, used, ends)
		return err
	})
	if err != nil {
		return 0, err
	}
	return left, nil
}

// Sweep implements authn.Store.
func (s *Store) Sweep(ctx context.Context, now time.Time) (int, error) {
	q := &s.d.q
	var total int64
	err := s.write(ctx, "Sweep", func(c *conn) error {
		total = 0
		// Expired waiting activations drop their sealed pending keys now;
		// finished ones are kept a day as tombstones.
		if _, err := c.exec(q.actSweepExpire, nanos(now)); err != nil {
			return err
		}
		for _, st := range []struct {
			q string
			t time.Time
		}{
			{q.chSweep, now},
			{q.actSweep, now.Add(-24 * time.Hour)},
			{q.qSweep, now},
			{q.pushSweep, now.Add(-time.Hour)},
			{q.takeSweep, now},
			{q.budgetSweep, now},
		} {
			n, err := c.exec(st.q, nanos(st.t))
			if err != nil {
				return err
			}
			total += n
		}
		// Issue times past the minute are bookkeeping, not records.
		_, err := c.exec(q.isSweep, nanos(now.Add(-time.Minute)))
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(total), nil
}
