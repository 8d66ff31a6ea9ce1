// Package sqlstore is a durable authn.Store on database/sql. This version
// has one engine, SQLite (through modernc.org/sqlite, pure Go, no cgo);
// a PostgreSQL dialect (pgx/v5 stdlib) is the next one planned, and the
// package is laid out for it: what differs between engines (the
// statements, the migrations, how a unique violation is recognised) is in
// one dialect value per engine (sqlite.go), and every Store method is Go
// logic over those statements, shared.
//
// # Opening
//
//	s, err := sqlstore.OpenSQLite(ctx, "/var/lib/keyline/authn.db")
//	...
//	defer s.Close()
//	svc, err := authn.New(authn.Config{Store: s, ...})
//
// The store needs a file path in a writable directory: the database runs
// in WAL mode, which keeps two files beside it, path-wal and path-shm
// (back up the three together, or use SQLite's backup API). The file is
// created if missing. On Open the embedded schema migrations
// (migrations/sqlite/NNNN_*.sql) are applied in order, each recorded in
// the authn_schema_version table, inside one BEGIN IMMEDIATE transaction:
// running Open twice, or from two processes on one file at once, applies
// each migration once. A file whose schema is newer than the package's is
// refused.
//
// # Guarantees
//
// Every Store method is one atomic step, as package authn requires: a
// read-modify-write step (Attempt, PutChallenge, CompleteActivation,
// CountPairingTry, AttemptTOTP, UseRecoveryCode, Spend, SetPushState, ...)
// runs in one BEGIN IMMEDIATE transaction, which takes the database's
// write lock before it reads; the others are single statements
// (CommitStep's compare-and-set, TakeOnce, RenameDevice, ...). In one
// process, writes go through a single connection and queue in the pool
// rather than contend for SQLite's lock; reads use a small pool of their
// own (WithReadConns), which WAL runs beside the writer. Attempt counts
// the attempt on the challenge and as a user failure, then compares the
// MAC with the challenge's tags in constant time (crypto/subtle), and on a
// match consumes the challenge and resets the user, all in its one
// transaction; a locked user's attempt changes nothing.
//
// Every committed step is durable: connections run with synchronous=FULL,
// so a step that returned survives a process crash or a power loss. Time
// is never read for the store's logic: the now the Service passes is.
//
// Users, device IDs and every other value are bound parameters, never
// part of the SQL text. Records are copied in and out (nothing the caller
// holds aliases the store).
//
// # Representation
//
// Times are stored as Unix nanoseconds (int64) and returned in UTC: the
// instants between 1678 and 2262 round-trip exactly, the zero time is
// stored as 0 (so the instant 1970-01-01T00:00:00Z reads back as the
// zero time). Epochs and time steps (uint64) are stored as their int64 bit
// pattern. A challenge's tags are one binary column and its device names
// JSON text; a push request's devices are JSON text.
//
// # Failures
//
// The documented outcomes are authn.ErrStoreNotFound, ErrStoreConflict and
// ErrStoreLimit. Any other error is a failure of the database, wrapped
// with the operation ("sqlstore (sqlite): Attempt: ..."), which the
// Service reports as authn.ErrStoreUnavailable; the step it was in is
// rolled back. When another process holds the database's write lock, a
// step waits for it up to the busy timeout (WithBusyTimeout, default 5 s)
// and then fails so; a file that cannot be opened or written (a missing
// directory, permissions, a full disk, a read-only file system) fails the
// same way, at Open or at the step. A cancelled context ends the wait
// for the connection and rolls back the transaction.
package sqlstore
