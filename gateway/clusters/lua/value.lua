-- Add an account to a signal value's set (zset account -> last seen); flag hot values.
-- KEYS[1] = the observations base key (gateway.redis.keys.KeyBuilder.subsystem); suffixes:
--   :v:<signal>:<hash>    zset of accounts, TTL
--   :hot:<signal>:<hash>  hot flag, TTL
-- ARGV: signal, hash, account, now, limit, ttl
-- Returns {hot (0/1), newly_hot (0/1), new_member (0/1), others...}
local base = KEYS[1]
local value = ARGV[1] .. ':' .. ARGV[2]
local account, now = ARGV[3], tonumber(ARGV[4])
local limit, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local hot_key, set_key = base .. ':hot:' .. value, base .. ':v:' .. value
if redis.call('EXISTS', hot_key) == 1 then return {1, 0, 0} end
redis.call('ZREMRANGEBYSCORE', set_key, '-inf', '(' .. (now - ttl))
local new_member = redis.call('ZADD', set_key, now, account)
if redis.call('ZCARD', set_key) > limit then
  redis.call('SET', hot_key, '1', 'EX', math.ceil(ttl))
  redis.call('DEL', set_key)
  return {1, 1, new_member}
end
redis.call('EXPIRE', set_key, math.ceil(ttl))
local out = {0, 0, new_member}
for _, other in ipairs(redis.call('ZRANGE', set_key, 0, -1)) do
  if other ~= account then out[#out + 1] = other end
end
return out
