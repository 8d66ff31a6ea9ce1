-- Attempt: one answer to a challenge, counted before it is checked.
-- KEYS: user hash, challenge hash, challenge index.
-- ARGV: now, challenge ID, MAC (hex), server step, max failures, window,
-- max attempts, then the lock lengths by level (authn.LockPolicy.Lengths).
-- Reply: {outcome, match index (0-based, -1 none), failures, retry after
-- (ns), record blob or false}. Outcomes as authn.AttemptOutcome.
local now = tonumber(ARGV[1])
local id = ARGV[2]
local u = user(KEYS[1])
if now < u.lu then
	return {2, -1, u.f, (u.lu - now) * 1000, false}
end
local v = redis.call('HMGET', KEYS[2], id .. '|e', id .. '|x', id .. '|w', id .. '|k', id .. '|r')
local found = v[1] ~= false
if found and (now >= tonumber(v[2]) or tonumber(v[1]) ~= u.e) then
	drop_challenge(KEYS[2], KEYS[3], id)
	return {4, -1, u.f, 0, false}
end
local lock = fail(u, now, tonumber(ARGV[5]), tonumber(ARGV[6]), locks(8))
if not found then
	save(KEYS[1], u)
	return {3, -1, u.f, lock, false}
end
local attempts = redis.call('HINCRBY', KEYS[2], id .. '|a', 1)
if attempts > tonumber(ARGV[7]) then
	drop_challenge(KEYS[2], KEYS[3], id)
	save(KEYS[1], u)
	return {5, -1, u.f, lock, false}
end
local window = tonumber(v[3])
local step = tonumber(ARGV[4])
local match = -1
for i, t in ipairs(cjson.decode(v[4])) do
	local eq = equal(ARGV[3], t[1])
	local d = t[2] - (step + t[3])
	if eq and match < 0 and d >= -window and d <= window then
		match = i - 1
	end
end
if match < 0 then
	save(KEYS[1], u)
	return {0, -1, u.f, lock, v[5]}
end
drop_challenge(KEYS[2], KEYS[3], id)
reset(u)
save(KEYS[1], u)
return {1, match, 0, 0, v[5]}
