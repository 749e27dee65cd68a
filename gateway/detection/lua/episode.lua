-- Do an account's requests start episodes? (gateway/detection/coactivity.py)
-- KEYS[1]: the account's last request time. ARGV: one or more requests of the account, in
-- order, each: now, delta, ttl (seconds). The key is read once and written at most once:
-- exactly the effect of one call per request, in order (the last one that moved it sets
-- its value and ttl).
-- Per request, 1: a new episode (the first request, or more than delta after the last one);
-- 0: the same episode, or a request no later than the last (a retry or a redelivery:
-- nothing changes, so recording a sighting twice is recording it once).
local last = tonumber(redis.call('GET', KEYS[1]))
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
if value then redis.call('SET', KEYS[1], value, 'EX', ttl) end
return out
