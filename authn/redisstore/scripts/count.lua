-- Count: the first half of a TOTP or recovery-code attempt: if the user
-- is locked nothing happens; otherwise one failure is counted.
-- KEYS: user hash. ARGV: now, max failures, window, then the lock lengths
-- by level (authn.LockPolicy.Lengths).
-- Reply: {locked (0/1), failures, retry after or lock length (ns)}.
local now = tonumber(ARGV[1])
local u = user(KEYS[1])
if now < u.lu then
	return {1, u.f, (u.lu - now) * 1000}
end
local lock = fail(u, now, tonumber(ARGV[2]), tonumber(ARGV[3]), locks(4))
save(KEYS[1], u)
return {0, u.f, lock}
