// Package sqlstore is a durable authn.Store on database/sql, on two
// engines: SQLite (through modernc.org/sqlite, pure Go, no cgo) and
// PostgreSQL (through github.com/jackc/pgx/v5, its database/sql driver).
// What differs between engines (the statements, the migrations, how a
// unique violation is recognised, how a step is serialised) is in one
// dialect value per engine (sqlite.go, postgres.go), and every Store
// method is Go logic over those statements, shared, but two: on
// PostgreSQL, Attempt and CommitStep each call a PL/pgSQL function that
// does the step in one statement (see Guarantees).
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
//	s, err := sqlstore.OpenPostgres(ctx, "postgres://keyline@db:5432/keyline?sslmode=verify-full",
//		sqlstore.WithSchema("authn"))
//
// OpenPostgres takes a pgx DSN (a URL or key=value pairs). Its
// migrations (migrations/postgres/NNNN_*.sql) are applied the same way,
// in one transaction that first takes pg_advisory_xact_lock on a key of
// keyline's, so that stores opening one database at once apply each
// migration once. WithSchema keeps the tables in a schema of their own
// (created if missing, under the same lock): every connection runs with
// its search_path set to it. The pool opens at most WithMaxConns
// connections (default 16). PostgreSQL's schema is at version 4 (SQLite's
// at 1): migration 0002_attempt.sql adds the PL/pgSQL functions
// authn_attempt and authn_commit_step (and a helper, authn_wrap64),
// 0003_lock_overflow.sql replaced authn_attempt, and 0004_lock_table.sql
// replaces it with one that takes the lock lengths by level
// (authn.LockPolicy.Lengths) as a parameter and only looks the level up,
// in the same schema as the tables; they name the tables unqualified, so
// they are called, as the store calls them, with that schema on the
// search_path.
//
// # Guarantees
//
// Every Store method is one atomic step, as package authn requires. On
// SQLite a read-modify-write step (Attempt, PutChallenge,
// CompleteActivation, CountPairingTry, AttemptTOTP, UseRecoveryCode,
// Spend, SetPushState, ...) runs in one BEGIN IMMEDIATE transaction, which takes the database's
// write lock before it reads; the others are single statements
// (CommitStep's compare-and-set, TakeOnce, RenameDevice, ...). In one
// process, writes go through a single connection and queue in the pool
// rather than contend for SQLite's lock; reads use a small pool of their
// own (WithReadConns), which WAL runs beside the writer. Attempt counts
// the attempt on the challenge and as a user failure, then compares the
// MAC with the challenge's tags, and on a match consumes the challenge
// and resets the user, all in one atomic step (on either engine); a
// locked user's attempt changes nothing. On SQLite the comparison is in
// Go and in constant time (crypto/subtle); on PostgreSQL see below.
//
// On PostgreSQL a write transaction runs at READ COMMITTED, and a
// read-modify-write step first locks the row of the user it concerns
// (INSERT INTO authn_users ... ON CONFLICT DO UPDATE ... RETURNING, one
// statement that creates a missing row and waits for and locks an
// existing one), so that the steps of one user run one after the other,
// across pools and processes; each step locks one user's row, and first,
// so that steps do not deadlock. Every connection runs with
// default_transaction_isolation set to READ COMMITTED (a startup
// parameter), whatever the server's, database's or role's default, so
// that the single statements below run at it too (at REPEATABLE READ or
// SERIALIZABLE, concurrent Attempts of one user would fail with
// serialization errors instead of waiting for each other).
//
// Attempt is one statement, SELECT * FROM authn_attempt(...), run
// outside an explicit transaction: one round trip. The function does
// what Attempt's transaction does on SQLite, in the same order and with
// the same arithmetic (authn.LockPolicy.Fail, the lock's length looked
// up in the table Go computed; Go's wrapping int64 arithmetic for
// authn.Tag.Admissible): it
// locks the user's row as above (under READ COMMITTED each statement in
// a VOLATILE function takes a fresh snapshot, so what it reads next is
// what stands once the lock is held), reads the challenge FOR UPDATE,
// decodes its tags (the encoding of encodeTags), counts the attempt,
// compares, and updates or deletes the challenge and saves the user; an
// error (a malformed tag list) rolls the statement back. A test checks
// it against the Go of SQLite's Attempt on random sequences.
//
// PostgreSQL compares the MAC with each tag's by bytea equality, which
// is not constant time. That leaks nothing useful: the tags are keyed
// MACs (a keyed hash of the Service's, truncated to 16 bytes, under a key the store never sees) of the responses, so
// how long a comparison took tells an attacker at most how many leading
// bytes of the MAC of their guess agree with a stored MAC, and an
// attacker who cannot compute MACs cannot turn that into a better next
// guess (each guess's MAC is an unrelated value to them); and every
// attempt is counted, toward the lock, before it is compared. The
// comparison's timing is also lost in a network round trip's jitter.
//
// CommitStep is one statement too, SELECT authn_commit_step(...): the
// compare-and-set (the device active, the step not before its last, the
// user's epoch read FOR SHARE, so that a revocation in progress is waited
// for) and, if it is refused, a read of the device as it stands then, to
// tell ErrStoreNotFound from ErrStoreConflict, in the same function.
//
// The other read-modify-write steps are transactions of several
// statements: RecordFailure, AttemptTOTP, CommitTOTP, PutTOTP,
// UseRecoveryCode, PutRecoveryCodes, PutChallenge, PutActivation,
// CompleteActivation (which reads the activation to learn its user, locks
// the user, then reads it again), CancelActivation, CountPairingTry,
// ActivateDevice, RevokeDevice, UpdateSecret, SetPushState and DeleteUser.
// Spend is a transaction that locks the budget's row the same way; Sweep
// a transaction of independent deletes, which locks no user. Single
// statements: Attempt, CommitStep, TakeOnce, PutPush, RenameDevice,
// SetPushToken, DeleteTOTP, ResetUser, SetPushOff, SuspendPush, and every
// read (User, GetActivation, Devices, Device, DevicesPage, TOTP,
// RecoveryCodesLeft, Push, PendingPushes).
//
// Round trips: a FinishChallenge that succeeds costs two (Attempt and
// CommitStep, one statement each), one that fails one Attempt (the
// Service may then read the user's devices, to look for a drifted
// phone), as counted by a pgx tracer in TestPostgresFinishChallengeRoundTrips
// and BenchmarkPostgresFinishChallenge. That is once pgx has prepared
// the statements on the connection (its statement cache: the first use
// of a statement on a connection costs one more round trip, to prepare
// it), and not counting database/sql's liveness ping of a connection
// that sat idle in the pool for over a second. (Before schema version
// 2, Attempt was a transaction of six round trips, and a FinishChallenge
// seven.)
//
// Every committed step is durable: SQLite connections run with
// synchronous=FULL, so a step that returned survives a process crash or a
// power loss (PostgreSQL: as the server's synchronous_commit and fsync
// settings make it). Time
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
// pattern. A challenge's tags are one binary column (BLOB; BYTEA in
// PostgreSQL) and its device names JSON text; a push request's devices
// are JSON text. Both engines keep times, counters and flags as BIGINT,
// and the Go side reads them alike. In PostgreSQL users, device IDs and
// other keys are TEXT COLLATE "C", compared and ordered bytewise as in
// SQLite (DevicesPage pages in byte order); a value PostgreSQL's TEXT
// cannot hold (a NUL byte, invalid UTF-8 in a UTF8 database) fails the
// step.
//
// # Failures
//
// The documented outcomes are authn.ErrStoreNotFound, ErrStoreConflict and
// ErrStoreLimit. Any other error is a failure of the database, wrapped
// with the operation ("sqlstore (sqlite): Attempt: ...", "sqlstore
// (postgres): ..."), which the
// Service reports as authn.ErrStoreUnavailable; the step it was in is
// rolled back. When another process holds the database's write lock, a
// step waits for it up to the busy timeout (WithBusyTimeout, default 5 s)
// and then fails so; a file that cannot be opened or written (a missing
// directory, permissions, a full disk, a read-only file system) fails the
// same way, at Open or at the step. A cancelled context ends the wait
// for the connection and rolls back the transaction. On PostgreSQL, a
// lost connection, a full pool past the context's deadline, or a
// statement the server cancels (statement_timeout, lock_timeout, a
// deadlock it detects) fails the step so; PostgreSQL recognises a unique
// violation by its SQLSTATE, 23505.
//
// When the database server is down or unreachable every step fails so and
// accepts nothing; pgx opens new connections on the next call, so the same
// Store (and Service) works again once the server is back, without a
// restart (TestPostgresConnectionCut cuts a loopback proxy and restores
// it).
//
// # What PostgreSQL needs
//
// Tested on PostgreSQL 15; no extension. The role needs to connect, to
// take session advisory locks (allowed to every role), and to create the
// schema, or, where it exists, to create tables and functions in it (Open
// applies the migrations on first use, under the advisory lock). The
// schema is chosen with WithSchema and sent as the search_path startup
// parameter: behind a pooler, use session pooling, or make the schema
// the role's default search_path where the pooler drops startup
// parameters (not tested here). Each verification takes two short
// autocommit statements; size the pool (WithMaxConns) to the concurrency
// the server can take.
package sqlstore
