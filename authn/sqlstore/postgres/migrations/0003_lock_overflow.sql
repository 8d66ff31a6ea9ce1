-- keyline authn store, PostgreSQL schema version 3: authn_attempt's lock
-- length without overflow.
--
-- Schema version 2 computed the lock as p_base << level for a level under
-- 32 and kept it when it was positive and under p_max. A bigint shift
-- wraps (as Go's int64 shift does), so for some Bases a high level gave a
-- small positive length (Base = 2^33 + 1 ns at level 31: 2^31 ns, about
-- 2 s, instead of Max); and the level only falls on a success, so whoever
-- keeps locking a user reaches it. authn.LockPolicy.Fail now computes
-- Base·2^level without overflow, at most Max, and this replaces
-- authn_attempt with the same rule: the same signature and body as in
-- 0002_attempt.sql but for the lock's length. (Migrations are not edited
-- once released; authn_commit_step and authn_wrap64 compute no lock and
-- stay as 0002 made them.)

-- authn_attempt is Store.Attempt: see 0002_attempt.sql.
CREATE OR REPLACE FUNCTION authn_attempt(
	p_user text, p_challenge text, p_mac bytea, p_server_step bigint,
	p_max_failures bigint, p_base bigint, p_max bigint, p_window bigint, p_max_attempts bigint,
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
	v_shift bigint;
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

	-- Counted before checked: authn.LockPolicy.Fail.
	IF v_last <> 0 AND GREATEST(LEAST(p_now::numeric - v_last, 9223372036854775807), -9223372036854775808) >= p_window THEN
		v_failures := 0;
	END IF;
	v_failures := v_failures + 1;
	v_last := p_now;
	IF v_failures >= p_max_failures THEN
		-- The lock's length without overflow: p_base << v_level only if
		-- the shift loses no bit (0 <= level < 63, 0 < base <=
		-- MaxInt64 >> level) and it is under p_max; else p_max. The
		-- tests are nested so that no shift runs, and v_level is not
		-- cast to int, before the ones it depends on have passed.
		v_d := p_max;
		IF v_level >= 0 AND v_level < 63 AND p_base > 0 THEN
			IF p_base <= (9223372036854775807::bigint >> v_level::int) THEN
				v_shift := p_base << v_level::int;
				IF v_shift < p_max THEN
					v_d := v_shift;
				END IF;
			END IF;
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
