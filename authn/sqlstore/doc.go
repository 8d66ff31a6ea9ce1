// Package sqlstore is a durable authn.Store (both halves, authn.HotStore
// and authn.RecordStore) on database/sql: the Go logic
// of every step and the portable SQL it runs, shared by two engines that
// live in packages of their own, each linking only its driver:
//
//   - [github.com/keyline/keyline/authn/sqlstore/sqlite]: SQLite, through
//     modernc.org/sqlite (pure Go, no cgo), for one host;
//   - [github.com/keyline/keyline/authn/sqlstore/postgres]: PostgreSQL,
//     through github.com/jackc/pgx/v5, for many Service instances.
//
// This package imports neither driver; a program links the one it opens.
//
// # Opening
//
//	s, err := sqlite.Open(ctx, "/var/lib/keyline/authn.db")
//	// or: s, err := postgres.Open(ctx, dsn, postgres.WithSchema("authn"))
//	...
//	defer s.Close()
//	svc, err := authn.New(authn.Config{Hot: s, Records: s, ...})
//
// Both return a *Store. On Open the engine's embedded schema migrations
// (NNNN_name.sql) are applied in order, each recorded in the
// authn_schema_version table, in one transaction that holds a lock
// against other openers: running Open twice, or from two processes at
// once, applies each migration once. A database whose schema is newer
// than the package's is refused.
//
// # Guarantees
//
// Every Store method is one atomic step, as package authn requires:
// Attempt counts the attempt on the challenge and as a user failure,
// then compares the MAC with the challenge's tags, and on a match
// consumes the challenge and resets the user, all in one step; a locked
// user's attempt changes nothing. The steps of one user run one after the
// other, across pools and processes (how each engine serialises them is
// said at its statements). Every committed step is durable as the engine
// makes it (SQLite: synchronous=FULL; PostgreSQL: the server's
// synchronous_commit and fsync). Time is never read for the store's
// logic: the now the Service passes is.
//
// A Store is an [authn.FinishStore]: the counted attempt of a
// FinishChallenge and, on a match, the commit of the device's step are
// one atomic step (AttemptCommit), so a login is one durable write to
// issue its challenge and one to finish it.
//
// Round trips: on PostgreSQL a FinishChallenge costs one (AttemptCommit,
// one statement; the Service may then read the user's devices after a
// wrong answer, to look for a drifted phone). On SQLite it is one write
// transaction. [Store.Stats] counts the statements, round trips and
// write transactions a Store has sent.
//
// A Store is an [authn.LoginRecords]: one statement reads a user's epoch,
// active devices and devices version. The version is raised by triggers
// on the devices table (SQLite migration 0004, PostgreSQL 0007) in the
// statement of every change a challenge depends on, and drawn from one
// counter for all users, so that a hot store kept apart (redisstore) can
// mirror it and let a BeginChallenge skip the records when nothing
// changed.
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
// pattern. A challenge's tags are one binary column (BLOB; BYTEA in
// PostgreSQL) and its device names JSON text; a push request's devices
// are JSON text. Both engines keep times, counters and flags as BIGINT.
// In PostgreSQL users, device IDs and other keys are TEXT COLLATE "C",
// compared and ordered bytewise as in SQLite (DevicesPage pages in byte
// order); a value PostgreSQL's TEXT cannot hold (a NUL byte, invalid
// UTF-8 in a UTF8 database) fails the step.
//
// # Failures
//
// The documented outcomes are authn.ErrStoreNotFound, ErrStoreConflict and
// ErrStoreLimit. Any other error is a failure of the database, wrapped
// with the operation ("sqlstore (sqlite): Attempt: ...", "sqlstore
// (postgres): ..."), which the Service reports as
// authn.ErrStoreUnavailable; the step it was in is rolled back and
// accepts nothing. A cancelled context ends the wait for the connection
// and rolls back the transaction. What makes a step fail on each engine
// (a busy file, a lost connection, ...) is in the engine's package.
package sqlstore
