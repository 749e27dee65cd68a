-- Drop a shard's entries that the group has read and acknowledged (they are never needed
-- again), keeping every entry not yet delivered and every pending one.
-- KEYS[1] the shard's stream; ARGV[1] group. Returns the number of entries removed.
-- Everything below min(oldest pending id, last delivered id) is delivered and acknowledged.
local last = nil
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, delivered
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'last-delivered-id' then delivered = group[i + 1] end
  end
  if name == ARGV[1] then
    last = delivered
  end
end
if not last then
  return 0
end
local keep_from = last
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
if tonumber(pending[1]) > 0 then
  keep_from = pending[2]
end
return redis.call('XTRIM', KEYS[1], 'MINID', keep_from)
