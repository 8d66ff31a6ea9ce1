-- Sweep, one take-once mark or budget: removed once past its end.
-- KEYS: the key. ARGV: now. Reply: 1 removed, 0 kept.
local e = redis.call('HGET', KEYS[1], 'e')
if e and tonumber(ARGV[1]) >= tonumber(e) then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
