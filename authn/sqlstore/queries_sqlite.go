package sqlstore

// sqliteDialect is the SQLite engine: its migrations, its statements and
// the errors it reports. The statements use $N placeholders, which
// modernc.org/sqlite binds by position as PostgreSQL does.
func sqliteDialect() dialect {
	return dialect{
		name: "sqlite",
		// The IMMEDIATE transaction that applies migrations holds the
		// database's write lock: no other lock is needed.
		migrateLock: "",
		prepare:     true,
		q:           sqliteQueries(),
	}
}

// sqliteQueries are the portable statements with the dialect's own.
func sqliteQueries() queries {
	q := portableQueries()
	// SQLite: the IMMEDIATE transaction holds the write lock, so a
	// plain read is a locked read.
	q.userLock = `SELECT failures, level, locked_until, last_failure, epoch, push_off, push_suspended
			FROM authn_users WHERE user_id = $1`
	q.actComplete = `UPDATE authn_activations SET state = 'completed', pending = NULL, request_hash = $2,
				server_confirm = $3, device_id = $4, expires_at = $5
			WHERE session_id = $1`
	q.devPage = `SELECT ` + devCols + ` FROM authn_devices
			WHERE user_id > $1 OR (user_id = $1 AND id > $2) ORDER BY user_id, id LIMIT $3`
	// The compare-and-set of CommitStep in one statement: the device
	// active, the step not before its last, the epoch the user's.
	q.devCommitStep = `UPDATE authn_devices SET last_step = $4, drift = $5
			WHERE user_id = $1 AND id = $2 AND state = 'active' AND last_step <= $4
				AND COALESCE((SELECT epoch FROM authn_users WHERE user_id = $1), 0) = $3`
	q.devStepState = `SELECT state FROM authn_devices WHERE user_id = $1 AND id = $2`
	q.budgetGet = `SELECT used, ends FROM authn_budgets WHERE budget_key = $1`
	return q
}
