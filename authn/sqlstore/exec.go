package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"

	"github.com/keyline/keyline/authn"
)

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

// notFound is err with "no rows" read as the Store outcome
// ErrStoreNotFound: for a read of one record that must exist.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return authn.ErrStoreNotFound
	}
	return err
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

// write runs f in one write transaction: BEGIN IMMEDIATE in SQLite; READ
// COMMITTED in PostgreSQL, where f locks the user's row first (see
// lockRow). Every read-modify-write step runs so (Attempt on SQLite,
// PutChallenge, CompleteActivation, CountPairingTry, TakeRecoveryCode,
// CommitTOTP, Spend, SetPushState, ...); single statements run with
// single, plain reads with read. A nil error or a Store outcome commits
// what f did; a refusal rolls it back and returns its outcome; any other
// error rolls it back and is returned wrapped.
func (s *Store) write(ctx context.Context, op string, f func(c *conn) error) error {
	if s.group != nil {
		queued, err := s.group.submit(&groupStep{ctx: ctx, op: op, f: f, done: make(chan error, 1)})
		if !queued {
			return s.fail(op, err)
		}
		return err
	}
	return s.writeNow(ctx, op, f)
}

// writeNow is write in a transaction of its own.
func (s *Store) writeNow(ctx context.Context, op string, f func(c *conn) error) error {
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
	s.writes.Add(1)
	s.commits.Add(1)
	s.afterCommit(ctx, op)
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
	if s.group != nil {
		return s.write(ctx, op, f) // a step of a shared transaction
	}
	s.writes.Add(1)
	s.commits.Add(1)
	err := f(&conn{s: s, ctx: ctx, db: s.w, pool: s.wStmts})
	if err != nil && !outcome(err) {
		return s.fail(op, err)
	}
	return err
}

func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("sqlstore (%s): %s: %w", s.d.name, op, err)
}
