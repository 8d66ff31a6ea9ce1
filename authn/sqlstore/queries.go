package sqlstore

const devCols = `id, user_id, name, platform, account_name, suite, install_id, state, secret, last_step, drift,
	pair_tries, session_id, replacing, push_token, created_at`

// pushCols reads a push with its user's current epoch.
const pushCols = `p.id, p.user_id, p.number, p.nonce, p.ctx_action, p.ctx_ip, p.ctx_place, p.ctx_browser, p.devices,
	p.state, p.answered, p.epoch, p.tx, p.challenge, p.created_at, p.expires_at,
	COALESCE((SELECT u.epoch FROM authn_users u WHERE u.user_id = p.user_id), 0)`

// portableQueries are the statements both dialects share: standard SQL
// (ON CONFLICT, RETURNING, $N placeholders) that SQLite and PostgreSQL
// read alike. Each dialect adds or overrides the few that differ.
func portableQueries() queries {
	return queries{
		versionTable: `CREATE TABLE IF NOT EXISTS authn_schema_version (
			version    BIGINT NOT NULL PRIMARY KEY,
			applied_at BIGINT NOT NULL)`,
		versionGet: `SELECT COALESCE(MAX(version), 0) FROM authn_schema_version`,
		versionPut: `INSERT INTO authn_schema_version (version, applied_at) VALUES ($1, $2)`,

		userGet: `SELECT failures, level, locked_until, last_failure, epoch, push_off, push_suspended
			FROM authn_users WHERE user_id = $1`,
		// userSave and userReset write the lockout columns of
		// authn_users, unused since the buckets moved to authn_locks
		// (migration 0002 on SQLite, 0003 on PostgreSQL): see locks.go.
		userSave: `INSERT INTO authn_users (user_id, failures, level, locked_until, last_failure, epoch, push_off, push_suspended)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures, level = excluded.level,
				locked_until = excluded.locked_until, last_failure = excluded.last_failure, epoch = excluded.epoch,
				push_off = excluded.push_off, push_suspended = excluded.push_suspended`,
		userEpoch:     `SELECT epoch FROM authn_users WHERE user_id = $1`,
		userBumpEpoch: `INSERT INTO authn_users (user_id, epoch) VALUES ($1, 1) ON CONFLICT (user_id) DO UPDATE SET epoch = authn_users.epoch + 1`,
		userReset:     `UPDATE authn_users SET failures = 0, level = 0, locked_until = 0, last_failure = 0 WHERE user_id = $1`,
		userPushOff:   `INSERT INTO authn_users (user_id, push_off) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET push_off = excluded.push_off`,
		userSuspend:   `INSERT INTO authn_users (user_id, push_suspended) VALUES ($1, $2) ON CONFLICT (user_id) DO UPDATE SET push_suspended = excluded.push_suspended`,
		userDelete:    `DELETE FROM authn_users WHERE user_id = $1`,

		actInsert: `INSERT INTO authn_activations (session_id, user_id, state, pending, expires_at, replacing,
				request_hash, device_id, server_confirm, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING`,
		actVoidUnpaired: `UPDATE authn_activations SET state = 'cancelled', pending = NULL
			WHERE user_id = $1 AND state IN ('waiting', 'completed') AND session_id <> $2`,
		// The end of an activation (expired, discarded) in state $2.
		actEnd: `UPDATE authn_activations SET state = $2, pending = NULL WHERE session_id = $1`,
		// Completed activations past their pairing deadline, for Sweep.
		actLapsed: `SELECT session_id, user_id FROM authn_activations
			WHERE state = 'completed' AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
		// The user's pending devices, which a newer offer voids.
		devDeletePendingOf: `DELETE FROM authn_devices WHERE user_id = $1 AND state = 'pending'`,
		actGet: `SELECT session_id, user_id, state, pending, expires_at, replacing, request_hash, device_id,
				server_confirm, created_at
			FROM authn_activations WHERE session_id = $1`,
		actMoveIfCompleted: `UPDATE authn_activations SET state = $2 WHERE session_id = $1 AND state = 'completed'`,
		actDeleteUser:      `DELETE FROM authn_activations WHERE user_id = $1`,
		actSweepExpire: `UPDATE authn_activations SET state = 'expired', pending = NULL
			WHERE state = 'waiting' AND expires_at <= $1`,
		actSweep: `DELETE FROM authn_activations
			WHERE state NOT IN ('waiting', 'completed') AND expires_at < $1`,

		devInsert: `INSERT INTO authn_devices (id, user_id, name, platform, account_name, suite, install_id, state,
				secret, last_step, drift, pair_tries, session_id, replacing, push_token, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		devGet:           `SELECT ` + devCols + ` FROM authn_devices WHERE user_id = $1 AND id = $2`,
		devList:          `SELECT ` + devCols + ` FROM authn_devices WHERE user_id = $1 ORDER BY seq`,
		devCount:         `SELECT COUNT(*) FROM authn_devices WHERE user_id = $1 AND state = 'active'`,
		devDelete:        `DELETE FROM authn_devices WHERE user_id = $1 AND id = $2`,
		devDeletePending: `DELETE FROM authn_devices WHERE user_id = $1 AND id = $2 AND state = 'pending'`,
		devActivate:      `UPDATE authn_devices SET state = 'active', replacing = '' WHERE user_id = $1 AND id = $2`,
		devPairTries:     `UPDATE authn_devices SET pair_tries = $3 WHERE user_id = $1 AND id = $2`,
		devRename:        `UPDATE authn_devices SET name = $3 WHERE user_id = $1 AND id = $2`,
		devPushToken:     `UPDATE authn_devices SET push_token = $3 WHERE user_id = $1 AND id = $2`,
		devPushTokenIf:   `UPDATE authn_devices SET push_token = $3 WHERE user_id = $1 AND id = $2 AND push_token = $4`,
		devSecret:        `UPDATE authn_devices SET secret = $3 WHERE user_id = $1 AND id = $2`,
		devDeleteUser:    `DELETE FROM authn_devices WHERE user_id = $1`,
		// After devDeleteUser, whose triggers raise the version once more.
		devVersionDeleteUser: `DELETE FROM authn_device_versions WHERE user_id = $1`,
		// The devices version first (migration 0004 on SQLite, 0007 on
		// PostgreSQL), then the epoch and devices as scanUserDevice reads them.
		userDevices: `SELECT COALESCE((SELECT version FROM authn_device_versions WHERE user_id = $1), 0),
				u.epoch, d.id, d.user_id, d.name, d.platform, d.account_name, d.suite, d.install_id, d.state,
				d.secret, d.last_step, d.drift, d.pair_tries, d.session_id, d.replacing, d.push_token, d.created_at
			FROM (SELECT COALESCE((SELECT epoch FROM authn_users WHERE user_id = $1), 0) AS epoch) AS u
			LEFT JOIN authn_devices AS d ON d.user_id = $1 AND d.state = 'active'
			ORDER BY d.seq`,

		chExists: `SELECT COUNT(*) FROM authn_challenges WHERE id = $1`,
		chInsert: `INSERT INTO authn_challenges (id, user_id, question, epoch, tags, win, attempts, issued_at,
				expires_at, payload, names, resync, resync_drift)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		chGet: `SELECT id, user_id, question, epoch, tags, win, attempts, issued_at, expires_at, payload, names,
				resync, resync_drift
			FROM authn_challenges WHERE id = $1`,
		chLive:        `SELECT id FROM authn_challenges WHERE user_id = $1 AND expires_at > $2 ORDER BY issued_at, seq`,
		chDelete:      `DELETE FROM authn_challenges WHERE id = $1`,
		chAttempts:    `UPDATE authn_challenges SET attempts = $2 WHERE id = $1`,
		chDeleteUser:  `DELETE FROM authn_challenges WHERE user_id = $1`,
		chSweep:       `DELETE FROM authn_challenges WHERE expires_at <= $1`,
		qGet:          `SELECT until_at FROM authn_questions WHERE user_id = $1 AND question = $2`,
		qPut:          `INSERT INTO authn_questions (user_id, question, until_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, question) DO UPDATE SET until_at = excluded.until_at`,
		qDeleteUser:   `DELETE FROM authn_questions WHERE user_id = $1`,
		qSweep:        `DELETE FROM authn_questions WHERE until_at <= $1`,
		isPrune:       `DELETE FROM authn_issued WHERE user_id = $1 AND issued_at <= $2`,
		isCount:       `SELECT COUNT(*) FROM authn_issued WHERE user_id = $1`,
		isInsert:      `INSERT INTO authn_issued (user_id, issued_at) VALUES ($1, $2)`,
		isDeleteUser:  `DELETE FROM authn_issued WHERE user_id = $1`,
		isSweep:       `DELETE FROM authn_issued WHERE issued_at <= $1`,
		takeOnce:      `INSERT INTO authn_taken (take_key, expires_at) VALUES ($1, $2) ON CONFLICT (take_key) DO UPDATE SET expires_at = excluded.expires_at WHERE authn_taken.expires_at <= $3`,
		takeSweep:     `DELETE FROM authn_taken WHERE expires_at <= $1`,
		budgetPut:     `INSERT INTO authn_budgets (budget_key, used, ends) VALUES ($1, $2, $3) ON CONFLICT (budget_key) DO UPDATE SET used = excluded.used, ends = excluded.ends`,
		budgetSweep:   `DELETE FROM authn_budgets WHERE ends <= $1`,
		totpGet:       `SELECT id, user_id, secret, hash_alg, digits, period_ns, short_key, active, last_step, created_at FROM authn_totp WHERE user_id = $1`,
		totpActive:    `SELECT active FROM authn_totp WHERE user_id = $1`,
		totpPut:       `INSERT INTO authn_totp (user_id, id, secret, hash_alg, digits, period_ns, short_key, active, last_step, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, secret = excluded.secret, hash_alg = excluded.hash_alg, digits = excluded.digits, period_ns = excluded.period_ns, short_key = excluded.short_key, active = 0, last_step = excluded.last_step, created_at = excluded.created_at`,
		totpStep:      `SELECT id, active, last_step FROM authn_totp WHERE user_id = $1`,
		totpCommit:    `UPDATE authn_totp SET active = 1, last_step = $2 WHERE user_id = $1`,
		totpDelete:    `DELETE FROM authn_totp WHERE user_id = $1`,
		rcList:        `SELECT seq, mac FROM authn_recovery_codes WHERE user_id = $1 ORDER BY seq`,
		rcInsert:      `INSERT INTO authn_recovery_codes (user_id, mac) VALUES ($1, $2)`,
		rcDeleteOne:   `DELETE FROM authn_recovery_codes WHERE seq = $1`,
		rcDeleteUser:  `DELETE FROM authn_recovery_codes WHERE user_id = $1`,
		rcCount:       `SELECT COUNT(*) FROM authn_recovery_codes WHERE user_id = $1`,
		pushInsert:    `INSERT INTO authn_pushes (id, user_id, number, nonce, ctx_action, ctx_ip, ctx_place, ctx_browser, devices, state, answered, epoch, tx, challenge, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT (id) DO NOTHING`,
		pushGet:       `SELECT ` + pushCols + ` FROM authn_pushes p WHERE p.id = $1`,
		pushPending:   `SELECT ` + pushCols + ` FROM authn_pushes p WHERE p.user_id = $1 AND p.state = 'pending' AND p.expires_at > $2 ORDER BY p.created_at, p.seq`,
		pushSetState:  `UPDATE authn_pushes SET state = $2, answered = $3 WHERE id = $1`,
		pushDeleteUsr: `DELETE FROM authn_pushes WHERE user_id = $1`,
		pushSweep:     `DELETE FROM authn_pushes WHERE expires_at < $1`,
	}
}
