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

-- policy reads authn.LockPolicy from ARGV[first] on: max failures,
-- window, horizon, slow lock, max clients, Max, then the lock lengths by
-- level (authn.LockPolicy.Lengths) to ARGV's end. Durations are
-- nanoseconds (exact in a double up to 104 days).
local function policy(first)
	return {maxf = tonumber(ARGV[first]), window = tonumber(ARGV[first + 1]),
		horizon = tonumber(ARGV[first + 2]), slowlock = tonumber(ARGV[first + 3]),
		maxc = tonumber(ARGV[first + 4]), max = tonumber(ARGV[first + 5]), lengths = locks(first + 6)}
end

-- A lockout bucket is one field of the user's locks hash, named by its
-- client ('' : every unknown client), its value "f l lu lf s ss":
-- failures, level, locked until, last failure, long-horizon count and
-- the start of its window (authn.UserState).
local function parse_bucket(v)
	local b = {f = 0, l = 0, lu = 0, lf = 0, s = 0, ss = 0}
	if v then
		local t = {}
		for x in string.gmatch(v, '%S+') do
			t[#t + 1] = tonumber(x)
		end
		b.f, b.l, b.lu, b.lf, b.s, b.ss = t[1] or 0, t[2] or 0, t[3] or 0, t[4] or 0, t[5] or 0, t[6] or 0
	end
	return b
end

local function save_bucket(key, client, b)
	redis.call('HSET', key, client, num(b.f) .. ' ' .. num(b.l) .. ' ' .. num(b.lu) .. ' ' .. num(b.lf) ..
		' ' .. num(b.s) .. ' ' .. num(b.ss))
end

-- stale is authn.LockPolicy.Stale.
local function stale(b, now, horizon)
	return not (now < b.lu) and (b.lf == 0 or (now - b.lf) * 1000 >= horizon)
end

-- bucket returns the bucket an attempt of client counts in, and its
-- client (authn.HotStore.Attempt): the client's own; for a known client
-- without one, a new one after the stale buckets of known clients are
-- dropped, unless P.maxc live ones are left: then the shared bucket ''.
local function bucket(key, client, now, P)
	local v = redis.call('HGET', key, client)
	if v or client == '' then
		return parse_bucket(v), client
	end
	local all = redis.call('HGETALL', key)
	local live = 0
	for i = 1, #all, 2 do
		if all[i] ~= '' then
			if stale(parse_bucket(all[i + 1]), now, P.horizon) then
				redis.call('HDEL', key, all[i])
			else
				live = live + 1
			end
		end
	end
	if live >= P.maxc then
		return parse_bucket(redis.call('HGET', key, '')), ''
	end
	return parse_bucket(false), client
end

-- fail is authn.LockPolicy.Fail, to the letter: failures older than the
-- window are forgotten (the level stays); the long-horizon window starts
-- anew when unset or horizon old, and counts the failure too; at the
-- maximum the bucket is locked for the length the table gives for the
-- level (its last entry past its end: the Go side computed the table,
-- this only looks it up), the level rises and the failures stay at the
-- maximum; at the slow lock (if not 0) and beyond it is locked for Max.
-- It returns the lock's length in nanoseconds, or 0.
local function fail(u, now, P)
	if u.lf ~= 0 and (now - u.lf) * 1000 >= P.window then
		u.f = 0
	end
	if u.ss == 0 or (now - u.ss) * 1000 >= P.horizon then
		u.s, u.ss = 0, now
	end
	u.f = u.f + 1
	u.s = u.s + 1
	u.lf = now
	local d = 0
	if u.f >= P.maxf then
		d = P.lengths[u.l + 1] or P.lengths[#P.lengths]
		u.l = u.l + 1
		u.f = P.maxf
	end
	if P.slowlock > 0 and u.s >= P.slowlock then
		d = P.max
	end
	if d > 0 then
		u.lu = now + math.floor(d / 1000)
	end
	return d
end

-- reset clears a bucket's failures, level, lock and last failure (a
-- success); the long-horizon count stays.
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
