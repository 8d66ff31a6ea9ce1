-- Sweep, one user: expired challenges, questions past their horizon,
-- issues older than a minute, pushes an hour past their expiry.
-- KEYS: user hash, challenge hash, challenge index, questions, issues,
-- push hash, push index. ARGV: now.
-- Reply: {removed, push IDs removed...}.
local now = tonumber(ARGV[1])
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
	local x = redis.call('HGET', KEYS[2], id .. '|x')
	if not x then
		redis.call('ZREM', KEYS[3], id)
	elseif now >= tonumber(x) then
		drop_challenge(KEYS[2], KEYS[3], id)
		n = n + 1
	end
end
n = n + redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', num(now))
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', num(now - 60000000))
local out = {0}
for _, id in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do
	local x = redis.call('HGET', KEYS[6], id .. '|x')
	if not x then
		redis.call('ZREM', KEYS[7], id)
	elseif now - tonumber(x) > 3600000000 then
		for _, f in ipairs(PUSH_FIELDS) do
			redis.call('HDEL', KEYS[6], id .. '|' .. f)
		end
		redis.call('ZREM', KEYS[7], id)
		n = n + 1
		out[#out + 1] = id
	end
end
out[1] = n
return out
