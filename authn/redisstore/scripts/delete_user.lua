-- DeleteUser: every hot record of the user.
-- KEYS: user hash, challenge hash, challenge index, questions, issues,
-- push hash, push index.
-- Reply: the user's push IDs (their ID pointers live elsewhere).
local ids = redis.call('ZRANGE', KEYS[7], 0, -1)
redis.call('DEL', unpack(KEYS))
return ids
