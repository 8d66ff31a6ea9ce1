-- keyline authn store, PostgreSQL schema version 7: the devices version
-- (authn.LoginRecords).
--
-- authn_device_versions holds each user's devices version; a user
-- without a row is at 0. Triggers on authn_devices raise it, in the
-- statement that changes a device (a plain statement, CommitStep's
-- authn_commit_step or the login's authn_finish alike), whenever
-- something authn.SameDevices compares changes in the user's active
-- devices: a device inserted active, an active one deleted (revoked,
-- replaced, its user deleted), and an update of a device active before
-- or after it that changes its state, suite, drift, name, secret or ID.
-- The triggers' WHEN clauses leave out, without calling the function,
-- an update of last_step alone (every login), of the push token or of
-- the pairing tries, and every change to a pending device.
--
-- A raise takes nextval of authn_devices_seq, one counter for all users
-- that only rises, so that no user ID sees a value twice, even after
-- DeleteUser (which deletes the user's row) and the user's return. The
-- value is drawn in the ON CONFLICT's update, after the row's lock is
-- held: of two raises of one user, the one that commits last holds the
-- greater value. The versions live in a table of their own, not in
-- authn_users, so that a raise from authn_commit_step, which holds the
-- user's row FOR SHARE, never upgrades that lock (two concurrent
-- commits would deadlock). Users with devices when this migration runs
-- start at 1.
CREATE SEQUENCE authn_devices_seq AS bigint START 2;

CREATE TABLE authn_device_versions (
	user_id TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
	version BIGINT NOT NULL
);
INSERT INTO authn_device_versions (user_id, version) SELECT DISTINCT user_id, 1 FROM authn_devices;

CREATE FUNCTION authn_raise_devices() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_user text;
BEGIN
	IF TG_OP = 'DELETE' THEN
		v_user := OLD.user_id;
	ELSE
		v_user := NEW.user_id;
	END IF;
	INSERT INTO authn_device_versions AS v (user_id, version) VALUES (v_user, nextval('authn_devices_seq'))
		ON CONFLICT (user_id) DO UPDATE SET version = nextval('authn_devices_seq');
	RETURN NULL;
END
$$;

CREATE TRIGGER authn_devices_version_insert AFTER INSERT ON authn_devices
	FOR EACH ROW WHEN (NEW.state = 'active') EXECUTE FUNCTION authn_raise_devices();

CREATE TRIGGER authn_devices_version_delete AFTER DELETE ON authn_devices
	FOR EACH ROW WHEN (OLD.state = 'active') EXECUTE FUNCTION authn_raise_devices();

CREATE TRIGGER authn_devices_version_update AFTER UPDATE ON authn_devices
	FOR EACH ROW WHEN ((OLD.state = 'active' OR NEW.state = 'active')
		AND (OLD.state IS DISTINCT FROM NEW.state OR OLD.suite IS DISTINCT FROM NEW.suite
			OR OLD.drift IS DISTINCT FROM NEW.drift OR OLD.name IS DISTINCT FROM NEW.name
			OR OLD.secret IS DISTINCT FROM NEW.secret OR OLD.id IS DISTINCT FROM NEW.id
			OR OLD.user_id IS DISTINCT FROM NEW.user_id))
	EXECUTE FUNCTION authn_raise_devices();
