-- Remove edges and recompute the components of every affected cluster.
-- ARGV[1] mode:
--   'pairs' ARGV[2] = do-not-link TTL in seconds (0: none), ARGV[3..] pairs: whole edges
--   'field' ARGV[2] = evidence field: remove it from every edge carrying it; ARGV[3] = '1':
--           remove those edges whole (a soft link stood on the combination of its signals)
--   'prune' ARGV[2] = cutoff, ARGV[3] = most edges to examine
-- Returns {edges removed, cluster ids of the recomputed components...}.
local mode = ARGV[1]
local affected = {}
local removed = 0

local function drop_edge(pair)
  local ekey = base .. ':e:' .. pair
  local a = redis.call('HGET', ekey, '@a')
  local b = redis.call('HGET', ekey, '@b')
  if not a or not b then
    redis.call('ZREM', base .. ':age', pair)
    return
  end
  for _, field in ipairs(redis.call('HKEYS', ekey)) do
    if string.sub(field, 1, 1) ~= '@' then
      redis.call('SREM', base .. ':ev:' .. field, pair)
    end
  end
  redis.call('DEL', ekey)
  redis.call('ZREM', base .. ':age', pair)
  redis.call('SREM', base .. ':adj:' .. a, b)
  redis.call('SREM', base .. ':adj:' .. b, a)
  affected[root_of(a)] = true
  removed = removed + 1
end

if mode == 'pairs' then
  local ttl = tonumber(ARGV[2])
  for i = 3, #ARGV do
    if ttl > 0 then redis.call('SET', base .. ':nl:' .. ARGV[i], '1', 'EX', math.ceil(ttl)) end
    drop_edge(ARGV[i])
  end
elseif mode == 'field' then
  local field = ARGV[2]
  for _, pair in ipairs(redis.call('SMEMBERS', base .. ':ev:' .. field)) do
    local ekey = base .. ':e:' .. pair
    redis.call('HDEL', ekey, field)
    if ARGV[3] == '1' or redis.call('HLEN', ekey) <= 2 then drop_edge(pair) end
  end
  redis.call('DEL', base .. ':ev:' .. field)
elseif mode == 'prune' then
  local stale = redis.call('ZRANGEBYSCORE', base .. ':age', '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
  for _, pair in ipairs(stale) do drop_edge(pair) end
end

local out = {removed}
for root, _ in pairs(affected) do
  local mkey = base .. ':m:' .. root
  local members = redis.call('SMEMBERS', mkey)
  redis.call('DEL', mkey)
  table.sort(members)
  local seen = {}
  local order = {root}
  for _, m in ipairs(members) do if m ~= root then order[#order + 1] = m end end
  for _, start in ipairs(order) do
    if not seen[start] then
      seen[start] = true
      local comp = {start}
      local i = 1
      local smallest = start
      while i <= #comp do
        for _, nb in ipairs(redis.call('SMEMBERS', base .. ':adj:' .. comp[i])) do
          if not seen[nb] then
            seen[nb] = true
            comp[#comp + 1] = nb
            if nb < smallest then smallest = nb end
          end
        end
        i = i + 1
      end
      local id = smallest
      if start == root then id = root end
      if #comp == 1 then
        redis.call('HDEL', base .. ':r', start)
      else
        add_members(id, comp)
      end
      out[#out + 1] = id
    end
  end
end
return out
