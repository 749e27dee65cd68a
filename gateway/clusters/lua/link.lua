-- Add or refresh the edge a-b with evidence; merge the two clusters if needed. Evidence no
-- newer than the last recorded for its field adds no count (graph_memory.merge_evidence).
-- ARGV: a, b, pair, max_size, manual (0/1), now, then per evidence: field, first, last, count.
-- Returns {status, cluster_id, size}.
local a, b, pair = ARGV[1], ARGV[2], ARGV[3]
local max_size = tonumber(ARGV[4])
local manual = ARGV[5] == '1'
local ra, rb = root_of(a), root_of(b)
local sa, sb = size_of(ra), size_of(rb)
if a == b then return {'self', ra, sa} end
if manual then
  redis.call('DEL', base .. ':nl:' .. pair)
elseif redis.call('EXISTS', base .. ':nl:' .. pair) == 1 then
  return {'do_not_link', ra, sa}
end
if ra ~= rb and sa + sb > max_size then return {'too_large', ra, sa, sa + sb} end

local ekey = base .. ':e:' .. pair
local existed = redis.call('EXISTS', ekey) == 1
local newest = 0
for i = 7, #ARGV, 4 do
  local field = ARGV[i]
  local first, last, count = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local old = redis.call('HGET', ekey, field)
  if old then
    local f0, l0, c0 = string.match(old, '^([^,]+),([^,]+),([^,]+)$')
    if last <= tonumber(l0) then
      count = 0  -- no newer than the last recorded: a redelivered sighting
    end
    first = math.min(first, tonumber(f0))
    last = math.max(last, tonumber(l0))
    count = count + tonumber(c0)
  end
  redis.call('HSET', ekey, field, string.format('%.17g,%.17g,%d', first, last, count))
  redis.call('SADD', base .. ':ev:' .. field, pair)
  if last > newest then newest = last end
end
redis.call('HSET', ekey, '@a', a, '@b', b)
redis.call('ZADD', base .. ':age', 'GT', newest, pair)
redis.call('SADD', base .. ':adj:' .. a, b)
redis.call('SADD', base .. ':adj:' .. b, a)
if ra == rb then
  if existed then return {'refreshed', ra, sa} end
  return {'edge', ra, sa}
end
local keep, drop = ra, rb
if sb > sa then keep, drop = rb, ra end
local moving = redis.call('SMEMBERS', base .. ':m:' .. drop)
if #moving == 0 then moving = {drop} end
redis.call('DEL', base .. ':m:' .. drop)
if redis.call('EXISTS', base .. ':m:' .. keep) == 0 then add_members(keep, {keep}) end
add_members(keep, moving)
return {'merged', keep, sa + sb}
