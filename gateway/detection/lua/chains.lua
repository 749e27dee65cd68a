-- Asks kept in stored state (gateway/detection/chains.py), one account's requests of a
-- batch, in order.
-- KEYS[1]: the account's hash: ref -> count * 1024 + ask (ask: 0..1000, 1/1000 steps;
-- count: the requests that continued the ref so far).
-- ARGV[1]: ttl (seconds), ARGV[2]: cap (refs kept), then per request: parent ref, stored
-- ref ("0": none; equal refs: a conversation) and its own ask (0..1000).
-- Per request, two numbers: the ask it inherits from its parent (0: none) and how many
-- requests continued the parent before it (-1: the parent is not kept and the cap is full;
-- a conversation: always 0, appending to it is its course). A request's ask (its own or the
-- inherited one, the greater) is kept under its stored ref when above 0. A new ref is added
-- only while fewer than cap are kept; the ttl is set when anything was written.
local ttl, cap = ARGV[1], tonumber(ARGV[2])
local out, wrote = {}, false
local count = nil
local function add(ref, value)
  count = count or redis.call('HLEN', KEYS[1])
  if count >= cap then return false end
  redis.call('HSET', KEYS[1], ref, value)
  count = count + 1
  return true
end
for i = 3, #ARGV, 3 do
  local parent, stored, ask = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local inherited, before = 0, 0
  if parent ~= '0' then
    local v = tonumber(redis.call('HGET', KEYS[1], parent))
    if v then
      inherited, before = v % 1024, math.floor(v / 1024)
      redis.call('HSET', KEYS[1], parent, (before + 1) * 1024 + inherited)
      wrote = true
    elseif add(parent, 1024) then
      wrote = true
    else
      before = -1
    end
    if parent == stored then before = 0 end
  end
  out[#out + 1] = inherited
  out[#out + 1] = before
  local value = math.max(ask, inherited)
  if stored ~= '0' and value > 0 then
    local v = tonumber(redis.call('HGET', KEYS[1], stored))
    if v then
      if value > v % 1024 then
        redis.call('HSET', KEYS[1], stored, v - v % 1024 + value)
      end
      wrote = true
    elseif add(stored, value) then
      wrote = true
    end
  end
end
if wrote then redis.call('EXPIRE', KEYS[1], ttl) end
return out
