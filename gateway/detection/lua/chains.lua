-- Asks kept in stored state (gateway/detection/chains.py), one account's requests of a
-- batch in one window epoch, in order.
-- KEYS[1]: the account's hash of this epoch, KEYS[2]: of the epoch before (read only):
-- ref -> count * 1024 + ask (ask: 0..1000, 1/1000 steps; count: the distinct requests that
-- continued the ref so far). A ref read from the epoch before is written to this one.
-- ARGV[1]: ttl (seconds, two epochs), ARGV[2]: cap (refs kept per epoch), then per request:
-- parent ref, stored ref ("0": none; equal refs: a conversation), its own ask (0..1000).
-- Per request, two numbers: the ask it inherits from its parent (0: none) and how many
-- requests continued the parent before it (-1: the parent is not kept and the cap is full;
-- a conversation: always 0, appending to it is its course). A request continuing a parent,
-- or carrying an ask (its own or the inherited one, the greater), is kept under its stored
-- ref; a request whose stored ref is kept already (a redelivered sighting) is not counted
-- again. A new ref is added only while fewer than cap are kept; the ttl is set when
-- anything was written.
local ttl, cap = ARGV[1], tonumber(ARGV[2])
local out, wrote = {}, false
local count = nil
local function get(ref)
  local v = redis.call('HGET', KEYS[1], ref)
  if v then return tonumber(v), true end
  v = redis.call('HGET', KEYS[2], ref)
  if v then return tonumber(v), false end
  return nil, false
end
local function put(ref, value, here)
  if not here then
    count = count or redis.call('HLEN', KEYS[1])
    if count >= cap then return false end
    count = count + 1
  end
  redis.call('HSET', KEYS[1], ref, value)
  wrote = true
  return true
end
for i = 3, #ARGV, 3 do
  local parent, stored, ask = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local mine, mine_here = nil, false
  if stored ~= '0' then mine, mine_here = get(stored) end
  local inherited, before = 0, 0
  if parent ~= '0' then
    local v, here = get(parent)
    if v then
      inherited, before = v % 1024, math.floor(v / 1024)
      if not mine then put(parent, (before + 1) * 1024 + inherited, here) end
    elseif not put(parent, 1024, false) then
      before = -1
    end
    if parent == stored then
      before = 0
      mine, mine_here = get(stored)
    end
  end
  out[#out + 1] = inherited
  out[#out + 1] = before
  local value = math.max(ask, inherited)
  if stored ~= '0' and (value > 0 or parent ~= '0') then
    if mine then
      if value > mine % 1024 or not mine_here then
        put(stored, mine - mine % 1024 + math.max(value, mine % 1024), mine_here)
      end
    else
      put(stored, value, false)
    end
  end
end
if wrote then redis.call('EXPIRE', KEYS[1], ttl) end
return out
