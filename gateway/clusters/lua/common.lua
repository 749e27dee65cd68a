-- Shared helpers of the cluster graph scripts (prepended to each script when loaded).
-- KEYS[1] is the graph base key built by gateway.redis.keys.KeyBuilder.subsystem; every
-- other key is the base plus a suffix, so all of them share its hash tag (one slot):
--   :r          hash account -> cluster id (members of non-trivial clusters only)
--   :m:<id>     set of a cluster's members
--   :adj:<acc>  set of an account's neighbours
--   :e:<pair>   hash of an edge: "@a", "@b" (its ends) and "signal:hash" -> "first,last,count"
--   :ev:<field> set of pairs carrying one evidence field
--   :age        zset pair -> newest last_seen of the edge's evidence
--   :nl:<pair>  "do not link" mark (with TTL)
local base = KEYS[1]

local function root_of(account)
  local r = redis.call('HGET', base .. ':r', account)
  if r then return r end
  return account
end

local function size_of(root)
  local n = redis.call('SCARD', base .. ':m:' .. root)
  if n == 0 then return 1 end
  return n
end

local function add_members(root, list)
  local chunk = {}
  for i = 1, #list do
    chunk[#chunk + 1] = list[i]
    if #chunk == 500 or i == #list then
      redis.call('SADD', base .. ':m:' .. root, unpack(chunk))
      chunk = {}
    end
  end
  for i = 1, #list do
    redis.call('HSET', base .. ':r', list[i], root)
  end
end
