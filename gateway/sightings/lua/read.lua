-- One shard's read for a consumer of the detect group, and what the group's progress says.
-- KEYS[1] the shard's stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] count.
-- Returns {entries, length, lag, caught_up}: the entries delivered (XREADGROUP ... >), the
-- stream's length, the group's lag (entries added and not yet delivered to the group, the
-- trimmed ones included; -1 when Redis cannot tell) and 1 when fewer than count entries were
-- left (the group has read everything: the lag is then exactly what was trimmed unread).
-- One script, so the lag is read at the same instant as the read.
local count = tonumber(ARGV[3])
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', count,
                         'STREAMS', KEYS[1], '>')
local entries = {}
if reply then
  entries = reply[1][2]
end
local lag = -1
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, value
  for i = 1, #group, 2 do
    if group[i] == 'name' then name = group[i + 1] end
    if group[i] == 'lag' then value = group[i + 1] end
  end
  if name == ARGV[1] and value then
    lag = value
  end
end
local caught_up = 0
if #entries < count then
  caught_up = 1
end
return {entries, redis.call('XLEN', KEYS[1]), lag, caught_up}
