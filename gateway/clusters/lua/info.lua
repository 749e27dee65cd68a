-- An account's cluster id and size; ARGV[1] the account, ARGV[2] soft_max (0: no standing),
-- ARGV[3..] the strong signals (hard ones and an operator's "manual").
-- Returns {cluster id, size, soft}: soft is 1 when the cluster has 2..soft_max members and
-- no edge inside it carries a strong signal (read here, in the same call), else 0.
local r = redis.call('HGET', base .. ':r', ARGV[1]) or ARGV[1]
local size = size_of(r)
local soft_max = tonumber(ARGV[2])
if size < 2 or size > soft_max then
  return {r, size, 0}
end
local strong = {}
for i = 3, #ARGV do
  strong[ARGV[i]] = true
end
-- an edge's evidence fields are "signal:hash" (the hash holds no ':'); "@a"/"@b" its ends
for _, member in ipairs(redis.call('SMEMBERS', base .. ':m:' .. r)) do
  for _, other in ipairs(redis.call('SMEMBERS', base .. ':adj:' .. member)) do
    if member < other then
      for _, field in ipairs(redis.call('HKEYS', base .. ':e:' .. member .. '|' .. other)) do
        local signal = string.match(field, '^(.*):[^:]*$')
        if signal and strong[signal] then
          return {r, size, 0}
        end
      end
    end
  end
end
return {r, size, 1}
