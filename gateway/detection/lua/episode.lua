-- Do an account's requests start episodes? (gateway/detection/coactivity.py)
-- KEYS[1]: the account's episodes (co:starts): ONE string, its last request time first (a
-- header byte LAST_MARK and the big-endian double), then its episode starts (starts.lua,
-- times.lua's compact layout; none yet: nothing). KEYS[2]: co:last, where the earlier layout
-- kept the last request time in a key of its own (~120 bytes a key for 8 of value): read
-- when KEYS[1] has no last time yet, and dropped when it gets one. While the starts are
-- still a sorted set (the layout before the compact one) the last time stays in KEYS[2]
-- until starts.lua rewrites them.
-- ARGV: one or more requests of the account, in order, each: now, delta, ttl (seconds). The
-- key is read once and written at most once: exactly the effect of one call per request,
-- in order (the last one that moved it sets its value and ttl).
-- Per request, 1: a new episode (the first request, or more than delta after the last one);
-- 0: the same episode, or a request no later than the last (a retry or a redelivery:
-- nothing changes, so recording a sighting twice is recording it once).
local packed = redis.pcall('GET', KEYS[1])
local zset = type(packed) == 'table' and packed.err ~= nil
local last, rest, earlier = nil, '', false
if not zset and packed and string.byte(packed, 1) == LAST_MARK then
  last = struct.unpack('>d', packed, 2)
  rest = string.sub(packed, 10)
else
  if not zset then rest = packed or '' end
  last = tonumber(redis.call('GET', KEYS[2]))
  earlier = last ~= nil
end
local out, value, ttl = {}, nil, nil
for i = 1, #ARGV, 3 do
  local now = tonumber(ARGV[i])
  local started = 0
  if not (last and now <= last) then
    if not (last and now - last <= tonumber(ARGV[i + 1])) then started = 1 end
    last, value, ttl = now, ARGV[i], ARGV[i + 2]
  end
  out[#out + 1] = started
end
if value then
  if zset then
    redis.call('SET', KEYS[2], value, 'EX', ttl)
  else
    redis.call('SET', KEYS[1], with_last(last, rest), 'EX', ttl)
    if earlier then redis.call('DEL', KEYS[2]) end
  end
end
return out
