-- acquire.lua: check a request's budgets and, when all enforced ones admit, consume them.
-- Mirrors gateway/budgets/arithmetic.py (same operations, same order, same rounding).
--
-- KEYS: n charge keys, then nl level keys, then nc clearance keys.
-- ARGV[1]: now ('' = server TIME); ARGV[2]: request id; ARGV[3]: a JSON array of numbers
--   n, nl, nc, throttle factor, commit (1|0), forced level (-1 = read the level keys),
--   forced cleared (1|0), then 6 per charge: code, limit, window, interval, cost, cell.
--   code = algorithm (0 bucket, 1 window, 2 concurrency, 3 novelty) + 4 * shadow
--          + 8 * throttleable; novelty passes its repeat cost in milli-units as cost and
--          its cell (-1 = none) as cell. (One string: cheap to encode; cjson reads it in a
--          third of the time string.gmatch takes.)
-- Returns {level, cleared, admitted, then 5 per charge: allowed, remaining, reset_after_us,
--          retry_after_us (-1 = never), novel (-1 = n/a, 0, 1)}.
local floor, fmt = math.floor, string.format
local INF, EPS = math.huge, 1e-6

-- now: from the prelude now.lua
local rid = ARGV[2]
local num = cjson.decode(ARGV[3])
local n, nl, nc, factor = num[1], num[2], num[3], num[4]
local commit = num[5] == 1

-- Every string this request reads, in one MGET: the level and clearance keys (unless the
-- level is forced) and the buckets' arrival times. The checks below write nothing, so a value
-- read first is the value each would have read in turn.
local wanted, w = {}, 0
if num[6] < 0 then -- values[1 .. nl + nc]
  for i = n + 1, n + nl + nc do
    w = w + 1
    wanted[w] = KEYS[i]
  end
end
local read = w -- the buckets' values follow, in the order of their charges
for i = 1, n do
  if num[7 + (i - 1) * 6 + 1] % 4 == 0 then -- kind bucket
    w = w + 1
    wanted[w] = KEYS[i]
  end
end
local values = {}
if w > 0 then values = redis.call('MGET', unpack(wanted, 1, w)) end

local level, cleared = 0, false
if num[6] >= 0 then
  level, cleared = num[6], num[7] == 1
else
  for i = 1, nl do
    local v = values[i]
    if v then
      local at, l = string.find(v, '@', 1, true), nil
      if at then
        local exp = tonumber(string.sub(v, at + 1))
        if exp == nil or exp > now then l = tonumber(string.sub(v, 1, at - 1)) end
      else
        l = tonumber(v)
      end
      if l and l > level then level = l end
    end
  end
  for i = nl + 1, nl + nc do
    local v = values[i]
    if v then
      local exp = nil
      if string.sub(v, 1, 1) == '@' then exp = tonumber(string.sub(v, 2)) end
      if exp == nil or exp > now then
        cleared = true
        break
      end
    end
  end
end
local throttled = level >= 1 and factor < 1
local admitted = level < 4 and (level < 3 or cleared)

local function units(left, step, limit)
  local u = floor(left / step + EPS)
  if u < 0 then return 0 elseif u > limit then return limit end
  return u
end

local function micros(x)
  if x == INF then return -1 end
  if x < 0 then x = 0 end
  return floor(x * 1000000 + 0.5)
end

local function window_check(sidx, used, cost, limit, window)
  local idx = floor(now / window)
  if sidx ~= idx then used = 0 end
  local reset = (idx + 1) * window - now
  local left = limit - used
  if left < 0 then left = 0 end
  if cost > limit then return 0, left, reset, INF, idx, used end
  if used + cost <= limit then return 1, limit - used - cost, reset, 0, idx, used + cost end
  return 0, left, reset, reset, idx, used
end

local out = {0, 0, 0}
local pend = {}
local stale = {} -- concurrency: the key holds expired leases
for i = 1, n do
  local a = 7 + (i - 1) * 6
  local code, limit, window, cost = num[a + 1], num[a + 2], num[a + 3], num[a + 5]
  local algo = code % 4
  local key = KEYS[i]
  local ok, rem, reset, retry, novel = 0, 0, 0, 0, -1
  local x, y = 0, 0
  if algo == 0 then -- kind bucket (code 0): gateway/budgets/bucket.py
    local interval = num[a + 4]
    local step = interval
    if throttled and code >= 8 then step = interval / factor end
    local tau = interval * limit
    read = read + 1
    local tat = tonumber(values[read] or '')
    local base = now
    if tat and tat >= now then base = tat end
    if cost > limit then
      rem, reset, retry = units(tau - (base - now), step, limit), base - now, INF
    else
      local inc = cost * step
      if inc > tau then inc = tau end
      local new = base + inc
      local wait = new - tau - now
      if wait > EPS then
        rem, reset, retry = units(tau - (base - now), step, limit), base - now, wait
      else
        ok, rem, reset, x = 1, units(tau - (new - now), step, limit), new - now, new
      end
    end
  elseif algo == 2 then -- kind concurrency (code 2): gateway/budgets/concurrency.py
    -- every lease, ascending by expiry: the expired ones (score <= now) first, then the live
    -- ones; the commit removes the expired ones only when there are some
    local all = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    local first = #all + 1 -- the first live lease's member
    for j = 2, #all, 2 do
      if tonumber(all[j]) > now then
        first = j - 1
        break
      end
    end
    local count = (#all + 1 - first) / 2
    local latest = 0
    if count > 0 then latest = tonumber(all[#all]) - now end
    local mine = false -- this request's own live lease (a retried acquire)
    for j = first, #all, 2 do
      if all[j] == rid then
        mine = true
        break
      end
    end
    stale[i] = first > 1
    if cost > limit then
      retry = INF
    elseif mine or count + 1 <= limit then
      ok, reset, x = 1, math.max(latest, window), count
      if mine then rem = math.max(limit - count, 0) else rem = limit - count - 1 end
    else
      reset, retry = latest, INF
      if count > 0 then retry = math.min(tonumber(all[first + 1]) - now, 1.0) end
    end
  else -- kind window (code 1): gateway/budgets/window.py
    local sidx, used, sparse, entries, exists
    cells() -- cells.lua
    if algo == 3 then -- kind novelty (code 3): gateway/budgets/novelty.py (a window in milli-units)
      sidx, used, sparse, entries, exists = novelty_read(key) -- cells.lua
      local cell = num[a + 6]
      local idx = floor(now / window)
      if cell >= 0 then
        novel = 1
        if sidx == idx and cell_seen(key, sparse, entries, cell) then novel = 0 end
      end
      if novel ~= 0 then cost = 1000 end
      limit = limit * 1000
    else
      sidx, used, exists = window_read(key) -- cells.lua
    end
    ok, rem, reset, retry, x, y = window_check(sidx, used, cost, limit, window)
    if algo == 3 then rem = floor(rem / 1000) end
    pend[i] = {sidx, x, y, sparse, entries, exists}
  end
  if ok == 1 then
    if pend[i] == nil then pend[i] = x end
  elseif code % 8 < 4 then
    admitted = false
  end
  local o = 3 + (i - 1) * 5
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] =
    ok, rem, micros(reset), micros(retry), novel
end
out[1], out[2] = level, cleared and 1 or 0
if admitted then out[3] = 1 end

if admitted and commit then
  for i = 1, n do
    if out[3 + (i - 1) * 5 + 1] == 1 then
      local a = 7 + (i - 1) * 6
      local code, window = num[a + 1], num[a + 3]
      local algo = code % 4
      local key = KEYS[i]
      local p = pend[i]
      if algo == 0 then -- kind bucket
        if p > now then
          redis.call('SET', key, fmt('%.17g', p), 'PX', math.ceil((p - now) * 1000))
        end
      elseif algo == 2 then -- kind concurrency
        if stale[i] then redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt('%.17g', now)) end
        redis.call('ZADD', key, fmt('%.17g', now + window), rid)
        local ms = math.ceil(window * 1000)
        if p > 0 then -- live leases: the key has a TTL (every writer sets one), kept if later
          redis.call('PEXPIRE', key, ms, 'GT')
        else -- none: there was no key, or the ZREMRANGEBYSCORE left none; the ZADD made it
          redis.call('PEXPIRE', key, ms)
        end
      else -- kind window
        local sidx, idx, used = p[1], p[2], p[3]
        -- the TTL ends with the window: set when the key (re)starts, kept while it counts on
        local expire = sidx ~= idx or not p[6]
        if algo == 3 then -- kind novelty: a new window's key starts sparse and empty
          local sparse, entries = p[4], p[5]
          if sidx ~= idx then
            redis.call('DEL', key)
            sparse, entries = true, ''
          end
          local cell = num[a + 6]
          if out[3 + (i - 1) * 5 + 5] ~= 1 then cell = -1 end -- a repeat adds nothing
          if cell_add(key, sparse, entries, cell, idx, used) then expire = true end -- cells.lua
        else
          header_write(key, idx, used) -- cells.lua
        end
        if expire then window_expire(key, idx, window) end -- cells.lua
      end
    end
  end
end
return out
