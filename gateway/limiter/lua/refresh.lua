-- refresh.lua: extend the concurrency leases of requests still in flight (long streams).
-- KEYS: concurrency keys. ARGV: now ('' = server TIME), ttl seconds, then per key: the number
-- of request ids followed by the ids. Expired or released leases are not revived.
local fmt = string.format
-- now: from the prelude now.lua
local ttl = tonumber(ARGV[2])
local ms = math.max(1, math.ceil(ttl * 1000))
local expiry = fmt('%.17g', now + ttl)
local a = 3
for i = 1, #KEYS do
  local key, count = KEYS[i], tonumber(ARGV[a])
  for j = a + 1, a + count do
    local score = tonumber(redis.call('ZSCORE', key, ARGV[j]) or '')
    if score and score > now then redis.call('ZADD', key, 'XX', expiry, ARGV[j]) end
  end
  a = a + count + 1
  local pttl = redis.call('PTTL', key)
  if pttl ~= -2 and pttl < ms then redis.call('PEXPIRE', key, ms) end
end
return 1
