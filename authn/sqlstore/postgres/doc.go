// Package postgres opens an authn.Store (a [sqlstore.Store]) on
// PostgreSQL, through github.com/jackc/pgx/v5 (its database/sql driver),
// with no SQLite linked: the durable store for many Service instances,
// alone or beside package redisstore.
//
//	s, err := postgres.Open(ctx, "postgres://keyline@db:5432/keyline?sslmode=verify-full",
//		postgres.WithSchema("authn"))
//	...
//	defer s.Close()
//	svc, err := authn.New(authn.Config{Hot: s, Records: s, ...})
//
// Open takes a pgx DSN (a URL or key=value pairs). Its migrations
// (migrations/NNNN_*.sql, at version 2) are applied in one transaction
// that first takes an advisory lock on a key of keyline's, so that stores
// opening one database at once apply each migration once. Once keyline
// is released, a released migration is never edited; until then the
// schema is kept as one clean history (version 2's authn_attempt takes
// the lock lengths from Go as a table and computes no lock itself). WithSchema
// keeps the tables, and the functions the migrations define, in a schema
// of their own (created if missing, under the same lock): every
// connection runs with its search_path set to it.
//
// # Guarantees
//
// The steps of one user run one after the other, across pools and
// processes: each write step locks the user's row first. A successful
// FinishChallenge costs one round trip, a call of authn_finish (migration
// 0005) that counts, compares, consumes and commits the step
// (TestPostgresFinishChallengeRoundTrips
// and BenchmarkPostgresFinishChallenge count them), once pgx has prepared
// the statements on the connection. Every connection runs at READ
// COMMITTED, whatever the server's, database's or role's default.
//
// The MAC comparison of an Attempt runs in the database by bytea
// equality, which is not constant time. That leaks nothing useful: the
// tags are keyed MACs of the responses (under a key the store never
// sees, truncated to 16 bytes), so how long a comparison took tells an
// attacker at most how many leading bytes of the MAC of their guess agree
// with a stored MAC, which they cannot turn into a better next guess
// without the key; every attempt is counted toward the lock before it is
// compared; and the timing is lost in a network round trip's jitter.
//
// # What the server needs
//
// Tested on PostgreSQL 15; no extension. The role needs to connect, to
// take advisory locks (allowed to every role), and to create the schema,
// or, where it exists, to create tables and functions in it (Open applies
// the migrations on first use). The schema is sent as the search_path
// startup parameter: behind a pooler, use session pooling, or make the
// schema the role's default search_path where the pooler drops startup
// parameters (not tested here). Each verification takes two short
// autocommit statements; size the pool (WithMaxConns) to the concurrency
// the server can take.
//
// # Failures
//
// A lost connection, a full pool past the context's deadline, or a
// statement the server cancels (statement_timeout, lock_timeout, a
// deadlock it detects) fails the step with a store error, which the
// Service reports as authn.ErrStoreUnavailable; the step accepts nothing.
// When the server is down every step fails so; pgx opens new connections
// on the next call, so the same Store works again once the server is
// back, without a restart (TestPostgresConnectionCut cuts a loopback
// proxy and restores it).
package postgres
