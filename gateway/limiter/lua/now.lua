-- now.lua: the prelude of every limiter script (see limiter/redis_store.py): the time the
-- script runs at, ARGV[1] (the injected clock's time) or, when that is '', the server's TIME.
local now
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[1])
end
