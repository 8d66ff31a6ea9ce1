-- PutChallenge: store a challenge within the user's limits, atomically.
-- KEYS: user hash, challenge hash, challenge index, recent questions,
-- recent issues.
-- ARGV: now, ID, epoch, the user's current epoch (the records', as the
-- Service read it: the challenge's own), question,
-- horizon (µs), per minute, outstanding, expires at, window, tags (JSON),
-- record blob, slack (ms).
-- Reply: 0 stored, 1 conflict, 2 limit.
local now = tonumber(ARGV[1])
local id = ARGV[2]
local epoch, current = tonumber(ARGV[3]), tonumber(ARGV[4])
local u = user(KEYS[1])
if current > u.e then
	-- The mirror catches up with the records' epoch (a revocation whose
	-- RaiseEpoch was lost): challenges of older epochs read expired.
	u.e = current
	redis.call('HSET', KEYS[1], 'e', num(u.e))
elseif redis.call('EXISTS', KEYS[1]) == 0 then
	save(KEYS[1], u)
end
if redis.call('HEXISTS', KEYS[2], id .. '|e') == 1 then
	return 1
end
if epoch ~= u.e then
	return 1
end
local until_ = redis.call('ZSCORE', KEYS[4], ARGV[5])
if until_ and now < tonumber(until_) then
	return 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', num(now - 60000000))
if redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[7]) then
	return 2
end
-- Void the oldest live challenges beyond the outstanding budget.
local outstanding = tonumber(ARGV[8])
local live = {}
for _, other in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
	local x = redis.call('HGET', KEYS[2], other .. '|x')
	if not x then
		redis.call('ZREM', KEYS[3], other)
	elseif now < tonumber(x) then
		live[#live + 1] = other
	end
end
local i = 1
while #live - i + 1 > 0 and #live - i + 1 >= outstanding do
	drop_challenge(KEYS[2], KEYS[3], live[i])
	i = i + 1
end
local expires = tonumber(ARGV[9])
local slack = tonumber(ARGV[13])
redis.call('HSET', KEYS[2], id .. '|e', ARGV[3], id .. '|x', ARGV[9], id .. '|w', ARGV[10], id .. '|a', '0',
	id .. '|k', ARGV[11], id .. '|r', ARGV[12])
redis.call('ZADD', KEYS[3], ARGV[1], id)
redis.call('ZADD', KEYS[4], num(now + tonumber(ARGV[6])), ARGV[5])
redis.call('ZADD', KEYS[5], ARGV[1], id)
local life = math.floor(math.max(expires - now, 0) / 1000) + slack
ttl(KEYS[2], life)
ttl(KEYS[3], life)
ttl(KEYS[4], math.floor(tonumber(ARGV[6]) / 1000) + slack)
ttl(KEYS[5], 60000 + slack)
return 0
