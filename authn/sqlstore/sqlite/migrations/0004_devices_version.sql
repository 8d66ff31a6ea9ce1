-- keyline authn store, SQLite schema version 4: the devices version
-- (authn.LoginRecords).
--
-- authn_device_versions holds each user's devices version; a user
-- without a row is at 0. Triggers on authn_devices raise it, in the
-- statement that changes a device, whenever something
-- authn.SameDevices compares changes in the user's active devices: a
-- device inserted active, an active one deleted (revoked, replaced, its
-- user deleted), and an update of a device active before or after it
-- that changes its state, suite, drift, name, secret or ID. An update
-- of last_step alone (every login), of the push token or of the pairing
-- tries, and every change to a pending device, leave it. A raise takes
-- the next value of authn_devices_seq, one counter for all users that
-- only rises, so that no user ID sees a value twice, even after
-- DeleteUser (which deletes the user's row) and the user's return.
-- Users with devices when this migration runs start at 1.
CREATE TABLE authn_devices_seq (
	only  INTEGER PRIMARY KEY CHECK (only = 1),
	value BIGINT  NOT NULL
);
INSERT INTO authn_devices_seq (only, value) VALUES (1, 1);

CREATE TABLE authn_device_versions (
	user_id TEXT   NOT NULL PRIMARY KEY,
	version BIGINT NOT NULL
);
INSERT INTO authn_device_versions (user_id, version) SELECT DISTINCT user_id, 1 FROM authn_devices;

CREATE TRIGGER authn_devices_version_insert AFTER INSERT ON authn_devices
WHEN NEW.state = 'active'
BEGIN
	UPDATE authn_devices_seq SET value = value + 1;
	INSERT OR REPLACE INTO authn_device_versions (user_id, version) SELECT NEW.user_id, value FROM authn_devices_seq;
END;

CREATE TRIGGER authn_devices_version_delete AFTER DELETE ON authn_devices
WHEN OLD.state = 'active'
BEGIN
	UPDATE authn_devices_seq SET value = value + 1;
	INSERT OR REPLACE INTO authn_device_versions (user_id, version) SELECT OLD.user_id, value FROM authn_devices_seq;
END;

CREATE TRIGGER authn_devices_version_update AFTER UPDATE ON authn_devices
WHEN (OLD.state = 'active' OR NEW.state = 'active')
	AND (OLD.state IS NOT NEW.state OR OLD.suite IS NOT NEW.suite OR OLD.drift IS NOT NEW.drift
		OR OLD.name IS NOT NEW.name OR OLD.secret IS NOT NEW.secret OR OLD.id IS NOT NEW.id
		OR OLD.user_id IS NOT NEW.user_id)
BEGIN
	UPDATE authn_devices_seq SET value = value + 1;
	INSERT OR REPLACE INTO authn_device_versions (user_id, version) SELECT NEW.user_id, value FROM authn_devices_seq;
END;
