-- Push. KEYS: push hash, user hash. ARGV: now, ID.
-- Reply: {blob, state, answered}, or false if there is none.
local s = push_state(KEYS[1], ARGV[2], tonumber(ARGV[1]), user(KEYS[2]).e)
if not s then
	return false
end
return push_reply(KEYS[1], ARGV[2], s)
