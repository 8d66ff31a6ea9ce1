-- keyline authn store, SQLite schema version 2: lockout buckets.
--
-- A user's lockout state is kept per bucket (authn.HotStore.Attempt):
-- client '' is the bucket every unknown client of the user shares, any
-- other client a known client's (its ID, from a known-client token).
-- slow and slow_since are the long-horizon count and the start of its
-- window (authn.LockPolicy.Fail). The state kept in authn_users until
-- now moves to the bucket '', and those columns are no longer used.
CREATE TABLE authn_locks (
	user_id      TEXT   NOT NULL,
	client       TEXT   NOT NULL,
	failures     BIGINT NOT NULL DEFAULT 0,
	level        BIGINT NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0,
	last_failure BIGINT NOT NULL DEFAULT 0,
	slow         BIGINT NOT NULL DEFAULT 0,
	slow_since   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, client)
);

INSERT INTO authn_locks (user_id, client, failures, level, locked_until, last_failure)
	SELECT user_id, '', failures, level, locked_until, last_failure FROM authn_users
	WHERE failures <> 0 OR level <> 0 OR locked_until <> 0 OR last_failure <> 0;

UPDATE authn_users SET failures = 0, level = 0, locked_until = 0, last_failure = 0;
