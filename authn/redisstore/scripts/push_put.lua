-- PutPush. KEYS: push hash, push index, user hash. ARGV: now, ID,
-- record blob, state, expires at, epoch (the records', as the Service
-- read it), created at, slack (ms).
-- Reply: 0 stored, 1 conflict (the ID exists).
local id = ARGV[2]
if redis.call('HEXISTS', KEYS[1], id .. '|s') == 1 then
	return 1
end
raise_epoch(KEYS[3], tonumber(ARGV[6]))
redis.call('HSET', KEYS[1], id .. '|b', ARGV[3], id .. '|s', ARGV[4], id .. '|a', '', id .. '|x', ARGV[5], id .. '|e', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], id)
local life = math.floor(math.max(tonumber(ARGV[5]) - tonumber(ARGV[1]), 0) / 1000) + 3600000 + tonumber(ARGV[8])
ttl(KEYS[1], life)
ttl(KEYS[2], life)
return 0
