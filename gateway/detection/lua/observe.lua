-- One detector observation for one entity (account or cluster), in one round trip.
-- Mirrors gateway/detection/memory_state.py; see gateway/detection/state.py for the rule.
-- KEYS: 1 state hash, 2/3 cell bitmap current/previous epoch, 4/5 skeleton bitmaps,
--       6/7 exact-prompt bitmaps, 8 pin (JSON string, own TTL),
--       9/10 coarse-topic histograms (u16 BITFIELD) current/previous epoch
-- ARGV: 1 now, 2 window s, 3 half-life s, 4 cell bit, 5 skeleton bit, 6 exact bit,
--       7 member, 8 sync window s, 9 IAT alpha, 10 novelty alpha, 11 coarse topic (-1: a
--       follow-up, not counted in the histogram),
--       12.. increments: elic, params, single, maxout, fan, hug, fresh, sys, selic
-- Returns the state after the observation, compactly (see redis_state.REPLY_FIELDS):
--   { the REPLY_FIELDS values as stored (strings, false when unset), active hours,
--     pin JSON or false, histogram current, histogram previous }
local h = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local half_life = tonumber(ARGV[3])
local member = ARGV[7]
local sync_window = tonumber(ARGV[8])
local a_iat = tonumber(ARGV[9])
local a_nov = tonumber(ARGV[10])

local COUNTERS = { 'req', 'nov_cell', 'nov_exact', 'tpl', 'fan', 'elic', 'params', 'single',
                   'maxout', 'sync', 'hug', 'fresh', 'sys', 'selic' }
local READ = { 'n', 'tl', 'lm', 'ik', 'im', 'iv', 'nv' }
for _, name in ipairs(COUNTERS) do READ[#READ + 1] = 'c:' .. name end
local before = redis.call('HMGET', h, unpack(READ))
local old = {}
for i, name in ipairs(READ) do old[name] = before[i] end
local function num(field, default)
  local v = old[field]
  if v then return tonumber(v) end
  return default
end

local function seen(cur, prev, bit)
  local was = redis.call('SETBIT', cur, bit, 1)
  if was == 1 then return true end
  return redis.call('GETBIT', prev, bit) == 1
end

local out = {}  -- field, value pairs for one HSET
local function put(field, value)
  out[#out + 1] = field
  out[#out + 1] = value
end

local n = num('n', 0)
local last = num('tl', now)
if n == 0 then
  put('t0', now)
  last = now
end
local novel_cell = not seen(KEYS[2], KEYS[3], tonumber(ARGV[4]))
local skel_seen = seen(KEYS[4], KEYS[5], tonumber(ARGV[5]))
local novel_exact = not seen(KEYS[6], KEYS[7], tonumber(ARGV[6]))

local dt = now - last
local factor = 1.0
if dt > 0 and half_life > 0 then factor = 2 ^ (-dt / half_life) end

local last_member = old['lm'] or ''
local sync = 0
if n > 0 and member ~= '' and last_member ~= '' and last_member ~= member and dt <= sync_window then
  sync = 1
end
local function b(x) if x then return 1 end return 0 end
local templated = b(skel_seen and novel_exact)
local incs = {
  req = 1, nov_cell = b(novel_cell), nov_exact = b(novel_exact), tpl = templated,
  fan = tonumber(ARGV[16]), elic = tonumber(ARGV[12]), params = tonumber(ARGV[13]),
  single = tonumber(ARGV[14]), maxout = tonumber(ARGV[15]), sync = sync,
  hug = tonumber(ARGV[17]), fresh = tonumber(ARGV[18]),
  sys = tonumber(ARGV[19]), selic = tonumber(ARGV[20]),
}
for _, name in ipairs(COUNTERS) do
  local f = 'c:' .. name
  put(f, num(f, 0) * factor + incs[name])
end

if n > 0 then
  local k = num('ik', 0)
  local m = num('im', 0)
  local v = num('iv', 0)
  if k == 0 then
    m = dt
    v = 0
  else
    local d = dt - m
    m = m + a_iat * d
    v = (1 - a_iat) * (v + a_iat * d * d)
  end
  put('im', m)
  put('iv', v)
  put('ik', k + 1)
end
local nv = num('nv', 1)
put('nv', nv + a_nov * (b(novel_cell) - nv))
local hour = math.floor(now / 3600)
put('h' .. (hour % 24), hour)
put('n', n + 1)
put('tl', now)
put('lm', member)
put('ep', math.floor(now / window))
redis.call('HSET', h, unpack(out))
if tonumber(ARGV[11]) >= 0 then  -- a follow-up (-1) is not a new topic
  redis.call('BITFIELD', KEYS[9], 'OVERFLOW', 'SAT', 'INCRBY', 'u16', '#' .. ARGV[11], 1)
end

local ms = math.floor(window * 1000)
redis.call('PEXPIRE', h, ms)
redis.call('PEXPIRE', KEYS[2], 2 * ms)
redis.call('PEXPIRE', KEYS[4], 2 * ms)
redis.call('PEXPIRE', KEYS[6], 2 * ms)
redis.call('PEXPIRE', KEYS[9], 2 * ms)

local REPLY = { 'n', 't0', 'tl', 'im', 'iv', 'ik', 'nv', 's_held', 's_stamp', 's_level',
                's_until' }
for _, name in ipairs(COUNTERS) do REPLY[#REPLY + 1] = 'c:' .. name end
for i = 0, 23 do REPLY[#REPLY + 1] = 'h' .. i end
local after = redis.call('HMGET', h, unpack(REPLY))
local reply = {}
for i = 1, #REPLY - 24 do reply[i] = after[i] end
local active = 0
for i = #REPLY - 23, #REPLY do
  local v = after[i]
  if v and tonumber(v) > hour - 24 then active = active + 1 end
end
reply[#reply + 1] = active
reply[#reply + 1] = redis.call('GET', KEYS[8])
reply[#reply + 1] = redis.call('GET', KEYS[9])
reply[#reply + 1] = redis.call('GET', KEYS[10])
return reply
