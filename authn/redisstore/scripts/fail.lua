-- RecordFailure: one failure outside an attempt.
-- KEYS: user hash. ARGV: now, max failures, base, max, window.
-- Reply: {failures, level, locked until, last failure, epoch}.
local u = user(KEYS[1])
fail(u, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
save(KEYS[1], u)
return {u.f, u.l, u.lu, u.lf, u.e}
