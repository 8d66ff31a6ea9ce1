-- Count: the first half of a TOTP or recovery-code attempt: if the
-- client's bucket is locked nothing happens; otherwise one failure is
-- counted there.
-- KEYS: locks hash. ARGV: now, client, then the policy (see policy in
-- lib.lua).
-- Reply: {locked (0/1), failures, retry after or lock length (ns),
-- long-horizon count, bucket's client}.
local now = tonumber(ARGV[1])
local P = policy(3)
local u, client = bucket(KEYS[1], ARGV[2], now, P)
if now < u.lu then
	return {1, u.f, (u.lu - now) * 1000, u.s, client}
end
local lock = fail(u, now, P)
save_bucket(KEYS[1], client, u)
return {0, u.f, lock, u.s, client}
