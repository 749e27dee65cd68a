-- Does a request start an episode of its account? (gateway/detection/coactivity.py)
-- KEYS[1]: the account's last request time. ARGV: now, delta, ttl (seconds).
-- 1: a new episode (the first request, or more than delta after the last one);
-- 0: the same episode, or a request no later than the last (a retry or a redelivery:
-- nothing changes, so recording a sighting twice is recording it once).
local now, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]))
if last and now <= last then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
if last and now - last <= delta then
  return 0
end
return 1
