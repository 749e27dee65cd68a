-- level.lua: set a detection level with a TTL; 0 deletes it.
-- The value is "<level>@<expiry>" so that a caller's injected clock can expire it too
-- (acquire.lua also accepts a bare integer). KEYS: the level key.
-- ARGV: now ('' = server TIME), level, ttl seconds.
-- now: from the prelude now.lua
local level, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
if level <= 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
local value = string.format('%d@%.17g', level, now + ttl)
redis.call('SET', KEYS[1], value, 'PX', math.max(1, math.ceil(ttl * 1000)))
return 1
