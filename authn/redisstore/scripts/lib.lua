-- lib.lua is prepended to every script. Numbers: instants and durations
-- are integer microseconds (exact in Lua's doubles until the year 2255);
-- they are written back with num(), never tostring(), which would round
-- them to 14 digits.

local function num(x)
	return string.format('%d', x)
end

-- user reads the lockout state and epoch mirror of the user hash.
local function user(key)
	local v = redis.call('HMGET', key, 'f', 'l', 'lu', 'lf', 'e')
	return {f = tonumber(v[1]) or 0, l = tonumber(v[2]) or 0, lu = tonumber(v[3]) or 0,
		lf = tonumber(v[4]) or 0, e = tonumber(v[5]) or 0}
end

local function save(key, u)
	redis.call('HSET', key, 'f', num(u.f), 'l', num(u.l), 'lu', num(u.lu), 'lf', num(u.lf), 'e', num(u.e))
end

-- raise_epoch raises the user's epoch mirror to e (it never falls).
local function raise_epoch(key, e)
	local u = user(key)
	if e > u.e then
		u.e = e
		save(key, u)
	end
	return u.e
end

-- locks reads the lock lengths by level (authn.LockPolicy.Lengths, in
-- nanoseconds) from ARGV[first] to ARGV's end.
local function locks(first)
	local t = {}
	for i = first, #ARGV do
		t[#t + 1] = tonumber(ARGV[i])
	end
	return t
end

-- fail is authn.LockPolicy.Fail, to the letter: failures older than the
-- window are forgotten (the level stays); at the maximum the user is
-- locked for the length the table gives for the level (its last entry
-- past its end: the Go side computed the table, this only looks it up),
-- the level rises and the failures stay at the maximum. window and the
-- lengths are nanoseconds (exact in a double up to 104 days). It returns
-- the lock's length in nanoseconds, or 0.
local function fail(u, now, maxf, window, lengths)
	if u.lf ~= 0 and (now - u.lf) * 1000 >= window then
		u.f = 0
	end
	u.f = u.f + 1
	u.lf = now
	if u.f < maxf then
		return 0
	end
	local d = lengths[u.l + 1] or lengths[#lengths]
	u.l = u.l + 1
	u.lu = now + math.floor(d / 1000)
	u.f = maxf
	return d
end

local function reset(u)
	u.f, u.l, u.lu, u.lf = 0, 0, 0, 0
end

-- ttl extends key's expiry to at least ms milliseconds from now: expiry
-- only collects garbage, so it never shortens.
local function ttl(key, ms)
	local cur = redis.call('PTTL', key)
	if cur >= 0 and cur >= ms then
		return
	end
	redis.call('PEXPIRE', key, num(ms))
end

-- equal compares two strings of one length without stopping at the first
-- difference.
local function equal(a, b)
	if #a ~= #b then
		return false
	end
	local d = 0
	for i = 1, #a do
		d = bit.bor(d, bit.bxor(string.byte(a, i), string.byte(b, i)))
	end
	return d == 0
end

-- challenge fields are kept in the user's challenge hash as <id>|<name>.
local CH_FIELDS = {'e', 'x', 'w', 'a', 'k', 'r'}

local function drop_challenge(chkey, idxkey, id)
	for _, f in ipairs(CH_FIELDS) do
		redis.call('HDEL', chkey, id .. '|' .. f)
	end
	redis.call('ZREM', idxkey, id)
end

-- A push request is kept in the user's push hash as <id>|b (the record
-- as the Go side encoded it), <id>|s (state), <id>|a (the device that
-- answered), <id>|x (expiry), <id>|e (epoch).
local PUSH_FIELDS = {'b', 's', 'a', 'x', 'e'}

-- push_state returns a push's state, first marking a pending or approved
-- request past its expiry, or from an older epoch than current (the
-- greater of the epoch mirror and the records' epoch the Service read),
-- expired.
local function push_state(key, id, now, current)
	local v = redis.call('HMGET', key, id .. '|s', id .. '|x', id .. '|e')
	if not v[1] then
		return false
	end
	local s = v[1]
	if (s == 'pending' or s == 'approved') and (now >= tonumber(v[2]) or tonumber(v[3]) < current) then
		s = 'expired'
		redis.call('HSET', key, id .. '|s', s)
	end
	return s
end

local function push_reply(key, id, s)
	local v = redis.call('HMGET', key, id .. '|b', id .. '|a')
	return {v[1], s, v[2]}
end
