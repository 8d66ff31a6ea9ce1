-- keyline authn store, PostgreSQL schema version 6: a login's challenge
-- issued in one statement.
--
-- authn_issue is authn.IssueStore.IssueChallenge: in the one transaction
-- of the call, it locks the user's row (creating it if missing), checks
-- that the user's epoch is p_epoch and that the user's active devices,
-- oldest first, are the ones the tags were made from (the arrays p_ids,
-- p_states, p_suites, p_drifts, p_names, p_secrets, compared element by
-- element: authn.SameDevices), and then does what Store.PutChallenge's
-- transaction does, in the same order: refuses a taken ID and a question
-- issued within the horizon, prunes and counts the issues of the last
-- minute, voids the oldest live challenges beyond the outstanding
-- budget, records the question and the issue, and inserts the challenge.
--
-- It returns rows of (o_result, o_epoch, then the device columns as
-- sqlstore's devCols reads them): o_result 0 stored, 1 stale (nothing
-- stored; one row per active device, or one with no device when there
-- are none), 2 conflict (a taken ID or a question within the horizon;
-- nothing stored), 3 limit (the per-minute budget; the prune stays, as
-- Go's write step commits it). A unique violation of the challenge's ID
-- (another user's challenge of that ID, stored meanwhile) rolls back
-- everything the call did and is a conflict.
CREATE FUNCTION authn_issue(
	p_id text, p_user text, p_question text, p_epoch bigint, p_tags bytea, p_win bigint, p_attempts bigint,
	p_issued_at bigint, p_expires_at bigint, p_payload bytea, p_names text, p_resync text, p_resync_drift bigint,
	p_outstanding bigint, p_per_minute bigint, p_question_until bigint, p_minute_ago bigint, p_now bigint,
	p_ids text[], p_states text[], p_suites text[], p_drifts bigint[], p_names_of text[], p_secrets bytea[])
RETURNS TABLE (o_result int, o_epoch bigint, id text, user_id text, name text, platform text, account_name text,
	suite text, install_id text, state text, secret bytea, last_step bigint, drift bigint, pair_tries bigint,
	session_id text, replacing text, push_token text, created_at bigint)
LANGUAGE plpgsql VOLATILE AS $$
-- The output columns share names with the tables' columns: a name in a
-- statement is the column.
#variable_conflict use_column
DECLARE
	v_epoch bigint;
	v_same boolean;
	v_n bigint;
	v_until bigint;
BEGIN
	INSERT INTO authn_users AS u (user_id) VALUES (p_user)
		ON CONFLICT (user_id) DO UPDATE SET failures = u.failures
		RETURNING u.epoch INTO v_epoch;

	SELECT COALESCE(array_agg(d.id ORDER BY d.seq), '{}') = COALESCE(p_ids, '{}')
			AND COALESCE(array_agg(d.state ORDER BY d.seq), '{}') = COALESCE(p_states, '{}')
			AND COALESCE(array_agg(d.suite ORDER BY d.seq), '{}') = COALESCE(p_suites, '{}')
			AND COALESCE(array_agg(d.drift ORDER BY d.seq), '{}') = COALESCE(p_drifts, '{}')
			AND COALESCE(array_agg(d.name ORDER BY d.seq), '{}') = COALESCE(p_names_of, '{}')
			AND COALESCE(array_agg(d.secret ORDER BY d.seq), '{}') IS NOT DISTINCT FROM COALESCE(p_secrets, '{}')
		INTO v_same
		FROM authn_devices AS d WHERE d.user_id = p_user AND d.state = 'active';
	IF v_epoch <> p_epoch OR NOT v_same THEN
		RETURN QUERY SELECT 1, v_epoch, d.id::text, d.user_id::text, d.name, d.platform, d.account_name, d.suite,
				d.install_id, d.state, d.secret, d.last_step, d.drift, d.pair_tries, d.session_id::text, d.replacing,
				d.push_token, d.created_at
			FROM authn_devices AS d WHERE d.user_id = p_user AND d.state = 'active' ORDER BY d.seq;
		IF NOT FOUND THEN
			RETURN QUERY SELECT 1, v_epoch, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
				NULL::text, NULL::text, NULL::bytea, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, NULL::text,
				NULL::text, NULL::bigint;
		END IF;
		RETURN;
	END IF;

	o_epoch := v_epoch;
	BEGIN
		IF EXISTS (SELECT 1 FROM authn_challenges AS c WHERE c.id = p_id) THEN
			o_result := 2;
		ELSE
			SELECT q.until_at INTO v_until FROM authn_questions AS q WHERE q.user_id = p_user AND q.question = p_question;
			IF FOUND AND p_now < v_until THEN
				o_result := 2;
			ELSE
				DELETE FROM authn_issued AS i WHERE i.user_id = p_user AND i.issued_at <= p_minute_ago;
				SELECT count(*) INTO v_n FROM authn_issued AS i WHERE i.user_id = p_user;
				IF v_n >= p_per_minute THEN
					o_result := 3;
				ELSE
					SELECT count(*) INTO v_n FROM authn_challenges AS c WHERE c.user_id = p_user AND c.expires_at > p_now;
					IF v_n > 0 AND v_n >= p_outstanding THEN
						DELETE FROM authn_challenges AS c WHERE c.id IN (
							SELECT l.id FROM authn_challenges AS l WHERE l.user_id = p_user AND l.expires_at > p_now
							ORDER BY l.issued_at, l.seq LIMIT LEAST(v_n, v_n - p_outstanding + 1));
					END IF;
					INSERT INTO authn_questions AS q (user_id, question, until_at) VALUES (p_user, p_question, p_question_until)
						ON CONFLICT (user_id, question) DO UPDATE SET until_at = excluded.until_at;
					INSERT INTO authn_issued (user_id, issued_at) VALUES (p_user, p_now);
					INSERT INTO authn_challenges (id, user_id, question, epoch, tags, win, attempts, issued_at,
							expires_at, payload, names, resync, resync_drift)
						VALUES (p_id, p_user, p_question, p_epoch, p_tags, p_win, p_attempts, p_issued_at,
							p_expires_at, p_payload, p_names, p_resync, p_resync_drift);
					o_result := 0;
				END IF;
			END IF;
		END IF;
	EXCEPTION WHEN unique_violation THEN
		o_result := 2;
	END;
	RETURN QUERY SELECT o_result, o_epoch, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
		NULL::text, NULL::text, NULL::bytea, NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, NULL::text,
		NULL::text, NULL::bigint;
END
$$;
