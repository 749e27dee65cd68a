-- An entity's detector observations of one batch (account, cluster or template), in order,
-- in one call: exactly the effect of observing them one by one. Mirrors
-- gateway/detection/memory_state.py; see gateway/detection/state.py for the rule.
-- KEYS: 1 state hash, 2/3 cell bitmap current/previous epoch, 4/5 skeleton bitmaps,
--       6/7 exact-prompt bitmaps (each a small set of bit numbers until it holds many,
--       see test_and_set), 8 pin (JSON string, own TTL),
--       9/10 coarse-topic histograms (u16 counters, sparse or dense: histogram_add)
--       current/previous epoch,
--       11 the sighting ids applied (zset id -> when applied, rounded up to the second; kept
--       `horizon` s after that, at most `cap` ids),
--       12/13 the cell, skeleton and exact-prompt bits of the current/previous epoch in
--       one small set while few (see `mark`; KEYS[2..7] hold them past that)
-- ARGV: 1 window s, 2 half-life s, 3 sync window s, 4 IAT alpha, 5 novelty alpha,
--       6 horizon s, 7 cap, 8 now of the applying worker, then per observation 30 values:
--       sighting id ('': none), now, cell bit, skeleton bit, exact bit, member,
--       coarse topic (-1: a follow-up, not counted in the histogram),
--       increments: elic, params, single, maxout, fan, hug, fresh, sys, selic,
--       trace, worked, vb0, vb1, vb2, reason, resample, sb0, sb1, sb2, sb3, prod,
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
-- an applied id's score: `at` rounded up to a whole second (a listpack stores a whole number
-- as an integer, 5 bytes, and a fraction as its ~17-character text); kept at least as long
-- as `at` itself would keep it (ids of the earlier layout keep their exact scores)
local at_text = string.format('%.0f', math.ceil(at))
local STRIDE, HEAD = 30, 8
local argv = ARGV  -- a local: read ~30 times an observation

-- Every table below is written out (no field name built by concatenation): a string built
-- at run time is hashed and interned on every call, and building these tables was most of
-- the cost of a call of one or two observations.
local COUNTERS = { 'req', 'nov_cell', 'nov_exact', 'tpl', 'fan', 'elic', 'params', 'single',
                   'maxout', 'sync', 'hug', 'fresh', 'sys', 'selic', 'trace', 'worked',
                   'vb0', 'vb1', 'vb2', 'reason', 'resample',
                   'sb0', 'sb1', 'sb2', 'sb3', 'prod', 'adopt' }
-- each counter's hash field: 'c:' .. its name, in COUNTERS' order
local C_FIELDS = { 'c:req', 'c:nov_cell', 'c:nov_exact', 'c:tpl', 'c:fan', 'c:elic',
                   'c:params', 'c:single', 'c:maxout', 'c:sync', 'c:hug', 'c:fresh', 'c:sys',
                   'c:selic', 'c:trace', 'c:worked', 'c:vb0', 'c:vb1', 'c:vb2', 'c:reason',
                   'c:resample', 'c:sb0', 'c:sb1', 'c:sb2', 'c:sb3', 'c:prod',
                   'c:adopt' }
-- the hour fields: HOURS[hour % 24 + 1] is 'h' .. (hour % 24)
local HOURS = { 'h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8', 'h9', 'h10', 'h11',
                'h12', 'h13', 'h14', 'h15', 'h16', 'h17', 'h18', 'h19', 'h20', 'h21', 'h22',
                'h23' }
-- the fields read once: the state's, then C_FIELDS, then HOURS, then 'lm' and 'ep'; the
-- reply is all but those two as this call leaves them (a number as '%.17g')
local READ = { 'n', 't0', 'tl', 'im', 'iv', 'ik', 'nv', 's_held', 's_stamp', 's_level',
               's_until',
               'c:req', 'c:nov_cell', 'c:nov_exact', 'c:tpl', 'c:fan', 'c:elic',
               'c:params', 'c:single', 'c:maxout', 'c:sync', 'c:hug', 'c:fresh', 'c:sys',
               'c:selic', 'c:trace', 'c:worked', 'c:vb0', 'c:vb1', 'c:vb2', 'c:reason',
               'c:resample', 'c:sb0', 'c:sb1', 'c:sb2', 'c:sb3', 'c:prod', 'c:adopt',
               'h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h8', 'h9', 'h10', 'h11',
               'h12', 'h13', 'h14', 'h15', 'h16', 'h17', 'h18', 'h19', 'h20', 'h21', 'h22',
               'h23',
               'lm', 'ep' }
local REPLIED = #READ - 2  -- READ[1..REPLIED] are the reply's fields
-- per increment an observation sends (its ARGV places 8.., in redis_state._INCREMENTS'
-- order): its counter's number in COUNTERS; the other six (req, nov_cell, nov_exact, tpl,
-- sync, adopt) are computed here
local SENT = { 6, 7, 8, 9, 5, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
               26 }
local C_REQ, C_CELL, C_EXACT, C_TPL, C_SYNC, C_ADOPT = 1, 2, 3, 4, 10, 27
if #SENT + 6 ~= #COUNTERS or COUNTERS[C_ADOPT] ~= 'adopt' or #C_FIELDS ~= #COUNTERS
    or #READ ~= 13 + #COUNTERS + 24
    or READ[11 + 1] ~= C_FIELDS[1] or READ[11 + #COUNTERS + 1] ~= HOURS[1] then
  return redis.error_reply('observe.lua: a counter edit half done (COUNTERS, C_FIELDS, READ)')
end
-- the state hash read whole (HGETALL: one pass over its listpack; HMGET of every field
-- searched the listpack once per field), each field put at its place in READ (false: unset)
local before, place = {}, {}
for i = 1, #READ do
  before[i] = false
  place[READ[i]] = i
end
local stored = redis.call('HGETALL', h)
for i = 1, #stored, 2 do
  local at = place[stored[i]]
  if at then before[at] = stored[i + 1] end
end
-- the pin and the topic histograms, current and previous epoch (the reply's tail; the
-- current one is counted here and written whole when a topic is counted)
local tail = redis.call('MGET', KEYS[8], KEYS[9], KEYS[10])
-- a field read, by its place in READ (no table by name: 62 inserts a call)
local I_N, I_T0, I_TL, I_IM, I_IV, I_IK, I_NV = 1, 2, 3, 4, 5, 6, 7
local I_COUNTERS, I_HOURS, I_LM, I_EP = 11, 11 + #COUNTERS, #READ - 1, #READ
-- A number of the state (places I_N..I_NV and the counters) is stored as a '\0' byte and
-- its 8-byte double (exact, read and written without strtod or '%.17g', the dearest part of
-- a call); a field in '%.17g' text (an earlier write, the score fields the engine writes,
-- the hour fields and the epoch) is read as text: its first byte is never '\0'.
local unpack_d, pack_d = struct.unpack, struct.pack
local function decode(v)
  if string.byte(v, 1) == 0 then return (unpack_d('<d', v, 2)) end
  return tonumber(v)
end
local read = {}  -- place in READ -> the number num() read there
local function num(i, default)
  local v = before[i]
  if v then
    v = decode(v)
    read[i] = v
    return v
  end
  return default
end

-- A "bitmap" key is a set of bit numbers while it holds few (an intset: 2 bytes a member),
-- and becomes a real 2^14-bit bitmap (2 KB) once it holds more than SPARSE_MAX, or when the
-- server would stop encoding the set compactly (set-max-intset-entries below SPARSE_MAX):
-- either way the same bits, so the answers are the same.
local SPARSE_MAX = 512
-- key -> 'string' once known a bitmap in this call, 'set' once known a set of bit numbers.
-- No TYPE call: a set command is tried first (most keys are sets or missing), and a bitmap
-- answers it WRONGTYPE (redis.pcall), then is read as a bitmap.
local kinds = {}
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
local sizes = {}  -- key -> its set's size, read once (SCARD), then counted here
local function test_and_set(key, bit)
  if kinds[key] ~= 'string' then
    local added = redis.pcall('SADD', key, bit)
    if type(added) == 'number' then
      kinds[key] = 'set'
      if added == 0 then return true end
      local size = sizes[key]
      if size then size = size + 1 else size = redis.call('SCARD', key) end
      sizes[key] = size
      if size > SPARSE_MAX then
        densify(key)
      elseif not compact[key] then
        compact[key] = true
        if redis.call('OBJECT', 'ENCODING', key) ~= 'intset' then densify(key) end
      end
      return false
    end
    kinds[key] = 'string'  -- WRONGTYPE: a bitmap
  end
  return redis.call('SETBIT', key, bit, 1) == 1
end
local function test(key, bit)
  if kinds[key] ~= 'string' then
    local found = redis.pcall('SISMEMBER', key, bit)
    if type(found) == 'number' then return found == 1 end
    kinds[key] = 'string'  -- WRONGTYPE: a bitmap
  end
  return redis.call('GETBIT', key, bit) == 1
end


-- One epoch's cell, skeleton and exact-prompt bits share ONE set (KEYS[12], the previous
-- epoch's KEYS[13]) while they are few: member = bit + OFFSETS[kind], -32768..16383, so
-- still an intset of 2-byte members (three keys of a few members each were ~390 bytes, key
-- and set overhead mostly). Past SPARSE_MAX members (or when the server would stop encoding
-- it as an intset) its bits move to the kinds' own keys (KEYS[2..7] above: sets until dense,
-- then bitmaps) and the shared key becomes the string SPLIT: a set command on it answers
-- WRONGTYPE, so no call looks for the kinds' keys. An epoch written before this layout has
-- the kinds' keys and no shared key: found when the first bit of a call creates the shared
-- set (EXISTS, once per entity and epoch), then marked SPLIT too; the previous epoch's
-- shared set, when a bit is not in it, is looked for once a call (EXISTS). Either way the
-- same bits: the same answers.
local OFFSETS = { -32768, -16384, 0 }  -- cell, skeleton, exact
local SPLIT = 'split'
-- epoch (1 current, 2 previous) -> 'kinds' (its bits are in the kinds' keys), 'shared'
-- (in its shared set), 'none' (no bit anywhere), nil (not known yet in this call)
local where = {}
local function kind_key(kind, epoch) return KEYS[2 * kind + epoch - 1] end
-- the shared set's bits moved to the kinds' keys (at most SPARSE_MAX + 1 of them, once)
local function split_shared()
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[12])) do
    local m = tonumber(member)
    local kind = math.floor((m + 32768) / 16384) + 1
    test_and_set(kind_key(kind, 1), m - OFFSETS[kind])
  end
  redis.call('SET', KEYS[12], SPLIT)
  where[1] = 'kinds'
end
local shared_size, shared_checked = nil, false  -- the current epoch's shared set
-- test and set a bit of `kind` in the current epoch: was it set?
local function mark(kind, bit)
  if where[1] == 'kinds' then return test_and_set(kind_key(kind, 1), bit) end
  local added = redis.pcall('SADD', KEYS[12], tonumber(bit) + OFFSETS[kind])
  if type(added) ~= 'number' then  -- WRONGTYPE: SPLIT
    where[1] = 'kinds'
    return test_and_set(kind_key(kind, 1), bit)
  end
  local counted = false  -- shared_size already holds this bit
  if where[1] == nil then
    if added == 1 then
      shared_size, counted = redis.call('SCARD', KEYS[12]), true
      if shared_size == 1
          and redis.call('EXISTS', kind_key(1, 1), kind_key(2, 1), kind_key(3, 1)) > 0 then
        -- an epoch of the earlier layout: its bits stay in the kinds' keys
        redis.call('SET', KEYS[12], SPLIT)
        where[1] = 'kinds'
        return test_and_set(kind_key(kind, 1), bit)
      end
    end
    where[1] = 'shared'
  end
  if added == 0 then return true end
  if counted then -- read just now
  elseif shared_size then shared_size = shared_size + 1
  else shared_size = redis.call('SCARD', KEYS[12]) end
  if shared_size > SPARSE_MAX then
    split_shared()
  elseif not shared_checked then
    shared_checked = true
    if redis.call('OBJECT', 'ENCODING', KEYS[12]) ~= 'intset' then split_shared() end
  end
  return false
end
-- is a bit of `kind` set in `epoch`?
local function has(kind, epoch, bit)
  if where[epoch] == 'kinds' then return test(kind_key(kind, epoch), bit) end
  if where[epoch] == 'none' then return false end
  local found = redis.pcall('SISMEMBER', KEYS[11 + epoch], tonumber(bit) + OFFSETS[kind])
  if type(found) ~= 'number' then  -- WRONGTYPE: SPLIT
    where[epoch] = 'kinds'
    return test(kind_key(kind, epoch), bit)
  end
  if found == 1 then
    where[epoch] = 'shared'
    return true
  end
  if where[epoch] == nil then -- 'none': no bit of the epoch anywhere (nothing to look up)
    if redis.call('EXISTS', KEYS[11 + epoch]) == 1 then
      where[epoch] = 'shared'
    elseif redis.call('EXISTS', kind_key(1, epoch), kind_key(2, epoch),
                      kind_key(3, epoch)) > 0 then
      where[epoch] = 'kinds'
    else
      where[epoch] = 'none'
      return false
    end
  end
  if where[epoch] == 'kinds' then return test(kind_key(kind, epoch), bit) end
  return false
end
local function seen(kind, bit)
  if mark(kind, bit) then return true end
  return has(kind, 2, bit)
end
-- A topic histogram (u16 counters, saturating at 65535) is stored in one of two forms
-- (redis_state._histogram reads both): sparse, an odd number of bytes, per topic counted its
-- number and its big-endian counter (3 bytes), in topic order, then one zero byte when that
-- made an even length; dense, an even number of bytes, the big-endian counter of every topic
-- from 0 to the highest one counted. A new histogram is sparse while that is shorter than
-- dense (most entities ask about a few topics: up to 256 bytes dense); a dense one (the
-- earlier layout's too) stays dense, patched in place (no pass over its counters).
local function dense_add(held, order, adds)  -- order: the topics counted, ascending
  local size = 2 * (order[#order] + 1)
  if #held < size then held = held .. string.rep('\0', size - #held) end
  local parts, from = {}, 1
  for _, topic in ipairs(order) do
    local at = 2 * topic + 1
    local high, low = string.byte(held, at, at + 1)
    local count = high * 256 + low + adds[topic]
    if count > 65535 then count = 65535 end
    parts[#parts + 1] = string.sub(held, from, at - 1)
    parts[#parts + 1] = string.char(math.floor(count / 256), count % 256)
    from = at + 2
  end
  parts[#parts + 1] = string.sub(held, from)
  return table.concat(parts)
end
local function histogram_add(held, order, adds)
  if #held > 0 and #held % 2 == 0 then return dense_add(held, order, adds) end
  local counts, topics = {}, {}
  for at = 1, #held - 2, 3 do
    local topic, high, low = string.byte(held, at, at + 2)
    counts[topic] = high * 256 + low
    topics[#topics + 1] = topic
  end
  local fresh = false
  for _, topic in ipairs(order) do
    local count = counts[topic]
    if not count then
      count, fresh = 0, true
      topics[#topics + 1] = topic
    end
    count = count + adds[topic]
    if count > 65535 then count = 65535 end
    counts[topic] = count
  end
  if fresh then table.sort(topics) end
  local last = topics[#topics]
  if 3 * #topics + 1 - #topics % 2 >= 2 * (last + 1) then  -- dense is no longer: dense now
    return dense_add('', topics, counts)
  end
  local parts = {}
  for i, topic in ipairs(topics) do
    local count = counts[topic]
    parts[i] = string.char(topic, math.floor(count / 256), count % 256)
  end
  if #topics % 2 == 0 then parts[#parts + 1] = '\0' end
  return table.concat(parts)
end
local function b(x) if x then return 1 end return 0 end
-- an increment's number: most are '0.0' or '1.0' (Python's repr), read here without a call
-- to tonumber (the same doubles)
local NUMBER = { ['0.0'] = 0, ['1.0'] = 1 }

-- the entity's state, carried from one observation to the next
local n, last, last_member = num(I_N, 0), num(I_TL, 0), before[I_LM] or ''
local k, m, v, nv = num(I_IK, 0), num(I_IM, 0), num(I_IV, 0), num(I_NV, 1)
local counters = {}  -- in COUNTERS' order
for j = 1, #C_FIELDS do counters[j] = num(I_COUNTERS + j, 0) end
local put = {}  -- place in READ -> the field's new value, written by one HSET
local topics, topic_order = {}, {}  -- coarse topic -> increment, aggregated
local applied, with_ids, now = 0, false, tonumber(ARGV[HEAD + 2])

local CELL, SKELETON, EXACT = 1, 2, 3
for o = HEAD, #argv - 1, STRIDE do
  local id = argv[o + 1]
  now = tonumber(argv[o + 2])
  local fresh = true
  if id ~= '' then
    with_ids = true
    fresh = redis.call('ZADD', KEYS[11], 'NX', at_text, id) == 1
  end
  if fresh then
    applied = applied + 1
    local member = argv[o + 6]
    if n == 0 then
      put[I_T0] = now
      last = now
    end
    -- bit numbers go to Redis as sent (whole numbers' text): no number to format back
    local novel_cell = not seen(CELL, argv[o + 3])
    local skel_seen = seen(SKELETON, argv[o + 4])
    local novel_exact = not seen(EXACT, argv[o + 5])
    local thread = argv[o + 29]
    local adopted = thread ~= '-1' and not (has(EXACT, 1, thread) or has(EXACT, 2, thread))
    local dt = now - last
    local factor = 1.0
    if dt > 0 and half_life > 0 then factor = 2 ^ (-dt / half_life) end
    local sync = 0
    if n > 0 and member ~= '' and last_member ~= '' and last_member ~= member
        and dt <= sync_window then
      sync = 1
    end
    -- each counter decays by `factor`, then takes its increment (the same two operations,
    -- in the same order, as with a table of increments: the same doubles)
    for i = 1, #SENT do
      local j = SENT[i]
      local text = argv[o + 7 + i]
      counters[j] = counters[j] * factor + (NUMBER[text] or tonumber(text))
    end
    counters[C_REQ] = counters[C_REQ] * factor + 1
    counters[C_CELL] = counters[C_CELL] * factor + b(novel_cell)
    counters[C_EXACT] = counters[C_EXACT] * factor + b(novel_exact)
    counters[C_TPL] = counters[C_TPL] * factor + b(skel_seen and novel_exact)
    counters[C_SYNC] = counters[C_SYNC] * factor + sync
    -- a multi-turn request (its 'single' increment 0) of a conversation taken over
    counters[C_ADOPT] = counters[C_ADOPT] * factor + b(adopted and tonumber(argv[o + 10]) == 0)
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
      put[I_IM], put[I_IV], put[I_IK] = m, v, k
    end
    nv = nv + a_nov * (b(novel_cell) - nv)
    local hour = math.floor(now / 3600)
    put[I_HOURS + hour % 24 + 1] = hour
    n, last, last_member = n + 1, now, member
    local topic = tonumber(argv[o + 7])
    if topic < 0 and adopted then topic = tonumber(argv[o + 30]) end
    if topic >= 0 then  -- a follow-up (-1) is not a new topic
      if not topics[topic] then
        topics[topic] = 0
        topic_order[#topic_order + 1] = topic
      end
      topics[topic] = topics[topic] + 1
    end
  end
end

local texts = {}  -- place in READ -> its new value as stored (see decode)
if applied > 0 then
  for j = 1, #C_FIELDS do put[I_COUNTERS + j] = counters[j] end
  put[I_NV], put[I_N], put[I_TL], put[I_LM] = nv, n, last, last_member
  put[I_EP] = math.floor(now / window)
  -- only the fields whose value changes are written (a counter never set and still 0 stays
  -- unset: it reads as 0): encoded here once, for HSET and the reply alike. A number equal
  -- to the stored one keeps its stored bytes. The state's numbers are written binary (see
  -- decode); the hour fields and the epoch, whole numbers, as '%.17g' text (0 is '0')
  local out, format = {}, string.format
  for place, value in pairs(put) do
    local text, was = value, before[place]
    if place ~= I_LM then  -- a number (the last member is the one text put holds)
      local stored = read[place]
      if stored == nil and was then stored = decode(was) end
      if stored == value and was then
        text = was
      elseif place <= I_HOURS then
        text = pack_d('<Bd', 0, value)
      elseif value == 0 and 1 / value > 0 then
        text = '0'
      else
        text = format('%.17g', value)
      end
    end
    texts[place] = text
    if text ~= was and not (was == false and place > I_COUNTERS and place <= I_HOURS
                            and value == 0 and 1 / value > 0) then
      out[#out + 1] = READ[place]
      out[#out + 1] = text
    end
  end
  if #out > 0 then redis.call('HSET', h, unpack(out)) end
  if #topic_order > 0 then  -- saturating sums: the same as one increment at a time
    -- the histogram (see histogram_add) counted here and written whole with SET
    table.sort(topic_order)
    tail[2] = histogram_add(tail[2] or '', topic_order, topics)
    redis.call('SET', KEYS[9], tail[2])
  end
  local ms = math.floor(window * 1000)
  redis.call('PEXPIRE', h, ms)
  redis.call('PEXPIRE', KEYS[2], 2 * ms)
  redis.call('PEXPIRE', KEYS[4], 2 * ms)
  redis.call('PEXPIRE', KEYS[6], 2 * ms)
  redis.call('PEXPIRE', KEYS[9], 2 * ms)
  redis.call('PEXPIRE', KEYS[12], 2 * ms)
end
if with_ids then
  redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', '(' .. (at - horizon))
  local kept = redis.call('ZCARD', KEYS[11])
  if kept > cap then redis.call('ZREMRANGEBYRANK', KEYS[11], 0, kept - cap - 1) end
  redis.call('PEXPIRE', KEYS[11], math.floor(horizon * 1000))
end

local hour = math.floor(now / 3600)
local reply = {}
local hours_at = REPLIED - 24  -- READ[hours_at + 1 .. REPLIED] are HOURS
for i = 1, hours_at do
  local text = texts[i]
  if text ~= nil then reply[i] = text else reply[i] = before[i] end
end
local active = 0
for i = hours_at + 1, REPLIED do  -- an hour field holds a whole hour: compared as a number
  local value = put[i]
  if value == nil and before[i] then value = tonumber(before[i]) end
  if value and value > hour - 24 then active = active + 1 end
end
reply[#reply + 1] = active
reply[#reply + 1] = tail[1]
reply[#reply + 1] = tail[2]
reply[#reply + 1] = tail[3]
return reply
