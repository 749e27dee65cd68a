-- settle.lua: after responses, apply token adjustments and release concurrency slots, for
-- one or several requests (a batch of settlements is one script run). Also undoes committed
-- charges (cluster compensation). Mirrors gateway/budgets/arithmetic.py.
--
-- KEYS: per settlement, its n adjusted keys, then its m concurrency keys to release.
-- ARGV: now ('' = server TIME), the number of settlements, then per settlement: request id,
--       n, m, then 4 per adjustment: algorithm (0 bucket, 1 window, 3 novelty), step
--       (bucket: seconds per unit; window and novelty: the window), delta (novelty:
--       milli-units), cell (novelty: the bit to clear, or -1).
local fmt = string.format
-- now: from the prelude now.lua

-- The buckets' values (key -> string, false: none), read in one MGET before the first
-- adjustment and kept as the adjustments write them: what a GET would read at each.
local tats = {}

local function adjust(key, algo, step, delta, cell)
  if algo == 0 then -- kind bucket (code 0)
    local tat = tonumber(tats[key] or '')
    local base = now
    if tat and tat >= now then base = tat end
    local new = base + delta * step
    if delta < 0 and new < now then new = now end
    if new > now then
      local value = fmt('%.17g', new)
      redis.call('SET', key, value, 'PX', math.ceil((new - now) * 1000))
      tats[key] = value
    elseif tats[key] then -- a value to drop (none: nothing to write)
      redis.call('DEL', key)
      tats[key] = false
    end
  else -- kind window (code 1), and novelty (code 3) where marked
    local idx = math.floor(now / step)
    local sidx, was, sparse, entries, exists
    cells() -- cells.lua
    if algo == 3 then -- kind novelty: its header and cells as cells.lua stores them
      sidx, was, sparse, entries, exists = novelty_read(key)
    else
      sidx, was, exists = window_read(key)
    end
    local used
    if sidx == idx then used = math.max(0, was + delta) else used = math.max(0, delta) end
    if algo == 3 and sidx ~= idx then -- kind novelty
      used = nil -- a past window's undo: nothing to do
    end
    if used then
      local expire = sidx ~= idx or not exists -- the TTL ends with the window (acquire.lua)
      if algo == 3 then
        if cell_remove(key, sparse, entries, cell, idx, used) then expire = true end -- cells.lua
      else
        header_write(key, idx, used) -- cells.lua
      end
      if expire then window_expire(key, idx, step) end -- cells.lua
    end
  end
end

local buckets = {}
do
  local k, a = 0, 2
  for _ = 1, tonumber(ARGV[2]) do
    local n, m = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    a = a + 3
    for _ = 1, n do
      k = k + 1
      if tonumber(ARGV[a + 1]) == 0 and tats[KEYS[k]] == nil then
        tats[KEYS[k]] = false
        buckets[#buckets + 1] = KEYS[k]
      end
      a = a + 4
    end
    k = k + m
  end
end
if #buckets > 0 then
  local values = redis.call('MGET', unpack(buckets))
  for i, key in ipairs(buckets) do tats[key] = values[i] end
end

local k, a = 0, 2
for _ = 1, tonumber(ARGV[2]) do
  local rid, n, m = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  a = a + 3
  for _ = 1, n do
    k = k + 1
    adjust(KEYS[k], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]),
      tonumber(ARGV[a + 4]))
    a = a + 4
  end
  for _ = 1, m do
    k = k + 1
    redis.call('ZREM', KEYS[k], rid)
  end
end
return 1
