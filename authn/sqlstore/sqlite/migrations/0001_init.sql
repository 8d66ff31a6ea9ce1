-- keyline authn store, SQLite schema version 1.
--
-- Times are Unix nanoseconds in UTC (0: the zero time); unsigned 64-bit
-- counters (epochs, time steps) are stored as their int64 bit pattern;
-- booleans are 0 or 1. Users are opaque strings, compared bytewise.

CREATE TABLE authn_users (
	user_id        TEXT    NOT NULL PRIMARY KEY,
	failures       BIGINT  NOT NULL DEFAULT 0,
	level          BIGINT  NOT NULL DEFAULT 0,
	locked_until   BIGINT  NOT NULL DEFAULT 0,
	last_failure   BIGINT  NOT NULL DEFAULT 0,
	epoch          BIGINT  NOT NULL DEFAULT 0,
	push_off       BIGINT  NOT NULL DEFAULT 0,
	push_suspended BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE authn_activations (
	session_id     TEXT    NOT NULL PRIMARY KEY,
	user_id        TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	pending        BLOB,
	expires_at     BIGINT  NOT NULL,
	replacing      TEXT    NOT NULL DEFAULT '',
	request_hash   BLOB,
	device_id      TEXT    NOT NULL DEFAULT '',
	server_confirm BLOB,
	created_at     BIGINT  NOT NULL
);
CREATE INDEX authn_activations_user ON authn_activations (user_id, state);
CREATE INDEX authn_activations_expiry ON authn_activations (expires_at);

-- seq keeps the insertion order ("oldest first").
CREATE TABLE authn_devices (
	seq            INTEGER PRIMARY KEY,
	user_id        TEXT    NOT NULL,
	id             TEXT    NOT NULL,
	name           TEXT    NOT NULL,
	platform       TEXT    NOT NULL,
	account_name   TEXT    NOT NULL,
	suite          TEXT    NOT NULL,
	install_id     TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	secret         BLOB,
	last_step      BIGINT  NOT NULL DEFAULT 0,
	drift          BIGINT  NOT NULL DEFAULT 0,
	pair_tries     BIGINT  NOT NULL DEFAULT 0,
	session_id     TEXT    NOT NULL DEFAULT '',
	replacing      TEXT    NOT NULL DEFAULT '',
	push_token     TEXT    NOT NULL DEFAULT '',
	created_at     BIGINT  NOT NULL,
	UNIQUE (user_id, id)
);

-- tags: the challenge's tags, encoded (see encodeTags); names: JSON.
CREATE TABLE authn_challenges (
	seq            INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL UNIQUE,
	user_id        TEXT    NOT NULL,
	question       TEXT    NOT NULL,
	epoch          BIGINT  NOT NULL,
	tags           BLOB    NOT NULL,
	win            BIGINT  NOT NULL,
	attempts       BIGINT  NOT NULL DEFAULT 0,
	issued_at      BIGINT  NOT NULL,
	expires_at     BIGINT  NOT NULL,
	payload        BLOB,
	names          TEXT,
	resync         TEXT    NOT NULL DEFAULT '',
	resync_drift   BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX authn_challenges_user ON authn_challenges (user_id, expires_at);
CREATE INDEX authn_challenges_expiry ON authn_challenges (expires_at);

-- A question is not reissued to its user before until_at.
CREATE TABLE authn_questions (
	user_id        TEXT    NOT NULL,
	question       TEXT    NOT NULL,
	until_at       BIGINT  NOT NULL,
	PRIMARY KEY (user_id, question)
);
CREATE INDEX authn_questions_expiry ON authn_questions (until_at);

-- Issue times of the last minute, for the per-minute budget.
CREATE TABLE authn_issued (
	seq            INTEGER PRIMARY KEY,
	user_id        TEXT    NOT NULL,
	issued_at      BIGINT  NOT NULL
);
CREATE INDEX authn_issued_user ON authn_issued (user_id, issued_at);
CREATE INDEX authn_issued_time ON authn_issued (issued_at);

CREATE TABLE authn_taken (
	take_key       TEXT    NOT NULL PRIMARY KEY,
	expires_at     BIGINT  NOT NULL
);
CREATE INDEX authn_taken_expiry ON authn_taken (expires_at);

CREATE TABLE authn_budgets (
	budget_key     TEXT    NOT NULL PRIMARY KEY,
	used           BIGINT  NOT NULL,
	ends           BIGINT  NOT NULL
);
CREATE INDEX authn_budgets_expiry ON authn_budgets (ends);

CREATE TABLE authn_totp (
	user_id        TEXT    NOT NULL PRIMARY KEY,
	id             TEXT    NOT NULL,
	secret         BLOB,
	hash_alg       TEXT    NOT NULL,
	digits         BIGINT  NOT NULL,
	period_ns      BIGINT  NOT NULL,
	short_key      BIGINT  NOT NULL,
	active         BIGINT  NOT NULL,
	last_step      BIGINT  NOT NULL,
	created_at     BIGINT  NOT NULL
);

CREATE TABLE authn_recovery_codes (
	seq            INTEGER PRIMARY KEY,
	user_id        TEXT    NOT NULL,
	mac            BLOB    NOT NULL
);
CREATE INDEX authn_recovery_codes_user ON authn_recovery_codes (user_id);

-- devices: JSON array of device IDs.
CREATE TABLE authn_pushes (
	seq            INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL UNIQUE,
	user_id        TEXT    NOT NULL,
	number         TEXT    NOT NULL,
	nonce          BLOB,
	ctx_action     TEXT    NOT NULL,
	ctx_ip         TEXT    NOT NULL,
	ctx_place      TEXT    NOT NULL,
	ctx_browser    TEXT    NOT NULL,
	devices        TEXT,
	state          TEXT    NOT NULL,
	answered       TEXT    NOT NULL DEFAULT '',
	epoch          BIGINT  NOT NULL,
	tx             BLOB,
	challenge      TEXT    NOT NULL DEFAULT '',
	created_at     BIGINT  NOT NULL,
	expires_at     BIGINT  NOT NULL
);
CREATE INDEX authn_pushes_user ON authn_pushes (user_id, state);
CREATE INDEX authn_pushes_expiry ON authn_pushes (expires_at);
