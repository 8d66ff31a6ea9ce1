-- Attempt: one answer to a challenge, counted before it is checked, in
-- the bucket of the client (see bucket in lib.lua).
-- KEYS: user hash, challenge hash, challenge index, locks hash.
-- ARGV: now, client, challenge ID, MAC (hex), server step, max attempts,
-- then the policy (see policy in lib.lua).
-- Reply: {outcome, match index (0-based, -1 none), failures, retry after
-- (ns), long-horizon count, record blob or false, bucket's client}.
-- Outcomes as authn.AttemptOutcome.
local now = tonumber(ARGV[1])
local id = ARGV[3]
local P = policy(7)
local e = user(KEYS[1]).e
local u, client = bucket(KEYS[4], ARGV[2], now, P)
if now < u.lu then
	return {2, -1, u.f, (u.lu - now) * 1000, u.s, false, client}
end
local v = redis.call('HMGET', KEYS[2], id .. '|e', id .. '|x', id .. '|w', id .. '|k', id .. '|r')
local found = v[1] ~= false
if found and (now >= tonumber(v[2]) or tonumber(v[1]) ~= e) then
	drop_challenge(KEYS[2], KEYS[3], id)
	return {4, -1, u.f, 0, u.s, false, client}
end
local lock = fail(u, now, P)
if not found then
	save_bucket(KEYS[4], client, u)
	return {3, -1, u.f, lock, u.s, false, client}
end
local attempts = redis.call('HINCRBY', KEYS[2], id .. '|a', 1)
if attempts > tonumber(ARGV[6]) then
	drop_challenge(KEYS[2], KEYS[3], id)
	save_bucket(KEYS[4], client, u)
	return {5, -1, u.f, lock, u.s, false, client}
end
local window = tonumber(v[3])
local step = tonumber(ARGV[5])
local match = -1
for i, t in ipairs(cjson.decode(v[4])) do
	local eq = equal(ARGV[4], t[1])
	local d = t[2] - (step + t[3])
	if eq and match < 0 and d >= -window and d <= window then
		match = i - 1
	end
end
if match < 0 then
	save_bucket(KEYS[4], client, u)
	return {0, -1, u.f, lock, u.s, v[5], client}
end
drop_challenge(KEYS[2], KEYS[3], id)
reset(u)
save_bucket(KEYS[4], client, u)
return {1, match, 0, 0, u.s, v[5], client}
