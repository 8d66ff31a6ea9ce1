-- keyline authn store, PostgreSQL schema version 3: lockout buckets.
--
-- A user's lockout state is kept per bucket (authn.HotStore.Attempt):
-- client '' is the bucket every unknown client of the user shares, any
-- other client a known client's (its ID, from a known-client token).
-- slow and slow_since are the long-horizon count and the start of its
-- window (authn.LockPolicy.Fail). The state kept in authn_users until
-- now moves to the bucket '', and those columns are no longer used.
-- authn_attempt takes the client and the long-horizon rule, and is
-- replaced (version 2's body, with the bucket read and written instead
-- of the user's columns, and the long horizon counted as
-- authn.LockPolicy.Fail counts it; the lock for Max past p_slow_lock).
CREATE TABLE authn_locks (
	user_id      TEXT   COLLATE "C" NOT NULL,
	client       TEXT   COLLATE "C" NOT NULL,
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

DROP FUNCTION authn_attempt(text, text, bytea, bigint, bigint, bigint, bigint, bigint[], bigint);

-- authn_attempt is Store.Attempt for the bucket of p_client, as version
-- 2 describes it; it also returns the bucket's long-horizon count and
-- the bucket used (o_client: p_client, or '' past p_max_clients).
CREATE FUNCTION authn_attempt(
	p_user text, p_client text, p_challenge text, p_mac bytea, p_server_step bigint,
	p_max_failures bigint, p_window bigint, p_max_attempts bigint, p_locks bigint[],
	p_horizon bigint, p_slow_lock bigint, p_max_clients bigint, p_max bigint,
	p_now bigint,
	OUT o_outcome int, OUT o_retry_after bigint, OUT o_failures bigint, OUT o_slow bigint, OUT o_client text,
	OUT o_device bytea, OUT o_step bigint, OUT o_drift bigint,
	OUT o_id text, OUT o_user text, OUT o_question text, OUT o_epoch bigint, OUT o_win bigint,
	OUT o_attempts bigint, OUT o_issued_at bigint, OUT o_expires_at bigint, OUT o_payload bytea,
	OUT o_names text, OUT o_resync text, OUT o_resync_drift bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_failures bigint;
	v_level bigint;
	v_locked bigint;
	v_last bigint;
	v_epoch bigint;
	v_slow bigint;
	v_since bigint;
	v_live bigint;
	v_lock bigint := 0;
	v_d bigint;
	ch record;
	v_tags bytea;
	v_n int;
	v_pos int;
	v_len int;
	v_mac bytea;
	v_step bigint;
	v_drift bigint;
	v_dev bytea;
	v_off bigint;
	v_found boolean;
BEGIN
	-- The user's row, created if missing and locked until the end: it
	-- serialises every step of the user's, its buckets' included.
	INSERT INTO authn_users AS u (user_id) VALUES (p_user)
		ON CONFLICT (user_id) DO UPDATE SET failures = u.failures
		RETURNING u.epoch INTO v_epoch;

	-- The bucket (authn.HotStore.Attempt): the client's own; a known
	-- client without one gets one, the user's stale buckets of known
	-- clients (authn.LockPolicy.Stale) dropped first, unless p_max_clients
	-- live ones exist: then the shared bucket ''.
	o_client := p_client;
	SELECT l.failures, l.level, l.locked_until, l.last_failure, l.slow, l.slow_since
		INTO v_failures, v_level, v_locked, v_last, v_slow, v_since
		FROM authn_locks AS l WHERE l.user_id = p_user AND l.client = o_client;
	IF NOT FOUND AND o_client <> '' THEN
		DELETE FROM authn_locks AS l WHERE l.user_id = p_user AND l.client <> ''
			AND NOT (l.locked_until <> 0 AND p_now < l.locked_until)
			AND (l.last_failure = 0 OR GREATEST(LEAST(p_now::numeric - l.last_failure, 9223372036854775807), -9223372036854775808) >= p_horizon);
		SELECT count(*) INTO v_live FROM authn_locks AS l WHERE l.user_id = p_user AND l.client <> '';
		IF v_live >= p_max_clients THEN
			o_client := '';
			SELECT l.failures, l.level, l.locked_until, l.last_failure, l.slow, l.slow_since
				INTO v_failures, v_level, v_locked, v_last, v_slow, v_since
				FROM authn_locks AS l WHERE l.user_id = p_user AND l.client = o_client;
		END IF;
	END IF;
	IF v_failures IS NULL THEN
		v_failures := 0; v_level := 0; v_locked := 0; v_last := 0; v_slow := 0; v_since := 0;
	END IF;

	-- Locked: nothing happens (now.Before(LockedUntil); 0 is the zero time).
	IF v_locked <> 0 AND p_now < v_locked THEN
		o_outcome := 2;
		o_retry_after := LEAST(v_locked::numeric - p_now, 9223372036854775807)::bigint;
		o_failures := v_failures;
		o_slow := v_slow;
		RETURN;
	END IF;

	SELECT c.id, c.user_id, c.question, c.epoch, c.tags, c.win, c.attempts, c.issued_at, c.expires_at,
			c.payload, c.names, c.resync, c.resync_drift
		INTO ch
		FROM authn_challenges AS c WHERE c.id = p_challenge AND c.user_id = p_user
		FOR UPDATE;
	v_found := FOUND;

	-- Expired (!now.Before(ExpiresAt)) or voided by a revocation: deleted,
	-- not counted.
	IF v_found AND (ch.expires_at = 0 OR p_now >= ch.expires_at OR ch.epoch <> v_epoch) THEN
		DELETE FROM authn_challenges WHERE id = p_challenge;
		o_outcome := 4;
		o_retry_after := 0;
		o_failures := v_failures;
		o_slow := v_slow;
		RETURN;
	END IF;

	-- Counted before checked: authn.LockPolicy.Fail, with the lock's
	-- length looked up in p_locks.
	IF v_last <> 0 AND GREATEST(LEAST(p_now::numeric - v_last, 9223372036854775807), -9223372036854775808) >= p_window THEN
		v_failures := 0;
	END IF;
	-- The long horizon: a new window when none is open or it is p_horizon old.
	IF v_since = 0 OR GREATEST(LEAST(p_now::numeric - v_since, 9223372036854775807), -9223372036854775808) >= p_horizon THEN
		v_slow := 0;
		v_since := p_now;
	END IF;
	v_failures := v_failures + 1;
	v_slow := v_slow + 1;
	v_last := p_now;
	IF v_failures >= p_max_failures THEN
		-- The lock's length for the level: looked up in the table, its
		-- last entry past its end (or for a level under 0).
		IF v_level >= 0 AND v_level < cardinality(p_locks) THEN
			v_d := p_locks[v_level::int + 1];
		ELSE
			v_d := p_locks[cardinality(p_locks)];
		END IF;
		v_level := v_level + 1;
		v_failures := p_max_failures;
		v_lock := v_d;
	END IF;
	IF p_slow_lock > 0 AND v_slow >= p_slow_lock THEN
		v_lock := p_max;
	END IF;
	IF v_lock > 0 THEN
		v_locked := authn_wrap64(p_now::numeric + v_lock);
	END IF;
	o_retry_after := v_lock;
	o_failures := v_failures;
	o_slow := v_slow;

	IF NOT v_found THEN
		o_outcome := 3;
	ELSIF ch.attempts + 1 > p_max_attempts THEN
		o_outcome := 5;
		DELETE FROM authn_challenges WHERE id = p_challenge;
	ELSE
		o_id := ch.id;
		o_user := ch.user_id;
		o_question := ch.question;
		o_epoch := ch.epoch;
		o_win := ch.win;
		o_attempts := ch.attempts + 1;
		o_issued_at := ch.issued_at;
		o_expires_at := ch.expires_at;
		o_payload := ch.payload;
		o_names := ch.names;
		o_resync := ch.resync;
		o_resync_drift := ch.resync_drift;

		-- Every tag is decoded and compared; the first that matches and
		-- is admissible (authn.Tag.Admissible, in int64 arithmetic) wins.
		v_tags := ch.tags;
		v_n := length(v_tags);
		IF v_n < 1 OR get_byte(v_tags, 0) <> 1 THEN
			RAISE EXCEPTION 'challenge %: malformed tags', p_challenge;
		END IF;
		v_pos := 1;
		WHILE v_pos < v_n LOOP
			IF v_n - v_pos < 34 THEN
				RAISE EXCEPTION 'challenge %: malformed tags', p_challenge;
			END IF;
			v_mac := substring(v_tags FROM v_pos + 1 FOR 16);
			v_step := ('x' || encode(substring(v_tags FROM v_pos + 17 FOR 8), 'hex'))::bit(64)::bigint;
			v_drift := ('x' || encode(substring(v_tags FROM v_pos + 25 FOR 8), 'hex'))::bit(64)::bigint;
			v_len := get_byte(v_tags, v_pos + 32) * 256 + get_byte(v_tags, v_pos + 33);
			v_pos := v_pos + 34;
			IF v_n - v_pos < v_len THEN
				RAISE EXCEPTION 'challenge %: malformed tags', p_challenge;
			END IF;
			v_dev := substring(v_tags FROM v_pos + 1 FOR v_len);
			v_pos := v_pos + v_len;
			IF o_device IS NULL AND v_mac = p_mac THEN
				v_off := authn_wrap64(v_step::numeric - authn_wrap64(p_server_step::numeric + v_drift));
				IF v_off >= -ch.win AND v_off <= ch.win THEN
					o_device := v_dev;
					o_step := v_step;
					o_drift := v_drift;
				END IF;
			END IF;
		END LOOP;

		IF o_device IS NULL THEN
			o_outcome := 0;
			UPDATE authn_challenges SET attempts = ch.attempts + 1 WHERE id = p_challenge;
		ELSE
			o_outcome := 1;
			DELETE FROM authn_challenges WHERE id = p_challenge;
			v_failures := 0;
			v_level := 0;
			v_locked := 0;
			v_last := 0;
			o_retry_after := 0;
			o_failures := 0;
		END IF;
	END IF;

	INSERT INTO authn_locks AS l (user_id, client, failures, level, locked_until, last_failure, slow, slow_since)
		VALUES (p_user, o_client, v_failures, v_level, v_locked, v_last, v_slow, v_since)
		ON CONFLICT (user_id, client) DO UPDATE SET failures = excluded.failures, level = excluded.level,
			locked_until = excluded.locked_until, last_failure = excluded.last_failure, slow = excluded.slow,
			slow_since = excluded.slow_since;
END
$$;
