-- TakeOnce. KEYS: the mark. ARGV: now, expires at, TTL (ms).
-- Reply: 0 taken, 1 conflict (taken before and still live).
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(ARGV[1]) < tonumber(e) then
	return 1
end
redis.call('HSET', KEYS[1], 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
