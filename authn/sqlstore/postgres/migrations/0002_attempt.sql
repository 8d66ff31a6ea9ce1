-- keyline authn store, PostgreSQL schema version 2: Attempt and
-- CommitStep as functions, so that each is one statement (one round trip).
--
-- Both run as one SELECT in autocommit: the statement is the transaction.
-- Under READ COMMITTED every statement inside a VOLATILE function takes a
-- fresh snapshot, so what is read after a lock is taken is the row as it
-- stands once locked (as the Go transaction it replaces read it).
--
-- The lockout rule is not computed here: authn.LockPolicy.Lengths gives
-- the lock's length for each level (nanoseconds; a level past the table's
-- end locks for its last entry, which is Max), the caller passes that
-- table as p_locks, and authn_attempt only looks the level up, compares
-- and stores. Go alone holds the rule, and one test covers it.

-- authn_wrap64 is n reduced to a signed 64-bit integer modulo 2^64: Go's
-- int64 arithmetic, which wraps where PostgreSQL's bigint raises an error.
CREATE FUNCTION authn_wrap64(n numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT (CASE WHEN m >= 9223372036854775808 THEN m - 18446744073709551616 ELSE m END)::bigint
	FROM (SELECT mod(mod(n, 18446744073709551616) + 18446744073709551616, 18446744073709551616) AS m) AS x
$$;

-- authn_attempt is Store.Attempt, in one statement, run in autocommit:
-- it locks the user's row (creating it if missing) and returns outcome 2
-- (locked) if the user is locked; else it reads the challenge (the
-- user's, FOR UPDATE) and returns 4 (expired; the challenge is deleted,
-- nothing counted) if it has expired or its epoch is not the user's;
-- else it counts a failure and returns 3 (no challenge), 5 (exhausted:
-- the challenge is deleted), 0 (mismatch: the challenge's attempts go
-- up) or 1 (match: the challenge is deleted and the user reset), saving
-- the user. The tags are decoded from their encoding (the Go encodeTags):
-- a version byte 1, then per tag the MAC (16 bytes), the step (8,
-- big-endian), the drift (8, two's complement), the device's length (2)
-- and the device. A malformed encoding raises an error (the statement,
-- and so the step, is rolled back). Times and durations are Unix
-- nanoseconds (0: the zero time). Under READ COMMITTED every statement
-- inside a VOLATILE function takes a fresh snapshot, so what is read
-- after the user's row is locked is the row as it stands once locked.
CREATE FUNCTION authn_attempt(
	p_user text, p_challenge text, p_mac bytea, p_server_step bigint,
	p_max_failures bigint, p_window bigint, p_max_attempts bigint, p_locks bigint[],
	p_now bigint,
	OUT o_outcome int, OUT o_retry_after bigint, OUT o_failures bigint,
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
	-- The user's row, created if missing and locked until the end.
	INSERT INTO authn_users AS u (user_id) VALUES (p_user)
		ON CONFLICT (user_id) DO UPDATE SET failures = u.failures
		RETURNING u.failures, u.level, u.locked_until, u.last_failure, u.epoch
		INTO v_failures, v_level, v_locked, v_last, v_epoch;

	-- Locked: nothing happens (now.Before(LockedUntil); 0 is the zero time).
	IF v_locked <> 0 AND p_now < v_locked THEN
		o_outcome := 2;
		o_retry_after := LEAST(v_locked::numeric - p_now, 9223372036854775807)::bigint;
		o_failures := v_failures;
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
		RETURN;
	END IF;

	-- Counted before checked: authn.LockPolicy.Fail, with the lock's
	-- length looked up in p_locks.
	IF v_last <> 0 AND GREATEST(LEAST(p_now::numeric - v_last, 9223372036854775807), -9223372036854775808) >= p_window THEN
		v_failures := 0;
	END IF;
	v_failures := v_failures + 1;
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
		v_locked := authn_wrap64(p_now::numeric + v_d);
		v_failures := p_max_failures;
		v_lock := v_d;
	END IF;
	o_retry_after := v_lock;
	o_failures := v_failures;

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

	UPDATE authn_users SET failures = v_failures, level = v_level, locked_until = v_locked, last_failure = v_last
		WHERE user_id = p_user;
END
$$;

-- authn_commit_step is Store.CommitStep: the compare-and-set of the
-- device's step (the device active, the step not before its last, the
-- epoch the user's, read FOR SHARE so that a revocation in progress is
-- waited for and its epoch seen; two commits of one user do not wait
-- for each other there, and the device row's lock orders them: the
-- second re-checks last_step), and on a refusal the reason, read as it
-- stands then: 0 committed, 1 not found (no such device, or not
-- active), 2 conflict.
CREATE FUNCTION authn_commit_step(p_user text, p_device text, p_epoch bigint, p_step bigint, p_drift bigint)
RETURNS int
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_state text;
BEGIN
	WITH u AS (SELECT epoch FROM authn_users WHERE user_id = p_user FOR SHARE)
	UPDATE authn_devices SET last_step = p_step, drift = p_drift
		WHERE user_id = p_user AND id = p_device AND state = 'active' AND last_step <= p_step
			AND COALESCE((SELECT epoch FROM u), 0) = p_epoch;
	IF FOUND THEN
		RETURN 0;
	END IF;
	SELECT state INTO v_state FROM authn_devices WHERE user_id = p_user AND id = p_device;
	IF NOT FOUND OR v_state <> 'active' THEN
		RETURN 1;
	END IF;
	RETURN 2;
END
$$;
