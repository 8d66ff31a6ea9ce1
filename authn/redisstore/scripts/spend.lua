-- Spend: one unit of a fixed-window budget.
-- KEYS: the budget. ARGV: now, limit, window (µs), TTL (ms).
-- Reply: units left after this one, or -1 when none is left.
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'e', 'n')
local ends, used = tonumber(v[1]), tonumber(v[2]) or 0
if not ends or now >= ends then
	-- A new window: the last one's refund marks go with it.
	redis.call('DEL', KEYS[1])
	ends, used = now + tonumber(ARGV[3]), 0
end
if used >= limit then
	return -1
end
used = used + 1
redis.call('HSET', KEYS[1], 'e', num(ends), 'n', num(used))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return limit - used
