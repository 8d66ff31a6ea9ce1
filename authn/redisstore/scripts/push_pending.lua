-- PendingPushes: the user's live pending pushes, oldest first (the Go
-- side keeps those that notified the device).
-- KEYS: push hash, push index, user hash. ARGV: now, the user's epoch
-- as the Service read it from the records.
-- Reply: a flat list of blob, answered pairs.
local now, current = tonumber(ARGV[1]), math.max(tonumber(ARGV[2]), user(KEYS[3]).e)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
	local s = push_state(KEYS[1], id, now, current)
	if not s then
		redis.call('ZREM', KEYS[2], id)
	elseif s == 'pending' then
		local r = push_reply(KEYS[1], id, s)
		out[#out + 1] = r[1]
		out[#out + 1] = r[3]
	end
end
return out
