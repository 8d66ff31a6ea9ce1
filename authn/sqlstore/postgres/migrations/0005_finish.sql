-- keyline authn store, PostgreSQL schema version 5: a login's finish in
-- one statement.
--
-- authn_finish is authn.FinishStore.AttemptCommit: authn_attempt (version
-- 3) and, on a match (outcome 1), authn_commit_step's compare-and-set
-- (version 2) of the matched device, with the tag's step and the
-- drift authn.CommitDrift gives (the step minus p_server_step in int64
-- arithmetic, bounded to ±p_max_drift), in the one transaction of the
-- call: one round trip and one durable write per finish. It returns
-- authn_attempt's columns and o_commit, authn_commit_step's result (0
-- committed, 1 not found, 2 conflict; 0 when nothing matched). The user's
-- row, locked by authn_attempt, stays locked for the commit, so the two
-- halves are one step for every other step of the user's.
CREATE FUNCTION authn_finish(
	p_user text, p_client text, p_challenge text, p_mac bytea, p_server_step bigint,
	p_max_failures bigint, p_window bigint, p_max_attempts bigint, p_locks bigint[],
	p_horizon bigint, p_slow_lock bigint, p_max_clients bigint, p_max bigint,
	p_now bigint, p_max_drift bigint,
	OUT o_outcome int, OUT o_retry_after bigint, OUT o_failures bigint, OUT o_slow bigint, OUT o_client text,
	OUT o_device bytea, OUT o_step bigint, OUT o_drift bigint,
	OUT o_id text, OUT o_user text, OUT o_question text, OUT o_epoch bigint, OUT o_win bigint,
	OUT o_attempts bigint, OUT o_issued_at bigint, OUT o_expires_at bigint, OUT o_payload bytea,
	OUT o_names text, OUT o_resync text, OUT o_resync_drift bigint, OUT o_commit int)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	v_device text;
	v_state text;
BEGIN
	SELECT a.o_outcome, a.o_retry_after, a.o_failures, a.o_slow, a.o_client, a.o_device, a.o_step, a.o_drift,
			a.o_id, a.o_user, a.o_question, a.o_epoch, a.o_win, a.o_attempts, a.o_issued_at, a.o_expires_at,
			a.o_payload, a.o_names, a.o_resync, a.o_resync_drift
		INTO o_outcome, o_retry_after, o_failures, o_slow, o_client, o_device, o_step, o_drift,
			o_id, o_user, o_question, o_epoch, o_win, o_attempts, o_issued_at, o_expires_at,
			o_payload, o_names, o_resync, o_resync_drift
		FROM authn_attempt(p_user, p_client, p_challenge, p_mac, p_server_step, p_max_failures, p_window,
			p_max_attempts, p_locks, p_horizon, p_slow_lock, p_max_clients, p_max, p_now) AS a;
	o_commit := 0;
	IF o_outcome = 1 THEN
		-- authn_commit_step's compare-and-set, but for the epoch: the
		-- challenge's epoch was just found to be the user's, whose row
		-- this transaction holds locked (a revocation bumps it under the
		-- same lock), so it is the user's still; reading it again FOR
		-- SHARE would only add a lock on a row already locked.
		v_device := convert_from(o_device, 'UTF8');
		UPDATE authn_devices AS d
			SET last_step = o_step,
				drift = GREATEST(LEAST(authn_wrap64(o_step::numeric - p_server_step), p_max_drift), -p_max_drift)
			WHERE d.user_id = p_user AND d.id = v_device AND d.state = 'active' AND d.last_step <= o_step;
		IF NOT FOUND THEN
			SELECT d.state INTO v_state FROM authn_devices AS d WHERE d.user_id = p_user AND d.id = v_device;
			IF NOT FOUND OR v_state <> 'active' THEN
				o_commit := 1;
			ELSE
				o_commit := 2;
			END IF;
		END IF;
	END IF;
END
$$;
