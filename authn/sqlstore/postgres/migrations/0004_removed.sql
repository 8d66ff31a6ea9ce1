-- keyline authn store, PostgreSQL schema version 4: removed devices.
--
-- A device revoked, or replaced by a migration, is kept here as it was
-- (sealed secret included) until until_at, so that the phone holding its
-- secret can be told it was removed (authn.RecordStore.RemovedDevice).
-- DeleteUser erases the user's rows; Sweep deletes those past until_at.
CREATE TABLE authn_removed_devices (
	user_id        TEXT    COLLATE "C" NOT NULL,
	id             TEXT    COLLATE "C" NOT NULL,
	name           TEXT    NOT NULL,
	platform       TEXT    NOT NULL,
	account_name   TEXT    NOT NULL,
	suite          TEXT    NOT NULL,
	install_id     TEXT    NOT NULL,
	state          TEXT    NOT NULL,
	secret         BYTEA,
	last_step      BIGINT  NOT NULL DEFAULT 0,
	drift          BIGINT  NOT NULL DEFAULT 0,
	pair_tries     BIGINT  NOT NULL DEFAULT 0,
	session_id     TEXT    NOT NULL DEFAULT '',
	replacing      TEXT    NOT NULL DEFAULT '',
	push_token     TEXT    NOT NULL DEFAULT '',
	created_at     BIGINT  NOT NULL,
	removed_at     BIGINT  NOT NULL,
	until_at       BIGINT  NOT NULL,
	PRIMARY KEY (user_id, id)
);

CREATE INDEX authn_removed_devices_until ON authn_removed_devices (until_at);
