-- Asks kept in stored state (gateway/detection/chains.py), one account's requests of a
-- batch, in order.
-- KEYS[1]: the account's remembered asks, a hash: answer ref -> ask (integer, 1/1000).
-- ARGV[1]: ttl (seconds), ARGV[2]: cap (refs kept), then per request: parent ref, stored
-- ref ("0": none) and its own ask (integer, 1/1000).
-- Per request, the ask it inherits from its parent (0: none). A request's ask (its own or
-- the inherited one, the greater) is remembered under its stored ref when above 0; a new ref
-- only while fewer than cap are kept; the key's ttl is set when anything was remembered.
local ttl, cap = ARGV[1], tonumber(ARGV[2])
local out, wrote = {}, false
local count = nil
for i = 3, #ARGV, 3 do
  local parent, stored, ask = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local inherited = 0
  if parent ~= '0' then
    inherited = tonumber(redis.call('HGET', KEYS[1], parent)) or 0
  end
  out[#out + 1] = inherited
  local value = math.max(ask, inherited)
  if stored ~= '0' and value > 0 then
    local had = tonumber(redis.call('HGET', KEYS[1], stored))
    if had then
      if value > had then redis.call('HSET', KEYS[1], stored, value) end
      wrote = true
    else
      count = count or redis.call('HLEN', KEYS[1])
      if count < cap then
        redis.call('HSET', KEYS[1], stored, value)
        count = count + 1
        wrote = true
      end
    end
  end
end
if wrote then redis.call('EXPIRE', KEYS[1], ttl) end
return out
