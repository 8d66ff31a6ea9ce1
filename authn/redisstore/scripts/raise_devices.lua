-- RaiseDevices: raise the user's devices-version mirror (dv, live from
-- dt) to the records' version; a lower one changes nothing.
-- KEYS: user hash. ARGV: now, version.
local dv = tonumber(redis.call('HGET', KEYS[1], 'dv'))
if not dv or tonumber(ARGV[2]) >= dv then
	redis.call('HSET', KEYS[1], 'dv', ARGV[2], 'dt', ARGV[1])
end
return 0
