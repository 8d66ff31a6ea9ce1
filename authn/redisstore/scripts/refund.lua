-- Refund: one unit back to a fixed-window budget, once per mark. The
-- marks are fields of the budget's hash ('r:' .. mark), so that they live
-- in its slot and go with its window (Spend drops them at a new one).
-- KEYS: the budget. ARGV: now, window (µs), spent at (µs), mark.
-- Reply: 1 refunded, 0 nothing changed.
local now, window, spent = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'e', 'n')
local ends, used = tonumber(v[1]), tonumber(v[2]) or 0
if not ends or now >= ends or ends - window > spent or used <= 0 then
	return 0
end
if redis.call('HSETNX', KEYS[1], 'r:' .. ARGV[4], '1') == 0 then
	return 0
end
redis.call('HSET', KEYS[1], 'n', num(used - 1))
return 1
