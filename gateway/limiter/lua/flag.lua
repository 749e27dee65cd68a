-- flag.lua: set a flag unless a live one exists (SET NX with a TTL, also honouring an
-- injected clock). The value is "@<expiry>". KEYS: the flag key.
-- ARGV: now ('' = server TIME), ttl seconds. Returns 1 when set, 0 when it already existed.
-- now: from the prelude now.lua
local ttl = tonumber(ARGV[2])
local v = redis.call('GET', KEYS[1])
if v then
  local exp = nil
  if string.sub(v, 1, 1) == '@' then exp = tonumber(string.sub(v, 2)) end
  if exp == nil or exp > now then return 0 end
end
redis.call('SET', KEYS[1], string.format('@%.17g', now + ttl), 'PX', math.max(1, math.ceil(ttl * 1000)))
return 1
