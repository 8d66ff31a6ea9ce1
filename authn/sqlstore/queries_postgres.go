package sqlstore

import (
	"database/sql"
	"fmt"
)

// pgMigrateKey is the advisory lock key that serialises keyline's
// migrations (and schema creation) on one PostgreSQL database.
const pgMigrateKey = 0x6b65796c696e65 // "keyline"

// postgresDialect is the PostgreSQL engine. Its statements are SQLite's
// but for the locks and byte order: a write transaction runs at READ
// COMMITTED and locks the user's row first (rowLocks; userLock creates
// and locks it in one statement), budgets lock their row the same way,
// Attempt and CommitStep are one call each of a function: authn_attempt
// (it takes the lock lengths as a table) and authn_commit_step, both
// of migrations 0003 and 0002 (attemptFn, commitStepFn; CommitStep's reads
// the user's epoch FOR SHARE), CompleteActivation's
// update is conditional on the activation still waiting (Sweep does not
// lock the user), and DevicesPage compares and orders COLLATE "C". Text
// columns that are keys are COLLATE "C" in the schema too.
func postgresDialect() dialect {
	return dialect{
		name:        "postgres",
		migrateLock: fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, pgMigrateKey),
		rowLocks:    true,
		// READ COMMITTED whatever the server's default: the row locks make
		// the steps of a user serial, and no step is retried on a
		// serialization failure.
		txOptions: &sql.TxOptions{Isolation: sql.LevelReadCommitted},
		q:         postgresQueries(),
	}
}

// postgresQueries are the portable statements with the dialect's own.
func postgresQueries() queries {
	q := portableQueries()
	// The user's row, created if missing and locked until the
	// transaction ends, as it stands once locked: one statement (an
	// INSERT ... ON CONFLICT DO UPDATE locks the row it finds, and
	// waits for a concurrent insert of it, where INSERT ... DO
	// NOTHING and SELECT ... FOR UPDATE would take two).
	q.userLock = `INSERT INTO authn_users AS u (user_id) VALUES ($1)
			ON CONFLICT (user_id) DO UPDATE SET failures = u.failures
			RETURNING failures, level, locked_until, last_failure, epoch, push_off, push_suspended`
	q.actComplete = `UPDATE authn_activations SET state = 'completed', pending = NULL, request_hash = $2,
				server_confirm = $3, device_id = $4, expires_at = $5
			WHERE session_id = $1 AND state = 'waiting'`
	// Byte order, whatever the database's collation (the columns are
	// COLLATE "C" too, so that the unique index serves the query).
	q.devPage = `SELECT ` + devCols + ` FROM authn_devices
			WHERE user_id COLLATE "C" > $1 OR (user_id = $1 AND id COLLATE "C" > $2)
			ORDER BY user_id COLLATE "C", id COLLATE "C" LIMIT $3`
	// The budget's row, created if missing (ends 0: a new window) and
	// locked until the transaction ends: Spends of one key serialise.
	q.budgetGet = `INSERT INTO authn_budgets AS b (budget_key, used, ends) VALUES ($1, 0, 0)
			ON CONFLICT (budget_key) DO UPDATE SET used = b.used RETURNING used, ends`
	// Functions of migrations 0003 and 0002: Attempt and CommitStep
	// in one statement each.
	q.attemptFn = `SELECT * FROM authn_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
	q.commitStepFn = `SELECT authn_commit_step($1, $2, $3, $4, $5)`
	// Migration 0005's: AttemptCommit in one statement.
	q.finishFn = `SELECT * FROM authn_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	// Migration 0006's: IssueChallenge in one statement.
	q.issueFn = `SELECT * FROM authn_issue($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
			$17, $18, $19, $20, $21, $22, $23, $24)`
	return q
}
