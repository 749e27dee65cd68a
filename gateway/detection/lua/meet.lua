-- Record meetings of one account at `now` (gateway/detection/coactivity.py has the rule).
-- KEYS[1]: the account's meetings, a hash partner -> its meeting times (big-endian doubles,
-- 8 bytes each). ARGV: now, cutoff (now - horizon), ttl (seconds), max partners, partners...
-- Per partner, in order: its times before the cutoff go, `now` is added unless already there
-- (a meeting recorded twice is one); when that makes more than max partners, the partners
-- with no time left go, then the weakest (fewest times, oldest latest time, smallest name,
-- compared bytewise) until max remain.
local key = KEYS[1]
local now, cutoff = tonumber(ARGV[1]), tonumber(ARGV[2])
local most = tonumber(ARGV[4])

local function times_of(packed, out)
  out = out or {}
  for at = 1, #(packed or ''), 8 do
    local t = struct.unpack('>d', packed, at)
    if t >= cutoff then out[#out + 1] = t end
  end
  return out
end
local function pack(times)
  local parts = {}
  for i, t in ipairs(times) do parts[i] = struct.pack('>d', t) end
  return table.concat(parts)
end
local function bytewise_less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local function weaker(a, b)  -- {name, count, latest}
  if a[2] ~= b[2] then return a[2] < b[2] end
  if a[3] ~= b[3] then return a[3] < b[3] end
  return bytewise_less(a[1], b[1])
end

local function shrink()
  local flat = redis.call('HGETALL', key)
  local kept, gone = {}, {}
  for i = 1, #flat, 2 do
    local times = times_of(flat[i + 1])
    if #times == 0 then
      gone[#gone + 1] = flat[i]
    else
      local latest = times[1]
      for _, t in ipairs(times) do if t > latest then latest = t end end
      kept[#kept + 1] = { flat[i], #times, latest }
      if #times * 8 < #flat[i + 1] then redis.call('HSET', key, flat[i], pack(times)) end
    end
  end
  if #kept > most then
    table.sort(kept, weaker)
    for i = 1, #kept - most do gone[#gone + 1] = kept[i][1] end
  end
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
end

for i = 5, #ARGV do
  local partner = ARGV[i]
  local times = times_of(redis.call('HGET', key, partner))
  local known = false
  for _, t in ipairs(times) do if t == now then known = true end end
  if not known then times[#times + 1] = now end
  local added = redis.call('HSET', key, partner, pack(times))
  if added == 1 and redis.call('HLEN', key) > most then shrink() end
end
redis.call('EXPIRE', key, ARGV[3])
return 1
