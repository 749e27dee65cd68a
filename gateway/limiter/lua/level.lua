-- level.lua: set a detection level with a TTL; 0 deletes it. Returns the level the key held
-- just before (0: none, or expired by `now`), read and replaced in one step, so that of two
-- writers raising the same key only one sees the old level.
-- The value is "<level>@<expiry>" so that a caller's injected clock can expire it too
-- (acquire.lua also accepts a bare integer). KEYS: the level key.
-- ARGV: now ('' = server TIME), level, ttl seconds.
-- now: from the prelude now.lua
local level, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local old
if level <= 0 then
  old = redis.call('GET', KEYS[1])
  redis.call('DEL', KEYS[1])
else
  local value = string.format('%d@%.17g', level, now + ttl)
  old = redis.call('SET', KEYS[1], value, 'PX', math.max(1, math.ceil(ttl * 1000)), 'GET')
end
if not old then return 0 end
local at = string.find(old, '@', 1, true)
if at == nil then return tonumber(old) or 0 end
local expiry = tonumber(string.sub(old, at + 1))
if expiry ~= nil and expiry <= now then return 0 end
return tonumber(string.sub(old, 1, at - 1)) or 0
