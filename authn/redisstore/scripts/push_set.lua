-- SetPushState: compare-and-set of a push's state.
-- KEYS: push hash, user hash. ARGV: now, ID, the user's epoch as the
-- Service read it from the records, from, to, device ('' for none).
-- Reply: {0 moved or 1 conflict, blob, state, answered}, or false if
-- there is none.
local id = ARGV[2]
local s = push_state(KEYS[1], id, tonumber(ARGV[1]), math.max(tonumber(ARGV[3]), user(KEYS[2]).e))
if not s then
	return false
end
if s ~= ARGV[4] then
	local r = push_reply(KEYS[1], id, s)
	return {1, r[1], r[2], r[3]}
end
redis.call('HSET', KEYS[1], id .. '|s', ARGV[5])
if ARGV[6] ~= '' then
	redis.call('HSET', KEYS[1], id .. '|a', ARGV[6])
end
local r = push_reply(KEYS[1], id, ARGV[5])
return {0, r[1], r[2], r[3]}
