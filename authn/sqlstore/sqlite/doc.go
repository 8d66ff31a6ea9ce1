// Package sqlite opens an authn.Store (a [sqlstore.Store]) on an SQLite
// file, through modernc.org/sqlite: pure Go, no cgo, and no PostgreSQL
// driver linked.
//
//	s, err := sqlite.Open(ctx, "/var/lib/keyline/authn.db")
//	...
//	defer s.Close()
//	svc, err := authn.New(authn.Config{Hot: s, Records: s, ...})
//
// # What it needs
//
// A file path in a writable directory: the database runs in WAL mode,
// which keeps two files beside it, path-wal and path-shm (back up the
// three together, or use SQLite's backup API). The file is created if
// missing; its migrations (migrations/NNNN_*.sql) are applied in one
// BEGIN IMMEDIATE transaction, so that two processes opening one file at
// once apply each once.
//
// # Guarantees
//
// Several processes may share one file (on one host: SQLite's locks do
// not hold over network file systems): each step is one BEGIN IMMEDIATE
// transaction, which takes the database's write lock before it reads, or
// one statement. A committed step survives a process crash or a power
// loss (synchronous=FULL; WithSynchronousNormal says what a power loss
// can then undo). A login is one write step to issue its challenge and
// one to finish it. Write steps of one process that queue up while a
// transaction commits share the next one, each in a savepoint of its
// own (group commit, WithGroupCommit): a step's caller is answered once
// its transaction has committed, a step that fails is rolled back alone,
// and the steps run in the order they came, so concurrent logins share
// fsyncs without any step being less durable or one caller's failure
// failing another. The MAC comparison of an Attempt is in Go and in
// constant time.
//
// # Failures
//
// When another process holds the database's write lock, a step waits for
// it up to the busy timeout (WithBusyTimeout, default 5 s) and then fails
// with a store error; a file that cannot be opened or written (a missing
// directory, permissions, a full disk, a read-only file system) fails the
// same way, at Open or at the step. The Service reports such errors as
// authn.ErrStoreUnavailable, and the step accepts nothing.
package sqlite
