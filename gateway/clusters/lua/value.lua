-- Add an account to a signal value's set (zset account -> last seen); flag hot values.
-- KEYS[1] = the value's base key (gateway.redis.keys.KeyBuilder.cluster_value: its own
-- slot, so the values spread over a Redis Cluster); suffixes:
--   :v    zset of accounts, TTL
--   :hot  hot flag (the sighting that made it hot, or '1'), TTL
-- ARGV: account, now, limit, ttl, sighting id ('': none)
-- Returns {hot (0/1), newly_hot (0/1), new_member (0/1), others...}; the sighting that made
-- the value hot, delivered again, finds it newly hot again (its report, and the copy of the
-- flag that pair.lua reads, may have been lost).
local base = KEYS[1]
local account, now = ARGV[1], tonumber(ARGV[2])
local limit, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local sighting = ARGV[5] or ''
local hot_key, set_key = base .. ':hot', base .. ':v'
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
