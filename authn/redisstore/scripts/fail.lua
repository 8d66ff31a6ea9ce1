-- RecordFailure: one failure outside an attempt, in the client's bucket.
-- KEYS: locks hash. ARGV: now, client, then the policy (see policy in
-- lib.lua).
-- Reply: {failures, level, locked until, last failure, long-horizon
-- count, its window's start}.
local now = tonumber(ARGV[1])
local u, client = bucket(KEYS[1], ARGV[2], now, policy(3))
fail(u, now, policy(3))
save_bucket(KEYS[1], client, u)
return {u.f, u.l, u.lu, u.lf, u.s, u.ss}
