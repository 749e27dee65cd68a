-- One shard's read for a consumer of the detect group, counting what was trimmed unread.
-- KEYS[1] the shard's stream, KEYS[2] its counter of entries trimmed before any read;
-- ARGV[1] group, ARGV[2] consumer, ARGV[3] count.
-- Returns {entries, length, trimmed}: the entries delivered (XREADGROUP ... >), the stream's
-- length and the running total of entries trimmed before the group read them.
--
-- Trimming (MAXLEN ~ on append, MINID after acknowledgement) only removes the oldest
-- entries. When the group's last delivered entry is older than the stream's first, every
-- entry it was delivered is gone, so the entries removed so far (added - length) are those it
-- read (its entries-read) plus those it never saw: their difference is added to the counter,
-- and the group's entries-read is set to the entries removed (as newer Redis versions
-- estimate it themselves at this read; every version then counts on from the same value).
local function older(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-(%d+)$')
  a_ms, b_ms = tonumber(a_ms), tonumber(b_ms)
  return a_ms < b_ms or (a_ms == b_ms and tonumber(a_seq) < tonumber(b_seq))
end

local function fields(flat)
  local out = {}
  for i = 1, #flat, 2 do
    out[flat[i]] = flat[i + 1]
  end
  return out
end

local stream = fields(redis.call('XINFO', 'STREAM', KEYS[1]))
local group = nil
for _, found in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local g = fields(found)
  if g['name'] == ARGV[1] then
    group = g
  end
end
if group and group['entries-read'] then
  local removed = tonumber(stream['entries-added']) - tonumber(stream['length'])
  local first = stream['first-entry'] and stream['first-entry'][1]
  local gap = (not first) or older(group['last-delivered-id'], first)
  local unread = removed - tonumber(group['entries-read'])
  if gap and unread > 0 then
    redis.call('INCRBY', KEYS[2], unread)
    redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], group['last-delivered-id'],
               'ENTRIESREAD', removed)
  end
end
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[3]),
                         'STREAMS', KEYS[1], '>')
local entries = {}
if reply then
  entries = reply[1][2]
end
-- a read changes no stream's length: XINFO STREAM's, from above
return {entries, tonumber(stream['length']), tonumber(redis.call('GET', KEYS[2]) or '0')}
