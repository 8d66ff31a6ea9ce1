-- IssueMirrored: the check of the user's devices-version mirror, then
-- PutChallenge (put_challenge.lua follows this prefix in the same
-- script, with its KEYS and ARGV[1..13]).
-- ARGV[14]: the devices version the tags were made from; ARGV[15]: '1'
-- if the Service read it from the records in this call (fresh), '0' if
-- it is its cache's; ARGV[16]: the mirror's life (µs).
-- The mirror is the user hash's dv (the highest version handed) and dt
-- (when it was handed, the Service's clock, µs).
-- Reply: 3 stale (nothing stored or changed), else put_challenge's.
local mv, mfresh, mlife = tonumber(ARGV[14]), ARGV[15] == '1', tonumber(ARGV[16])
local mirror = redis.call('HMGET', KEYS[1], 'dv', 'dt')
local dv, dt = tonumber(mirror[1]), tonumber(mirror[2])
if mfresh then
	if dv and mv < dv then
		return 3
	end
	redis.call('HSET', KEYS[1], 'dv', ARGV[14], 'dt', ARGV[1])
elseif not dv or dv ~= mv or not dt or tonumber(ARGV[1]) >= dt + mlife then
	return 3
end
