-- Record meetings of one account at `now` (gateway/detection/coactivity.py has the rule).
-- KEYS[1]: the account's meetings, ONE string (one string has no per-field overhead and never
-- changes encoding: a hash turned into a 12-16 KB hashtable past 128 fields or a 64-byte
-- value), compact (times.lua): the header of all its times, then one record per partner, in
-- the order they were first met: varint name length, the name, varint number of times, then
-- its meeting times. The earlier layout (>H name length, the name, >H number of times,
-- 8-byte doubles; its first byte is below 0xF0 for any name shorter than 61,440 bytes) is
-- still read, and rewritten compact by the next meeting.
-- ARGV: one or more meetings, in order, each: now, cutoff (now - horizon), ttl (seconds),
-- max partners, number of partners P, then the P partners. The key is parsed and written
-- once per call: exactly the effect of one call per meeting, in order (the last one's ttl).
-- Per partner, in order: its times before the cutoff go, `now` is added unless already there
-- (a meeting recorded twice is one); when that makes more than max partners, the partners
-- with no time left go, then the weakest (fewest times, oldest latest time, smallest name,
-- compared bytewise) until max remain.
local key = KEYS[1]
local now, cutoff, most, ttl -- of the meeting being recorded

local names, times = {}, {} -- names in record order; name -> its times (once decoded)
-- A compact key's partners are decoded only when met or when shrink() needs them all: the
-- others keep their stored times, `blocks[name]` (their bytes after the shared prefix) and
-- `counts[name]`, written back as they were when the shared prefix stays the same (below).
local blocks, counts = {}, {}
local packed = redis.call('GET', key) or ''
local pos = 1
local prefix, width, body = compact_header(packed)
local function decode(name)
  local block, list = blocks[name], {}
  for i = 1, counts[name] do
    local at = (i - 1) * width + 1
    list[i] = struct.unpack('>d', prefix .. string.sub(block, at, at + width - 1))
  end
  blocks[name] = nil
  return list
end
if prefix ~= nil then
  pos = body
  while pos <= #packed do
    local n, count
    n, pos = read_varint(packed, pos)
    local name = string.sub(packed, pos, pos + n - 1)
    count, pos = read_varint(packed, pos + n)
    blocks[name], counts[name] = string.sub(packed, pos, pos + count * width - 1), count
    pos = pos + count * width
    names[#names + 1] = name
  end
else -- the earlier layout
  while pos <= #packed do
    local n, count, t
    n, pos = struct.unpack('>H', packed, pos)
    local name = string.sub(packed, pos, pos + n - 1)
    pos = pos + n
    count, pos = struct.unpack('>H', packed, pos)
    local list = {}
    for i = 1, count do
      t, pos = struct.unpack('>d', packed, pos)
      list[i] = t
    end
    names[#names + 1] = name
    times[name] = list
  end
end

local function recent(list)
  local out = {}
  for _, t in ipairs(list) do if t >= cutoff then out[#out + 1] = t end end
  return out
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
  for _, name in ipairs(names) do
    if blocks[name] then times[name] = decode(name) end
  end
  local kept, gone = {}, {}
  for _, name in ipairs(names) do
    local list = recent(times[name])
    times[name] = list
    if #list == 0 then
      gone[name] = true
    else
      local latest = list[1]
      for _, t in ipairs(list) do if t > latest then latest = t end end
      kept[#kept + 1] = { name, #list, latest }
    end
  end
  if #kept > most then
    table.sort(kept, weaker)
    for i = 1, #kept - most do gone[kept[i][1]] = true end
  end
  local left = {}
  for _, name in ipairs(names) do
    if gone[name] then times[name] = nil else left[#left + 1] = name end
  end
  names = left
end

local at = 1
while at <= #ARGV do
  now, cutoff = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
  ttl, most = ARGV[at + 2], tonumber(ARGV[at + 3])
  local first = at + 5
  at = first + tonumber(ARGV[at + 4])
  for i = first, at - 1 do
    local partner = ARGV[i]
    local old = times[partner]
    if old == nil and blocks[partner] then old = decode(partner) end
    local list = recent(old or {})
    local known = false
    for _, t in ipairs(list) do if t == now then known = true end end
    if not known then list[#list + 1] = now end
    times[partner] = list
    if old == nil then
      names[#names + 1] = partner
      if #names > most then shrink() end
    end
  end
end

-- The times' shared prefix stays the stored one (`prefix`, `8 - width` bytes) when every
-- decoded time starts with it and some time differs from the others in the byte after it
-- (or it is 7 bytes, the most): then a partner not decoded is written back as it was read.
-- Otherwise every time is packed anew (pack_header), as when all were decoded.
local kept = prefix ~= nil and next(blocks) ~= nil
local lists, bytes = {}, {}
local p = prefix and #prefix or 0
local differs = p == 7
local ref = nil -- the byte after the prefix of one time
for i, name in ipairs(names) do
  local list = times[name]
  if list then
    local raw = {}
    for j, t in ipairs(list) do
      local b = struct.pack('>d', t)
      raw[j] = b
      if kept and string.sub(b, 1, p) ~= prefix then kept = false end
      if not differs then
        local x = string.byte(b, p + 1)
        if ref == nil then ref = x elseif x ~= ref then differs = true end
      end
    end
    bytes[i] = raw
    lists[i] = list
  end
end
if kept and not differs then
  for _, name in ipairs(names) do
    local block = blocks[name]
    if block and not differs then
      for at = 1, #block, width do
        local x = string.byte(block, at)
        if ref == nil then ref = x elseif x ~= ref then
          differs = true
          break
        end
      end
    end
  end
end
local parts
if kept and differs then
  parts = { compact_prefix(prefix) }
  for i, name in ipairs(names) do
    local block = blocks[name]
    if block then
      parts[#parts + 1] = varint(#name) .. name .. varint(counts[name]) .. block
    else
      parts[#parts + 1] = varint(#name) .. name .. varint(#bytes[i])
      for _, b in ipairs(bytes[i]) do parts[#parts + 1] = string.sub(b, p + 1) end
    end
  end
else
  for i, name in ipairs(names) do
    if blocks[name] then lists[i] = decode(name) end
  end
  local raw, shared, header = pack_header(lists)
  parts = { header }
  for i, name in ipairs(names) do
    parts[#parts + 1] = varint(#name) .. name .. varint(#raw[i])
    for _, b in ipairs(raw[i]) do parts[#parts + 1] = string.sub(b, shared + 1) end
  end
end
redis.call('SET', key, table.concat(parts), 'EX', ttl)
return 1
