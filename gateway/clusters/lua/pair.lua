-- Record that a soft signal agreed for (account, other) on a day; return qualifying pairs.
-- KEYS[1] = the base key of the pairs' shard (KeyBuilder.cluster_pairs: the caller sends each
-- pair to the shard of its lower account, see observations_redis.py); suffixes:
--   :a:<low>              hash: the pairs of the account <low> with the accounts above it,
--                         other -> the pair's record (below), and "" -> when the hash is next
--                         swept of its expired records; TTL: the latest write's ttl
--   :m:<low>|<high>       hash of the pair's matches that a sighting may ask again:
--                         signal-day -> "<sighting>=<match>" (match: "n|signal|hash|days|...");
--                         written only when setting a signal-day made a match; TTL ttl
--   :hot:<signal>:<hash>  hot flags (hot values do not count): copies of value.lua's, written
--                         in every shard by observations_redis.add_values when a value turns hot
-- A pair's record is one string with its own expiry (a pair lives `ttl` after its last note,
-- like the key per pair it replaced; read as empty once expired), space-separated:
--   <expiry, whole seconds>
--   <sd>=<value hash>[!]            a set signal-day ('!': a match is kept under :m:)
--   <sd>#<count>[,<occurrence>...]  a signal-day counting up to `need` (dropped once set)
-- where <sd> is the signal's letter (I ip_prefix, T template, Y synchrony; any other signal
-- '<signal>:') and the day number. Records stay short (most under 64 bytes), so an account's
-- hash stays a listpack.
-- ARGV: one or more notes, in order, each: account, signal, hash, day, need, min_signals,
--       repeat_days, ttl, occurrence ('': none), sighting id ('': none), now ('': the
--       server's clock), the number of others K, then the K others. Exactly the effect of one
--       call per note, in order.
-- A signal that needs `need` co-occurrences counts each occurrence once (until the day is
-- set); the sighting that set a signal-day, delivered again, gets the match it got then
-- (its link may have been lost): a redelivered sighting changes no evidence.
-- Returns per note a flat list: other, n, then n triples (signal, value hash, days), per
-- match.
local base = KEYS[1]
local SWEEP = 8  -- sweeps of a hash per ttl (expired records are dropped by the next one)
local CHUNK = 1000  -- fields per HSET/HDEL (unpack's stack)

local function in_chunks(command, hkey, list)
  for i = 1, #list, CHUNK do
    redis.call(command, hkey, unpack(list, i, math.min(i + CHUNK - 1, #list)))
  end
end

-- the soft signals' short names in records (any other signal is written '<name>:')
local CODES = { ip_prefix = 'I', template = 'T', synchrony = 'Y' }
local NAMES = { I = 'ip_prefix', T = 'template', Y = 'synchrony' }

local function signal_day(signal, day)
  local code = CODES[signal]
  if code then return code .. day end
  return signal .. ':' .. day
end

local function split_signal_day(sd)
  local code, day = string.match(sd, '^(%u)(%d+)$')
  if code then return NAMES[code], day end
  return string.match(sd, '^(.*):(%d+)$')
end

local function empty() return { sets = {}, counts = {} } end

local function parse(text, now)
  local rec = empty()
  local first = true
  for token in string.gmatch(text, '%S+') do
    if first then
      if tonumber(token) <= now then return empty() end
      first = false
    else
      local at = string.find(token, '[=#]')
      local sd, kind, rest = string.sub(token, 1, at - 1), string.sub(token, at, at),
        string.sub(token, at + 1)
      if kind == '=' then
        local vh = string.match(rest, '^(.*)!$')
        if vh then rec.sets[sd] = { vh, true } else rec.sets[sd] = { rest, false } end
      else
        local count = { n = 0, seen = {}, list = {} }
        local counted = false
        for part in string.gmatch(rest, '[^,]+') do
          if counted then
            count.seen[part] = true
            count.list[#count.list + 1] = part
          else
            count.n, counted = tonumber(part), true
          end
        end
        rec.counts[sd] = count
      end
    end
  end
  return rec
end

local function serialize(rec)
  local out = {}
  for sd, set in pairs(rec.sets) do out[#out + 1] = sd .. '=' .. set[1] .. (set[2] and '!' or '') end
  for sd, count in pairs(rec.counts) do
    local token = sd .. '#' .. count.n
    if #count.list > 0 then token = token .. ',' .. table.concat(count.list, ',') end
    out[#out + 1] = token
  end
  if #out > 1 then table.sort(out) end  -- one order for the same record
  return rec.expiry .. ' ' .. table.concat(out, ' ')
end

local loaded = {}  -- hash key -> other -> record (the call's view, written once at the end)
local touched, order = {}, {}  -- hash key -> {ttl, now}; hash keys in first-touch order

local function record_of(hkey, other, now)
  local records = loaded[hkey]
  if not records then records = {}; loaded[hkey] = records end
  local rec = records[other]
  if not rec then
    local text = redis.call('HGET', hkey, other)
    if text then rec = parse(text, now) else rec = empty() end
    records[other] = rec
  end
  return rec
end

-- hot flags read in this call (no script writes them: each is read once)
local hot = {}
local function is_hot(key)
  local found = hot[key]
  if found == nil then
    found = redis.call('EXISTS', key) == 1
    hot[key] = found
  end
  return found
end

local function evaluate(rec, min_signals, repeat_days)
  local days, latest, signals = {}, {}, {}
  for sd, set in pairs(rec.sets) do
    local sig, d = split_signal_day(sd)
    local vh = set[1]
    if not is_hot(base .. ':hot:' .. sig .. ':' .. vh) then
      d = tonumber(d)
      if not days[sig] then days[sig] = 0; signals[#signals + 1] = sig end
      days[sig] = days[sig] + 1
      if not latest[sig] or d > latest[sig][1] then latest[sig] = { d, vh } end
    end
  end
  local most = 0
  for _, sig in ipairs(signals) do if days[sig] > most then most = days[sig] end end
  if #signals < min_signals and most < repeat_days then return nil end
  table.sort(signals)
  local match = { #signals }
  for _, sig in ipairs(signals) do
    match[#match + 1] = sig
    match[#match + 1] = latest[sig][2]
    match[#match + 1] = days[sig]
  end
  return match
end

local replies = {}
local at = 1
while at <= #ARGV do
  local account, signal, value_hash, day = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local need, min_signals = tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  local repeat_days, ttl = tonumber(ARGV[at + 6]), tonumber(ARGV[at + 7])
  local occurrence, sighting = ARGV[at + 8], ARGV[at + 9]
  local now = tonumber(ARGV[at + 10])
  if not now then  -- '': the server's clock
    local time = redis.call('TIME')
    now = tonumber(time[1]) + tonumber(time[2]) / 1e6
  end
  local first = at + 12
  at = first + tonumber(ARGV[at + 11])
  local sd = signal_day(signal, day)
  local out = {}
  for i = first, at - 1 do
    local other = ARGV[i]
    local low, high = account, other
    if other < account then low, high = other, account end
    local hkey = base .. ':a:' .. low
    local rec = record_of(hkey, high, now)
    if not touched[hkey] then order[#order + 1] = hkey end
    touched[hkey] = { ttl, now }
    rec.expiry = math.ceil(now + ttl)
    local ready = true
    if need > 1 and not rec.sets[sd] then
      local count = rec.counts[sd] or { n = 0, seen = {}, list = {} }
      rec.counts[sd] = count
      if occurrence == '' then
        count.n = count.n + 1
      elseif not count.seen[occurrence] then
        count.seen[occurrence] = true
        count.list[#count.list + 1] = occurrence
        count.n = count.n + 1
      end
      ready = count.n >= need
    end
    if ready then
      local set = rec.sets[sd]
      local mkey = base .. ':m:' .. low .. '|' .. high
      if set then
        local stored = sighting ~= '' and set[2] and redis.call('HGET', mkey, sd)
        if stored and string.sub(stored, 1, #sighting + 1) == sighting .. '=' then
          out[#out + 1] = other
          for token in string.gmatch(string.sub(stored, #sighting + 2), '([^|]+)') do
            out[#out + 1] = token
          end
        end
      else
        set = { value_hash, false }
        rec.sets[sd] = set
        rec.counts[sd] = nil
        local match = evaluate(rec, min_signals, repeat_days)
        if match then
          out[#out + 1] = other
          for _, token in ipairs(match) do out[#out + 1] = token end
          if sighting ~= '' then  -- only a match needs its sighting: nothing else is given again
            set[2] = true
            redis.call('HSET', mkey, sd, sighting .. '=' .. table.concat(match, '|'))
            redis.call('EXPIRE', mkey, math.ceil(ttl))
          end
        end
      end
    end
  end
  replies[#replies + 1] = out
end

for _, hkey in ipairs(order) do
  local ttl, now = touched[hkey][1], touched[hkey][2]
  local fields = {}
  for other, rec in pairs(loaded[hkey]) do
    if rec.expiry then fields[#fields + 1] = other; fields[#fields + 1] = serialize(rec) end
  end
  local sweep = tonumber(redis.call('HGET', hkey, '') or '0')
  if sweep <= now then  -- drop the records that expired (each is read as empty anyway)
    local all = redis.call('HGETALL', hkey)
    local gone = {}
    for j = 1, #all, 2 do
      if all[j] ~= '' and not loaded[hkey][all[j]] then
        local expiry = tonumber(string.match(all[j + 1], '^(%S+)'))
        if expiry <= now then gone[#gone + 1] = all[j] end
      end
    end
    in_chunks('HDEL', hkey, gone)
    fields[#fields + 1] = ''
    fields[#fields + 1] = tostring(math.ceil(now + ttl / SWEEP))
  end
  in_chunks('HSET', hkey, fields)
  redis.call('EXPIRE', hkey, math.ceil(ttl))
end
return replies
