-- Epoch: raise the user's epoch mirror to the records' epoch after a
-- revocation or a replacement (RaiseEpoch). KEYS: user hash. ARGV: epoch.
return raise_epoch(KEYS[1], tonumber(ARGV[1]))
