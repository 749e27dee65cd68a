-- An entity's detector observations of one batch (account, cluster or template), in order,
-- in one call: exactly the effect of observing them one by one. Mirrors
-- gateway/detection/memory_state.py; see gateway/detection/state.py for the rule.
-- KEYS: 1 state hash, 2/3 cell bitmap current/previous epoch, 4/5 skeleton bitmaps,
--       6/7 exact-prompt bitmaps (each a small set of bit numbers until it holds many,
--       see test_and_set), 8 pin (JSON string, own TTL),
--       9/10 coarse-topic histograms (u16 BITFIELD) current/previous epoch,
--       11 the sighting ids applied (zset id -> when applied; kept `horizon` s after that,
--       at most `cap` ids)
-- ARGV: 1 window s, 2 half-life s, 3 sync window s, 4 IAT alpha, 5 novelty alpha,
--       6 horizon s, 7 cap, 8 now of the applying worker, then per observation 29 values:
--       sighting id ('': none), now, cell bit, skeleton bit, exact bit, member,
--       coarse topic (-1: a follow-up, not counted in the histogram),
--       increments: elic, params, single, maxout, fan, hug, fresh, sys, selic,
--       trace, worked, vb0, vb1, vb2, reason, resample, sb0, sb1, sb2, sb3,
--       thread bit (-1: none; a follow-up whose conversation's first ask this entity never
--       sent counts as 'adopt' and its coarse topic as a new topic), thread topic
-- An observation whose sighting id is in KEYS[11] already changes nothing.
-- Returns the state after the last observation, compactly (see redis_state.REPLY_FIELDS):
--   { the REPLY_FIELDS values as stored (strings, false when unset), active hours,
--     pin JSON or false, histogram current, histogram previous }
local h = KEYS[1]
local window = tonumber(ARGV[1])
local half_life = tonumber(ARGV[2])
local sync_window = tonumber(ARGV[3])
local a_iat = tonumber(ARGV[4])
local a_nov = tonumber(ARGV[5])
local horizon = tonumber(ARGV[6])
local cap = tonumber(ARGV[7])
local at = tonumber(ARGV[8])
local STRIDE, HEAD = 29, 8

local COUNTERS = { 'req', 'nov_cell', 'nov_exact', 'tpl', 'fan', 'elic', 'params', 'single',
                   'maxout', 'sync', 'hug', 'fresh', 'sys', 'selic', 'trace', 'worked',
                   'vb0', 'vb1', 'vb2', 'reason', 'resample',
                   'sb0', 'sb1', 'sb2', 'sb3', 'adopt' }
-- the fields of the reply, read once: the reply is them as this call leaves them (a field
-- it writes: as HSET stores a number, '%.17g'), with 'lm' last (read, not replied)
local REPLY = { 'n', 't0', 'tl', 'im', 'iv', 'ik', 'nv', 's_held', 's_stamp', 's_level',
                's_until' }
for _, name in ipairs(COUNTERS) do REPLY[#REPLY + 1] = 'c:' .. name end
for i = 0, 23 do REPLY[#REPLY + 1] = 'h' .. i end
local READ = { unpack(REPLY) }
READ[#READ + 1] = 'lm'
local before = redis.call('HMGET', h, unpack(READ))
local old = {}
for i, name in ipairs(READ) do old[name] = before[i] end
local function num(field, default)
  local v = old[field]
  if v then return tonumber(v) end
  return default
end

-- A "bitmap" key is a set of bit numbers while it holds few (an intset: 2 bytes a member),
-- and becomes a real 2^14-bit bitmap (2 KB) once it holds more than SPARSE_MAX, or when the
-- server would stop encoding the set compactly (set-max-intset-entries below SPARSE_MAX):
-- either way the same bits, so the answers are the same.
local SPARSE_MAX = 512
local kinds = {}  -- key -> 'set', 'string' (a bitmap) or 'none', read once per call
local function kind(key)
  local found = kinds[key]
  if not found then
    found = redis.call('TYPE', key)['ok']
    kinds[key] = found
  end
  return found
end
-- Strings are written at their final size with SET: SETBIT, SETRANGE and BITFIELD grow a
-- string by doubling its allocation, so a 2 KB bitmap grown bit by bit took up to 4 KB and a
-- 256-byte histogram up to 512.
local BITMAP_BYTES = 2048  -- 2^14 bits: every bit number observe sends (CELL_BITS)
local function densify(key)
  local bits = redis.call('SMEMBERS', key)
  redis.call('SET', key, string.rep('\0', BITMAP_BYTES))
  for _, bit in ipairs(bits) do redis.call('SETBIT', key, tonumber(bit), 1) end
  kinds[key] = 'string'
end
local compact = {}  -- key -> its set's encoding was checked in this call (once is enough)
local function test_and_set(key, bit)
  if kind(key) == 'string' then return redis.call('SETBIT', key, bit, 1) == 1 end
  if redis.call('SADD', key, bit) == 0 then return true end
  kinds[key] = 'set'
  if redis.call('SCARD', key) > SPARSE_MAX then
    densify(key)
  elseif not compact[key] then
    compact[key] = true
    if redis.call('OBJECT', 'ENCODING', key) ~= 'intset' then densify(key) end
  end
  return false
end
local function test(key, bit)
  local found = kind(key)
  if found == 'string' then return redis.call('GETBIT', key, bit) == 1 end
  if found == 'set' then return redis.call('SISMEMBER', key, bit) == 1 end
  return false
end

local function seen(cur, prev, bit)
  if test_and_set(cur, bit) then return true end
  return test(prev, bit)
end
local function b(x) if x then return 1 end return 0 end

-- the entity's state, carried from one observation to the next
local n, last, last_member = num('n', 0), num('tl', 0), old['lm'] or ''
local k, m, v, nv = num('ik', 0), num('im', 0), num('iv', 0), num('nv', 1)
local counters = {}
for _, name in ipairs(COUNTERS) do counters[name] = num('c:' .. name, 0) end
local fields = {}  -- field -> value, written by one HSET
local topics, topic_order = {}, {}  -- coarse topic -> increment, aggregated
local applied, with_ids, now = 0, false, tonumber(ARGV[HEAD + 2])

for o = HEAD, #ARGV - 1, STRIDE do
  local id = ARGV[o + 1]
  now = tonumber(ARGV[o + 2])
  local fresh = true
  if id ~= '' then
    with_ids = true
    fresh = redis.call('ZADD', KEYS[11], 'NX', at, id) == 1
  end
  if fresh then
    applied = applied + 1
    local member = ARGV[o + 6]
    if n == 0 then
      fields['t0'] = now
      last = now
    end
    local novel_cell = not seen(KEYS[2], KEYS[3], tonumber(ARGV[o + 3]))
    local skel_seen = seen(KEYS[4], KEYS[5], tonumber(ARGV[o + 4]))
    local novel_exact = not seen(KEYS[6], KEYS[7], tonumber(ARGV[o + 5]))
    local thread = tonumber(ARGV[o + 28])
    local adopted = thread >= 0 and not (test(KEYS[6], thread) or test(KEYS[7], thread))
    local dt = now - last
    local factor = 1.0
    if dt > 0 and half_life > 0 then factor = 2 ^ (-dt / half_life) end
    local sync = 0
    if n > 0 and member ~= '' and last_member ~= '' and last_member ~= member
        and dt <= sync_window then
      sync = 1
    end
    local incs = {
      req = 1, nov_cell = b(novel_cell), nov_exact = b(novel_exact),
      tpl = b(skel_seen and novel_exact), elic = tonumber(ARGV[o + 8]),
      params = tonumber(ARGV[o + 9]), single = tonumber(ARGV[o + 10]),
      maxout = tonumber(ARGV[o + 11]), fan = tonumber(ARGV[o + 12]), sync = sync,
      hug = tonumber(ARGV[o + 13]), fresh = tonumber(ARGV[o + 14]),
      sys = tonumber(ARGV[o + 15]), selic = tonumber(ARGV[o + 16]),
      trace = tonumber(ARGV[o + 17]), worked = tonumber(ARGV[o + 18]),
      vb0 = tonumber(ARGV[o + 19]), vb1 = tonumber(ARGV[o + 20]), vb2 = tonumber(ARGV[o + 21]),
      reason = tonumber(ARGV[o + 22]), resample = tonumber(ARGV[o + 23]),
      sb0 = tonumber(ARGV[o + 24]), sb1 = tonumber(ARGV[o + 25]), sb2 = tonumber(ARGV[o + 26]),
      sb3 = tonumber(ARGV[o + 27]), adopt = b(adopted and tonumber(ARGV[o + 10]) == 0),
    }
    for _, name in ipairs(COUNTERS) do counters[name] = counters[name] * factor + incs[name] end
    if n > 0 then
      if k == 0 then
        m = dt
        v = 0
      else
        local d = dt - m
        m = m + a_iat * d
        v = (1 - a_iat) * (v + a_iat * d * d)
      end
      k = k + 1
      fields['im'], fields['iv'], fields['ik'] = m, v, k
    end
    nv = nv + a_nov * (b(novel_cell) - nv)
    local hour = math.floor(now / 3600)
    fields['h' .. (hour % 24)] = hour
    n, last, last_member = n + 1, now, member
    local topic = tonumber(ARGV[o + 7])
    if topic < 0 and adopted then topic = tonumber(ARGV[o + 29]) end
    if topic >= 0 then  -- a follow-up (-1) is not a new topic
      if not topics[topic] then
        topics[topic] = 0
        topic_order[#topic_order + 1] = topic
      end
      topics[topic] = topics[topic] + 1
    end
  end
end

if applied > 0 then
  for _, name in ipairs(COUNTERS) do fields['c:' .. name] = counters[name] end
  fields['nv'], fields['n'], fields['tl'], fields['lm'] = nv, n, last, last_member
  fields['ep'] = math.floor(now / window)
  local out = {}
  for field, value in pairs(fields) do
    out[#out + 1] = field
    out[#out + 1] = value
  end
  redis.call('HSET', h, unpack(out))
  if #topic_order > 0 then  -- saturating sums: the same as one increment at a time
    local ops, highest = { 'OVERFLOW', 'SAT' }, 0
    for _, topic in ipairs(topic_order) do
      if topic > highest then highest = topic end
    end
    local held = redis.call('STRLEN', KEYS[9])
    if held < 2 * (highest + 1) then  -- grown to exactly the counters it holds (see above)
      local zeros = string.rep('\0', 2 * (highest + 1) - held)
      redis.call('SET', KEYS[9], (redis.call('GET', KEYS[9]) or '') .. zeros)
    end
    for _, topic in ipairs(topic_order) do
      ops[#ops + 1] = 'INCRBY'
      ops[#ops + 1] = 'u16'
      ops[#ops + 1] = '#' .. topic
      ops[#ops + 1] = topics[topic]
    end
    redis.call('BITFIELD', KEYS[9], unpack(ops))
  end
  local ms = math.floor(window * 1000)
  redis.call('PEXPIRE', h, ms)
  redis.call('PEXPIRE', KEYS[2], 2 * ms)
  redis.call('PEXPIRE', KEYS[4], 2 * ms)
  redis.call('PEXPIRE', KEYS[6], 2 * ms)
  redis.call('PEXPIRE', KEYS[9], 2 * ms)
end
if with_ids then
  redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', '(' .. (at - horizon))
  local kept = redis.call('ZCARD', KEYS[11])
  if kept > cap then redis.call('ZREMRANGEBYRANK', KEYS[11], 0, kept - cap - 1) end
  redis.call('PEXPIRE', KEYS[11], math.floor(horizon * 1000))
end

local hour = math.floor(now / 3600)
local after = {}
for i, name in ipairs(REPLY) do
  local value = fields[name]
  if value ~= nil then after[i] = string.format('%.17g', value) else after[i] = old[name] end
end
local reply = {}
for i = 1, #REPLY - 24 do reply[i] = after[i] end
local active = 0
for i = #REPLY - 23, #REPLY do
  local value = after[i]
  if value and tonumber(value) > hour - 24 then active = active + 1 end
end
reply[#reply + 1] = active
local tail = redis.call('MGET', KEYS[8], KEYS[9], KEYS[10]) -- pin, histograms
reply[#reply + 1] = tail[1]
reply[#reply + 1] = tail[2]
reply[#reply + 1] = tail[3]
return reply
