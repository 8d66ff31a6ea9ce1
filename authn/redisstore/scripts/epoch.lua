-- Epoch: raise the user's epoch mirror to the durable epoch after a
-- revocation or a replacement. KEYS: user hash. ARGV: epoch.
local u = user(KEYS[1])
local e = tonumber(ARGV[1])
if e > u.e then
	u.e = e
	save(KEYS[1], u)
end
return u.e
