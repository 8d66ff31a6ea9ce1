-- Reset: a success clears the failures, level and lock of the client's
-- bucket; its long-horizon count stays; a bucket that does not exist is
-- not made. KEYS: locks hash. ARGV: client.
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then
	return 0
end
local u = parse_bucket(v)
reset(u)
save_bucket(KEYS[1], ARGV[1], u)
return 1
