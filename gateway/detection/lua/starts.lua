-- Record an episode start of one account (gateway/detection/coactivity.py has the rule).
-- KEYS[1]: the account's episodes (co:starts): ONE string, its last request time first
-- (episode.lua: LAST_MARK and the double), then its episode starts, compact, in order
-- (times.lua). Earlier layouts still read: the starts without the last time before them (it
-- was in KEYS[2], co:last, moved in here and dropped), and before that a sorted set (GET,
-- then ZRANGE when GET finds the sorted set; SET).
-- ARGV: now, cutoff (now - horizon), ttl (seconds). The starts before the cutoff go, `now`
-- is added unless already there (a start recorded twice is one), in time order whatever
-- order the workers' starts arrive in.
local now, cutoff = tonumber(ARGV[1]), tonumber(ARGV[2])
local starts = {}
local head = nil -- LAST_MARK and the last request time, as stored
local packed = redis.pcall('GET', KEYS[1])
if type(packed) == 'table' and packed.err then -- a sorted set (the earlier layout): its
  -- members are the times' repr, which tonumber reads back exactly
  for i, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do starts[i] = tonumber(member) end
  packed = ''
else
  packed = packed or ''
  if string.byte(packed, 1) == LAST_MARK then
    head = string.sub(packed, 1, 9)
    packed = string.sub(packed, 10)
  end
  local prefix, width, pos = compact_header(packed)
  while prefix ~= nil and pos <= #packed do
    starts[#starts + 1] = struct.unpack('>d', prefix .. string.sub(packed, pos, pos + width - 1))
    pos = pos + width
  end
end
if head == nil then -- the last request time in a key of its own (the earlier layout)
  local last = tonumber(redis.call('GET', KEYS[2]))
  if last then
    head = with_last(last, '')
    redis.call('DEL', KEYS[2])
  end
end
local kept, known = {}, false
for _, t in ipairs(starts) do
  if t >= cutoff then kept[#kept + 1] = t end
  if t == now then known = true end
end
if not known then kept[#kept + 1] = now end
table.sort(kept)
local raw, shared, header = pack_header({ kept })
local parts = { head or '', header }
for _, b in ipairs(raw[1]) do parts[#parts + 1] = string.sub(b, shared + 1) end
redis.call('SET', KEYS[1], table.concat(parts), 'EX', ARGV[3])
return 1
