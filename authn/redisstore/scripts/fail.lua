-- RecordFailure: one failure outside an attempt.
-- KEYS: user hash. ARGV: now, max failures, window, then the lock lengths
-- by level (authn.LockPolicy.Lengths).
-- Reply: {failures, level, locked until, last failure, epoch}.
local u = user(KEYS[1])
fail(u, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), locks(4))
save(KEYS[1], u)
return {u.f, u.l, u.lu, u.lf, u.e}
