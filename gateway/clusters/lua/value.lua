-- Add an account to a signal value's set (zset account -> last seen); flag hot values.
-- KEYS[1] = the observations base key (gateway.redis.keys.KeyBuilder.subsystem); suffixes:
--   :v:<signal>:<hash>    zset of accounts, TTL
--   :hot:<signal>:<hash>  hot flag (the sighting that made it hot, or '1'), TTL
-- ARGV: signal, hash, account, now, limit, ttl, sighting id ('': none)
-- Returns {hot (0/1), newly_hot (0/1), new_member (0/1), others...}; the sighting that made
-- the value hot, delivered again, finds it newly hot again (its report may have been lost).
local base = KEYS[1]
local value = ARGV[1] .. ':' .. ARGV[2]
local account, now = ARGV[3], tonumber(ARGV[4])
local limit, ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local sighting = ARGV[7] or ''
local hot_key, set_key = base .. ':hot:' .. value, base .. ':v:' .. value
local flag = redis.call('GET', hot_key)
if flag then
  if sighting ~= '' and flag == sighting then return {1, 1, 0} end
  return {1, 0, 0}
end
redis.call('ZREMRANGEBYSCORE', set_key, '-inf', '(' .. (now - ttl))
local new_member = redis.call('ZADD', set_key, now, account)
if redis.call('ZCARD', set_key) > limit then
  if sighting == '' then sighting = '1' end
  redis.call('SET', hot_key, sighting, 'EX', math.ceil(ttl))
  redis.call('DEL', set_key)
  return {1, 1, new_member}
end
redis.call('EXPIRE', set_key, math.ceil(ttl))
local out = {0, 0, new_member}
for _, other in ipairs(redis.call('ZRANGE', set_key, 0, -1)) do
  if other ~= account then out[#out + 1] = other end
end
return out
