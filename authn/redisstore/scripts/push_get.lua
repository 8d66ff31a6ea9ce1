-- Push. KEYS: push hash. ARGV: now, ID, the user's current epoch.
-- Reply: {blob, state, answered}, or false if there is none.
local s = push_state(KEYS[1], ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]))
if not s then
	return false
end
return push_reply(KEYS[1], ARGV[2], s)
