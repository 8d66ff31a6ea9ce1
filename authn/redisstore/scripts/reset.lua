-- Reset: a success or an operator's unlock clears failures, level and
-- lock; the epoch mirror stays. KEYS: user hash.
local u = user(KEYS[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
	return 0
end
reset(u)
save(KEYS[1], u)
return 1
